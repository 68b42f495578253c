"""The SQLite store: migrations on open, concurrency between processes, read-only opens, reasons."""

from __future__ import annotations

import multiprocessing
import sqlite3
import traceback
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from arxivbot.errors import StoreError
from arxivbot.models import Reason, ScoredPaper, Summary
from arxivbot.store import SQLiteStore, open_store
from arxivbot.store.migrations import migrations
from tests.store.records import announced, scored

RACES = 100  # fresh databases, each opened by every worker at once
OPENS = 2  # opens per worker and database
WORKERS = 4
DAY = date(2026, 5, 5)


def test_a_new_database_gets_every_migration_once(tmp_path: Path) -> None:
    names = [migration.name for migration in migrations()]
    assert names[:5] == [
        "0001_papers_and_announcements",
        "0002_runs",
        "0003_digests",
        "0004_summaries",
        "0005_http_cache_and_coverage",
    ]  # the names databases in use already record: never renamed
    with open_store(tmp_path / "a.db") as store:
        assert isinstance(store, SQLiteStore)
        assert store.applied_migrations() == names
    with open_store(tmp_path / "a.db") as store:  # reopening applies nothing twice
        assert store.applied_migrations() == names


def test_a_new_database_gives_space_back_incrementally(tmp_path: Path) -> None:
    open_store(tmp_path / "a.db").close()
    db = sqlite3.connect(tmp_path / "a.db")
    assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # INCREMENTAL
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def open_each_database_with_the_others(paths: list[str], barrier: Any, outcomes: Any) -> None:
    """One worker process: for every path, wait until all workers are ready, then open it ``OPENS`` times."""
    try:
        for path in paths:
            barrier.wait(timeout=60)
            for _ in range(OPENS):
                open_store(path).close()
    except BaseException:
        barrier.abort()  # the others stop waiting for this one
        outcomes.put(traceback.format_exc())
    else:
        outcomes.put("ok")


def test_two_processes_opening_a_fresh_database_at_once_both_succeed(tmp_path: Path) -> None:
    # ``serve`` and a cron ``run`` may create the database at the same moment. Several processes open each
    # of ``RACES`` fresh databases together: a barrier lines them up before every database, so each one is
    # created in a race, while the processes start (and import) only once. With the WAL switch's wait
    # (connection._use_wal) removed, this failed in 5 runs of 8, on a disk and on a RAM disk alike; the
    # former version, new processes for every database, failed in 0 of 8 on a RAM disk, taking 2.5x longer.
    paths = [str(tmp_path / f"race-{attempt}.db") for attempt in range(RACES)]
    context = multiprocessing.get_context("spawn")  # no fork of a threaded test process
    barrier, outcomes = context.Barrier(WORKERS), context.Queue()
    workers = [
        context.Process(target=open_each_database_with_the_others, args=(paths, barrier, outcomes))
        for _ in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    results = [outcomes.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(30)
    outcomes.close()
    outcomes.join_thread()

    assert results == ["ok"] * WORKERS, "\n".join(results)
    assert [worker.exitcode for worker in workers] == [0] * WORKERS
    for path in paths:
        with open_store(path) as store:
            assert store.applied_migrations() == [migration.name for migration in migrations()]


def test_read_only_open_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    open_store(path).close()
    with open_store(path, readonly=True) as store, pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.start_run("run")


def test_read_only_open_of_a_missing_database_says_so(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"missing\.db: cannot open the arxivbot database .*does not exist yet"):
        open_store(tmp_path / "missing.db", readonly=True)
    assert not (tmp_path / "missing.db").exists()


def test_every_scorer_reason_survives_the_round_trip(tmp_path: Path) -> None:
    reasons = (
        Reason("keywords", 2.5, "keywords: Sparse, LLM", ("Sparse", "LLM"), ("Sparse",)),
        Reason("library", 0.82, "like: Attention Is All You Need"),
        Reason("llm", 7.0, 'judge: on topic — "quoted" <b>text</b>', ("kv cache",)),
    )
    first = announced("2605.00001", DAY)
    with open_store(tmp_path / "a.db") as store:
        store.save_announcements([first])
        store.save_digest(
            DAY,
            [scored(first, 10.3, *reasons)],
            generated_at=datetime.now(timezone.utc),
            categories=["cs.LG"],
            keywords=[],
        )
        digest = store.load_digest(DAY)
        (item,) = store.feed_items(DAY, 10)
    assert digest is not None
    (entry,) = digest.entries
    assert entry.scored.reasons == reasons == item.scored.reasons
    assert entry.scored.score == 10.3
    assert entry.scored.matched_keywords == ("Sparse", "LLM") and entry.scored.title_keywords == ("Sparse",)
    assert (
        entry.scored.reason
        == 'keywords: Sparse, LLM; like: Attention Is All You Need; judge: on topic — "quoted" <b>text</b>'
    )


def test_a_paper_without_reasons_and_its_summary_come_back(tmp_path: Path) -> None:
    first = announced("2605.00001", DAY)
    with open_store(tmp_path / "a.db") as store:
        store.save_announcements([first])
        store.save_digest(
            DAY,
            [ScoredPaper(first, 0.0, "cs.LG")],
            generated_at=datetime.now(timezone.utc),
            categories=["cs.LG"],
            keywords=[],
        )
        store.save_summary(Summary("2605.00001", 1, "qwen-long", "p1", "abstract", "**Summary**"))
        digest = store.load_digest(DAY)
        raw = store._db.execute("SELECT reasons FROM digest_entries").fetchone()[0]
    assert raw == "[]"
    assert digest is not None
    (entry,) = digest.entries
    assert entry.scored.reasons == () and entry.scored.reason == ""
    assert entry.summary is not None and entry.summary.text == "**Summary**"


def test_a_database_part_way_through_its_history_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    first = migrations()[0]
    db.executescript(first.sql)
    db.execute("INSERT INTO _migrations VALUES (?, '2025-01-01T00:00:00+00:00')", (first.name,))
    db.commit()
    db.close()

    with open_store(path) as store:
        assert store.applied_migrations() == [migration.name for migration in migrations()]
        assert store.save_announcements([announced("2512.00001", date(2025, 12, 24))]) == 1
