"""What the user liked or disliked. Such papers keep their full record for ever (``retention``), and
learned ranking trains on them. A verdict may name a paper the database has never seen."""

from __future__ import annotations

import re
from collections.abc import Iterable

from arxivbot.errors import ConfigError
from arxivbot.models import split_arxiv_id
from arxivbot.store.connection import Database
from arxivbot.store.rows import iso, utc_now

VERDICTS = ("like", "dislike")
_VERSIONED = re.compile(r"v\d+(\.pdf)?/?$")


class FeedbackStore(Database):
    def record_feedback(self, arxiv_ids: Iterable[str], verdict: str) -> int:
        """Record ``verdict`` ('like' or 'dislike') for each paper, replacing an earlier one.

        Ids may carry a version (``2512.20276v2``, or an abs/pdf URL); without one, the newest stored
        version is recorded, when the paper is stored. Returns how many papers were recorded.
        """
        if verdict not in VERDICTS:
            raise ConfigError(f"feedback: the verdict must be 'like' or 'dislike', got {verdict!r}")
        parsed = [_parse(text) for text in arxiv_ids]
        now = iso(utc_now())
        with self.transaction() as db:
            stored = self._stored_versions(arxiv_id for arxiv_id, _ in parsed)
            db.executemany(
                "INSERT OR REPLACE INTO feedback (arxiv_id, verdict, version, recorded_at) VALUES (?,?,?,?)",
                [(arxiv_id, verdict, version or stored.get(arxiv_id), now) for arxiv_id, version in parsed],
            )
        return len({arxiv_id for arxiv_id, _ in parsed})

    def remove_feedback(self, arxiv_ids: Iterable[str]) -> int:
        """Forget the verdicts on these papers; returns how many there were."""
        ids = [_parse(text)[0] for text in arxiv_ids]
        with self.transaction() as db:
            return sum(db.execute("DELETE FROM feedback WHERE arxiv_id=?", (arxiv_id,)).rowcount for arxiv_id in ids)

    def feedback(self) -> dict[str, str]:
        """Every verdict: arXiv id (without version) → 'like' or 'dislike', oldest first."""
        rows = self._db.execute("SELECT arxiv_id, verdict FROM feedback ORDER BY recorded_at, arxiv_id")
        return {row["arxiv_id"]: row["verdict"] for row in rows}

    def _stored_versions(self, arxiv_ids: Iterable[str]) -> dict[str, int]:
        query = "SELECT arxiv_id, version FROM papers WHERE arxiv_id IN ({ids})"
        return {row["arxiv_id"]: row["version"] for row in self._rows_for_ids(query, arxiv_ids)}


def _parse(text: str) -> tuple[str, int | None]:
    """``(id without version, the version when the text states one)``."""
    try:
        arxiv_id, version = split_arxiv_id(text)
    except ValueError:
        raise ConfigError(
            f"feedback: not an arXiv identifier: {text!r} (expected e.g. 2512.20276 or 2512.20276v2)"
        ) from None
    return arxiv_id, version if _VERSIONED.search(text.strip()) else None
