"""Papers and the days they were announced: full records, and the compact traces retention leaves.

"Known to the database" always means either: a paper compacted by retention is still not new, is
still "already announced" for the API backfill, and a new announcement of it (a replacement) brings
its full record back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

from arxivbot.models import Announcement, Paper
from arxivbot.store.connection import Database
from arxivbot.store.rows import (
    PAPER_COLUMNS,
    iso,
    names,
    paper_from,
    paper_values,
    parse_datetime,
    placeholders,
    utc_now,
)

_PAPER_SELECT = f"SELECT {names(PAPER_COLUMNS)} FROM papers"  # nosec B608  # column and table names are constants; values are bound with ?
_ANNOUNCEMENT_COLUMNS = ("arxiv_id", "announced", "announce_type", "version", "source")
# Tables whose rows say "this paper was announced": the full one and the compact one.
_ANNOUNCED_IN = ("announcements", "compact_papers")


@dataclass(frozen=True, slots=True)
class SavedListing:
    """What :meth:`PaperStore.save_listing` stored: the count of new papers, and the stored announcements.

    ``announcements`` is what ``announcements_between`` would now read for ``days``: equal records in
    the same order (their datetimes the same instants, perhaps in another time zone), built without
    reading them back; None when those days held announcements before (a re-run, an API backfill),
    where only the database knows the outcome.
    """

    new_papers: int
    days: frozenset[date]
    announcements: tuple[Announcement, ...] | None


class PaperStore(Database):
    def save_announcements(self, announcements: Iterable[Announcement]) -> int:
        """Store papers and their announcements; return how many papers were new to the database.

        A newer version of a known paper updates its metadata; an older or equal one changes nothing.
        A paper announced again on the same day (RSS and API both saw it) stays one announcement.
        """
        return self.save_listing(announcements).new_papers

    def save_listing(self, announcements: Iterable[Announcement]) -> SavedListing:
        """:meth:`save_announcements`, also returning the announcements as stored (see :class:`SavedListing`).

        A run ranks the day it just stored: this spares it reading 3,000 papers back. Only the papers
        whose stored record may differ from the one given (known before, or given twice) are read.
        """
        rows = list(announcements)
        days = frozenset(a.announced for a in rows)
        ids = [a.paper.arxiv_id for a in rows]
        with self.transaction() as db:
            compact = self._ids_in("compact_papers", ids)
            full = self._ids_in("papers", ids)
            fresh_days = not any(self._announced_on(day) for day in days)
            _upsert_papers(db, [a.paper for a in rows], iso(utc_now()))
            db.executemany(
                f"INSERT OR IGNORE INTO announcements ({names(_ANNOUNCEMENT_COLUMNS)}) VALUES (?,?,?,?,?)",
                [(a.paper.arxiv_id, a.announced.isoformat(), a.announce_type, a.paper.version, a.source) for a in rows],
            )
            stored = self._as_stored(rows, full) if fresh_days else None
        return SavedListing(len(set(ids) - full - compact), days, stored)

    def _announced_on(self, day: date) -> bool:
        query = "SELECT 1 FROM announcements WHERE announced=? LIMIT 1"
        return self._db.execute(query, (day.isoformat(),)).fetchone() is not None

    def _as_stored(self, rows: list[Announcement], known: set[str]) -> tuple[Announcement, ...]:
        """The just-inserted announcements as ``announcements_between`` reads them: one per paper and
        day (the first given), oldest day first, each with its paper as the database now holds it."""
        firsts: dict[tuple[str, date], Announcement] = {}
        given: dict[str, int] = {}
        for announcement in rows:
            firsts.setdefault((announcement.paper.arxiv_id, announcement.announced), announcement)
            given[announcement.paper.arxiv_id] = given.get(announcement.paper.arxiv_id, 0) + 1
        # A paper known before, or given twice, went through the upsert's rules: its record is read back.
        merged = {arxiv_id for arxiv_id, times in given.items() if times > 1 or arxiv_id in known}
        query = f"{_PAPER_SELECT} WHERE arxiv_id IN ({{ids}})"
        read = {row["arxiv_id"]: paper_from(row) for row in self._rows_for_ids(query, merged)}

        def as_stored(announcement: Announcement) -> Announcement:
            paper = announcement.paper
            if paper.arxiv_id in read:
                return replace(announcement, paper=read[paper.arxiv_id])
            if _to_the_second(paper.published) and _to_the_second(paper.updated):
                return announcement  # what the database holds: the same values, datetimes the same instants
            # The database keeps datetimes to the second (rows.iso): read back, they are other instants.
            return replace(
                announcement, paper=replace(paper, published=_stored(paper.published), updated=_stored(paper.updated))
            )

        stored = [as_stored(a) for a in firsts.values()]
        stored.sort(key=lambda a: a.announced)  # stable: arrival order within a day
        return tuple(stored)

    def save_backfilled(self, announcements: Iterable[Announcement]) -> int:
        """Store papers fetched through the API; return how many papers were new to the database.

        Like :meth:`save_announcements`, except that a paper already announced on any day (by the RSS
        or an earlier backfill, compacted or not) is not announced again: only its full record's
        metadata is updated, when this version is newer. A paper seen through both the API and the RSS
        stays one announcement, even where the API's estimate of its announcement day differs.
        """
        rows = list(announcements)
        ids = [a.paper.arxiv_id for a in rows]
        with self.transaction() as db:
            announced = set().union(*(self._ids_in(table, ids) for table in _ANNOUNCED_IN))
            full = self._ids_in("papers", announced)
            new_papers = self.save_announcements(a for a in rows if a.paper.arxiv_id not in announced)
            # A compacted paper keeps its compact record: the API's copy brings back no full one.
            _upsert_papers(db, [a.paper for a in rows if a.paper.arxiv_id in full], iso(utc_now()))
        return new_papers

    def known_ids(self, arxiv_ids: Iterable[str]) -> set[str]:
        """Which of ``arxiv_ids`` the database knows, by a full or a compact record."""
        ids = list(arxiv_ids)
        return self._ids_in("papers", ids) | self._ids_in("compact_papers", ids)

    def _ids_in(self, table: str, arxiv_ids: Iterable[str]) -> set[str]:
        """Which of ``arxiv_ids`` have a row in ``table`` (cost proportional to the batch, not the table)."""
        query = f"SELECT arxiv_id FROM {table} WHERE arxiv_id IN ({{ids}})"  # nosec B608  # column and table names are constants; values are bound with ?
        return {row[0] for row in self._rows_for_ids(query, arxiv_ids)}

    def get_paper(self, arxiv_id: str) -> Paper | None:
        """The full record of a paper (None when unknown, or when only a compact record is left)."""
        row = self._db.execute(f"{_PAPER_SELECT} WHERE arxiv_id=?", (arxiv_id,)).fetchone()
        return paper_from(row) if row else None

    def count_papers(self) -> int:
        """Papers the database knows, with a full or a compact record."""
        query = "SELECT count(*) FROM (SELECT arxiv_id FROM papers UNION SELECT arxiv_id FROM compact_papers)"
        return int(self._db.execute(query).fetchone()[0])

    def announcements_between(self, first: date, last: date, *, skip: Collection[date] = ()) -> list[Announcement]:
        """Full announcements from ``first`` to ``last`` inclusive, oldest day first, in arrival order.

        Compacted announcements are not listed (they have no text to rank): retention keeps at least
        the ``days_back`` window full. Days in ``skip`` are left out (the caller holds them already).
        """
        skipped = sorted(day.isoformat() for day in skip)
        rows = self._db.execute(
            f"""
            SELECT {names(PAPER_COLUMNS, "p")}, a.announced, a.announce_type, a.source
            FROM announcements a JOIN papers p ON p.arxiv_id = a.arxiv_id
            WHERE a.announced BETWEEN ? AND ? AND a.announced NOT IN ({placeholders(skipped)})
            ORDER BY a.announced, a.rowid
            """,  # nosec B608  # column and table names are constants; values are bound with ?
            (first.isoformat(), last.isoformat(), *skipped),
        )
        return [
            Announcement(
                paper=paper_from(row),
                announce_type=row["announce_type"],
                announced=date.fromisoformat(row["announced"]),
                source=row["source"],
            )
            for row in rows
        ]

    def announcements_on(self, day: date) -> list[Announcement]:
        return self.announcements_between(day, day)


def _to_the_second(moment: datetime | None) -> bool:
    return moment is None or moment.microsecond == 0


def _stored(moment: datetime | None) -> datetime | None:
    return parse_datetime(iso(moment))


def _upsert_papers(db: sqlite3.Connection, papers: list[Paper], now: str | None) -> None:
    """Insert new papers; a newer version of a known paper replaces its metadata, an older one doesn't."""
    columns = (*PAPER_COLUMNS, "first_seen", "refreshed_at")
    db.executemany(
        f"""
        INSERT INTO papers ({names(columns)}) VALUES ({placeholders(columns)})
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
        """,  # nosec B608  # column and table names are constants; values are bound with ?
        [(*paper_values(paper), now, now) for paper in papers],
    )
