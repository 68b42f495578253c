"""The LLM judge on a local OpenAI-compatible server: it re-scores the top candidates, keeps its
one-line reason, never pays twice for a verdict, and stops at the token budget."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openai
import pytest

from arxivbot.config import Config, config_from_dict
from arxivbot.library import Library
from arxivbot.models import LibraryItem
from arxivbot.relevance import rank_announcements
from arxivbot.store import open_store
from tests.corpus import make_day, make_paper
from tests.llmserver import LLMServer, Reply

DAY = date(2025, 3, 4)
DAY_PAPERS = make_day(DAY, {"serving": 6, "astro": 20})


def library() -> Library:
    papers = [make_paper(f"2401.{n:05d}", "serving", 70 + n) for n in range(6)]
    return Library(
        items=tuple(LibraryItem("bibtex", p.arxiv_id, p.title, p.abstract, arxiv_id=p.arxiv_id) for p in papers),
        configured=True,
    )


def configure(tmp_path: Path, **ranking: object) -> Config:
    return config_from_dict(
        {
            "max_papers": 5,
            "ai_summary": {"enabled": True, "model": "judge-model"},
            "ranking": {
                "interests": "Serving LLMs fast.",
                "judge_top_n": 5,
                "judge_batch_size": 5,
                "judge_weight": 20,
                **ranking,
            },
        },
        base_dir=tmp_path,
    )


@pytest.fixture
def llm() -> Iterator[tuple[LLMServer, openai.OpenAI]]:
    with LLMServer() as server:
        client = openai.OpenAI(api_key="k", base_url=server.base_url, max_retries=0)
        try:
            yield server, client
        finally:
            client.close()


def verdicts(favourite: str) -> Reply:
    """10 for ``favourite``, 1 for every other paper of the day (ids the batch does not hold are ignored)."""
    listing = [
        {
            "id": a.paper.arxiv_id,
            "score": 10 if a.paper.arxiv_id == favourite else 1,
            "reason": "fits the stated interests" if a.paper.arxiv_id == favourite else "meh",
        }
        for a in DAY_PAPERS
    ]
    return Reply(text="Here you go:\n" + json.dumps(listing))


def test_the_judge_reorders_the_top_keeps_its_reason_and_is_never_paid_twice(
    tmp_path: Path, llm: tuple[LLMServer, openai.OpenAI]
) -> None:
    server, client = llm
    with open_store(tmp_path / "j.db") as store:
        before, _ = rank_announcements(
            configure(tmp_path, judge_top_n=0), DAY_PAPERS, set(), library=library(), store=store, llm=client
        )
        favourite = before[4].paper.arxiv_id  # fifth without the judge
        server.chat(verdicts(favourite))

        ranking, ranker = rank_announcements(
            configure(tmp_path), DAY_PAPERS, set(), library=library(), store=store, llm=client
        )

        assert ranker.names == ("library", "judge")
        assert ranking[0].paper.arxiv_id == favourite
        assert ranking[0].reason.endswith("judge: fits the stated interests") and ranking[0].scores["judge"] == 1.0
        sent = server.chat_requests[0].json["messages"][1]["content"]
        assert "Serving LLMs fast." in sent and "closest to these" in sent  # the statement and nearest library titles
        assert len(server.chat_requests) == 1  # five papers, one batch

        rank_announcements(configure(tmp_path), DAY_PAPERS, set(), library=library(), store=store, llm=client)
        assert len(server.chat_requests) == 1  # the verdicts came from the cache


def test_the_judge_stops_at_the_token_budget(tmp_path: Path, llm: tuple[LLMServer, openai.OpenAI]) -> None:
    server, client = llm
    server.chat(verdicts("none"))
    config = config_from_dict(
        {
            **configure(tmp_path, judge_batch_size=2).model_dump(exclude={"config_dir"}),
            "ai_summary": {"enabled": True, "max_tokens_per_run": 100},
        },
        base_dir=tmp_path,
    )

    _, ranker = rank_announcements(config, DAY_PAPERS, set(), library=library(), llm=client)

    judge = ranker.judge
    assert len(server.chat_requests) == 1 and judge.prompt_tokens + judge.completion_tokens == 150
    assert judge.warnings == ["LLM judge stopped: the token budget (100) is spent; 3 paper(s) not judged"]
