"""The summary tests' world: a local OpenAI-compatible server, a local PDF host, a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from arxivbot.arxiv.client import PoliteClient
from arxivbot.config import Config, config_from_dict
from arxivbot.models import Paper
from arxivbot.store import Store, open_store
from arxivbot.summarize.llm import SummaryResult, make_llm_client, summarize_papers
from tests.llmserver import LLMServer
from tests.localserver import LocalServer, Scripted
from tests.summarize.pdfs import make_pdf

# Looks like a real key; every test that can leak it checks it did not.
KEY = "sk-test-7d41c0e9b2a84f65a3e1"


def make_paper(number: int, *, version: int = 1, title: str | None = None) -> Paper:
    arxiv_id = f"2501.{number:05d}"
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=title or f"Sparse Inference Paper {number}",
        authors=("Ada Lovelace", "Alan Turing"),
        abstract=f"We study sparse inference, case {number}. Our method is fast.",
        categories=("cs.AI",),
        link=f"https://arxiv.org/abs/{arxiv_id}",
    )


def paper_pdf(paper: Paper, extra_lines: Sequence[str] = ()) -> bytes:
    return make_pdf([f"Full text of {paper.arxiv_id}", "Introduction: sparse inference.", *extra_lines])


@dataclass
class Harness:
    tmp: Path
    llm_server: LLMServer
    pdf_host: LocalServer
    pdf_client: PoliteClient
    store: Store
    sleeps: list[float]
    clients: list[openai.OpenAI] = field(default_factory=list)

    def config(self, **ai: Any) -> Config:
        settings = {
            "enabled": True,
            "base_url": self.llm_server.base_url,
            "model": "test-model",
            "input": "abstract",
            "max_workers": 3,
            "max_papers_to_summarize": 15,
            "max_retries": 2,
            "timeout_seconds": 10,
            **ai,
        }
        data = {
            "ai_summary": settings,
            "arxiv": {"pdf_url": f"{self.pdf_host.url}/pdf"},
            "storage": {"database": "data/arxivbot.db", "pdf_cache": "data/pdfs"},
        }
        return config_from_dict(data, base_dir=self.tmp)

    def client(self, config: Config) -> openai.OpenAI:
        client = make_llm_client(config.ai_summary)
        self.clients.append(client)  # closed at teardown: no socket is left open
        return client

    def serve_pdf(self, paper: Paper, data: bytes | None = None) -> bytes:
        body = data if data is not None else paper_pdf(paper)
        self.pdf_host.route(f"/pdf/{paper.versioned_id}", Scripted(200, body, {"Content-Type": "application/pdf"}))
        return body

    def run(self, papers: Sequence[Paper], config: Config | None = None, **options: Any) -> SummaryResult:
        config = config or self.config()
        if "llm" not in options:
            options["llm"] = self.client(config)
        options.setdefault("pdf_client", self.pdf_client)
        options.setdefault("sleep", self.sleeps.append)
        return summarize_papers(papers, config, self.store, **options)


@pytest.fixture
def llm_server() -> Iterator[LLMServer]:
    with LLMServer(api_key=KEY) as server:
        yield server


@pytest.fixture
def harness(
    isolated: Path, llm_server: LLMServer, local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Harness]:
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    http = httpx.Client(timeout=5.0)
    pdf_client = PoliteClient(http, max_retries=1, sleep=lambda seconds: None)
    store = open_store(isolated / "data" / "arxivbot.db")
    harness = Harness(isolated, llm_server, local_server, pdf_client, store, [])
    try:
        yield harness
    finally:
        store.close()
        http.close()
        for client in harness.clients:
            client.close()
