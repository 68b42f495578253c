"""Deliveries: which digest went to which message channel, so a run retries what failed and never
sends twice what arrived.

A delivery is written ``pending`` before its first message is sent and counts the messages of a split
digest as they go out, so a run that dies half-way leaves it due and the next one resumes after the
messages that were sent.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

from arxivbot.models import DeliveryRecord
from arxivbot.store.connection import Database
from arxivbot.store.rows import iso, names, parse_datetime

_COLUMNS = (
    "day",
    "channel",
    "status",
    "attempts",
    "parts_sent",
    "parts_total",
    "last_error",
    "first_attempt_at",
    "last_attempt_at",
    "sent_at",
)
_SELECT = f"SELECT {names(_COLUMNS)} FROM deliveries"  # nosec B608  # column and table names are constants; values are bound with ?


class DeliveryStore(Database):
    def delivery(self, day: date, channel: str) -> DeliveryRecord | None:
        row = self._db.execute(f"{_SELECT} WHERE day=? AND channel=?", (day.isoformat(), channel)).fetchone()
        return _record_from(row) if row else None

    def deliveries(self, *, channel: str | None = None, since: date | None = None) -> list[DeliveryRecord]:
        """Every recorded delivery (of ``channel``, of digests from ``since`` on), oldest day first."""
        query, params = f"{_SELECT} WHERE day >= ?", [(since or date.min).isoformat()]
        if channel is not None:
            query += " AND channel=?"
            params.append(channel)
        return [_record_from(row) for row in self._db.execute(query + " ORDER BY day, channel", params)]

    def due_deliveries(self, channel: str, since: date) -> list[date]:
        """Days from ``since`` on whose digest ``channel`` has not delivered yet (failed, or cut short)."""
        rows = self._db.execute(
            "SELECT day FROM deliveries WHERE channel=? AND status IN ('pending', 'failed') AND day >= ? ORDER BY day",
            (channel, since.isoformat()),
        )
        return [date.fromisoformat(row["day"]) for row in rows]

    def start_delivery(
        self, day: date, channel: str, *, parts_total: int, at: datetime, restart: bool = False
    ) -> DeliveryRecord:
        """Mark an attempt as begun (``pending``) and return the record, with the messages already sent.

        A retry resumes after ``parts_sent`` only when the digest still splits into as many messages;
        otherwise (or with ``restart``, a forced re-send) it starts from the first message.
        """
        with self.transaction() as db:
            db.execute(
                """INSERT INTO deliveries (day, channel, status, attempts, parts_sent, parts_total,
                                           first_attempt_at, last_attempt_at)
                   VALUES (?, ?, 'pending', 1, 0, ?, ?, ?)
                   ON CONFLICT (day, channel) DO UPDATE SET
                       status='pending',
                       attempts=attempts + 1,
                       parts_sent=CASE WHEN ? OR parts_total != excluded.parts_total THEN 0 ELSE parts_sent END,
                       parts_total=excluded.parts_total,
                       last_attempt_at=excluded.last_attempt_at""",
                (day.isoformat(), channel, parts_total, iso(at), iso(at), restart),
            )
            row = db.execute(f"{_SELECT} WHERE day=? AND channel=?", (day.isoformat(), channel)).fetchone()
        return _record_from(row)

    def record_parts_sent(self, day: date, channel: str, parts_sent: int) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE deliveries SET parts_sent=? WHERE day=? AND channel=?", (parts_sent, day.isoformat(), channel)
            )

    def defer_delivery(self, day: date, channel: str, *, error: str, at: datetime) -> None:
        """Keep ``day``'s digest due for ``channel`` without an attempt (the channel failed on another digest)."""
        with self.transaction() as db:
            db.execute(
                """INSERT INTO deliveries (day, channel, status, last_error, first_attempt_at, last_attempt_at)
                   VALUES (?, ?, 'failed', ?, ?, ?)
                   ON CONFLICT (day, channel) DO UPDATE SET status='failed', last_error=excluded.last_error
                   WHERE status != 'sent'""",
                (day.isoformat(), channel, error, iso(at), iso(at)),
            )

    def finish_delivery(self, day: date, channel: str, *, sent: bool, error: str = "", at: datetime) -> None:
        """Record the attempt's outcome: ``sent`` (never sent again unless forced) or ``failed`` (due)."""
        with self.transaction() as db:
            db.execute(
                """UPDATE deliveries SET status=?, last_error=?, last_attempt_at=?,
                                         sent_at=CASE WHEN ? THEN ? ELSE sent_at END
                   WHERE day=? AND channel=?""",
                ("sent" if sent else "failed", error, iso(at), sent, iso(at), day.isoformat(), channel),
            )


def _record_from(row: sqlite3.Row) -> DeliveryRecord:
    return DeliveryRecord(
        day=date.fromisoformat(row["day"]),
        channel=row["channel"],
        status=row["status"],
        attempts=row["attempts"],
        parts_sent=row["parts_sent"],
        parts_total=row["parts_total"],
        last_error=row["last_error"],
        first_attempt_at=parse_datetime(row["first_attempt_at"]) or datetime.min,
        last_attempt_at=parse_datetime(row["last_attempt_at"]) or datetime.min,
        sent_at=parse_datetime(row["sent_at"]),
    )
