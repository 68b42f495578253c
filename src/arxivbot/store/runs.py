"""Runs: one row per cycle, backfill or service start, read by ``/health`` and the scheduler."""

from __future__ import annotations

from datetime import date
from typing import Any

from arxivbot.models import RunRecord, RunReport
from arxivbot.store.connection import Database
from arxivbot.store.rows import RUN_COLUMNS, iso, names, run_from, utc_now

_RUN_SELECT = f"SELECT {names(RUN_COLUMNS)} FROM runs"


class RunStore(Database):
    def start_run(self, kind: str, day: date | None = None) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (kind, started_at, status, day) VALUES (?, ?, 'running', ?)",
                (kind, iso(utc_now()), day.isoformat() if day else None),
            )
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, report: RunReport) -> None:
        with self.transaction() as db:
            db.execute(
                """
                UPDATE runs SET finished_at=?, status=?, day=?, fetched=?, new_papers=?, selected=?,
                    summarized=?, llm_calls=?, cache_hits=?, prompt_tokens=?, completion_tokens=?,
                    message=?
                WHERE id=?
                """,
                (
                    iso(report.finished_at),
                    report.status,
                    report.day.isoformat() if report.day else None,
                    report.fetched,
                    report.new_papers,
                    report.selected,
                    report.summarized,
                    report.llm_calls,
                    report.cache_hits,
                    report.prompt_tokens,
                    report.completion_tokens,
                    report.message,
                    run_id,
                ),
            )

    def last_run(self, *, status: str | None = None) -> RunRecord | None:
        query = _RUN_SELECT
        params: tuple[Any, ...] = ()
        if status is not None:
            query += " WHERE status=?"
            params = (status,)
        row = self._db.execute(query + " ORDER BY id DESC LIMIT 1", params).fetchone()
        return run_from(row) if row else None

    def runs_started_on(self, day: date) -> list[RunRecord]:
        """Runs started on ``day`` (UTC), newest first."""
        rows = self._db.execute(f"{_RUN_SELECT} WHERE substr(started_at, 1, 10)=? ORDER BY id DESC", (day.isoformat(),))
        return [run_from(row) for row in rows]
