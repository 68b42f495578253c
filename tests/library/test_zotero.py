"""Zotero through pyzotero against a local server playing the Zotero web API: incremental syncs,
deletions, collections, an unreachable Zotero, and a key that is never shown."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from arxivbot.config import Config, config_from_dict
from arxivbot.library import load_library
from arxivbot.runtime import open_runtime
from arxivbot.store import SQLiteStore, open_store
from tests.localserver import LocalServer, RecordedRequest, Scripted

KEY = "zotero-secret-key-42"
ITEMS = "/users/123/items/top"
DELETED = "/users/123/deleted"


def item(key: str, version: int, title: str, **data: Any) -> dict[str, Any]:
    fields = {
        "key": key,
        "version": version,
        "itemType": "journalArticle",
        "title": title,
        "abstractNote": f"About {title.lower()}.",
        "dateAdded": f"2025-0{version}-01T10:00:00Z",
        "tags": [{"tag": "to-read"}],
        "collections": [],
        **data,
    }
    return {"key": key, "version": version, "data": fields}


def answer(items: list[dict[str, Any]], version: int) -> Scripted:
    return Scripted(
        200, json.dumps(items).encode(), {"Content-Type": "application/json", "Last-Modified-Version": str(version)}
    )


@pytest.fixture
def zotero(local_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    monkeypatch.setenv("ZOTERO_API_KEY", KEY)
    return local_server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with open_store(tmp_path / "z.db") as opened:
        yield opened


def configure(tmp_path: Path, server: LocalServer, **zotero: Any) -> Config:
    settings = {"library_id": 123, "api_url": server.url, **zotero}
    return config_from_dict({"library": {"zotero": settings}}, base_dir=tmp_path)


def load(config: Config, store: SQLiteStore) -> Any:
    with open_runtime(config) as runtime:
        return load_library(config, store, runtime)


def test_the_first_sync_takes_everything_then_only_changes_and_deletions(
    tmp_path: Path, zotero: LocalServer, store: SQLiteStore
) -> None:
    zotero.route(
        ITEMS,
        answer(
            [
                item("AAAA1111", 1, "Paged Attention for Serving", url="https://arxiv.org/abs/2309.06180"),
                item("BBBB2222", 2, "A Note", itemType="note"),
                item("CCCC3333", 2, "Speculative Decoding", extra="arXiv: 2211.17192"),
            ],
            5,
        ),
        answer([item("DDDD4444", 6, "Flash Attention Revisited", DOI="10.1000/fa")], 6),
    )
    zotero.route(
        DELETED,
        Scripted(
            200, json.dumps({"items": ["CCCC3333"], "collections": []}).encode(), {"Content-Type": "application/json"}
        ),
    )
    config = configure(tmp_path, zotero)

    first = load(config, store)
    assert sorted(i.key for i in first.items) == ["AAAA1111", "CCCC3333"]  # the note is not a paper
    assert {i.key: i.arxiv_id for i in first.items} == {"AAAA1111": "2309.06180", "CCCC3333": "2211.17192"}
    assert first.items[0].keywords == ("to-read",)
    assert zotero.requests_to(ITEMS)[0].query["since"] == ["0"]
    assert zotero.requests_to(ITEMS)[0].headers["authorization"] == f"Bearer {KEY}"  # from the environment

    second = load(config, store)
    assert zotero.requests_to(ITEMS)[1].query["since"] == ["5"]  # only what changed since version 5
    assert zotero.requests_to(DELETED)[0].query["since"] == ["5"]
    assert sorted(i.key for i in second.items) == ["AAAA1111", "DDDD4444"]  # CCCC3333 was deleted
    assert store.library_sync_version("zotero:user/123") == 6


def test_only_the_followed_collections_by_name_or_key(tmp_path: Path, zotero: LocalServer, store: SQLiteStore) -> None:
    zotero.route(
        ITEMS,
        answer(
            [
                item("AAAA1111", 1, "In Reading", collections=["COLL0001"]),
                item("BBBB2222", 1, "In Thesis", collections=["COLL0002"]),
                item("CCCC3333", 1, "Elsewhere", collections=[]),
            ],
            3,
        ),
    )
    zotero.route(
        "/users/123/collections",
        Scripted(
            200,
            json.dumps([{"key": "COLL0001", "data": {"key": "COLL0001", "name": "To Read"}}]).encode(),
            {"Content-Type": "application/json"},
        ),
    )
    config = configure(tmp_path, zotero, collections=["to read", "COLL0002"])

    library = load(config, store)

    assert sorted(i.title for i in library.items) == ["In Reading", "In Thesis"]


def test_an_unreachable_zotero_warns_and_keeps_the_library_synced_before_without_showing_the_key(
    tmp_path: Path, zotero: LocalServer, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    zotero.route(ITEMS, answer([item("AAAA1111", 1, "Kept From Before")], 1))
    config = configure(tmp_path, zotero)
    assert len(load(config, store)) == 1

    def leaky(request: RecordedRequest) -> bytes:  # a server that echoes the key in its error page
        return f"internal error for {request.headers.get('authorization')}".encode()

    zotero.route(ITEMS, Scripted(500, leaky, {"Content-Type": "text/plain"}))
    with caplog.at_level(logging.WARNING, logger="arxivbot"):
        library = load(config, store)

    assert [i.title for i in library.items] == ["Kept From Before"]
    assert any("could not be synced" in w and "1 item(s) synced before" in w for w in library.warnings)
    assert KEY not in caplog.text and all(KEY not in w for w in library.warnings)


def test_zotero_items_without_an_abstract_get_it_from_arxiv(
    tmp_path: Path, zotero: LocalServer, store: SQLiteStore
) -> None:
    from arxivbot.models import Paper
    from tests.library.arxivapi import API_PATH, serve_id_lists

    on_arxiv = Paper("2309.06180", 2, "PagedAttention", ("K",), "The abstract arXiv has.", ("cs.LG",), "")
    serve_id_lists(zotero, [on_arxiv])
    zotero.route(
        ITEMS, answer([item("AAAA1111", 1, "PagedAttention", abstractNote="", archiveID="arXiv:2309.06180")], 2)
    )
    config = config_from_dict(
        {
            "library": {"zotero": {"library_id": 123, "api_url": zotero.url}},
            "arxiv": {"api_url": zotero.url + API_PATH},
        },
        base_dir=tmp_path,
    )

    library = load(config, store)

    assert [(i.key, i.arxiv_id, i.abstract) for i in library.items] == [
        ("AAAA1111", "2309.06180", "The abstract arXiv has.")
    ]
