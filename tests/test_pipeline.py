"""One whole cycle through the library: a local arXiv (RSS + API) and a local OpenAI-compatible server.

The stages have their own tests; these check that the pipeline chains them as promised: the catch-up
window and today form one digest, a paper seen twice is one entry everywhere, summaries are paid for
once, and an LLM that fails or has no key costs the summaries, never the digest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import feedparser
import httpx
import openai
import pytest

from arxivbot.config import Config, config_from_dict
from arxivbot.deliver import Edition
from arxivbot.errors import FetchError
from arxivbot.models import Delivery
from arxivbot.pipeline import run_cycle
from arxivbot.publish.outputs import FilesChannel
from arxivbot.runtime import Runtime
from arxivbot.store import open_store
from tests.llmserver import LLMServer, Reply
from tests.localserver import LocalServer, Scripted

KEY = "sk-pipeline-test-4f9c2e7a1b"
FEED_PATH = "/rss/cs.AI+cs.LG"
TUESDAY = date(2026, 5, 5)  # the day of rss_cs.AI+cs.LG_day1_5items.xml


def make_config(tmp_path: Path, server: LocalServer, **extra: object) -> Config:
    data = {
        "categories": ["cs.AI", "cs.LG"],
        "keywords": ["LLM", "Sparse", "Escaping", "Distributed", "Planning"],
        "exclude_keywords": ["survey"],
        "days_back": 0,
        "arxiv": {
            "rss_url": server.url + "/rss",
            "api_url": server.url + "/api/query",
            "max_retries": 2,
            "request_delay_seconds": 3,
        },
        **extra,
    }
    return config_from_dict(data, base_dir=tmp_path)


@pytest.fixture
def arxiv(local_server: LocalServer, own_fixture: Callable[[str], Path]) -> LocalServer:
    feed = own_fixture("rss_cs.AI+cs.LG_day1_5items.xml").read_bytes()
    local_server.route(FEED_PATH, Scripted(200, feed, {"Content-Type": "application/rss+xml"}))
    return local_server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def llm() -> Iterator[LLMServer]:
    with LLMServer(api_key=KEY) as server:
        yield server


class Sleeps(list[float]):
    """An injected sleep: records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def digest_ids(config: Config, day: date) -> list[str]:
    with open_store(config.storage.database) as store:
        digest = store.load_digest(day)
    assert digest is not None
    return [entry.scored.paper.arxiv_id for entry in digest.entries]


def test_a_missed_day_is_caught_up_and_each_paper_is_one_entry_everywhere(
    arxiv: LocalServer, own_fixture: Callable[[str], Path], tmp_path: Path, http: httpx.Client
) -> None:
    arxiv.route(
        "/api/query",
        Scripted(
            200,
            own_fixture("api_announced_mon_may04_2entries.xml").read_bytes(),
            {"Content-Type": "application/atom+xml"},
        ),
    )
    config = make_config(tmp_path, arxiv, days_back=3)
    sleeps = Sleeps()

    report = run_cycle(config, Runtime(http=http, sleep=sleeps))

    assert report.status == "ok" and report.day == TUESDAY
    assert report.backfilled == 2  # Monday's two papers came through the API
    query = arxiv.requests_to("/api/query")[0].query["search_query"][0]
    assert "cat:cs.AI OR cat:cs.LG" in query and "submittedDate:[" in query
    ids = digest_ids(config, TUESDAY)
    assert "2605.00901" in ids  # announced Monday, seen only through the API
    assert ids.count("2605.01234") == 1  # seen by the API (Monday's query) and by Tuesday's RSS
    site = tmp_path / "public"
    papers = json.loads((site / "papers.json").read_text(encoding="utf-8"))["papers"]
    assert sorted(p["arxiv_id"] for p in papers) == sorted(ids)
    guids = [entry.id for entry in feedparser.parse((site / "rss.xml").read_bytes()).entries]
    assert len(guids) == len(set(guids)) == len(ids)
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert readme.count("(https://arxiv.org/abs/2605.01234)") == 1
    # Between the RSS request and the API request, arXiv's pacing was kept (without really sleeping).
    assert sleeps and all(0 < s <= 3 for s in sleeps)

    again = run_cycle(config, Runtime(http=http, sleep=sleeps))

    assert len(arxiv.requests_to("/api/query")) == 1  # the caught-up window is never fetched again
    assert again.backfilled == 0 and digest_ids(config, TUESDAY) == ids


def test_summaries_are_paid_for_once_and_reach_every_output(
    arxiv: LocalServer, llm: LLMServer, tmp_path: Path, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARXIVBOT_TEST_KEY", KEY)
    config = make_config(
        tmp_path,
        arxiv,
        ai_summary={
            "enabled": True,
            "base_url": llm.base_url,
            "api_key_env": "ARXIVBOT_TEST_KEY",
            "model": "local-model",
            "input": "abstract",
            "max_papers_to_summarize": 2,
            "max_workers": 2,
        },
    )

    first = run_cycle(config, Runtime(http=http, sleep=Sleeps()))

    top_two = digest_ids(config, TUESDAY)[:2]
    assert first.llm_calls == 2 and first.summarized == 2 and first.cache_hits == 0
    assert first.prompt_tokens == 200 and first.completion_tokens == 100  # from the server's usage
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert readme.count("🤖 AI Summary (by local-model)") == 2
    rss = feedparser.parse((tmp_path / "public" / "rss.xml").read_bytes())
    summarized = [e for e in rss.entries if "主要贡献" in e.get("description", "")]
    assert sorted(e.id for e in summarized) == sorted(top_two)
    assert KEY not in readme and KEY.encode() not in config.storage.database.read_bytes()

    second = run_cycle(config, Runtime(http=http, sleep=Sleeps()))

    assert second.llm_calls == 0 and second.cache_hits == 2 and second.summarized == 2
    assert len(llm.chat_requests) == 2
    resummarized = run_cycle(config, Runtime(http=http, sleep=Sleeps()), resummarize=True)
    assert resummarized.llm_calls == 2 and len(llm.chat_requests) == 4


def test_an_llm_that_keeps_failing_costs_the_summaries_not_the_digest(
    arxiv: LocalServer, llm: LLMServer, tmp_path: Path, http: httpx.Client
) -> None:
    llm.chat(Reply(status=500))
    config = make_config(
        tmp_path,
        arxiv,
        ai_summary={
            "enabled": True,
            "base_url": llm.base_url,
            "model": "local-model",
            "input": "abstract",
            "max_papers_to_summarize": 2,
            "max_retries": 2,
        },
    )
    with openai.OpenAI(base_url=llm.base_url, api_key=KEY, max_retries=0) as client:  # closed: no leaked socket
        report = run_cycle(config, Runtime(http=http, llm=client, sleep=Sleeps()))

    assert report.status == "ok" and report.summarized == 0 and report.summary_failures == 2
    assert len(llm.chat_requests) == 2 * 3  # bounded: 1 attempt + 2 retries per paper
    top_two = digest_ids(config, TUESDAY)[:2]
    assert all(any(paper in warning for warning in report.warnings) for paper in top_two)
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "<details>" not in readme and "Sparse Mixture-of-Experts" in readme
    with open_store(config.storage.database) as store:
        assert store.count_summaries() == 0  # nothing half-made is stored


def test_a_missing_key_is_one_clear_warning_and_the_digest_is_published(
    arxiv: LocalServer, tmp_path: Path, http: httpx.Client
) -> None:
    config = make_config(tmp_path, arxiv, ai_summary={"enabled": True, "base_url": "http://127.0.0.1:9/v1"})

    report = run_cycle(config, Runtime(http=http, sleep=Sleeps()))

    assert report.status == "ok" and report.selected > 0 and report.llm_calls == 0
    assert any("DASHSCOPE_API_KEY" in warning for warning in report.warnings)
    assert (tmp_path / "README.md").is_file() and (tmp_path / "public" / "rss.xml").is_file()


class FailingChannel:
    name = "chat"

    def __init__(self) -> None:
        self.days: list[date] = []

    def deliver(self, edition: Edition) -> Delivery:
        self.days.append(edition.digest.day)
        raise FetchError("http://127.0.0.1:9/hook: connection failed; check delivery.webhooks[0].url_env")


def test_a_failing_channel_is_a_warning_and_exit_code_3_and_the_files_are_still_published(
    arxiv: LocalServer, tmp_path: Path, http: httpx.Client
) -> None:
    config = make_config(tmp_path, arxiv)
    chat = FailingChannel()

    report = run_cycle(config, Runtime(http=http, sleep=Sleeps()), channels=[FilesChannel(), chat])

    assert chat.days == [TUESDAY]  # it was given the day's digest
    assert report.status == "ok" and report.exit_code == 3
    assert [(d.channel, d.ok) for d in report.deliveries] == [("files", True), ("chat", False)]
    assert "chat: http://127.0.0.1:9/hook: connection failed" in report.warnings[-1]
    assert (tmp_path / "README.md").is_file() and str(tmp_path / "README.md") in report.outputs
    assert report.to_dict()["deliveries"][1] == {
        "channel": "chat",
        "ok": False,
        "message": "http://127.0.0.1:9/hook: connection failed; check delivery.webhooks[0].url_env",
    }


def test_unwritable_outputs_fail_the_run_but_the_other_channels_still_deliver(
    arxiv: LocalServer, tmp_path: Path, http: httpx.Client
) -> None:
    (tmp_path / "blocked").write_text("a file where the site folder should be")
    config = make_config(tmp_path, arxiv, output={"site_dir": "blocked"})
    chat = FailingChannel()

    report = run_cycle(config, Runtime(http=http, sleep=Sleeps()), channels=[FilesChannel(), chat])

    assert report.status == "failed" and report.exit_code == 1 and "cannot write output" in report.message
    assert chat.days == [TUESDAY]
    with open_store(config.storage.database) as store:
        last = store.last_run()
    assert last is not None and last.status == "failed" and "cannot write output" in last.message
