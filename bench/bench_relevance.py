"""Benchmark: learned relevance on real arXiv days, and its speed (issue 11).

Quality: ``../shared/fixtures/relevance`` holds 48 real days (cs.CV, cs.CL, cs.AI, 2025-10 → 12) and 144
cases: a researcher's earlier papers are the library, their papers announced that day the targets,
authors hidden. Each case goes through the product's own path (``relevance.rank_announcements``:
Evidence gathered as ``arxivbot run`` gathers it, ``build_ranker``, fit, ``select_papers``) with
``keywords: []``; the previous days' listings play the store's recent history where a method reads
it. Printed per method: recall@30 and MRR, on the dev days, the held-out days (days alternate) and
all. Methods:

- random (seeded);
- zotero-arxiv-daily's formula: the recency-weighted mean cosine to the library (weights
  1 / (1 + log10(rank + 1)) over newest-first items), here on tf-idf vectors (no local embedding
  model is assumed);
- the plain arxiv-sanity recipe: tf-idf 1-2 grams + LinearSVC, library against the field;
- ours: the library scorer as the default configuration runs it (``ranking.method: "tfidf"``,
  ``ranking.background_days: 0``: the day's own announcements and the dislikes are the negatives);
- ours+7-days: the same with ``ranking.background_days: 7`` (the previous 7 listings join the negatives);
- ours-next-day: the day before is ranked first into a fresh store, then the day itself, so any model
  the store cached on the day before is what ranks it (a model is reused only for the same evidence).

Speed (the issue's figures): a 600-paper day against a 500-paper library, cold (fit included) and
warm (the fitted model from the store's cache), peak memory of that run, and whether ``arxivbot
--help`` imports scikit-learn (it must not). Run:

    python bench/bench_relevance.py [--cases N] [--jobs 2] [--skip-speed] [--skip-quality]

Skips cleanly (exit 0) when ../shared is absent.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
FIXTURES = PROJECT.parent / "shared" / "fixtures" / "relevance"
HISTORY_DAYS = 7
K = 30


@dataclass(frozen=True)
class Case:
    day: str
    author: str
    library: tuple[dict, ...]  # newest first
    pool: tuple[dict, ...]
    history: tuple[tuple[str, tuple[dict, ...]], ...]  # (day, listing), newest first
    positives: frozenset[str]


def load_cases() -> tuple[list[Case], list[str]]:
    days = sorted(name[:10] for name in os.listdir(FIXTURES / "days"))
    listing = {day: _jsonl(FIXTURES / "days" / f"{day}.jsonl.gz") for day in days}
    library = {p["id"]: p for p in _jsonl(FIXTURES / "library.jsonl.gz")}
    cases = []
    for line in (FIXTURES / "cases.jsonl").read_text().splitlines():
        case = json.loads(line)
        index = days.index(case["day"])
        own = sorted((library[i] for i in case["library"]), key=lambda p: (p.get("day", ""), p["id"]), reverse=True)
        history = tuple((d, tuple(listing[d])) for d in reversed(days[max(0, index - HISTORY_DAYS) : index]))
        cases.append(
            Case(
                case["day"],
                case["author"],
                tuple(own),
                tuple(listing[case["day"]]),
                history,
                frozenset(case["positives"]),
            )
        )
    return cases, days


def _jsonl(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as file:
        return [json.loads(line) for line in file]


# --- the product's path -------------------------------------------------------------------------------------


def _announcement(raw: dict, day: str):
    from arxivbot.models import Announcement, Paper

    paper = Paper(
        arxiv_id=raw["id"],
        version=1,
        title=" ".join(raw["title"].split()),
        authors=(),  # hidden: with them the task is trivial
        abstract=" ".join(raw["abstract"].split()),
        categories=tuple(raw.get("categories") or ()),
        link=f"https://arxiv.org/abs/{raw['id']}",
    )
    return Announcement(paper, "new", date.fromisoformat(day))


def _library(case: Case):
    from arxivbot.library import Library
    from arxivbot.models import LibraryItem

    items = tuple(
        LibraryItem(
            source="bibtex",
            key=raw["id"],
            title=" ".join(raw["title"].split()),
            abstract=" ".join(raw["abstract"].split()),
            arxiv_id=raw["id"],
            added=datetime.fromisoformat(raw["day"]).replace(tzinfo=timezone.utc) if raw.get("day") else None,
        )
        for raw in case.library
    )
    return Library(items=items, configured=True)


def _config(max_papers: int, **ranking: object):
    """The product's defaults, ``keywords: []``, and the ``ranking`` settings given."""
    from arxivbot.config import config_from_dict

    return config_from_dict(
        {
            "categories": ["cs.CV", "cs.CL", "cs.AI"],
            "keywords": [],
            "max_papers": max_papers,
            "min_score": 0,
            "ranking": ranking,
        },
        base_dir=Path(tempfile.gettempdir()),
    )


def _history(config, listings) -> list:
    """What ``relevance.recent_history`` would read from the store: the last ``background_days`` listings."""
    return [_announcement(raw, day) for day, listing in listings[: config.ranking.background_days] for raw in listing]


def rank_case(case: Case, method: str) -> list[str]:
    """The ids of the whole pool in the order ``method`` ranks it, through ``rank_announcements``."""
    from arxivbot.rank import Combiner, SelectionRules, Weighted, select_papers
    from arxivbot.relevance import gather_evidence, rank_announcements

    announcements = [_announcement(raw, case.day) for raw in case.pool]
    config = _config(len(announcements), **({"background_days": HISTORY_DAYS} if method == "ours+7-days" else {}))
    library = _library(case)
    if method in ("ours", "ours+7-days"):
        history = _history(config, case.history)
        ranking, _ = rank_announcements(config, announcements, set(), library=library, history=history)
    elif method == "ours-next-day":  # the day before ranked first, into the same store
        from arxivbot.store import open_store

        previous_day, listing = case.history[0] if case.history else (case.day, case.pool)  # the first day: none
        before = [_announcement(raw, previous_day) for raw in listing]
        with tempfile.TemporaryDirectory() as folder, open_store(Path(folder) / "cache.db") as store:
            rank_announcements(config, before, set(), library=library, store=store)
            ranking, _ = rank_announcements(config, announcements, set(), library=library, store=store)
    else:  # the same Evidence, the same selection; another scorer behind the seam
        scorer = _baseline(method, case)
        ranker = Combiner([Weighted(scorer, 1.0)])
        ranker.fit(gather_evidence(library, announcements, _history(config, case.history)))
        ranking = select_papers(announcements, SelectionRules.from_config(config), ranker=ranker)
    return [scored.paper.arxiv_id for scored in ranking]


def _baseline(method: str, case: Case):
    from arxivbot.rank.learned import LibraryScorer
    from arxivbot.rank.text_model import ARXIV_SANITY

    if method == "arxiv-sanity":
        return LibraryScorer(ARXIV_SANITY)
    if method == "zotero":
        return ZoteroFormula()
    if method == "random":
        return RandomScorer(f"{case.day}|{case.author}")
    raise ValueError(method)


class RandomScorer:
    name = "random"

    def __init__(self, seed: str) -> None:
        self.rng = random.Random(seed)

    def fit(self, evidence) -> None:
        pass

    def score(self, papers):
        from arxivbot.rank import Rating

        return [Rating(self.rng.random()) for _ in papers]

    def explain(self, paper, rating):
        from arxivbot.models import Reason

        return Reason(self.name, rating.score)


class ZoteroFormula(RandomScorer):
    """zotero-arxiv-daily: Σ_i w_i cos(paper, library_i), w_i = 1/(1+log10(i+1)) normalised, newest first;
    here on tf-idf vectors (vocabulary and idf from the library and the background)."""

    name = "zotero"

    def __init__(self) -> None:
        self.vectorizer = None

    def fit(self, evidence) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        from arxivbot.rank.text_model import recency_weights

        texts = [f"{p.title}. {p.abstract}" for p in (*evidence.library, *evidence.background)]
        self.vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit(texts)
        self.library = self.vectorizer.transform([f"{p.title}. {p.abstract}" for p in evidence.library])
        self.weights = recency_weights(len(evidence.library))

    def score(self, papers):
        import numpy as np

        from arxivbot.rank import Rating

        x = self.vectorizer.transform([f"{p.title}. {p.abstract}" for p in papers])
        return [Rating(float(s)) for s in np.asarray((x @ self.library.T).todense()) @ self.weights]


def metrics(ranked: Sequence[str], positives: frozenset[str]) -> tuple[float, float]:
    recall = sum(1 for i in ranked[:K] if i in positives) / len(positives)
    first = next((rank for rank, i in enumerate(ranked, 1) if i in positives), None)
    return recall, (1.0 / first if first else 0.0)


def _one(job: tuple[Case, str]) -> tuple[float, float, float]:
    case, method = job
    started = time.perf_counter()
    recall, mrr = metrics(rank_case(case, method), case.positives)
    return recall, mrr, time.perf_counter() - started


def quality(cases: list[Case], days: list[str], methods: Sequence[str], jobs: int) -> None:
    print(f"Quality: {len(cases)} cases, recall@{K} / MRR (dev days | held-out days | all), authors hidden")
    for method in methods:
        with ProcessPoolExecutor(jobs) as pool:
            results = list(pool.map(_one, [(case, method) for case in cases], chunksize=2))
        parts = {"dev": [], "held": [], "all": []}
        for case, result in zip(cases, results, strict=True):
            parts["dev" if days.index(case.day) % 2 == 0 else "held"].append(result)
            parts["all"].append(result)
        cells = "  ".join(
            f"{name} {sum(r[0] for r in rows) / len(rows):.3f}/{sum(r[1] for r in rows) / len(rows):.3f}"
            for name, rows in parts.items()
            if rows
        )
        seconds = sum(r[2] for r in results) / len(results)
        print(f"  {method:<14} {cells}   ({seconds:.2f} s per case)", flush=True)


# --- speed ----------------------------------------------------------------------------------------------------


def speed() -> None:
    """A 600-paper day against a 500-paper library, cold then warm, each in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.db"
        for label in ("cold (fit included)", "warm (model from the cache)"):
            out = subprocess.run(
                [sys.executable, __file__, "--speed-run", str(database)], capture_output=True, text=True, check=True
            ).stdout.split()
            print(f"  {label:<28} {float(out[0]):.2f} s ranking, peak memory {float(out[1]):.0f} MB")
    check = "import sys, arxivbot.cli; print('sklearn' in sys.modules, 'numpy' in sys.modules)"
    imported = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout.split()
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "arxivbot", "--help"], capture_output=True, check=True)
    print(
        f"  arxivbot --help: {time.perf_counter() - started:.2f} s; imports scikit-learn: {imported[0]}, "
        f"numpy: {imported[1]} (both must be False)"
    )


def speed_run(database: Path) -> None:
    from arxivbot.library import Library
    from arxivbot.models import LibraryItem
    from arxivbot.relevance import rank_announcements
    from arxivbot.store import open_store

    days = sorted(name[:10] for name in os.listdir(FIXTURES / "days"))
    pool = [p for day in days[-3:] for p in _jsonl(FIXTURES / "days" / f"{day}.jsonl.gz")][:600]
    announcements = [_announcement(raw, days[-1]) for raw in pool]
    config = _config(30)
    listings = [(day, _jsonl(FIXTURES / "days" / f"{day}.jsonl.gz")) for day in reversed(days[-9:-3])]
    items = tuple(
        LibraryItem("bibtex", raw["id"], raw["title"], raw["abstract"], arxiv_id=raw["id"])
        for raw in _jsonl(FIXTURES / "library.jsonl.gz")[:500]
    )
    with open_store(database) as store:
        started = time.perf_counter()
        rank_announcements(
            config,
            announcements,
            set(),
            library=Library(items=items, configured=True),
            history=_history(config, listings),  # none with the default background_days: 0
            store=store,
        )
        elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{elapsed:.3f} {peak:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=0, help="only the first N cases (0: all)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for the quality runs")
    parser.add_argument("--methods", default="random,zotero,arxiv-sanity,ours,ours+7-days,ours-next-day")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--speed-run", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not FIXTURES.is_dir():
        print(f"skipped: {FIXTURES} is absent (the relevance fixtures live in ../shared)")
        return
    if args.speed_run:
        speed_run(args.speed_run)
        return
    if not args.skip_quality:
        cases, days = load_cases()
        quality(cases[: args.cases or None], days, args.methods.split(","), args.jobs)
    if not args.skip_speed:
        print("Speed: a 600-paper day against a 500-paper library (target: warm < 2 s, cold < 10 s, < 500 MB)")
        speed()


if __name__ == "__main__":
    main()
