"""Benchmark: how fast the database file grows, day after day, through the real CLI.

On the GitHub Actions state branch the database is committed after every run, and GitHub refuses
files over 100 MB, so the growth per weekday decides how long a deployment lasts. This simulates
20 weekdays of 3,000 announcements each (4 busy categories), written in arXiv's real RSS format:
abstracts of about 170 words drawn from a research-prose vocabulary with a Zipf-like distribution,
titles of 6-14 words, 1-10 authors, cross-lists, replacements of earlier papers, ids increasing.
Each day goes through ``arxivbot run --config … --date D --no-backfill`` (a subprocess, so the run's
connection is closed and the WAL checkpointed), with a keyword list that selects a few dozen papers
and summaries off; the file's size is printed after each day.

Twice: with the default retention policy, and with retention off (``retention.compact: false``).
Run:

    python bench/bench_state_growth.py [--days 20] [--items 3000]

Target (issue 10): < 0.3 MB per weekday with default settings, as the mean over days 11-20.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

CATEGORIES = ["cs.AI", "cs.CL", "cs.DC", "cs.LG"]
OTHER_CATEGORIES = ["cs.CV", "stat.ML", "cs.RO", "cs.IR", "math.OC", "eess.SP", "cs.NE", "cs.SE", "cs.CR"]
# Rare topics a researcher would follow, planted in a few percent of abstracts.
TOPICS = ["speculative decoding", "mixture of experts", "KV cache", "state space model", "FP8 training"]
KEYWORDS = ["speculative decoding", "mixture of experts", "KV cache", "state space", "FP8"]
START = date(2026, 1, 5)  # a Monday
TARGET_MB = 0.3


def words_of(text: str) -> list[str]:
    return text.split()


# Function words first: in real abstracts they are about 40% of the words.
_FUNCTION = words_of(
    "the of and to a in we that is for on with as by this our an are from be which can it at these its "
    "their both such than while into over under between not or also more most when where how"
)
_CONTENT = words_of(
    "model models method methods learning data results performance approach propose proposed show based "
    "task tasks training network networks neural language large framework problem using existing paper "
    "novel state art benchmark benchmarks accuracy efficient efficiency algorithm algorithms experiments "
    "demonstrate significantly improve improves improved improvement representation representations "
    "information analysis system systems different new approaches inference achieve achieves "
    "generalization robust robustness evaluation evaluate dataset datasets feature features deep "
    "reinforcement agent agents policy reward optimization optimal gradient convergence theoretical "
    "empirical study studies prior work previous however furthermore moreover specifically particular "
    "general address challenge challenges key critical important limited limitations scale scaling "
    "scalable computational cost costs memory latency throughput parallel distributed hardware "
    "accelerator accelerators communication kernel kernels graph graphs attention transformer "
    "transformers token tokens sequence sequences context contextual reasoning retrieval generation "
    "generative diffusion image images video visual vision text textual multimodal alignment preference "
    "human feedback instruction tuning fine pretrained pretraining embedding embeddings latent space "
    "spaces distribution distributions probability probabilistic uncertainty estimation bayesian causal "
    "causality structure structured sparse sparsity quantization compression pruning knowledge "
    "distillation teacher student transfer domain adaptation shift out supervised unsupervised self "
    "contrastive objective loss function functions linear nonlinear bound bounds guarantee guarantees "
    "complexity sample samples sampling noise noisy signal signals temporal spatial dynamics dynamic "
    "dynamical control controller planning robot robotic environment environments simulation real world "
    "practical applications application clinical medical patient patients healthcare financial security "
    "privacy federated clients server adversarial attack attacks defense detection anomaly classification "
    "regression clustering segmentation recognition prediction predictions forecasting time series code "
    "program programs software verification formal logic symbolic neuro hybrid interpretable "
    "interpretability explanation explanations fairness bias safety safe trustworthy reliable reliability "
    "calibration metric metrics measure measures score scores ablation ablations baseline baselines "
    "outperforms outperform competitive comparable consistent consistently substantially across various "
    "multiple diverse wide range settings setting scenario scenarios open source available publicly "
    "release code github leverage leverages leveraging enable enables enabling capture captures capturing "
    "mechanism mechanisms module modules component components layer layers architecture architectures "
    "parameter parameters hyperparameter efficiently effectively effective simple yet powerful"
)
VOCABULARY = _FUNCTION + _CONTENT
# Zipf-like weights (the 1st word 25x as frequent as the 100th), tuned so that words average 6.7
# characters with their space, as in real abstracts (arXiv's metadata snapshot: 6.67).
WEIGHTS = [1.0 / (rank + 1) ** 0.7 for rank in range(len(VOCABULARY))]
FIRST_NAMES = words_of(
    "Wei Jing Li Yang Hao Xin Yu Ming Anna Maria David Michael Sarah James Laura Thomas Elena Ahmed "
    "Fatima Ravi Priya Arjun Kenji Yuki Sofia Lucas Hannah Daniel Olga Ivan Pierre Camille Marco Giulia"
)
LAST_NAMES = words_of(
    "Wang Zhang Liu Chen Li Yang Huang Zhao Wu Zhou Smith Johnson Brown Garcia Miller Davis Martinez "
    "Kumar Singh Sharma Tanaka Suzuki Kim Park Nguyen Müller Schmidt Rossi Ferrari Dubois Petrov Ivanova"
)


def words(rng: random.Random, count: int) -> list[str]:
    return rng.choices(VOCABULARY, weights=WEIGHTS, k=count)


def abstract(rng: random.Random) -> str:
    sentences, total = [], rng.randint(150, 190)
    left = total
    while left > 0:
        length = min(left, rng.randint(14, 30))
        sentence = words(rng, length)
        if rng.random() < 0.003:  # a rare topic, what the keywords look for: 2-3% of abstracts
            sentence[rng.randrange(length)] = rng.choice(TOPICS)
        sentences.append(" ".join(sentence).capitalize() + ".")
        left -= length
    return " ".join(sentences)


def title(rng: random.Random) -> str:
    return " ".join(word.capitalize() for word in rng.choices(_CONTENT, k=rng.randint(6, 14)))


def authors(rng: random.Random) -> str:
    return ", ".join(f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(rng.randint(1, 10)))


def day_feed(rng: random.Random, day: date, first_number: int, items: int, earlier: list[str]) -> tuple[bytes, int]:
    """One day's combined listing in arXiv's RSS 2.0 layout: new, cross, replace, replace-cross."""
    stamp = f"{day:%a, %d %b %Y} 00:00:00 -0500"
    label = "+".join(CATEGORIES)
    parts = [
        "<?xml version='1.0' encoding='UTF-8'?>\n",
        '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'version="2.0">\n  <channel>\n',
        f"    <title>{', '.join(CATEGORIES)} updates on arXiv.org</title>\n",
        f"    <link>http://rss.arxiv.org/rss/{label}</link>\n",
        f"    <description>{', '.join(CATEGORIES)} updates on the arXiv.org e-print archive.</description>\n",
        f"    <lastBuildDate>{day:%a, %d %b %Y} 05:00:03 +0000</lastBuildDate>\n",
        f"    <pubDate>{stamp}</pubDate>\n",
    ]
    number = first_number
    for _ in range(items):
        kind = rng.choices(["new", "cross", "replace", "replace-cross"], weights=[60, 15, 20, 5])[0]
        if kind in ("new", "cross") or not earlier:
            arxiv_id, version = f"2601.{number:05d}", 1
            number += 1
        else:  # a new version of a paper announced on an earlier day (or before the simulation)
            arxiv_id = rng.choice(earlier) if rng.random() < 0.5 else f"2511.{rng.randrange(1, 30000):05d}"
            version = rng.randint(2, 4)
        primary = rng.choice(CATEGORIES if kind in ("new", "replace") else OTHER_CATEGORIES)
        categories = dict.fromkeys([primary, *rng.sample(CATEGORIES + OTHER_CATEGORIES, rng.randint(0, 2))])
        if kind in ("cross", "replace-cross"):
            categories[rng.choice(CATEGORIES)] = None
        parts.append(
            "    <item>\n"
            f"      <title>{escape(title(rng))}</title>\n"
            f"      <link>https://arxiv.org/abs/{arxiv_id}</link>\n"
            f"      <description>arXiv:{arxiv_id}v{version} Announce Type: {kind} \n"
            f"Abstract: {escape(abstract(rng))}</description>\n"
            f'      <guid isPermaLink="false">oai:arXiv.org:{arxiv_id}v{version}</guid>\n'
            + "".join(f"      <category>{category}</category>\n" for category in categories)
            + f"      <pubDate>{stamp}</pubDate>\n"
            f"      <arxiv:announce_type>{kind}</arxiv:announce_type>\n"
            "      <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>\n"
            f"      <dc:creator>{escape(authors(rng))}</dc:creator>\n"
            "    </item>\n"
        )
    parts.append("  </channel>\n</rss>\n")
    earlier.extend(f"2601.{n:05d}" for n in range(first_number, number))
    return "".join(parts).encode("utf-8"), number


def weekdays(count: int) -> list[date]:
    days, day = [], START
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def simulate(workdir: Path, days: int, items: int, retention: dict[str, object]) -> list[int]:
    """Run the CLI once per weekday; return the database's size in bytes after each day."""
    feed = workdir / "feed.xml"
    config = workdir / "config.json"
    config.write_text(
        json.dumps(
            {
                "categories": CATEGORIES,
                "keywords": KEYWORDS,
                "ai_summary": {"enabled": False},
                "arxiv": {"rss_url": str(feed)},
                "storage": {"database": "data/arxivbot.db"},
                "retention": retention,
                "output": {"readme": "out/README.md", "site_dir": "out/public"},
            }
        ),
        encoding="utf-8",
    )
    database = workdir / "data" / "arxivbot.db"
    rng, number, earlier, sizes = random.Random(10), 1, [], []
    for n, day in enumerate(weekdays(days), start=1):
        body, number = day_feed(rng, day, number, items, earlier)
        feed.write_bytes(body)
        command = [sys.executable, "-m", "arxivbot", "run", "-q", "--config", str(config)]
        command += ["--date", day.isoformat(), "--no-backfill"]
        started = time.perf_counter()
        subprocess.run(command, check=True, cwd=workdir, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        wal = database.with_name(database.name + "-wal")
        size = database.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
        sizes.append(size)
        grown = size - (sizes[-2] if n > 1 else 0)
        print(f"  day {n:2d} {day}  {size / 1e6:7.2f} MB  ({grown / 1e6:+6.2f} MB)  run {seconds:4.1f} s", flush=True)
    return sizes


def mean_growth(sizes: list[int], first: int = 11, last: int = 20) -> float:
    """Mean growth per weekday over days ``first``..``last`` (1-based), in MB."""
    last = min(last, len(sizes))
    return (sizes[last - 1] - sizes[first - 2]) / (last - first + 1) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--items", type=int, default=3000)
    args = parser.parse_args()
    if args.days < 12:
        parser.error("--days must be at least 12 (the steady state is measured over days 11-20)")
    results = {}
    for label, retention in (("default retention", {}), ("retention off", {"compact": False})):
        print(f"{label}: {args.days} weekdays x {args.items} announcements", flush=True)
        with tempfile.TemporaryDirectory(prefix="arxivbot-growth-") as folder:
            results[label] = simulate(Path(folder), args.days, args.items, retention)
    print()
    for label, sizes in results.items():
        print(
            f"{label:18s} final {sizes[-1] / 1e6:6.2f} MB   mean growth days 11-{min(20, args.days)}: "
            f"{mean_growth(sizes):.3f} MB/weekday"
        )
    growth = mean_growth(results["default retention"])
    verdict = "meets" if growth < TARGET_MB else "MISSES"
    print(f"default settings {verdict} the target of < {TARGET_MB} MB per weekday ({growth:.3f} MB)")
    return 0 if growth < TARGET_MB else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
