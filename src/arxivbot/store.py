"""The only module that speaks SQL: arxivbot's memory in one SQLite file.

Everything the later stages publish is read back from here: every announced paper (not only the
matches), every run, each day's digest with its scores, the LLM summaries (the paid-for cache), the
HTTP validators for conditional GET, and which days have been fetched (so a window is never fetched
twice). WAL mode lets the web service read while a run writes; every multi-row change is one
transaction, so an interrupted run leaves the database as it was.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from arxivbot.errors import StoreError
from arxivbot.migrations import MIGRATIONS
from arxivbot.models import (
    Announcement,
    Digest,
    DigestEntry,
    FeedItem,
    Paper,
    RunReport,
    ScoredPaper,
    Summary,
    keyword_reason,
)

_WAL_ATTEMPTS = 50  # about 25 s in all, like the busy timeout


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds") if value else None


def _datetime(text: str | None) -> datetime | None:
    if not text:
        return None
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class HttpValidators:
    """What a conditional GET needs, plus the day the cached response announced."""

    etag: str | None
    last_modified: str | None
    announced: date | None


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A row of ``runs``, as ``/health`` and the scheduler need it."""

    id: int
    kind: str
    status: str
    day: date | None
    started_at: datetime
    finished_at: datetime | None
    fetched: int
    new_papers: int
    selected: int
    summarized: int
    llm_calls: int
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    message: str


class Store:
    """A connection to the arxivbot database, migrated on open. Use as a context manager."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        """Open (creating and migrating) the database; ``readonly`` opens an existing one untouched."""
        self.path = Path(path)
        try:
            if readonly:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            else:
                if str(path) != ":memory:":
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                # Autocommit mode: transactions are explicit (``transaction``), never implicit.
                self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=10000")
            if not readonly:
                self._use_wal()
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._migrate()
        except sqlite3.DatabaseError as err:
            raise StoreError(
                f"{path}: cannot open the arxivbot database ({err}); "
                "point storage.database at a writable file, or move the damaged file away"
            ) from None

    # --- plumbing --------------------------------------------------------------------------------

    def _use_wal(self) -> None:
        """Switch to WAL, waiting out another process that is creating the same database.

        Changing the journal mode can fail at once with "database is locked" (SQLite's busy timeout
        does not cover that lock), e.g. when ``serve`` and a cron ``run`` open a new database together.
        """
        for attempt in range(1, _WAL_ATTEMPTS + 1):
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or attempt == _WAL_ATTEMPTS:
                    raise
                time.sleep(0.02 * attempt)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work: all of it is committed, or none of it."""
        if self._db.in_transaction:  # nested use joins the outer transaction
            yield self._db
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _migrate(self) -> None:
        self._db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        applied = {row[0] for row in self._db.execute("SELECT name FROM _migrations")}
        for name, sql in MIGRATIONS:
            if name in applied:
                continue
            with self.transaction() as db:
                # Checked again under the write lock: a second process (serve beside a cron run) may
                # have applied it between our read and our BEGIN IMMEDIATE.
                if db.execute("SELECT 1 FROM _migrations WHERE name=?", (name,)).fetchone():
                    continue
                for statement in _statements(sql):
                    db.execute(statement)
                db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, _iso(utc_now())))

    def applied_migrations(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT name FROM _migrations ORDER BY name")]

    # --- papers and announcements ----------------------------------------------------------------

    def save_announcements(self, announcements: Iterable[Announcement]) -> int:
        """Store papers and their announcements; return how many papers were new to the database.

        A newer version of a known paper updates its metadata; an older or equal one changes nothing.
        A paper announced again on the same day (RSS and API both saw it) stays one announcement.
        """
        now = _iso(utc_now())
        rows = list(announcements)
        with self.transaction() as db:
            known = self._known_ids(a.paper.arxiv_id for a in rows)
            _upsert_papers(db, [a.paper for a in rows], now)
            db.executemany(
                "INSERT OR IGNORE INTO announcements VALUES (?,?,?,?,?)",
                [(a.paper.arxiv_id, a.announced.isoformat(), a.announce_type, a.paper.version, a.source) for a in rows],
            )
        return len({a.paper.arxiv_id for a in rows} - known)

    def _known_ids(self, arxiv_ids: Iterable[str]) -> set[str]:
        """Which of ``arxiv_ids`` are already stored (cost proportional to the batch, not the table)."""
        query = "SELECT arxiv_id FROM papers WHERE arxiv_id IN ({ids})"
        return {row[0] for row in self._rows_for_ids(query, arxiv_ids)}

    def _rows_for_ids(self, query: str, arxiv_ids: Iterable[str]) -> Iterator[sqlite3.Row]:
        """Rows of ``query`` whose ``IN ({ids})`` takes the distinct ``arxiv_ids``, asked in chunks
        that stay under SQLite's bound-parameter limit."""
        ids = list(dict.fromkeys(arxiv_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            yield from self._db.execute(query.format(ids=",".join("?" * len(chunk))), chunk)

    def save_backfilled(self, announcements: Iterable[Announcement]) -> int:
        """Store papers fetched through the API; return how many papers were new to the database.

        Like :meth:`save_announcements`, except that a paper already announced on any day (by the RSS
        or an earlier backfill) is not announced again: only its metadata is updated, when this
        version is newer. A paper seen through both the API and the RSS stays one announcement, even
        where the API's estimate of its announcement day differs from the RSS's.
        """
        rows = list(announcements)
        with self.transaction() as db:
            query = "SELECT DISTINCT arxiv_id FROM announcements WHERE arxiv_id IN ({ids})"
            announced = {row[0] for row in self._rows_for_ids(query, (a.paper.arxiv_id for a in rows))}
            new_papers = self.save_announcements(a for a in rows if a.paper.arxiv_id not in announced)
            _upsert_papers(db, [a.paper for a in rows if a.paper.arxiv_id in announced], _iso(utc_now()))
        return new_papers

    def get_paper(self, arxiv_id: str) -> Paper | None:
        row = self._db.execute("SELECT * FROM papers WHERE arxiv_id=?", (arxiv_id,)).fetchone()
        return _paper(row) if row else None

    def count_papers(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM papers").fetchone()[0])

    def announcements_between(self, first: date, last: date) -> list[Announcement]:
        """Announcements from ``first`` to ``last`` inclusive, oldest day first, in arrival order."""
        rows = self._db.execute(
            """
            SELECT p.*, a.announced AS a_announced, a.announce_type AS a_type, a.source AS a_source
            FROM announcements a JOIN papers p USING (arxiv_id)
            WHERE a.announced BETWEEN ? AND ?
            ORDER BY a.announced, a.rowid
            """,
            (first.isoformat(), last.isoformat()),
        )
        return [
            Announcement(
                paper=_paper(row),
                announce_type=row["a_type"],
                announced=date.fromisoformat(row["a_announced"]),
                source=row["a_source"],
            )
            for row in rows
        ]

    def announcements_on(self, day: date) -> list[Announcement]:
        return self.announcements_between(day, day)

    def digested_before(self, day: date) -> set[str]:
        """Ids of papers already listed in an earlier day's digest: never shown as new again."""
        rows = self._db.execute("SELECT DISTINCT arxiv_id FROM digest_entries WHERE day < ?", (day.isoformat(),))
        return {row[0] for row in rows}

    # --- conditional GET --------------------------------------------------------------------------

    def http_validators(self, url: str) -> HttpValidators | None:
        row = self._db.execute("SELECT * FROM http_cache WHERE url=?", (url,)).fetchone()
        if row is None:
            return None
        announced = date.fromisoformat(row["announced"]) if row["announced"] else None
        return HttpValidators(row["etag"], row["last_modified"], announced)

    def save_http_validators(self, url: str, validators: HttpValidators) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO http_cache VALUES (?,?,?,?,?)",
                (
                    url,
                    validators.etag,
                    validators.last_modified,
                    validators.announced.isoformat() if validators.announced else None,
                    _iso(utc_now()),
                ),
            )

    # --- coverage (which days are fetched) ---------------------------------------------------------

    def record_coverage(self, days: Iterable[date], source: str, run_id: int | None = None) -> None:
        now = _iso(utc_now())
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO coverage VALUES (?,?,?,?)",
                [(day.isoformat(), source, run_id, now) for day in days],
            )

    def covered_days(self, first: date, last: date) -> set[date]:
        rows = self._db.execute(
            "SELECT DISTINCT day FROM coverage WHERE day BETWEEN ? AND ?",
            (first.isoformat(), last.isoformat()),
        )
        return {date.fromisoformat(row[0]) for row in rows}

    # --- runs --------------------------------------------------------------------------------------

    def start_run(self, kind: str, day: date | None = None) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (kind, started_at, status, day) VALUES (?, ?, 'running', ?)",
                (kind, _iso(utc_now()), day.isoformat() if day else None),
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
                    _iso(report.finished_at),
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
        query = "SELECT * FROM runs"
        params: tuple[Any, ...] = ()
        if status is not None:
            query += " WHERE status=?"
            params = (status,)
        row = self._db.execute(query + " ORDER BY id DESC LIMIT 1", params).fetchone()
        return _run(row) if row else None

    def runs_started_on(self, day: date) -> list[RunRecord]:
        """Runs started on ``day`` (UTC), newest first."""
        rows = self._db.execute(
            "SELECT * FROM runs WHERE substr(started_at, 1, 10)=? ORDER BY id DESC", (day.isoformat(),)
        )
        return [_run(row) for row in rows]

    # --- digests -------------------------------------------------------------------------------------

    def save_digest(
        self,
        day: date,
        scored: Iterable[ScoredPaper],
        *,
        generated_at: datetime,
        categories: Iterable[str],
        keywords: Iterable[str],
        run_id: int | None = None,
        window_start: date | None = None,
    ) -> None:
        """Replace ``day``'s digest: a re-run of the same day yields the same digest, not a second one.

        ``window_start`` is the first announcement day the digest considered (default: ``day``).
        """
        with self.transaction() as db:
            db.execute("DELETE FROM digest_entries WHERE day=?", (day.isoformat(),))
            db.execute("DELETE FROM digests WHERE day=?", (day.isoformat(),))
            db.execute(
                "INSERT INTO digests VALUES (?,?,?,?,?,?)",
                (
                    day.isoformat(),
                    run_id,
                    _iso(generated_at),
                    (window_start or day).isoformat(),
                    _to_json(list(categories)),
                    _to_json(list(keywords)),
                ),
            )
            db.executemany(
                "INSERT INTO digest_entries VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        day.isoformat(),
                        rank,
                        s.paper.arxiv_id,
                        s.score,
                        s.category,
                        s.announcement.announce_type,
                        s.announcement.announced.isoformat(),
                        s.announcement.source,
                        _to_json(list(s.matched_keywords)),
                        _to_json(list(s.title_keywords)),
                    )
                    for rank, s in enumerate(scored, start=1)
                ],
            )

    def previous_digest_day(self, day: date) -> date | None:
        """The latest day before ``day`` that has a digest."""
        row = self._db.execute("SELECT MAX(day) FROM digests WHERE day < ?", (day.isoformat(),)).fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None

    def digest_days(self) -> list[date]:
        """Days that have a digest, newest first."""
        return [date.fromisoformat(r[0]) for r in self._db.execute("SELECT day FROM digests ORDER BY day DESC")]

    def load_digest(self, day: date) -> Digest | None:
        """The stored digest of ``day`` with each paper's newest stored summary attached."""
        head = self._db.execute("SELECT * FROM digests WHERE day=?", (day.isoformat(),)).fetchone()
        if head is None:
            return None
        rows = self._db.execute(
            """
            SELECT e.*, p.*, e.day AS e_day FROM digest_entries e JOIN papers p USING (arxiv_id)
            WHERE e.day=? ORDER BY e.rank
            """,
            (day.isoformat(),),
        ).fetchall()
        summaries = self._newest_summaries(row["arxiv_id"] for row in rows)
        entries = tuple(
            DigestEntry(
                rank=row["rank"],
                scored=_scored(row),
                summary=summaries.get((row["arxiv_id"], row["version"])),
            )
            for row in rows
        )
        return Digest(
            day=day,
            generated_at=_datetime(head["generated_at"]) or utc_now(),
            entries=entries,
            categories=tuple(json.loads(head["categories"])),
            keywords=tuple(json.loads(head["keywords"])),
        )

    def feed_items(self, since: date, limit: int, category: str | None = None) -> list[FeedItem]:
        """Digest entries of the days since ``since``, newest day first then by rank; one per paper.

        With ``category``, only papers listed in that category (any of their categories).
        """
        rows = self._db.execute(
            """
            SELECT e.*, p.*, e.day AS e_day FROM digest_entries e JOIN papers p USING (arxiv_id)
            WHERE e.day >= ? ORDER BY e.day DESC, e.rank
            """,
            (since.isoformat(),),
        ).fetchall()
        seen: set[str] = set()
        picked = []
        for row in rows:
            if row["arxiv_id"] in seen:
                continue
            if category is not None and category not in json.loads(row["categories"]) and row["category"] != category:
                continue
            seen.add(row["arxiv_id"])
            picked.append(row)
            if len(picked) >= limit:
                break
        summaries = self._newest_summaries(row["arxiv_id"] for row in picked)
        return [
            FeedItem(
                day=date.fromisoformat(row["e_day"]),
                scored=_scored(row),
                summary=summaries.get((row["arxiv_id"], row["version"])),
            )
            for row in picked
        ]

    # --- summaries (the cache that saves money) -------------------------------------------------------

    def get_summary(self, arxiv_id: str, version: int, model: str, prompt_hash: str, input_mode: str) -> Summary | None:
        row = self._db.execute(
            """SELECT * FROM summaries WHERE arxiv_id=? AND version=? AND model=? AND prompt_hash=?
               AND input_mode=?""",
            (arxiv_id, version, model, prompt_hash, input_mode),
        ).fetchone()
        return _summary(row) if row else None

    def save_summary(self, summary: Summary) -> None:
        if not summary.text.strip():
            raise StoreError(f"refusing to store an empty summary for {summary.arxiv_id}")
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO summaries VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    summary.arxiv_id,
                    summary.version,
                    summary.model,
                    summary.prompt_hash,
                    summary.input_mode,
                    summary.text,
                    summary.prompt_tokens,
                    summary.completion_tokens,
                    _iso(summary.created_at or utc_now()),
                ),
            )

    def count_summaries(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM summaries").fetchone()[0])

    def _newest_summaries(self, arxiv_ids: Iterable[str]) -> dict[tuple[str, int], Summary]:
        found: dict[tuple[str, int], Summary] = {}
        query = "SELECT * FROM summaries WHERE arxiv_id IN ({ids}) ORDER BY created_at, rowid"
        for row in self._rows_for_ids(query, arxiv_ids):  # later rows win: the newest of each version
            found[(row["arxiv_id"], row["version"])] = _summary(row)
        return found


# --- row <-> record -------------------------------------------------------------------------------


# One shared encoder: ``json.dumps`` with arguments builds a new encoder per call, which showed up as a
# third of the time of storing a busy day (bench/bench_pipeline.py).
_to_json = json.JSONEncoder(ensure_ascii=False).encode


def _statements(sql: str) -> list[str]:
    return [part.strip() for part in sql.split(";") if part.strip()]


def _upsert_papers(db: sqlite3.Connection, papers: list[Paper], now: str | None) -> None:
    """Insert new papers; a newer version of a known paper replaces its metadata, an older one doesn't."""
    db.executemany(
        """
        INSERT INTO papers VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
        ON CONFLICT(arxiv_id) DO UPDATE SET
            version=excluded.version, title=excluded.title, authors=excluded.authors,
            abstract=excluded.abstract, categories=excluded.categories,
            primary_category=COALESCE(excluded.primary_category, papers.primary_category),
            link=excluded.link,
            published=COALESCE(papers.published, excluded.published),
            updated=COALESCE(excluded.updated, papers.updated),
            comment=COALESCE(excluded.comment, papers.comment),
            journal_ref=COALESCE(excluded.journal_ref, papers.journal_ref),
            doi=COALESCE(excluded.doi, papers.doi),
            refreshed_at=excluded.refreshed_at
        WHERE excluded.version > papers.version
        """,
        [_paper_row(paper, now) for paper in papers],
    )


def _paper_row(paper: Paper, now: str | None) -> tuple[Any, ...]:
    return (
        paper.arxiv_id,
        paper.version,
        paper.title,
        _to_json(list(paper.authors)),
        paper.abstract,
        _to_json(list(paper.categories)),
        paper.primary_category,
        paper.link,
        _iso(paper.published),
        _iso(paper.updated),
        paper.comment,
        paper.journal_ref,
        paper.doi,
        now,
        now,
    )


def _paper(row: sqlite3.Row) -> Paper:
    return Paper(
        arxiv_id=row["arxiv_id"],
        version=row["version"],
        title=row["title"],
        authors=tuple(json.loads(row["authors"])),
        abstract=row["abstract"],
        categories=tuple(json.loads(row["categories"])),
        link=row["link"],
        primary_category=row["primary_category"],
        published=_datetime(row["published"]),
        updated=_datetime(row["updated"]),
        comment=row["comment"],
        journal_ref=row["journal_ref"],
        doi=row["doi"],
    )


def _scored(row: sqlite3.Row) -> ScoredPaper:
    return ScoredPaper(
        announcement=Announcement(
            paper=_paper(row),
            announce_type=row["announce_type"],
            announced=date.fromisoformat(row["announced"]),
            source=row["source"],
        ),
        score=row["score"],
        category=row["category"],
        reasons=(
            keyword_reason(row["score"], tuple(json.loads(row["matched"])), tuple(json.loads(row["title_matched"]))),
        ),
    )


def _summary(row: sqlite3.Row) -> Summary:
    return Summary(
        arxiv_id=row["arxiv_id"],
        version=row["version"],
        model=row["model"],
        prompt_hash=row["prompt_hash"],
        input_mode=row["input_mode"],
        text=row["text"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        created_at=_datetime(row["created_at"]),
    )


def _run(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        day=date.fromisoformat(row["day"]) if row["day"] else None,
        started_at=_datetime(row["started_at"]) or utc_now(),
        finished_at=_datetime(row["finished_at"]),
        fetched=row["fetched"],
        new_papers=row["new_papers"],
        selected=row["selected"],
        summarized=row["summarized"],
        llm_calls=row["llm_calls"],
        cache_hits=row["cache_hits"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        message=row["message"],
    )
