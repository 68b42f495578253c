"""Each day's digest: its ranked entries with every scorer's reason, and the feeds' history.

Papers listed in a digest keep their full record for ever (see ``retention``), so the archive and
the feeds can always show them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import date, datetime

from arxivbot.models import KEYWORD_SCORER, Digest, DigestEntry, DigestHead, FeedItem, ScoredPaper, Summary
from arxivbot.store.connection import Database
from arxivbot.store.rows import (
    ENTRY_COLUMNS,
    PAPER_COLUMNS,
    SUMMARY_COLUMNS,
    iso,
    names,
    parse_datetime,
    placeholders,
    reasons_json,
    scored_from,
    summary_from,
    to_json,
    utc_now,
)

_DIGEST_COLUMNS = ("day", "run_id", "generated_at", "window_start", "categories", "keywords", "announced")
# An entry joined with its paper: every entry column, and the paper's columns but its id (already there).
_ENTRY_SELECT = f"""
    SELECT {names(ENTRY_COLUMNS, "e")}, {names(PAPER_COLUMNS[1:], "p")}
    FROM digest_entries e JOIN papers p ON p.arxiv_id = e.arxiv_id
"""  # nosec B608  # column and table names are constants; values are bound with ?


class DigestStore(Database):
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
        announced: int | None = None,
    ) -> None:
        """Replace ``day``'s digest: a re-run of the same day yields the same digest, not a second one.

        ``window_start`` is the first announcement day the digest considered (default: ``day``);
        ``announced`` how many announcements it was selected from.
        """
        with self.transaction() as db:
            db.execute("DELETE FROM digest_entries WHERE day=?", (day.isoformat(),))
            db.execute("DELETE FROM digests WHERE day=?", (day.isoformat(),))
            db.execute(
                f"INSERT INTO digests ({names(_DIGEST_COLUMNS)}) VALUES ({placeholders(_DIGEST_COLUMNS)})",  # nosec B608  # column and table names are constants; values are bound with ?
                (
                    day.isoformat(),
                    run_id,
                    iso(generated_at),
                    (window_start or day).isoformat(),
                    to_json(list(categories)),
                    to_json(list(keywords)),
                    announced,
                ),
            )
            db.executemany(
                f"INSERT INTO digest_entries ({names(ENTRY_COLUMNS)}) VALUES ({placeholders(ENTRY_COLUMNS)})",  # nosec B608  # column and table names are constants; values are bound with ?
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
                        reasons_json(s.reasons),
                    )
                    for rank, s in enumerate(scored, start=1)
                ],
            )

    def digested_before(self, day: date) -> set[str]:
        """Ids of papers already listed in an earlier day's digest: never shown as new again."""
        rows = self._db.execute("SELECT DISTINCT arxiv_id FROM digest_entries WHERE day < ?", (day.isoformat(),))
        return {row[0] for row in rows}

    def previous_digest_day(self, day: date) -> date | None:
        """The latest day before ``day`` that has a digest."""
        row = self._db.execute("SELECT MAX(day) FROM digests WHERE day < ?", (day.isoformat(),)).fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None

    def digest_days(self) -> list[date]:
        """Days that have a digest, newest first."""
        return [date.fromisoformat(r[0]) for r in self._db.execute("SELECT day FROM digests ORDER BY day DESC")]

    def digest_heads(self) -> list[DigestHead]:
        """Every stored digest's day, paper count and revision, newest first, without loading them."""
        rows = self._db.execute(
            """SELECT d.day, d.revision, (SELECT count(*) FROM digest_entries e WHERE e.day = d.day)
               FROM digests d ORDER BY d.day DESC"""
        )
        return [DigestHead(date.fromisoformat(day), papers, revision) for day, revision, papers in rows]

    def digest_facets(self) -> tuple[list[str], list[str]]:
        """The categories and the matched keywords of every stored digest entry, each sorted."""
        categories = [row[0] for row in self._db.execute("SELECT DISTINCT category FROM digest_entries ORDER BY 1")]
        # The keyword scorer's terms, read inside SQLite: no entry's reasons are decoded in Python.
        keywords = [
            row[0]
            for row in self._db.execute(
                """SELECT DISTINCT term.value FROM digest_entries e, json_each(e.reasons) AS reason,
                       json_each(reason.value, '$.terms') AS term
                   WHERE json_extract(reason.value, '$.scorer') = ? ORDER BY 1""",
                (KEYWORD_SCORER,),
            )
        ]
        return categories, keywords

    def load_digest(self, day: date) -> Digest | None:
        """The stored digest of ``day`` with each paper's newest stored summary attached."""
        head = self._db.execute(
            f"SELECT {names(_DIGEST_COLUMNS)} FROM digests WHERE day=?",  # nosec B608  # column and table names are constants; values are bound with ?
            (day.isoformat(),),
        ).fetchone()
        if head is None:
            return None
        rows = self._db.execute(f"{_ENTRY_SELECT} WHERE e.day=? ORDER BY e.rank", (day.isoformat(),)).fetchall()
        summaries = self._newest_summaries(row["arxiv_id"] for row in rows)
        entries = tuple(
            DigestEntry(
                rank=row["rank"],
                scored=scored_from(row),
                summary=summaries.get((row["arxiv_id"], row["version"])),
            )
            for row in rows
        )
        return Digest(
            day=day,
            generated_at=parse_datetime(head["generated_at"]) or utc_now(),
            entries=entries,
            categories=tuple(json.loads(head["categories"])),
            keywords=tuple(json.loads(head["keywords"])),
            announced=head["announced"],
        )

    def feed_items(self, since: date, limit: int, category: str | None = None) -> list[FeedItem]:
        """Digest entries of the days since ``since``, newest day first then by rank; one per paper.

        With ``category``, only papers listed in that category (any of their categories).
        """
        return self.feed_items_by_scope(since, limit, [category])[category]

    def feed_items_by_scope(
        self, since: date, limit: int, scopes: Iterable[str | None]
    ) -> dict[str | None, list[FeedItem]]:
        """:meth:`feed_items` for several scopes (None: every paper) from one query: all feeds at once."""
        rows = self._db.execute(
            f"{_ENTRY_SELECT} WHERE e.day >= ? ORDER BY e.day DESC, e.rank", (since.isoformat(),)
        ).fetchall()
        categories: dict[str, list[str]] = {}  # each paper's categories, decoded once for every scope
        picked: dict[str | None, list[sqlite3.Row]] = {}
        for scope in dict.fromkeys(scopes):
            seen: set[str] = set()
            chosen = picked[scope] = []
            for row in rows:
                arxiv_id = row["arxiv_id"]
                if arxiv_id in seen:
                    continue
                if scope is not None and row["category"] != scope:
                    listed = categories.get(row["categories"])
                    if listed is None:
                        listed = categories[row["categories"]] = json.loads(row["categories"])
                    if scope not in listed:
                        continue
                seen.add(arxiv_id)
                chosen.append(row)
                if len(chosen) >= limit:
                    break
        summaries = self._newest_summaries(row["arxiv_id"] for chosen in picked.values() for row in chosen)
        items: dict[tuple[str, str], FeedItem] = {}  # a paper in several feeds is read once

        def item(row: sqlite3.Row) -> FeedItem:
            key = (row["day"], row["arxiv_id"])
            if key not in items:
                items[key] = FeedItem(
                    day=date.fromisoformat(row["day"]),
                    scored=scored_from(row),
                    summary=summaries.get((row["arxiv_id"], row["version"])),
                )
            return items[key]

        return {scope: [item(row) for row in chosen] for scope, chosen in picked.items()}

    def _newest_summaries(self, arxiv_ids: Iterable[str]) -> dict[tuple[str, int], Summary]:
        found: dict[tuple[str, int], Summary] = {}
        query = f"SELECT {names(SUMMARY_COLUMNS)} FROM summaries WHERE arxiv_id IN ({{ids}}) ORDER BY created_at, rowid"  # nosec B608  # column and table names are constants; values are bound with ?
        for row in self._rows_for_ids(query, arxiv_ids):  # later rows win: the newest of each version
            found[(row["arxiv_id"], row["version"])] = summary_from(row)
        return found
