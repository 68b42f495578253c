"""A successful ``arxivbot run`` ends by applying the retention policy; history still sees what it compacted."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from arxivbot.config import Config, config_from_dict
from arxivbot.pipeline import run_cycle
from arxivbot.runtime import open_runtime
from arxivbot.store import open_store
from tests.store.records import rss_feed

FIRST = date(2026, 3, 2)  # a Monday
MIDDLE = date(2026, 3, 10)  # more than a week later: the first day ages out
LATER = date(2026, 3, 12)


def config(tmp_path: Path, **extra: object) -> Config:
    return config_from_dict(
        {
            "categories": ["cs.LG"],
            "keywords": ["Sparse"],
            "days_back": 1,
            "arxiv": {"rss_url": "feed.xml"},
            **extra,
        },
        base_dir=tmp_path,
    )


def run_day(settings: Config, tmp_path: Path, day: date, items: list[tuple[str, int, str, str]]) -> int:
    (tmp_path / "feed.xml").write_bytes(rss_feed(day, items))
    with open_runtime(settings) as runtime:
        return run_cycle(settings, runtime, day=day, backfill=False).new_papers


def test_a_run_compacts_what_aged_out_and_keeps_what_was_listed(tmp_path: Path) -> None:
    settings = config(tmp_path)
    first_day = [
        ("2603.00001", 1, "new", "Sparse Attention at Scale"),  # listed in the digest: kept for ever
        ("2603.00002", 1, "new", "Protein Folding Revisited"),
        ("2603.00003", 1, "new", "Graph Colouring Bounds"),
    ]
    assert run_day(settings, tmp_path, FIRST, first_day) == 3
    assert run_day(settings, tmp_path, MIDDLE, [("2603.00005", 1, "new", "Sparse Codes")]) == 1
    with open_store(settings.storage.database) as store:
        assert store.get_paper("2603.00002") is None and store.get_paper("2603.00003") is None
    later_day = [
        ("2603.00002", 2, "replace", "Protein Folding Revisited"),  # compacted, then announced again
        ("2603.00010", 1, "new", "Sparse Kernels for Inference"),
    ]
    assert run_day(settings, tmp_path, LATER, later_day) == 1  # the compacted paper is not new again

    with open_store(settings.storage.database) as store:
        assert store.get_paper("2603.00001") is not None
        assert store.get_paper("2603.00003") is None
        replaced = store.get_paper("2603.00002")
        assert replaced is not None and replaced.version == 2
        assert store.known_ids(["2603.00001", "2603.00002", "2603.00003"]) == {"2603.00001", "2603.00002", "2603.00003"}
        first_digest = store.load_digest(FIRST)
        assert first_digest is not None and [e.scored.paper.arxiv_id for e in first_digest.entries] == ["2603.00001"]
        assert first_digest.entries[0].scored.reason == "keywords: Sparse"
    db = sqlite3.connect(settings.storage.database)
    assert db.execute("SELECT arxiv_id FROM compact_papers ORDER BY arxiv_id").fetchall() == [
        ("2603.00002",),
        ("2603.00003",),
    ]
    db.close()


def test_a_run_with_retention_off_keeps_every_full_record(tmp_path: Path) -> None:
    settings = config(tmp_path, retention={"compact": False})
    run_day(settings, tmp_path, FIRST, [("2603.00003", 1, "new", "Graph Colouring Bounds")])
    run_day(settings, tmp_path, LATER, [("2603.00010", 1, "new", "Sparse Kernels for Inference")])
    with open_store(settings.storage.database) as store:
        assert store.get_paper("2603.00003") is not None
