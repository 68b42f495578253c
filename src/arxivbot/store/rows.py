"""Rows ↔ records: the column lists every query names, and the conversions both ways.

Queries name their columns (no star select, no insert without a column list), so a column added by a later
migration cannot shift what a query reads or writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import date, datetime, timezone
from typing import Any

from arxivbot.models import Announcement, Delivery, Paper, Reason, RunReport, ScoredPaper, Summary

PAPER_COLUMNS = (
    "arxiv_id",
    "version",
    "title",
    "authors",
    "abstract",
    "categories",
    "primary_category",
    "link",
    "published",
    "updated",
    "comment",
    "journal_ref",
    "doi",
)
ENTRY_COLUMNS = ("day", "rank", "arxiv_id", "score", "category", "announce_type", "announced", "source", "reasons")
SUMMARY_COLUMNS = (
    "arxiv_id",
    "version",
    "model",
    "prompt_hash",
    "input_mode",
    "text",
    "prompt_tokens",
    "completion_tokens",
    "created_at",
)
RUN_COLUMNS = (
    "id",
    "kind",
    "status",
    "day",
    "started_at",
    "finished_at",
    "fetched",
    "new_papers",
    "selected",
    "summarized",
    "llm_calls",
    "cache_hits",
    "prompt_tokens",
    "completion_tokens",
    "message",
    "backfilled",
    "summary_failures",
    "warnings",
    "deliveries",
)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def names(columns: Iterable[str], alias: str = "") -> str:
    """``a.x, a.y`` for a select list or ``x, y`` for an insert's column list."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + column for column in columns)


def placeholders(columns: Iterable[str]) -> str:
    return ",".join("?" for _ in columns)


def iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds") if value else None


def parse_datetime(text: str | None) -> datetime | None:
    if not text:
        return None
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def parse_day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


# One shared encoder: ``json.dumps`` with arguments builds a new encoder per call, which showed up as a
# third of the time of storing a busy day (bench/bench_pipeline.py).
to_json = json.JSONEncoder(ensure_ascii=False).encode


# --- papers ----------------------------------------------------------------------------------------


def paper_values(paper: Paper) -> tuple[Any, ...]:
    """``paper`` in :data:`PAPER_COLUMNS` order."""
    return (
        paper.arxiv_id,
        paper.version,
        paper.title,
        to_json(list(paper.authors)),
        paper.abstract,
        to_json(list(paper.categories)),
        paper.primary_category,
        paper.link,
        iso(paper.published),
        iso(paper.updated),
        paper.comment,
        paper.journal_ref,
        paper.doi,
    )


def paper_from(row: sqlite3.Row) -> Paper:
    return Paper(
        arxiv_id=row["arxiv_id"],
        version=row["version"],
        title=row["title"],
        authors=tuple(json.loads(row["authors"])),
        abstract=row["abstract"],
        categories=tuple(json.loads(row["categories"])),
        link=row["link"],
        primary_category=row["primary_category"],
        published=parse_datetime(row["published"]),
        updated=parse_datetime(row["updated"]),
        comment=row["comment"],
        journal_ref=row["journal_ref"],
        doi=row["doi"],
    )


# --- digest entries and their reasons ----------------------------------------------------------------


def reasons_json(reasons: Iterable[Reason]) -> str:
    """Every scorer's reason as JSON: ``[{"scorer", "score", "text", "terms", "title_terms"}, ...]``."""
    return to_json(
        [
            {
                "scorer": r.scorer,
                "score": r.score,
                "text": r.text,
                "terms": list(r.terms),
                "title_terms": list(r.title_terms),
            }
            for r in reasons
        ]
    )


def reasons_from(text: str) -> tuple[Reason, ...]:
    return tuple(
        Reason(
            scorer=str(item["scorer"]),
            score=float(item["score"]),
            text=str(item.get("text", "")),
            terms=tuple(item.get("terms", ())),
            title_terms=tuple(item.get("title_terms", ())),
        )
        for item in json.loads(text)
    )


def scored_from(row: sqlite3.Row) -> ScoredPaper:
    """A digest entry joined with its paper (:data:`ENTRY_COLUMNS` + :data:`PAPER_COLUMNS`)."""
    return ScoredPaper(
        announcement=Announcement(
            paper=paper_from(row),
            announce_type=row["announce_type"],
            announced=date.fromisoformat(row["announced"]),
            source=row["source"],
        ),
        score=row["score"],
        category=row["category"],
        reasons=reasons_from(row["reasons"]),
    )


# --- summaries and runs ------------------------------------------------------------------------------


def summary_values(summary: Summary) -> tuple[Any, ...]:
    """``summary`` in :data:`SUMMARY_COLUMNS` order."""
    return (
        summary.arxiv_id,
        summary.version,
        summary.model,
        summary.prompt_hash,
        summary.input_mode,
        summary.text,
        summary.prompt_tokens,
        summary.completion_tokens,
        iso(summary.created_at or utc_now()),
    )


def summary_from(row: sqlite3.Row) -> Summary:
    return Summary(
        arxiv_id=row["arxiv_id"],
        version=row["version"],
        model=row["model"],
        prompt_hash=row["prompt_hash"],
        input_mode=row["input_mode"],
        text=row["text"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        created_at=parse_datetime(row["created_at"]),
    )


def run_values(report: RunReport) -> tuple[Any, ...]:
    """The values of ``RUN_COLUMNS`` after ``kind`` and ``started_at`` (which ``start_run`` wrote)."""
    return (
        report.status,
        report.day.isoformat() if report.day else None,
        iso(report.finished_at),
        report.fetched,
        report.new_papers,
        report.selected,
        report.summarized,
        report.llm_calls,
        report.cache_hits,
        report.prompt_tokens,
        report.completion_tokens,
        report.message,
        report.backfilled,
        report.summary_failures,
        to_json(list(report.warnings)),
        to_json([{"channel": d.channel, "ok": d.ok, "message": d.message} for d in report.deliveries]),
    )


RUN_UPDATED_COLUMNS = tuple(c for c in RUN_COLUMNS if c not in ("id", "kind", "started_at"))


def run_from(row: sqlite3.Row) -> RunReport:
    return RunReport(
        run_id=row["id"],
        kind=row["kind"],
        status=row["status"],
        day=parse_day(row["day"]),
        started_at=parse_datetime(row["started_at"]) or utc_now(),
        finished_at=parse_datetime(row["finished_at"]),
        fetched=row["fetched"],
        new_papers=row["new_papers"],
        selected=row["selected"],
        summarized=row["summarized"],
        llm_calls=row["llm_calls"],
        cache_hits=row["cache_hits"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        message=row["message"],
        backfilled=row["backfilled"],
        summary_failures=row["summary_failures"],
        warnings=tuple(json.loads(row["warnings"])),
        deliveries=tuple(Delivery(d["channel"], bool(d["ok"]), d["message"]) for d in json.loads(row["deliveries"])),
    )
