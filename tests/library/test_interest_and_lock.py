"""The library where main's hardening meets it: a configured library is an interest (``run`` and
``serve`` accept ``keywords: []`` with one), like/dislike/unlike/library wait for the run lock, and a
like from the page's 👍 joins the library exactly as ``arxivbot like`` does."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
from starlette.testclient import TestClient

from arxivbot.config import Config, config_from_dict, has_interest, require_interest
from arxivbot.library import load_library, record_verdicts
from arxivbot.runlock import lock_path
from arxivbot.runtime import open_runtime
from arxivbot.serve import create_app
from arxivbot.store import open_store
from tests.clirunner import run_arxivbot
from tests.library.test_cli_library import SAMPLE_LIBRARY
from tests.localserver import LocalServer, Scripted
from tests.publish.seeding import DAY1, make_config, make_paper, seed_day
from tests.test_cli import FEED_PATH, RSS, SAMPLE_FEED, write_config

TOKEN = "page-t0ken-for-likes"
TOKEN_ENV = "ARXIVBOT_UPDATE_TOKEN"
LIKED = "2512.00001"


@pytest.fixture
def arxiv(local_server: LocalServer) -> LocalServer:
    local_server.route(FEED_PATH, Scripted(200, SAMPLE_FEED, RSS))
    return local_server


# --- a library is an interest ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "library",
    [
        {"bibtex": ["library.bib"]},
        {"arxiv_ids": ["2309.06180"]},
        {"arxiv_ids_file": "ids.txt"},
        {"zotero": {"library_id": "1234567"}},
    ],
)
def test_each_library_source_is_an_interest_without_keywords(tmp_path: Path, library: dict[str, Any]) -> None:
    config = config_from_dict({"keywords": [], "library": library}, base_dir=tmp_path)

    assert has_interest(config)
    require_interest(config)  # no ConfigError


def test_an_empty_zotero_section_is_no_interest(tmp_path: Path) -> None:
    config = config_from_dict({"keywords": [], "library": {"zotero": {"collections": ["x"]}}}, base_dir=tmp_path)

    assert not has_interest(config)  # no library_id: Zotero is off


def test_run_ranks_and_serve_starts_with_a_library_and_no_keywords(tmp_path: Path, arxiv: LocalServer) -> None:
    config = write_config(tmp_path, arxiv.url + "/rss", keywords=[], library={"bibtex": [str(SAMPLE_LIBRARY)]})

    assert run_arxivbot("run", "--config", str(config)).returncode == 0
    papers = json.loads((tmp_path / "public" / "papers.json").read_text(encoding="utf-8"))["papers"]
    assert papers and all("library" in paper["scores"] for paper in papers)

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:  # serve gets past the interest check
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        served = run_arxivbot("serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port))
    assert served.returncode == 1, served.stderr  # the busy port stops it (exit 1), not the config (exit 2)
    assert f"cannot listen on 127.0.0.1:{port}" in served.stderr
    assert "no library is configured" not in served.stderr


# --- the run lock ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [("like", "2512.20377"), ("dislike", "2512.20377"), ("unlike", "2512.20377"), ("library",)]
)
def test_verdicts_and_the_library_wait_for_the_run_lock(tmp_path: Path, arxiv: LocalServer, args: tuple[str]) -> None:
    config = write_config(
        tmp_path, arxiv.url + "/rss", library={"bibtex": [str(SAMPLE_LIBRARY)]}, storage={"lock_timeout_seconds": 0}
    )
    assert run_arxivbot("run", "--config", str(config)).returncode == 0

    with FileLock(str(lock_path(tmp_path / "data" / "arxivbot.db"))):  # a run is under way
        blocked = run_arxivbot(args[0], "--config", str(config), *args[1:])

    assert blocked.returncode == 4, blocked.stdout
    assert "another arxivbot run is using this database" in blocked.stderr
    with open_store(tmp_path / "data" / "arxivbot.db", readonly=True) as store:
        assert store.feedback() == {}
    assert run_arxivbot(args[0], "--config", str(config), *args[1:]).returncode == 0  # once the run is over


# --- a like from the page ----------------------------------------------------------------------------------


@pytest.fixture
def page_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    config = make_config(tmp_path / "page", keywords=[], server={"update_token_env": TOKEN_ENV})
    with open_store(config.storage.database) as store:
        seed_day(store, DAY1, [make_paper(LIKED, title="Paged Attention for Serving"), make_paper("2512.00002")])
    return config


@pytest.fixture
def client(page_config: Config) -> Iterator[TestClient]:
    with TestClient(create_app(page_config, run_cycle=lambda: None, scheduler=False)) as test_client:
        yield test_client


def test_a_like_from_the_page_joins_the_library_as_arxivbot_like_does(
    tmp_path: Path, page_config: Config, client: TestClient
) -> None:
    response = client.post(
        "/api/feedback",
        content=json.dumps({"id": LIKED, "verdict": "like"}).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    twin = make_config(tmp_path / "cli", keywords=[])  # the same day, liked from the command line instead
    with open_store(twin.storage.database) as store:
        seed_day(store, DAY1, [make_paper(LIKED, title="Paged Attention for Serving"), make_paper("2512.00002")])
    record_verdicts(twin, [LIKED], "like")

    libraries = []
    for config in (page_config, twin):
        with open_runtime(config) as runtime, open_store(config.storage.database) as store:
            libraries.append(load_library(config, store, runtime))
    from_page, from_cli = libraries
    assert [(item.source, item.arxiv_id, item.title) for item in from_page.items] == [
        ("like", LIKED, "Paged Attention for Serving")
    ]
    assert from_page.items == from_cli.items and from_page.counts() == from_cli.counts()
