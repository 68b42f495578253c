"""``arxivbot status``: what the last runs did, read from the database.

For the morning after: did the cron run publish, fail, or get killed half-way? Each stored run is a
:class:`~arxivbot.models.RunReport`, the same record ``arxivbot run`` printed and ``/health`` serves.
Reading changes nothing (the database is opened read-only) and takes no lock; whether a run is going
on right now is read from the run lock (:mod:`arxivbot.runlock`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from arxivbot.config import Config
from arxivbot.models import RunReport
from arxivbot.runlock import held_elsewhere
from arxivbot.store import open_store


@dataclass(frozen=True, slots=True)
class RunStatus:
    """The latest runs of one database, newest first, and whether one holds its lock right now."""

    database: Path
    runs: tuple[RunReport, ...]
    in_progress: bool

    def to_dict(self) -> dict[str, object]:
        """What ``arxivbot status --json`` prints."""
        return {
            "database": str(self.database),
            "in_progress": self.in_progress,
            "runs": [run.to_dict() for run in self.runs],
        }


def run_status(config: Config, limit: int = 10) -> RunStatus:
    """The last ``limit`` runs of ``config``'s database (none when it does not exist yet)."""
    database = config.storage.database
    runs: list[RunReport] = []
    if database.is_file():
        with open_store(database, readonly=True) as store:
            runs = store.runs(limit)
    return RunStatus(database, tuple(runs), held_elsewhere(database))


def describe_run(run: RunReport, *, in_progress: bool) -> str:
    """One line: ``#7 run ok 2025-12-24 · started 2025-12-24 06:31 UTC, took 41 s · 12 fetched, …``."""
    status = run.status
    if status == "running" and not in_progress:
        # Nobody holds the lock: this run was killed; the next run marks it aborted.
        status = "running? (no run holds the lock: it was killed, the next run marks it aborted)"
    parts = [f"#{run.run_id} {run.kind} {status} {run.day.isoformat() if run.day else '-'}", _timing(run)]
    counts = _counts(run)
    if counts:
        parts.append(counts)
    if run.message:
        parts.append(run.message)
    elif run.warnings:
        parts.append(f"{len(run.warnings)} warning(s): {run.warnings[0]}")
    return " · ".join(parts)


def _timing(run: RunReport) -> str:
    started = _utc(run.started_at)
    if run.finished_at is None or run.status == "aborted":
        return f"started {started}"
    seconds = max(0.0, (run.finished_at - run.started_at).total_seconds())
    return f"started {started}, took {seconds:.0f} s"


def _counts(run: RunReport) -> str:
    if run.kind == "backfill":
        return f"{run.fetched} fetched, {run.new_papers} new" if run.fetched or run.new_papers else ""
    figures = [
        (run.fetched, "fetched"),
        (run.selected, "selected"),
        (run.summarized, "summarized"),
        (run.llm_calls, "LLM calls"),
        (run.cache_hits, "cached"),
        (run.summary_failures, "summaries failed"),
    ]
    return ", ".join(f"{number} {label}" for number, label in figures if number)


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
