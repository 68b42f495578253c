"""The SQLite store: migrations, concurrency between processes, read-only opens."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from arxivbot.errors import StoreError
from arxivbot.migrations import MIGRATIONS
from arxivbot.models import Announcement, Paper
from arxivbot.store import Store

OPEN_MANY_TIMES = """
import sys
from arxivbot.store import Store
for _ in range(20):
    Store(sys.argv[1]).close()
"""


def test_a_new_database_gets_every_migration_once(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as store:
        assert store.applied_migrations() == sorted(name for name, _ in MIGRATIONS)
    with Store(tmp_path / "a.db") as store:  # reopening applies nothing twice
        assert store.applied_migrations() == sorted(name for name, _ in MIGRATIONS)


def test_two_processes_opening_a_fresh_database_at_once_both_succeed(tmp_path: Path) -> None:
    # ``serve`` and a cron ``run`` may create the database at the same moment.
    for attempt in range(20):
        path = tmp_path / f"race-{attempt}.db"
        workers = [
            subprocess.Popen([sys.executable, "-c", OPEN_MANY_TIMES, str(path)], stderr=subprocess.PIPE, text=True)
            for _ in range(4)
        ]
        results = [(worker.communicate(timeout=60)[1], worker.returncode) for worker in workers]
        assert [code for _, code in results] == [0] * len(workers), [errors for errors, _ in results]
        with Store(path) as store:
            assert len(store.applied_migrations()) == len(MIGRATIONS)


def test_a_database_from_an_older_version_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    first_name, first_sql = MIGRATIONS[0]
    db.executescript(first_sql)
    db.execute("INSERT INTO _migrations VALUES (?, '2025-01-01T00:00:00+00:00')", (first_name,))
    db.commit()
    db.close()

    with Store(path) as store:
        assert len(store.applied_migrations()) == len(MIGRATIONS)
        paper = Paper("2512.00001", 1, "T", ("A",), "abstract", ("cs.AI",), "https://arxiv.org/abs/2512.00001")
        assert store.save_announcements([Announcement(paper, "new", date(2025, 12, 24))]) == 1


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(StoreError, match=r"broken\.db: cannot open the arxivbot database"):
        Store(path)


def test_read_only_open_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    Store(path).close()
    with Store(path, readonly=True) as store, pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.start_run("run")
