"""Benchmark: one busy arXiv day through arxivbot's stages, against the reference approach.

A synthetic day of 3,000 announcements over 4 categories is written in arXiv's real RSS format, both
as the combined feed arxivbot fetches (``/rss/cs.AI+cs.CL+cs.DC+cs.LG``, one request) and as the four
per-category feeds the reference system fetches (cross-listed papers appear in several). Then:

- arxivbot: parse (lxml) → select + rank (word mode and substring mode) → store (SQLite) → render
  (README, feeds, page, JSON);
- reference: one ``feedparser.parse`` per category + the substring scoring loop of SPEC §2.2;

and a 100,000-paper corpus is ranked. Network is left out of both. Run:

    python bench/bench_pipeline.py [--items 3000] [--corpus 100000] [--repeat 3]

Targets (issue 2): the day in < 0.5 s and >= 5x faster than the reference; 100k papers ranked in < 5 s.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser

from arxivbot.arxiv.rss import parse_daily_feed
from arxivbot.config import config_from_dict
from arxivbot.models import Announcement, Paper
from arxivbot.publish.readme import render_readme
from arxivbot.publish.site import render_site
from arxivbot.rank import SelectionRules, select_papers
from arxivbot.store import open_store

CATEGORIES = ["cs.AI", "cs.CL", "cs.DC", "cs.LG"]
OTHER_CATEGORIES = ["cs.CV", "stat.ML", "cs.RO", "cs.IR", "math.OC", "eess.SP"]
# The keyword list of the reference system's published digest (its 🔧 Configuration section).
KEYWORDS = [
    "State Space",
    "SSM",
    "framework",
    "System",
    "Generation",
    "Video",
    "Linear",
    "LLM",
    "RL",
    "RLHF",
    "Inference",
    "Training",
    "Attention",
    "Pipeline",
    "MOE",
    "Sparse",
    "Quantization",
    "Speculative",
    "Efficient",
    "Efficiency",
    "Framework",
    "Parallel",
    "Distributed",
    "Kernel",
    "Decode",
    "Decoding",
    "Prefill",
    "Throughput",
    "Fast",
    "Network",
    "Hardware",
    "Cluster",
    "FP8",
    "FP4",
    "Optimization",
    "Scalable",
    "Communication",
]
EXCLUDE = ["survey", "review", "tutorial"]
# Words of synthetic titles and abstracts: ordinary research prose, keywords, and the traps of
# substring matching ("particularly", "world", "assessment", "ecosystem").
_PROSE = (
    "we propose a novel method for learning representations from data and show that it improves "
    "accuracy on standard benchmarks while reducing cost the model uses attention over tokens and "
    "achieves state of the art results our analysis reveals that scaling improves robustness in "
    "particular settings across the world of applications including assessment of ecosystem health "
    "large language models reinforcement learning agents planning reasoning retrieval graph neural "
    "networks diffusion transformers vision robotics control theory optimization convergence bounds "
    "efficient inference sparse mixture of experts quantization pipeline parallel distributed "
    "training kernel fusion throughput latency memory bandwidth hardware accelerators clusters "
    "communication LLMs RL SSM FP8 KV-cache state-space prefill decoding speculative systems "
    "framework"
)
VOCABULARY = _PROSE.split(" ")


def synthetic_papers(count: int, seed: int = 7) -> list[tuple[Paper, str]]:
    """``count`` papers with realistic lengths (~1,200-character abstracts) and announce types."""
    rng = random.Random(seed)
    papers = []
    for n in range(count):
        title = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(6, 14))).capitalize()
        abstract = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(150, 210))).capitalize() + "."
        primary = rng.choice(CATEGORIES)
        extra = rng.sample(CATEGORIES + OTHER_CATEGORIES, rng.randint(0, 2))
        categories = tuple(dict.fromkeys([primary, *extra]))
        kind = rng.choices(["new", "cross", "replace", "replace-cross"], weights=[60, 15, 20, 5])[0]
        authors = tuple(f"Author{rng.randint(1, 9999)} Surname{rng.randint(1, 9999)}" for _ in range(rng.randint(1, 8)))
        arxiv_id = f"2512.{n:05d}"
        papers.append(
            (
                Paper(
                    arxiv_id,
                    1 if kind == "new" else 2,
                    title,
                    authors,
                    abstract,
                    categories,
                    f"https://arxiv.org/abs/{arxiv_id}",
                    primary_category=primary,
                ),
                kind,
            )
        )
    return papers


def rss_feed(papers: list[tuple[Paper, str]], label: str) -> bytes:
    """The papers as one arXiv RSS 2.0 feed, in the exact layout arXiv serves."""
    parts = [
        "<?xml version='1.0' encoding='UTF-8'?>\n",
        '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'version="2.0">\n  <channel>\n',
        f"    <title>{label} updates on arXiv.org</title>\n    <link>http://rss.arxiv.org/rss/{label}</link>\n",
        f"    <description>{label} updates on the arXiv.org e-print archive.</description>\n",
        "    <lastBuildDate>Wed, 24 Dec 2025 05:00:03 +0000</lastBuildDate>\n",
        "    <pubDate>Wed, 24 Dec 2025 00:00:00 -0500</pubDate>\n",
    ]
    for paper, kind in papers:
        parts.append(
            "    <item>\n"
            f"      <title>{escape(paper.title)}</title>\n"
            f"      <link>https://arxiv.org/abs/{paper.arxiv_id}</link>\n"
            f"      <description>arXiv:{paper.versioned_id} Announce Type: {kind} \n"
            f"Abstract: {escape(paper.abstract)}</description>\n"
            f'      <guid isPermaLink="false">oai:arXiv.org:{paper.versioned_id}</guid>\n'
            + "".join(f"      <category>{c}</category>\n" for c in paper.categories)
            + "      <pubDate>Wed, 24 Dec 2025 00:00:00 -0500</pubDate>\n"
            f"      <arxiv:announce_type>{kind}</arxiv:announce_type>\n"
            "      <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>\n"
            f"      <dc:creator>{escape(', '.join(paper.authors))}</dc:creator>\n"
            "    </item>\n"
        )
    parts.append("  </channel>\n</rss>\n")
    return "".join(parts).encode("utf-8")


# --- the reference approach -----------------------------------------------------------------------------


def reference_day(feeds: dict[str, bytes], keywords: list[str], exclude: list[str], max_papers: int) -> list:
    """What the reference system does: one feedparser parse per category, then a substring loop."""
    seen: set[str] = set()
    papers = []
    for category in CATEGORIES:
        parsed = feedparser.parse(feeds[category])
        for entry in parsed.entries:
            arxiv_id = entry.link.rsplit("/", 1)[-1]
            description = entry.get("summary", "")
            if "Announce Type: new" not in description or arxiv_id in seen:
                continue
            seen.add(arxiv_id)
            abstract = description.split("Abstract:", 1)[-1].strip()
            papers.append({"id": arxiv_id, "title": entry.title, "abstract": abstract, "category": category})
    return reference_rank(papers, keywords, exclude, max_papers)


def reference_rank(papers: list[dict], keywords: list[str], exclude: list[str], max_papers: int) -> list:
    scored = []
    for paper in papers:
        text = (paper["title"] + " " + paper["abstract"]).lower()
        if not any(k.lower() in text for k in keywords) or any(e.lower() in text for e in exclude):
            continue
        score = 0.0
        for keyword in keywords:
            if keyword.lower() in text:
                score += 1.0
            if keyword.lower() in paper["title"].lower():
                score += 0.5
        scored.append((score, paper))
    scored.sort(key=lambda pair: pair[0], reverse=True)
    return scored[:max_papers]


# --- arxivbot ------------------------------------------------------------------------------------------


def arxivbot_day(body: bytes, workdir: Path, mode: str) -> dict[str, float]:
    """The stages of one run on the combined feed; returns seconds per stage."""
    config = config_from_dict(
        {
            "categories": CATEGORIES,
            "keywords": KEYWORDS,
            "exclude_keywords": EXCLUDE,
            "max_papers": 30,
            "matching": {"mode": mode},
            "storage": {"database": "bench.db"},
        },
        base_dir=workdir,
    )
    config.storage.database.unlink(missing_ok=True)
    timings: dict[str, float] = {}
    clock = time.perf_counter

    start = clock()
    listing = parse_daily_feed(body)
    timings["parse"] = clock() - start

    start = clock()
    ranking = select_papers(listing.announcements, SelectionRules.from_config(config))
    timings["select+rank"] = clock() - start

    start = clock()
    with open_store(config.storage.database) as store:
        store.save_announcements(listing.announcements)
        day = listing.announced or date(2025, 12, 24)
        store.save_digest(
            day, ranking, generated_at=datetime.now(timezone.utc), categories=CATEGORIES, keywords=KEYWORDS
        )
        timings["store"] = clock() - start

        start = clock()
        digest = store.load_digest(day)
        assert digest is not None and len(digest.entries) == len(ranking)
        render_readme(digest)
        render_site(store, config, datetime.now(timezone.utc))
        timings["render"] = clock() - start
    timings["total"] = sum(timings.values())
    return timings


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--corpus", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    day = synthetic_papers(args.items)
    combined = rss_feed(day, "+".join(CATEGORIES))
    per_category = {c: rss_feed([(p, k) for p, k in day if c in p.categories], c) for c in CATEGORIES}
    print(
        f"Synthetic day: {args.items} announcements, combined feed {len(combined) / 1e6:.1f} MB; per-category "
        f"feeds {sum(len(b) for b in per_category.values()) / 1e6:.1f} MB "
        f"({sum(len([1 for p, _ in day if c in p.categories]) for c in CATEGORIES)} items with cross-lists)"
    )

    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        for mode in ("word", "substring"):
            runs = [arxivbot_day(combined, workdir, mode) for _ in range(args.repeat)]
            best = min(runs, key=lambda t: t["total"])
            stages = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in best.items() if k != "total")
            print(f"arxivbot ({mode:9s}): {best['total'] * 1000:6.0f} ms  ({stages})")
            if mode == "word":
                ours = best["total"]
    reference = best_of(args.repeat, lambda: reference_day(per_category, KEYWORDS, EXCLUDE, 30))
    print(f"reference (4x feedparser + substring loop): {reference * 1000:6.0f} ms")
    print(
        f"=> day processed in {ours:.3f} s (target < 0.5 s); {reference / ours:.1f}x faster than the reference "
        f"(target >= 5x)"
    )

    corpus = synthetic_papers(args.corpus, seed=11)
    announcements = [Announcement(p, k, date(2025, 12, 24)) for p, k in corpus]
    for mode in ("word", "substring"):
        config = config_from_dict(
            {
                "categories": CATEGORIES,
                "keywords": KEYWORDS,
                "exclude_keywords": EXCLUDE,
                "max_papers": 30,
                "matching": {"mode": mode},
                "arxiv": {"announce_types": ["new", "cross", "replace", "replace-cross"]},
            },
            base_dir=Path("."),
        )
        rules = SelectionRules.from_config(config)
        seconds = best_of(1, functools.partial(select_papers, announcements, rules))
        print(f"rank {args.corpus:,} papers ({mode:9s}): {seconds:.2f} s (target < 5 s)")
    plain = [
        {"id": p.arxiv_id, "title": p.title, "abstract": p.abstract, "category": p.categories[0]} for p, _ in corpus
    ]
    seconds = best_of(1, lambda: reference_rank(plain, KEYWORDS, EXCLUDE, 30))
    print(f"rank {args.corpus:,} papers (reference substring loop): {seconds:.2f} s")
    print(
        f"(best of {args.repeat} for the day, one pass for the corpus; Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
