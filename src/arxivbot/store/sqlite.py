"""The SQLite store: every concern's module composed over one connection."""

from __future__ import annotations

from pathlib import Path

from arxivbot.store.deliveries import DeliveryStore
from arxivbot.store.digests import DigestStore
from arxivbot.store.feedback import FeedbackStore
from arxivbot.store.http_cache import FetchStateStore
from arxivbot.store.papers import PaperStore
from arxivbot.store.retention import RetentionStore
from arxivbot.store.runs import RunStore
from arxivbot.store.summaries import SummaryStore


class SQLiteStore(
    PaperStore, DigestStore, SummaryStore, RunStore, FetchStateStore, FeedbackStore, DeliveryStore, RetentionStore
):
    """arxivbot's memory in one SQLite file, migrated on open. Use as a context manager."""

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(path: str | Path, *, readonly: bool = False) -> SQLiteStore:
    """Open (creating and migrating) the database at ``path``; ``readonly`` opens an existing one and
    changes nothing. Raises :class:`~arxivbot.errors.StoreError` with the cause and the fix."""
    return SQLiteStore(path, readonly=readonly)
