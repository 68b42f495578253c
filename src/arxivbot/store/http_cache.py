"""What the fetchers remember between runs: HTTP validators for conditional GET, and which days
have been fetched (coverage), so a window is never fetched twice.

Coverage is kept for ever and is independent of retention: a compacted day stays covered.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from arxivbot.models import HttpValidators
from arxivbot.store.connection import Database
from arxivbot.store.rows import iso, parse_day, utc_now


class FetchStateStore(Database):
    def http_validators(self, url: str) -> HttpValidators | None:
        row = self._db.execute("SELECT etag, last_modified, announced FROM http_cache WHERE url=?", (url,)).fetchone()
        if row is None:
            return None
        return HttpValidators(row["etag"], row["last_modified"], parse_day(row["announced"]))

    def save_http_validators(self, url: str, validators: HttpValidators) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO http_cache (url, etag, last_modified, announced, fetched_at) "
                "VALUES (?,?,?,?,?)",
                (
                    url,
                    validators.etag,
                    validators.last_modified,
                    validators.announced.isoformat() if validators.announced else None,
                    iso(utc_now()),
                ),
            )

    def record_coverage(self, days: Iterable[date], source: str, run_id: int | None = None) -> None:
        now = iso(utc_now())
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO coverage (day, source, run_id, covered_at) VALUES (?,?,?,?)",
                [(day.isoformat(), source, run_id, now) for day in days],
            )

    def covered_days(self, first: date, last: date) -> set[date]:
        rows = self._db.execute(
            "SELECT DISTINCT day FROM coverage WHERE day BETWEEN ? AND ?",
            (first.isoformat(), last.isoformat()),
        )
        return {date.fromisoformat(row[0]) for row in rows}
