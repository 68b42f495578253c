"""Retention: a database that lasts years (docs/configuration.md, "Retention").

A busy weekday brings about 3,000 announcements of about 2 kB each. Papers someone may come back to
keep their full record for ever: the ones in :data:`KEPT_FOR_EVER`. All others keep it for the
window of full records only (a week by default: enough to re-rank recent days and to train on);
after that, the paper shrinks to one row of ``compact_papers`` (id, newest version, latest
announcement day and type, title hash, score: about 30 bytes), which is all that "new to the
database", the API backfill's dedup and the counts need. A compacted paper announced again gets a
full record again. The freed pages go back to the file system: new databases use incremental
auto-vacuum; an older one is converted once with ``VACUUM``.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from datetime import date, timedelta

from arxivbot.errors import StoreError
from arxivbot.models import RetentionPolicy, RetentionReport
from arxivbot.store.connection import Database

# Where the ids of papers that keep their full record for ever come from: one SELECT of an
# ``arxiv_id`` column each. A table that should protect its papers (the library) adds one line.
KEPT_FOR_EVER: tuple[str, ...] = (
    "SELECT arxiv_id FROM digest_entries",  # listed in a digest: the archive and the feeds show it
    "SELECT arxiv_id FROM feedback",  # liked or disliked: what learned ranking trains on
    "SELECT arxiv_id FROM summaries",  # a summary was paid for: it stays with its paper
    "SELECT arxiv_id FROM library_items WHERE arxiv_id IS NOT NULL",  # in the user's library
)

log = logging.getLogger(__name__)

_INCREMENTAL = 2  # PRAGMA auto_vacuum's value for INCREMENTAL
_KEPT_ROWIDS = -(2**62)  # where the block of kept papers past the window starts (see _settle_kept_papers)


# ASCII letters and digits lowercased, everything else a space: for an ASCII title, splitting on that is
# exactly ``rank.normalised_title`` (NFKC changes no ASCII, casefold is lower, words are alphanumeric runs).
_ASCII_TITLE = bytes(c + 32 if 65 <= c <= 90 else c if chr(c).isalnum() else 32 for c in range(128)) + bytes(128)


def title_hash(title: str) -> int:
    """A signed 64-bit hash of the normalised title (``rank.normalised_title``): fits an SQLite INTEGER."""
    if title.isascii():  # nearly every title; retention hashes a whole day of them at once
        normalised = b" ".join(title.encode("ascii").translate(_ASCII_TITLE).split())
    else:
        # Imported here: rank is a pure stage above the store, and must stay free to import the store.
        from arxivbot.rank import normalised_title

        normalised = normalised_title(title).encode("utf-8")
    digest = hashlib.blake2b(normalised, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class RetentionStore(Database):
    def apply_retention(self, today: date, policy: RetentionPolicy) -> RetentionReport:
        """Compact the papers announced more than ``policy.full_days`` before ``today`` that no one
        kept, in one transaction, then give the freed space back (``policy.vacuum``)."""
        before = self._size()
        if not policy.compact:
            return RetentionReport(cutoff=None, bytes_before=before, bytes_after=before)
        cutoff = today - timedelta(days=policy.full_days)
        try:
            papers, announcements = self._compact_before(cutoff)
            converted = self._give_space_back() if policy.vacuum else False
        except sqlite3.DatabaseError as err:
            raise StoreError(
                f"{self.path}: could not apply the retention policy ({err}); what was not done is retried "
                "next time (free disk space: VACUUM needs about the database's size)"
            ) from None
        report = RetentionReport(
            cutoff=cutoff,
            compacted_papers=papers,
            compacted_announcements=announcements,
            converted=converted,
            bytes_before=before,
            bytes_after=self._size(),
        )
        log.log(
            logging.INFO if papers or converted else logging.DEBUG,
            "Retention: %d paper(s) last announced before %s compacted%s; database %.1f MB -> %.1f MB",
            papers,
            cutoff,
            " (converted to incremental auto-vacuum)" if converted else "",
            before / 1e6,
            report.bytes_after / 1e6,
        )
        return report

    def _compact_before(self, cutoff: date) -> tuple[int, int]:
        """Replace the full records of the papers last announced before ``cutoff`` and not kept by
        compact ones; return (papers, announcements) compacted."""
        self._db.create_function("title_hash", 1, title_hash, deterministic=True)
        with self.transaction() as db:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS compacting (arxiv_id TEXT PRIMARY KEY)")
            db.execute("DELETE FROM temp.compacting")
            papers = db.execute(
                f"""
                INSERT INTO temp.compacting (arxiv_id)
                SELECT p.arxiv_id FROM papers p
                WHERE (SELECT max(a.announced) FROM announcements a WHERE a.arxiv_id = p.arxiv_id) < ?
                  AND p.arxiv_id NOT IN ({" UNION ".join(KEPT_FOR_EVER)})
                """,  # nosec B608  # column and table names are constants; values are bound with ?
                (cutoff.isoformat(),),
            ).rowcount
            self._settle_kept_papers(db, cutoff)
            if papers == 0:
                return 0, 0
            db.execute(
                """
                INSERT OR IGNORE INTO announce_types (name)
                SELECT DISTINCT a.announce_type FROM temp.compacting c JOIN announcements a ON a.arxiv_id = c.arxiv_id
                """
            )
            db.execute(
                """
                INSERT OR REPLACE INTO compact_papers (arxiv_id, version, day, type, title_hash, score)
                SELECT p.arxiv_id, p.version, CAST(julianday(a.announced) - julianday('1970-01-01') AS INTEGER),
                       t.code, title_hash(p.title), NULL
                FROM temp.compacting c
                JOIN papers p ON p.arxiv_id = c.arxiv_id
                JOIN announcements a ON a.arxiv_id = c.arxiv_id
                    AND a.announced = (SELECT max(announced) FROM announcements WHERE arxiv_id = c.arxiv_id)
                JOIN announce_types t ON t.name = a.announce_type
                """
            )
            announcements = db.execute(
                "DELETE FROM announcements WHERE arxiv_id IN (SELECT arxiv_id FROM temp.compacting)"
            ).rowcount
            db.execute("DELETE FROM papers WHERE arxiv_id IN (SELECT arxiv_id FROM temp.compacting)")
            db.execute("DELETE FROM temp.compacting")
        return papers, announcements

    def _settle_kept_papers(self, db: sqlite3.Connection, cutoff: date) -> None:
        """Move the kept papers that just left the window next to the earlier ones.

        A full paper takes about half a page, and a page is merged with its neighbours only when it is
        two-thirds empty: a kept paper left among compacted ones would hold on to a whole page. So
        each kept paper moves, once, when it ages out, to the end of a block of negative rowids
        (new papers get positive ones), where the kept papers lie packed together. Nothing reads the
        papers' rowids.
        """
        moving = [
            row[0]
            for row in db.execute(
                f"""
                SELECT p.rowid FROM papers p
                WHERE p.rowid > 0
                  AND (SELECT max(a.announced) FROM announcements a WHERE a.arxiv_id = p.arxiv_id) < ?
                  AND p.arxiv_id IN ({" UNION ".join(KEPT_FOR_EVER)})
                ORDER BY p.rowid
                """,  # nosec B608  # column and table names are constants; values are bound with ?
                (cutoff.isoformat(),),
            )
        ]
        if not moving:
            return
        last = db.execute("SELECT max(rowid) FROM papers WHERE rowid < 0").fetchone()[0]
        first = _KEPT_ROWIDS if last is None else last + 1
        db.executemany("UPDATE papers SET rowid=? WHERE rowid=?", [(first + n, old) for n, old in enumerate(moving)])

    def _give_space_back(self) -> bool:
        """Return free pages to the file system; True when this took the one-time conversion."""
        converted = False
        if self._db.execute("PRAGMA auto_vacuum").fetchone()[0] != _INCREMENTAL:
            # A database made before retention existed: auto-vacuum can only be switched on by
            # rewriting the file, once. From then on, freeing pages is incremental and cheap.
            self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self._db.execute("VACUUM")
            converted = True
        else:
            # Through executescript, which steps the pragma to the end: ``execute`` frees one page only.
            self._db.executescript("PRAGMA incremental_vacuum;")
        # Copy the shrunk database back into the main file now (a busy reader just postpones it).
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return converted

    def _size(self) -> int:
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        return int(pages) * int(self._db.execute("PRAGMA page_size").fetchone()[0])
