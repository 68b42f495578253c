"""Runs: one row per cycle or backfill, read by ``/health``, ``arxivbot status`` and the scheduler."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from arxivbot.models import RunReport
from arxivbot.store.connection import Database
from arxivbot.store.rows import RUN_COLUMNS, RUN_UPDATED_COLUMNS, iso, names, run_from, run_values, utc_now

_RUN_SELECT = f"SELECT {names(RUN_COLUMNS)} FROM runs"  # nosec B608  # column and table names are constants; values are bound with ?


class RunStore(Database):
    def start_run(self, kind: str, day: date | None = None) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (kind, started_at, status, day) VALUES (?, ?, 'running', ?)",
                (kind, iso(utc_now()), day.isoformat() if day else None),
            )
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, report: RunReport) -> None:
        assignments = ", ".join(f"{column}=?" for column in RUN_UPDATED_COLUMNS)
        with self.transaction() as db:
            db.execute(f"UPDATE runs SET {assignments} WHERE id=?", (*run_values(report), run_id))  # nosec B608  # column and table names are constants; values are bound with ?

    def last_run(self, *, status: str | None = None) -> RunReport | None:
        query = _RUN_SELECT
        params: tuple[Any, ...] = ()
        if status is not None:
            query += " WHERE status=?"
            params = (status,)
        row = self._db.execute(query + " ORDER BY id DESC LIMIT 1", params).fetchone()
        return run_from(row) if row else None

    def runs(self, limit: int = 10) -> list[RunReport]:
        """The latest ``limit`` runs, newest first (``arxivbot status``)."""
        rows = self._db.execute(f"{_RUN_SELECT} ORDER BY id DESC LIMIT ?", (limit,))
        return [run_from(row) for row in rows]

    def abort_unfinished_runs(self, noticed_at: datetime) -> list[int]:
        """Mark every run still ``running`` as ``aborted``; return their ids.

        Call it only while holding the run lock (:mod:`arxivbot.runlock`): then no other run can be
        going, and a ``running`` row is one whose process was killed or crashed before finishing.
        """
        message = (
            "aborted: the run stopped without finishing (killed, crashed or the machine went down); "
            f"noticed at {iso(noticed_at)} by the next run"
        )
        with self.transaction() as db:
            ids = [row[0] for row in db.execute("SELECT id FROM runs WHERE status='running' ORDER BY id")]
            db.execute(
                "UPDATE runs SET status='aborted', finished_at=?, message=? WHERE status='running'",
                (iso(noticed_at), message),
            )
        return ids

    def runs_started_on(self, day: date) -> list[RunReport]:
        """Runs started on ``day`` (UTC), newest first."""
        rows = self._db.execute(f"{_RUN_SELECT} WHERE substr(started_at, 1, 10)=? ORDER BY id DESC", (day.isoformat(),))
        return [run_from(row) for row in rows]
