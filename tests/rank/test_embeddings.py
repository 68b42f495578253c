"""The embedding scorer on a local OpenAI-compatible /v1/embeddings server: it learns from the library,
embeds each text once, and hands over to tf-idf with a warning when the endpoint fails or changes size."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from arxivbot.config import Config, config_from_dict
from arxivbot.library import Library
from arxivbot.models import LibraryItem
from arxivbot.relevance import rank_announcements
from arxivbot.store import open_store
from tests.corpus import TOPICS, make_day, make_paper, topic_of
from tests.localserver import LocalServer, RecordedRequest, Scripted

DAY = date(2025, 3, 4)
PATH = "/v1/embeddings"


def embed(dimensions: int = 6) -> Scripted:
    """Vectors that count each topic's words (a toy embedding model with real geometry)."""

    def answer(request: RecordedRequest) -> bytes:
        texts = json.loads(request.body)["input"]
        data = []
        for index, text in enumerate(texts):
            words = text.lower().replace(".", " ").split()
            vector = [float(sum(w in TOPICS[t].split() for w in words)) for t in TOPICS]
            vector += [float(len(words) % 7)] * (dimensions - len(vector))
            data.append({"object": "embedding", "index": index, "embedding": vector[:dimensions]})
        return json.dumps(
            {"object": "list", "data": data, "model": "toy", "usage": {"prompt_tokens": 1, "total_tokens": 1}}
        ).encode()

    return Scripted(200, answer, {"Content-Type": "application/json"})


def library() -> Library:
    papers = [make_paper(f"2401.{n:05d}", "serving", 70 + n) for n in range(6)]
    return Library(
        items=tuple(LibraryItem("bibtex", p.arxiv_id, p.title, p.abstract, arxiv_id=p.arxiv_id) for p in papers),
        configured=True,
    )


def configure(tmp_path: Path, server: LocalServer) -> Config:
    return config_from_dict(
        {
            "max_papers": 8,
            "ranking": {
                "method": "embeddings",
                "embeddings": {"base_url": server.url + "/v1", "api_key_env": "EMBED_KEY", "batch_size": 50},
            },
        },
        base_dir=tmp_path,
    )


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBED_KEY", "test-key")


def test_embeddings_rank_the_library_s_topic_first_and_each_text_is_embedded_once(
    tmp_path: Path, local_server: LocalServer
) -> None:
    local_server.route(PATH, embed(), method="POST")
    config = configure(tmp_path, local_server)
    day = make_day(DAY, {"serving": 8, "astro": 30, "biology": 30})

    with open_store(tmp_path / "e.db") as store:
        ranking, _ = rank_announcements(config, day, set(), library=library(), store=store)
        assert [topic_of(s.paper) for s in ranking] == ["serving"] * 8
        assert all(s.reason.startswith("like: ") for s in ranking)
        sent = sum(len(json.loads(r.body)["input"]) for r in local_server.requests_to(PATH))
        assert sent == 6 + 68  # the library and the day, once each

        again, _ = rank_announcements(config, day, set(), library=library(), store=store)
        assert sum(len(json.loads(r.body)["input"]) for r in local_server.requests_to(PATH)) == sent  # all cached
        assert [s.paper.arxiv_id for s in again] == [s.paper.arxiv_id for s in ranking]


@pytest.mark.parametrize("failure", ["error", "dimensions"])
def test_a_failing_or_inconsistent_endpoint_falls_back_to_tfidf_with_a_warning(
    tmp_path: Path, local_server: LocalServer, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    if failure == "error":
        local_server.route(
            PATH, Scripted(500, b'{"error": {"message": "down"}}', {"Content-Type": "application/json"}), method="POST"
        )
    else:  # the library comes back in 6 dimensions, the day in 4: a model changed under the same name
        local_server.route(PATH, embed(6), embed(4), method="POST")
    config = configure(tmp_path, local_server)
    day = make_day(DAY, {"serving": 8, "astro": 30})

    with caplog.at_level(logging.WARNING, logger="arxivbot"):
        ranking, ranker = rank_announcements(config, day, set(), library=library(), store=None)

    assert len(ranking) == 8 and [topic_of(s.paper) for s in ranking].count("serving") >= 7  # tf-idf did it
    warning: Any = getattr(ranker.parts[0].scorer, "warning", "")
    assert "ranking.method 'embeddings' failed" in warning and "default tf-idf scorer" in warning
    assert warning in caplog.text


@pytest.mark.parametrize("folder", [None, "missing-folder", "model"])
def test_a_local_model_that_cannot_be_loaded_leaves_the_default_scorer_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, folder: str | None
) -> None:
    if folder == "model":
        (tmp_path / "model").mkdir()  # a folder, but no model in it (or no model2vec installed)
    ranking_settings: dict[str, Any] = {"method": "local", "local_model": folder}
    config = config_from_dict({"max_papers": 5, "ranking": ranking_settings}, base_dir=tmp_path)
    day = make_day(DAY, {"serving": 5, "astro": 20})

    with caplog.at_level(logging.WARNING, logger="arxivbot"):
        ranking, ranker = rank_announcements(config, day, set(), library=library())

    assert type(ranker.parts[0].scorer).__name__ == "LibraryScorer"  # tf-idf, nothing downloaded
    assert [topic_of(s.paper) for s in ranking] == ["serving"] * 5
    assert "ranking.method 'local' unavailable" in caplog.text
