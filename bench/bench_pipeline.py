"""Benchmark: a busy arXiv day through ``arxivbot run``, against the reference system and feedparser, as history grows.

One synthetic weekday of 3,000 announcements over cs.AI, cs.CL, cs.DC and cs.LG, in arXiv's real RSS
layout (``synthetic_day.py``), is written both as the combined feed arxivbot reads (one request) and as
the four per-category feeds the reference system reads (``reference_bot.py``, its daily run step for
step: feedparser per category, its substring loop, its README write). Measured, as medians of
``--runs`` runs taken in turns (so a change in the machine's load hits every contender alike):

- whole processes: ``arxivbot run`` (summaries off, the feed a ``file://`` URL) on a new day with a
  fresh database, and with 20 and 100 weekdays already stored; feedparser alone parsing the combined
  feed; the reference's whole run; ``arxivbot --help``;
- in one process: arxivbot's cycle (``pipeline.run_cycle``) at each history size, its stages on a
  fresh database, and the reference's run after its imports;
- ranking a corpus of 100,000 papers (word and substring modes, and the reference's loop).

Stored history is built fast through the store API (each day: its announcements, its coverage, its
digest, retention, as a run leaves them; then the outputs published once), and every measured run
starts from a copy of it. Network is left out everywhere. Run:

    python bench/bench_pipeline.py [--items 3000] [--runs 5] [--history 0,20,100] [--corpus 100000]

Targets (issue 15, on 2 cores, as ratios within one run): with 20 and 100 days stored, ``arxivbot run``
<= 0.5x feedparser alone and >= 5x faster than the reference in-process; < 10% slower at 100 days than
on a fresh database; ``arxivbot --help`` < 0.15 s; 100,000 papers ranked in word mode < 1 s.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import reference_bot
from synthetic_day import (
    CATEGORIES,
    IdSource,
    Texts,
    announcements,
    day_items,
    latest_weekday,
    rss_feed,
    weekdays_before,
)

from arxivbot.arxiv.rss import parse_daily_feed
from arxivbot.config import Config, load_config
from arxivbot.models import Announcement, RunReport
from arxivbot.publish.outputs import publish_outputs, write_outputs
from arxivbot.rank import SelectionRules, select_papers
from arxivbot.store import open_store

# The reference system's published configuration (its config.json and its digest's keyword list).
KEYWORDS = [
    "State Space", "SSM", "framework", "System", "Generation", "Video", "Linear", "LLM", "RL", "RLHF",
    "Inference", "Training", "Attention", "Pipeline", "MOE", "Sparse", "Quantization", "Speculative",
    "Efficient", "Efficiency", "Framework", "Parallel", "Distributed", "Kernel", "Decode", "Decoding",
    "Prefill", "Throughput", "Fast", "Network", "Hardware", "Cluster", "FP8", "FP4", "Optimization",
    "Scalable", "Communication",
]  # fmt: skip
EXCLUDE = ["survey", "review", "tutorial"]
TARGET_FEEDPARSER_RATIO = 0.5
TARGET_REFERENCE_SPEEDUP = 5.0
TARGET_GROWTH = 0.10
TARGET_HELP_SECONDS = 0.15
TARGET_RANK_SECONDS = 1.0
RUN_COMMAND = ["-m", "arxivbot", "run", "-q", "--config", "config.json", "--no-backfill"]


def config_data(feed: Path) -> dict[str, Any]:
    """arxivbot's config: the reference's keys and values, summaries off, the feed from a file."""
    return {
        "categories": CATEGORIES,
        "keywords": KEYWORDS,
        "exclude_keywords": EXCLUDE,
        "max_papers": 30,
        "days_back": 7,
        "ai_summary": {"enabled": False},
        "arxiv": {"rss_url": feed.as_uri()},
        "storage": {"database": "data/arxivbot.db"},
        "output": {"readme": "README.md", "site_dir": "public"},
    }


def median(values: list[float]) -> float:
    return statistics.median(values)


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def process_seconds(arguments: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall time of one whole process, from spawn to exit (it must succeed)."""
    start = time.perf_counter()
    done = subprocess.run(arguments, cwd=cwd, env=env, capture_output=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} failed ({done.returncode}):\n{done.stderr.decode()[-2000:]}")
    return seconds


# --- stored history -----------------------------------------------------------------------------------


def store_day(store: Any, config: Config, day: date, day_announcements: list[Announcement]) -> None:
    """What a run leaves in the database for one day, written through the store API."""
    now = datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=6)
    run_id = store.start_run("run", day)
    store.save_announcements(day_announcements)
    store.record_coverage([day], "rss", run_id)
    rules = SelectionRules.from_config(config)
    ranking = select_papers(day_announcements, rules, exclude_ids=store.digested_before(day))
    store.save_digest(
        day, ranking, generated_at=now, categories=CATEGORIES, keywords=KEYWORDS, run_id=run_id, window_start=day
    )
    report = RunReport(run_id=run_id, status="ok", day=day, started_at=now, finished_at=now, selected=len(ranking))
    store.finish_run(run_id, report)
    store.apply_retention(day, config.retention_policy())


def build_histories(
    root: Path, levels: list[int], new_day: date, items: int, feed: Path
) -> tuple[dict[int, Path], list[str]]:
    """One folder per history size: config, database and published outputs as the last run left them.

    Each size is its own database holding the weekdays right before ``new_day``, as a deployment that
    has run every weekday would, built through the store API with the same seed. Returns the folders
    and the ids the largest history announced (what the new day's replacements replace). History ids
    stay below 50,000 a month, so the new day's (from 50,000) are new to every database.
    """
    snapshots: dict[int, Path] = {}
    announced: list[str] = []
    for level in sorted(levels):
        folder = snapshots[level] = root / f"days-{level}"
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(config_data(feed)), encoding="utf-8")
        if level == 0:
            continue
        config = load_config(folder / "config.json")
        started = time.perf_counter()
        rng, ids = random.Random(15), IdSource()
        texts = Texts.draw(rng, items)
        with open_store(config.storage.database) as store:
            for day in weekdays_before(new_day, level):
                store_day(store, config, day, announcements(day_items(rng, day, items, ids, texts), day))
            publish_outputs(store, config)
        size = config.storage.database.stat().st_size / 1e6
        print(f"  stored {level} weekdays ({size:.0f} MB database) in {time.perf_counter() - started:.0f} s")
        announced = ids.announced
    return snapshots, announced


def fresh_copy(snapshot: Path, scratch: Path) -> Path:
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(snapshot, scratch)
    return scratch


# --- in one process ---------------------------------------------------------------------------------------


def cycle_seconds(folder: Path) -> float:
    """arxivbot's whole cycle in this process (imports and start-up already paid)."""
    from arxivbot.pipeline import run_cycle
    from arxivbot.runtime import open_runtime

    config = load_config(folder / "config.json")
    start = time.perf_counter()
    with open_runtime(config) as runtime:
        report = run_cycle(config, runtime, backfill=False)
    seconds = time.perf_counter() - start
    if report.status != "ok" or report.selected == 0:
        raise SystemExit(f"the in-process run did not publish a digest: {report.status} {report.message}")
    return seconds


def stage_seconds(body: bytes, folder: Path) -> dict[str, float]:
    """arxivbot's stages on a fresh database, each timed alone."""
    config = load_config(folder / "config.json")
    times: dict[str, float] = {}
    start = time.perf_counter()
    listing = parse_daily_feed(body)
    times["parse"] = time.perf_counter() - start
    start = time.perf_counter()
    ranking = select_papers(listing.announcements, SelectionRules.from_config(config))
    times["select+rank"] = time.perf_counter() - start
    day = listing.announced or date.today()
    with open_store(config.storage.database) as store:
        start = time.perf_counter()
        store.save_announcements(listing.announcements)
        store.save_digest(
            day, ranking, generated_at=datetime.now(timezone.utc), categories=CATEGORIES, keywords=KEYWORDS
        )
        times["store"] = time.perf_counter() - start
        start = time.perf_counter()
        digest = store.load_digest(day)
        assert digest is not None
        write_outputs(store, config, digest, datetime.now(timezone.utc))
        times["render+write"] = time.perf_counter() - start
    return times


# --- the report ------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5, help="runs per whole-process and in-process figure")
    parser.add_argument("--history", default="0,20,100", help="stored weekdays before the measured day")
    parser.add_argument("--corpus", type=int, default=100_000)
    args = parser.parse_args()
    levels = sorted({int(n) for n in args.history.split(",")})
    python = sys.executable
    new_day = latest_weekday(date.today())  # recent: the reference drops papers older than days_back
    rng = random.Random(16)

    with tempfile.TemporaryDirectory(prefix="arxivbot-bench-") as folder:
        root = Path(folder)
        feeds = root / "feeds"
        feeds.mkdir()
        combined = feeds / "combined.xml"
        print(f"Building stored history ({', '.join(map(str, levels))} weekdays of {args.items} announcements)")
        snapshots, announced = build_histories(root, levels, new_day, args.items, combined)
        day = day_items(rng, new_day, args.items, IdSource(first=50_000, announced=announced))
        combined.write_bytes(rss_feed(day, new_day))
        for category in CATEGORIES:
            (feeds / f"{category}.xml").write_bytes(rss_feed(day, new_day, category))
        per_category = {c: (feeds / f"{c}.xml").read_bytes() for c in CATEGORIES}
        reference_config = config_data(combined)
        (root / "reference").mkdir()
        (root / "reference" / "config.json").write_text(json.dumps(reference_config), encoding="utf-8")
        print(
            f"New day {new_day}: {args.items} announcements, combined feed {combined.stat().st_size / 1e6:.1f} MB; "
            f"per-category feeds {sum(map(len, per_category.values())) / 1e6:.1f} MB "
            f"({sum(body.count(b'<item>') for body in per_category.values())} items with cross-lists); "
            f"{sum(1 for i in day if i.kind == 'new')} new"
        )

        # Whole processes, in turns.
        print(f"\nWhole processes ({args.runs} runs each, taken in turns; medians)")
        scratch = root / "scratch"
        process: dict[str, list[float]] = {"feedparser": [], "reference": [], "help": []}
        process.update({f"run-{level}": [] for level in levels})
        feedparser_code = "import sys, feedparser; feedparser.parse(sys.argv[1])"
        reference_script = str(Path(reference_bot.__file__).resolve())
        for _ in range(args.runs):
            process["feedparser"].append(process_seconds([python, "-c", feedparser_code, str(combined)], root))
            for level in levels:
                work = fresh_copy(snapshots[level], scratch)
                process[f"run-{level}"].append(process_seconds([python, *RUN_COMMAND], work))
            process["reference"].append(
                process_seconds(
                    [
                        python,
                        reference_script,
                        "--config",
                        "config.json",
                        "--feeds",
                        str(feeds),
                        "--readme",
                        "README.md",
                    ],
                    root / "reference",
                )
            )
            process["help"].append(process_seconds([python, "-m", "arxivbot", "--help"], root))
        fp = median(process["feedparser"])
        print(f"  feedparser alone, combined feed:        {fp:6.3f} s")
        print(f"  reference run (4 feeds, loop, README):  {median(process['reference']):6.3f} s")
        for level in levels:
            ours = median(process[f"run-{level}"])
            print(f"  arxivbot run, {level:3d} days stored:        {ours:6.3f} s  = {ours / fp:.2f}x feedparser alone")
        print(f"  arxivbot --help:                        {median(process['help']):6.3f} s")

        # In one process.
        print(f"\nIn one process ({args.runs} runs each; medians)")
        readme = root / "reference" / "README.md"
        reference_inproc = median(
            [timed(lambda: reference_bot.run(reference_config, per_category, readme)) for _ in range(args.runs)]
        )
        print(f"  reference run after its imports:        {reference_inproc:6.3f} s")
        cycles: dict[int, float] = {}
        for level in levels:
            cycles[level] = median([cycle_seconds(fresh_copy(snapshots[level], scratch)) for _ in range(args.runs)])
            print(
                f"  arxivbot cycle, {level:3d} days stored:      {cycles[level]:6.3f} s  "
                f"({reference_inproc / cycles[level]:.1f}x faster than the reference)"
            )
        stages = [
            stage_seconds(combined.read_bytes(), fresh_copy(snapshots[levels[0]], scratch)) for _ in range(args.runs)
        ]
        if levels[0] == 0:
            shown = ", ".join(f"{name} {median([s[name] for s in stages]) * 1000:.0f} ms" for name in stages[0])
            print(f"  stages on a fresh database: {shown}")

        # Ranking a large corpus.
        corpus = announcements(
            day_items(random.Random(11), new_day, args.corpus, IdSource(), Texts.draw(rng, 3000)), new_day
        )
        config = load_config(snapshots[levels[0]] / "config.json")
        print(f"\nRanking {args.corpus:,} papers (all announce types)")
        rank_seconds: dict[str, float] = {}
        for mode in ("word", "substring"):
            rules = SelectionRules.from_config(config)
            rules = SelectionRules(
                **{**rules.__dict__, "mode": mode, "announce_types": ("new", "cross", "replace", "replace-cross")}
            )
            rank_seconds[mode] = median([timed(lambda r=rules: select_papers(corpus, r)) for _ in range(3)])
            print(f"  arxivbot, {mode} mode:{' ' * (10 - len(mode))}{rank_seconds[mode]:6.2f} s")
        plain = [
            {"id": a.paper.arxiv_id, "title": a.paper.title, "summary": a.paper.abstract, "type": "new"} for a in corpus
        ]
        reference_rank = timed(
            lambda: [
                reference_bot._score(reference_config, p) for p in plain if reference_bot._matches(reference_config, p)
            ]
        )
        print(f"  reference substring loop: {reference_rank:6.2f} s")

    print(f"\nTargets (Python {sys.version.split()[0]}, {os.cpu_count()} cores; ratios of this run's medians)")
    ok = True
    for level in (n for n in levels if n > 0):
        ratio = median(process[f"run-{level}"]) / fp
        speedup = reference_inproc / cycles[level]
        ok &= ratio <= TARGET_FEEDPARSER_RATIO and speedup >= TARGET_REFERENCE_SPEEDUP
        print(
            f"  {level:3d} days stored: run = {ratio:.2f}x feedparser alone (<= {TARGET_FEEDPARSER_RATIO}x): "
            f"{verdict(ratio <= TARGET_FEEDPARSER_RATIO)}; in-process {speedup:.1f}x faster than the reference "
            f"(>= {TARGET_REFERENCE_SPEEDUP:.0f}x): {verdict(speedup >= TARGET_REFERENCE_SPEEDUP)}"
        )
    if 0 in levels and len(levels) > 1:
        growth = median(process[f"run-{levels[-1]}"]) / median(process["run-0"]) - 1
        ok &= growth < TARGET_GROWTH
        print(
            f"  run time, fresh -> {levels[-1]} days stored: {growth:+.0%} (< +{TARGET_GROWTH:.0%}): "
            f"{verdict(growth < TARGET_GROWTH)}"
        )
    help_seconds = median(process["help"])
    ok &= help_seconds < TARGET_HELP_SECONDS and rank_seconds["word"] < TARGET_RANK_SECONDS
    help_ok = help_seconds < TARGET_HELP_SECONDS
    print(f"  arxivbot --help: {help_seconds:.3f} s (< {TARGET_HELP_SECONDS} s): {verdict(help_ok)}")
    print(
        f"  {args.corpus:,} papers ranked in word mode: {rank_seconds['word']:.2f} s (< {TARGET_RANK_SECONDS:.0f} s): "
        f"{verdict(rank_seconds['word'] < TARGET_RANK_SECONDS)}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    logging.disable(logging.WARNING)  # the in-process runs' log lines (keyword notes) are not the benchmark's
    sys.exit(main())
