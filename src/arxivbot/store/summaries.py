"""The LLM summaries: the cache that keeps a summary from being paid for twice.

Keyed by paper version, model, prompt and input mode: a change to any of them is a new summary.
"""

from __future__ import annotations

from arxivbot.errors import StoreError
from arxivbot.models import Summary
from arxivbot.store.connection import Database
from arxivbot.store.rows import SUMMARY_COLUMNS, names, placeholders, summary_from, summary_values


class SummaryStore(Database):
    def get_summary(self, arxiv_id: str, version: int, model: str, prompt_hash: str, input_mode: str) -> Summary | None:
        row = self._db.execute(
            f"""SELECT {names(SUMMARY_COLUMNS)} FROM summaries
                WHERE arxiv_id=? AND version=? AND model=? AND prompt_hash=? AND input_mode=?""",  # nosec B608  # column and table names are constants; values are bound with ?
            (arxiv_id, version, model, prompt_hash, input_mode),
        ).fetchone()
        return summary_from(row) if row else None

    def save_summary(self, summary: Summary) -> None:
        if not summary.text.strip():
            raise StoreError(f"refusing to store an empty summary for {summary.arxiv_id}")
        with self.transaction() as db:
            db.execute(
                f"INSERT OR REPLACE INTO summaries ({names(SUMMARY_COLUMNS)}) VALUES ({placeholders(SUMMARY_COLUMNS)})",
                summary_values(summary),
            )

    def count_summaries(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM summaries").fetchone()[0])
