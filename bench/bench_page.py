"""Benchmark: the page's weight, the search index's size, render times, and search speed in Chromium.

Builds an archive of 100 digest days × 50 papers (abstracts of about 170 words, 5 authors, 15 AI
summaries of about 250 words a day) in a real store, publishes it as ``arxivbot run`` does, serves the
folder with the read-only app under uvicorn on 127.0.0.1, and drives the system's Chromium through
playwright: first load, the search index loaded on first focus, then 20 queries typed into the box,
each timed in the page from the input event to the results drawn (MiniSearch search + DOM).

Run:

    python bench/bench_page.py [--days 100] [--papers 50]

Targets (issue 13): results in < 100 ms for 100 days × 50 papers; the first load must not wait for
the index (it is fetched on first use of the search box).
"""

from __future__ import annotations

import argparse
import gzip
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.chromium import CHROMIUM_FLAGS, system_chromium  # noqa: E402
from tests.liveserver import LiveServer  # noqa: E402

from arxivbot.config import config_from_dict  # noqa: E402
from arxivbot.models import Announcement, Paper, ScoredPaper, Summary, keyword_reason  # noqa: E402
from arxivbot.publish.outputs import publish_outputs  # noqa: E402
from arxivbot.publish.site import update_site  # noqa: E402
from arxivbot.serve import create_static_app  # noqa: E402
from arxivbot.store import open_store  # noqa: E402

CATEGORIES = ["cs.AI", "cs.CL", "cs.DC", "cs.LG"]
KEYWORDS = [
    "LLM",
    "inference",
    "sparse",
    "speculative decoding",
    "mixture of experts",
    "KV cache",
    "RL",
]
WORDS = [
    "model",
    "models",
    "method",
    "learning",
    "data",
    "results",
    "performance",
    "approach",
    "propose",
    "show",
    "based",
    "task",
    "training",
    "network",
    "neural",
    "language",
    "large",
    "framework",
    "problem",
    "novel",
    "benchmark",
    "accuracy",
    "efficient",
    "algorithm",
    "experiments",
    "demonstrate",
    "improve",
    "representation",
    "analysis",
    "system",
    "inference",
    "generalization",
    "robust",
    "evaluation",
    "dataset",
    "feature",
    "deep",
    "reinforcement",
    "agent",
    "policy",
    "reward",
    "optimization",
    "gradient",
    "convergence",
    "theoretical",
    "empirical",
    "transformer",
    "attention",
    "token",
    "decoding",
    "latency",
    "throughput",
    "memory",
    "cache",
    "quantization",
    "sparse",
    "expert",
    "routing",
    "kernel",
    "graph",
    "retrieval",
    "alignment",
    "preference",
    "reasoning",
    "chain",
    "thought",
    "planning",
    "vision",
    "speech",
    "protein",
    "molecule",
]
FIRST_NAMES = ["Ada", "Alan", "Grace", "Yuntao"]
LAST_NAMES = ["Smith", "Li", "Chen", "Turing"]
QUERIES = [
    "speculative decoding",
    "mixture of experts",
    "kv cache",
    "sparse attention",
    "quantization kernel",
    "reinforcement",
    "llm",
    "protein",
    "retrieval alignment",
    "throughput",
    "graph neural",
    "smith",
    "reasoning chain",
    "latency memory",
    "decod",
    "optimization convergence",
    "vision transformer",
    "expert routing",
    "preference",
    "benchmark accuracy",
]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def build(folder: Path, days: int, per_day: int) -> object:
    config = config_from_dict(
        {
            "categories": CATEGORIES,
            "keywords": KEYWORDS,
            "storage": {"database": "data/arxivbot.db"},
            "output": {"site_dir": "public", "readme": "README.md"},
        },
        base_dir=folder,
    )
    rng = random.Random(13)
    start = date(2025, 9, 1)
    with open_store(config.storage.database) as store:
        for d in range(days):
            day = start + timedelta(days=d)
            papers = [
                Paper(
                    arxiv_id=f"25{9 + d // 30:02d}.{d * per_day + n:05d}",
                    version=1,
                    title=sentence(rng, rng.randint(6, 14)).title(),
                    authors=tuple(f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(5)),
                    abstract=sentence(rng, 170) + ".",
                    categories=(rng.choice(CATEGORIES),),
                    link="https://arxiv.org/abs/x",
                )
                for n in range(per_day)
            ]
            announcements = [Announcement(paper=p, announce_type="new", announced=day) for p in papers]
            store.save_announcements(announcements)
            scored = [
                ScoredPaper(
                    a, 10.0 - rank * 0.1, a.paper.categories[0], (keyword_reason(10.0 - rank * 0.1, ("LLM",), ()),)
                )
                for rank, a in enumerate(announcements)
            ]
            moment = datetime.combine(day, clock_time(6), tzinfo=timezone.utc)
            store.save_digest(day, scored, generated_at=moment, categories=CATEGORIES, keywords=KEYWORDS)
            for paper in papers[:15]:
                text = "## Main contributions\n\n" + "\n".join(f"- {sentence(rng, 40)}" for _ in range(4))
                text += "\n\n## Results\n\n| metric | ours | baseline |\n|---|---|---|\n| accuracy | 81.2 | 78.9 |\n\n"
                text += sentence(rng, 60)
                store.save_summary(Summary(paper.arxiv_id, 1, "qwen-long", "p", "abstract", text, created_at=moment))
    return config


def sizes(site: Path, names: list[str]) -> tuple[int, int]:
    raw = [(site / name).read_bytes() for name in names]
    return sum(map(len, raw)), sum(len(gzip.compress(body, 6)) for body in raw)


def kb(n: int) -> str:
    return f"{n / 1024:,.1f} KB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--papers", type=int, default=50)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-page-"))
    config = build(folder, args.days, args.papers)
    site = config.output.site_dir  # type: ignore[attr-defined]

    with open_store(config.storage.database) as store:  # type: ignore[attr-defined]
        began = time.perf_counter()
        publish_outputs(store, config)  # type: ignore[arg-type]
        full = time.perf_counter() - began
        began = time.perf_counter()
        publish_outputs(store, config)  # type: ignore[arg-type]
        again = time.perf_counter() - began
        began = time.perf_counter()
        update = update_site(
            store, config, published=lambda p: (site / p).read_bytes() if (site / p).is_file() else None
        )  # type: ignore[arg-type]
        incremental = time.perf_counter() - began

    rendered = sum(1 for p in update.files if p.endswith(".html"))
    print(f"archive: {args.days} days x {args.papers} papers ({args.days * args.papers:,} papers)")
    print(f"publish, first run (every page rendered):  {full:6.2f} s")
    print(f"publish, nothing changed (no page rendered): {again:6.2f} s")
    print(f"update_site, nothing changed: {incremental:6.2f} s, {rendered} HTML files rendered")

    first = ["index.html", "static/arxivbot.css", "static/arxivbot.js"]
    raw, zipped = sizes(site, first)
    print(f"first load (index.html + CSS + script): {kb(raw)} ({kb(zipped)} gzip)")
    for name in first:
        r, z = sizes(site, [name])
        print(f"  {name:28s} {kb(r):>10s} ({kb(z)} gzip)")
    day_raw, day_zip = sizes(site, [sorted(site.glob("2025-*/index.html"))[0].relative_to(site).as_posix()])
    print(f"  a day page                   {kb(day_raw):>10s} ({kb(day_zip)} gzip)")
    lib_raw, lib_zip = sizes(site, ["static/vendor/minisearch.js"])
    index = ["search/manifest.json", *(p.relative_to(site).as_posix() for p in sorted(site.glob("search/2*.json")))]
    idx_raw, idx_zip = sizes(site, index)
    print(
        f"on first use of search: MiniSearch {kb(lib_raw)} ({kb(lib_zip)} gzip)"
        f" + index {kb(idx_raw)} ({kb(idx_zip)} gzip) in {len(index) - 1} shards"
    )

    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        print("playwright not installed: no browser figures")
        return
    if system_chromium() is None:
        print("no Chromium installed (apt-get install chromium): no browser figures")
        return
    with LiveServer(create_static_app(site)) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=system_chromium(), args=list(CHROMIUM_FLAGS))
        page = browser.new_page()
        page.goto(server.url + "/")
        loaded = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        print(f"Chromium: first load, load event at {loaded:.0f} ms")
        began = time.perf_counter()
        page.get_by_role("searchbox").focus()
        expect(page.locator("#search-status")).to_have_text(re.compile("^Searching"), timeout=120_000)
        print(
            f"Chromium: index fetched and built on first focus in {time.perf_counter() - began:.2f} s "
            f"({page.locator('#search-status').text_content()})"
        )
        timings = []
        for query in QUERIES:
            for prefix in range(1, len(query) + 1):  # as typed, one character at a time
                spent = page.evaluate(
                    """q => { const box = document.getElementById('q'); const t = performance.now();
                    box.value = q; box.dispatchEvent(new Event('input')); return performance.now() - t; }""",
                    query[:prefix],
                )
                timings.append((spent, query[:prefix]))
        slowest = sorted(timings, reverse=True)[:3]
        timings = sorted(spent for spent, _ in timings)
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(
            f"Chromium: {len(timings)} keystrokes over {len(QUERIES)} queries: "
            f"median {statistics.median(timings):.1f} ms, "
            f"p95 {p95:.1f} ms, max {timings[-1]:.1f} ms (search + results drawn; target < 100 ms)"
        )
        print("  slowest: " + ", ".join(f"{text!r} {spent:.0f} ms" for spent, text in slowest))
        browser.close()


if __name__ == "__main__":
    main()
