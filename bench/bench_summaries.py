"""Benchmark: concurrent AI summaries against a local OpenAI-compatible server that takes 2 s per completion.

15 papers, max_workers 5: the ideal is ceil(15 / 5) = 3 rounds of 2 s (≈ 6 s) against ≈ 30 s one at a
time; a re-run is served from the SQLite cache with no LLM call at all.

    /work/venv/bin/python bench/bench_summaries.py [--papers 15] [--delay 2] [--workers 5] [--mode abstract]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the local server lives in tests/

from tests.llmserver import LLMServer, Reply  # noqa: E402
from tests.summarize.pdfs import make_pdf  # noqa: E402

from arxivbot.config import Config, config_from_dict  # noqa: E402
from arxivbot.models import Paper  # noqa: E402
from arxivbot.store import open_store  # noqa: E402
from arxivbot.summarize.llm import SummaryResult, make_llm_client, summarize_papers  # noqa: E402

KEY_ENV = "ARXIVBOT_BENCH_LLM_KEY"
KEY = "sk-bench-local-only"


def papers(count: int) -> list[Paper]:
    return [
        Paper(
            arxiv_id=f"2501.{n:05d}",
            version=1,
            title=f"Benchmark paper {n}",
            authors=("A. Author",),
            abstract=f"Abstract of benchmark paper {n}.",
            categories=("cs.AI",),
            link=f"https://arxiv.org/abs/2501.{n:05d}",
        )
        for n in range(1, count + 1)
    ]


def config(folder: Path, server: LLMServer, workers: int, mode: str) -> Config:
    return config_from_dict(
        {
            "ai_summary": {
                "enabled": True,
                "api_key_env": KEY_ENV,
                "base_url": server.base_url,
                "model": "bench",
                "input": mode,
                "max_workers": workers,
                "max_papers_to_summarize": 1000,
            },
            "arxiv": {"pdf_url": str(folder / "pdfs-source")},  # a local folder: no network, no pacing
            "storage": {"database": "bench.db", "pdf_cache": "pdf-cache"},
        },
        base_dir=folder,
    )


def timed_run(
    folder: Path, server: LLMServer, items: list[Paper], workers: int, mode: str
) -> tuple[float, SummaryResult]:
    settings = config(folder, server, workers, mode)
    with open_store(settings.storage.database) as store, make_llm_client(settings.ai_summary) as llm:
        started = time.perf_counter()
        report = summarize_papers(items, settings, store, llm=llm)
        return time.perf_counter() - started, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=15)
    parser.add_argument("--delay", type=float, default=2.0, help="seconds per completion")
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--mode", choices=["abstract", "pdf-text", "pdf-upload"], default="abstract")
    args = parser.parse_args()
    os.environ[KEY_ENV] = KEY
    items = papers(args.papers)

    with LLMServer(api_key=KEY) as server, tempfile.TemporaryDirectory() as tmp:
        server.chat(Reply(delay=args.delay))
        results: dict[str, tuple[float, SummaryResult, int]] = {}
        for label, workers in (("sequential", 1), ("concurrent", args.workers)):
            folder = Path(tmp) / label
            source = folder / "pdfs-source"
            source.mkdir(parents=True)
            for paper in items:
                (source / f"{paper.versioned_id}.pdf").write_bytes(make_pdf([f"Text of {paper.title}"]))
            server.max_in_flight = 0
            seconds, report = timed_run(folder, server, items, workers, args.mode)
            assert report.summarized == len(items), report.failures
            results[label] = (seconds, report, server.max_in_flight)
        before = len(server.chat_requests)
        cached_seconds, cached = timed_run(Path(tmp) / "concurrent", server, items, args.workers, args.mode)
        assert len(server.chat_requests) == before and cached.cache_hits == len(items)

    sequential, concurrent = results["sequential"][0], results["concurrent"][0]
    ideal = math.ceil(args.papers / args.workers) * args.delay
    print(f"{args.papers} papers, {args.delay:g} s per completion, input mode {args.mode}")
    print(f"  sequential (max_workers=1):   {sequential:6.2f} s   (ideal {args.papers * args.delay:.1f} s)")
    print(
        f"  concurrent (max_workers={args.workers}):   {concurrent:6.2f} s   (ideal {ideal:.1f} s, "
        f"max in flight {results['concurrent'][2]})"
    )
    best = args.papers * args.delay / ideal
    print(f"  speed-up:                     {sequential / concurrent:6.2f} x  (ideal {best:.2f} x)")
    print(f"  concurrent vs ideal:          {concurrent / ideal:6.2f}")
    print(
        f"  cached re-run:                {cached_seconds:6.3f} s   ({cached.llm_calls} LLM calls, "
        f"{cached.cache_hits} cache hits)"
    )


if __name__ == "__main__":
    main()
