"""load_library: every source into one library, arXiv metadata fetched politely and only once, feedback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from arxivbot.config import Config, config_from_dict
from arxivbot.library import load_library
from arxivbot.models import Announcement
from arxivbot.runtime import Runtime, open_runtime
from arxivbot.store import SQLiteStore, open_store
from tests.corpus import make_paper
from tests.faketime import FakeTime
from tests.library.arxivapi import API_PATH, asked_ids, serve_id_lists
from tests.localserver import LocalServer, Scripted

KNOWN = [make_paper(f"2501.{n:05d}", "serving", n) for n in range(1, 151)]


def configure(tmp_path: Path, server: LocalServer, library: dict[str, Any]) -> Config:
    return config_from_dict(
        {"library": library, "arxiv": {"api_url": server.url + API_PATH}, "storage": {"database": "a.db"}},
        base_dir=tmp_path,
    )


@pytest.fixture
def arxiv(local_server: LocalServer) -> LocalServer:
    serve_id_lists(local_server, KNOWN)
    return local_server


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with open_store(tmp_path / "a.db") as opened:
        yield opened


def runtime_for(config: Config, fake_time: FakeTime) -> Any:
    return open_runtime(config, sleep=fake_time.sleep, clock=fake_time.clock)


def test_arxiv_ids_are_fetched_in_batches_of_100_paced_and_never_twice(
    tmp_path: Path, arxiv: LocalServer, fake_time: FakeTime, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [p.arxiv_id for p in KNOWN] + ["2501.99998", "2501.99999v2"]  # two ids arXiv does not know
    config = configure(tmp_path, arxiv, {"arxiv_ids": ids})

    with runtime_for(config, fake_time) as runtime, caplog.at_level(logging.WARNING, logger="arxivbot"):
        library = load_library(config, store, runtime)

    assert [len(batch) for batch in asked_ids(arxiv)] == [100, 52]
    assert fake_time.sleeps == [3.0]  # arXiv's pacing between the two requests
    assert len(library) == 150 and library.counts()["arxiv"] == 150
    assert {item.abstract for item in library.items} == {p.abstract for p in KNOWN}
    unknown = [r.getMessage() for r in caplog.records if "does not know" in r.getMessage()]
    assert unknown == ["arXiv does not know 2 library id(s) (unknown or withdrawn; check them): 2501.99998, 2501.99999"]

    with runtime_for(config, fake_time) as runtime:  # next run: everything from the cache
        again = load_library(config, store, runtime)
    assert len(asked_ids(arxiv)) == 2 and len(again) == 150
    assert any("does not know 2" in w for w in again.warnings)  # still listed, never asked again


def test_an_ids_file_and_bibtex_entries_without_abstract_get_their_metadata(
    tmp_path: Path, arxiv: LocalServer, fake_time: FakeTime, store: SQLiteStore
) -> None:
    (tmp_path / "ids.txt").write_text(
        f"# my papers\n{KNOWN[0].arxiv_id}v2\nhttps://arxiv.org/abs/{KNOWN[1].arxiv_id}\nnot-an-id\n", encoding="utf-8"
    )
    (tmp_path / "lib.bib").write_text(
        "@article{mine, title={" + KNOWN[2].title + "}, eprint={" + KNOWN[2].arxiv_id + "}, archivePrefix={arXiv}}\n"
        "@article{other, title={A Book Chapter}, abstract={Offline words.}}\n",
        encoding="utf-8",
    )
    config = configure(tmp_path, arxiv, {"arxiv_ids_file": "ids.txt", "bibtex": ["lib.bib"]})

    with runtime_for(config, fake_time) as runtime:
        library = load_library(config, store, runtime)

    assert asked_ids(arxiv) == [[KNOWN[0].arxiv_id, KNOWN[1].arxiv_id, KNOWN[2].arxiv_id]]  # one request
    by_key = {item.key: item for item in library.items}
    assert by_key["mine"].abstract == KNOWN[2].abstract  # filled in from the API
    assert by_key["other"].abstract == "Offline words."
    assert library.counts() == {"bibtex": 2, "arxiv": 2, "zotero": 0, "like": 0}
    assert any("line 4 is not an arXiv id" in w for w in library.warnings)
    assert {i.source for i in store.library_items()} == {"bibtex", "arxiv"}  # what `arxivbot library` reads


def test_likes_join_the_library_and_dislikes_are_negatives_each_paper_once(
    tmp_path: Path, arxiv: LocalServer, fake_time: FakeTime, store: SQLiteStore
) -> None:
    stored = make_paper("2502.00001", "astro", 1)
    store.save_announcements([Announcement(stored, "new", date(2025, 2, 3))])
    store.record_feedback([stored.arxiv_id, KNOWN[5].arxiv_id], "like")  # one stored, one only on arXiv
    store.record_feedback([KNOWN[6].arxiv_id], "dislike")
    config = configure(tmp_path, arxiv, {"arxiv_ids": [KNOWN[5].arxiv_id]})  # also liked: counted once

    with runtime_for(config, fake_time) as runtime:
        library = load_library(config, store, runtime)

    assert sorted(i.arxiv_id or "" for i in library.items) == sorted([stored.arxiv_id, KNOWN[5].arxiv_id])
    assert library.counts()["like"] == 2 and library.counts()["arxiv"] == 0
    assert [p.arxiv_id for p in library.disliked_papers] == [KNOWN[6].arxiv_id]
    assert sorted(asked_ids(arxiv)[0]) == sorted([KNOWN[5].arxiv_id, KNOWN[6].arxiv_id])  # the stored one is not asked


def test_a_dry_run_reads_the_caches_and_writes_nothing(
    tmp_path: Path, arxiv: LocalServer, fake_time: FakeTime, store: SQLiteStore
) -> None:
    config = configure(tmp_path, arxiv, {"arxiv_ids": [KNOWN[0].arxiv_id]})
    with runtime_for(config, fake_time) as runtime:
        assert len(load_library(config, store, runtime, save=False)) == 1
    assert store.library_items() == [] and store.arxiv_metadata([KNOWN[0].arxiv_id]) == {}


def test_arxiv_unreachable_costs_the_papers_not_the_run(
    tmp_path: Path, local_server: LocalServer, fake_time: FakeTime, store: SQLiteStore
) -> None:
    local_server.route(API_PATH, Scripted(503, b"busy"))
    config = configure(tmp_path, local_server, {"arxiv_ids": [KNOWN[0].arxiv_id]})
    runtime: Runtime
    with runtime_for(config, fake_time) as runtime:
        library = load_library(config, store, runtime)
    assert len(library) == 0 and any("retried next run" in w for w in library.warnings)
    assert store.arxiv_metadata([KNOWN[0].arxiv_id]) == {}  # nothing cached: asked again next run


def test_library_papers_keep_their_full_record_past_the_retention_window(store: SQLiteStore) -> None:
    from datetime import timedelta

    from arxivbot.models import LibraryItem, RetentionPolicy

    old, mine = make_paper("2501.10001", "astro", 1), make_paper("2501.10002", "serving", 2)
    store.save_announcements([Announcement(p, "new", date(2025, 1, 6)) for p in (old, mine)])
    store.replace_library_items("bibtex", [LibraryItem("bibtex", "mine", mine.title, arxiv_id=mine.arxiv_id)])

    store.apply_retention(date(2025, 1, 6) + timedelta(days=30), RetentionPolicy(full_days=7))

    assert store.get_paper(old.arxiv_id) is None and store.get_paper(mine.arxiv_id) == mine
