"""The user's library as last loaded, how far Zotero was synced, and arXiv metadata fetched by id.

Library papers that are also announced keep their full record for ever (``retention.KEPT_FOR_EVER``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime

from arxivbot.models import LibraryItem, Paper
from arxivbot.store.connection import Database
from arxivbot.store.rows import iso, names, parse_datetime, placeholders, to_json, utc_now

LIBRARY_COLUMNS = (
    "source",
    "item_key",
    "arxiv_id",
    "doi",
    "title",
    "abstract",
    "keywords",
    "added_at",
    "version",
    "origin",
)
_INSERT_ITEM = (
    f"INSERT OR REPLACE INTO library_items ({names(LIBRARY_COLUMNS)}) VALUES ({placeholders(LIBRARY_COLUMNS)})"
)
METADATA_COLUMNS = ("arxiv_id", "status", "version", "title", "abstract", "authors", "categories", "published")


class LibraryStore(Database):
    # --- library items ---

    def replace_library_items(self, source: str, items: Iterable[LibraryItem]) -> None:
        """Make ``items`` the whole of ``source`` (a re-read BibTeX file or id list), in one transaction.

        An item seen before keeps its first ``added_at``, so "newest items" means newest to the library.
        """
        rows = list(items)
        with self.transaction() as db:
            first_seen = {
                row["item_key"]: parse_datetime(row["added_at"])
                for row in db.execute("SELECT item_key, added_at FROM library_items WHERE source=?", (source,))
            }
            db.execute("DELETE FROM library_items WHERE source=?", (source,))
            now = utc_now()
            db.executemany(
                _INSERT_ITEM,
                [_item_values(item, item.added or first_seen.get(item.key) or now) for item in rows],
            )

    def upsert_library_items(self, items: Iterable[LibraryItem], *, removed: Iterable[str] = (), source: str) -> None:
        """Add or update ``items`` and delete the ``removed`` keys of ``source`` (an incremental sync)."""
        rows = list(items)
        now = utc_now()
        with self.transaction() as db:
            db.executemany(
                "DELETE FROM library_items WHERE source=? AND item_key=?", [(source, key) for key in removed]
            )
            db.executemany(
                _INSERT_ITEM,
                [_item_values(item, item.added or now) for item in rows],
            )

    def clear_library_source(self, source: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM library_items WHERE source=?", (source,))
            db.execute("DELETE FROM library_sync WHERE origin LIKE ?", (f"{source}:%",))

    def library_items(self, source: str | None = None) -> list[LibraryItem]:
        """Every stored item (of ``source``), newest first."""
        where, params = ("WHERE source=?", (source,)) if source else ("", ())
        rows = self._db.execute(
            f"SELECT {names(LIBRARY_COLUMNS)} FROM library_items {where} ORDER BY added_at DESC, source, item_key",  # nosec B608  # column and table names are constants; values are bound with ?
            params,
        )
        return [_item_from(row) for row in rows]

    # --- incremental sync ---

    def library_sync_version(self, origin: str) -> int | None:
        row = self._db.execute("SELECT version FROM library_sync WHERE origin=?", (origin,)).fetchone()
        return None if row is None else int(row[0])

    def save_library_sync(self, origin: str, version: int) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO library_sync (origin, version, synced_at) VALUES (?,?,?)",
                (origin, version, iso(utc_now())),
            )

    # --- arXiv metadata by id ---

    def arxiv_metadata(self, arxiv_ids: Iterable[str]) -> dict[str, Paper | None]:
        """What was fetched before: id → the paper, or None when arXiv did not know it. Unasked ids are absent."""
        query = f"SELECT {names(METADATA_COLUMNS)} FROM arxiv_metadata WHERE arxiv_id IN ({{ids}})"  # nosec B608  # column and table names are constants; values are bound with ?
        return {row["arxiv_id"]: _metadata_from(row) for row in self._rows_for_ids(query, arxiv_ids)}

    def save_arxiv_metadata(self, found: Iterable[Paper], missing: Iterable[str] = ()) -> None:
        now = iso(utc_now())
        columns = (*METADATA_COLUMNS, "fetched_at")
        rows: list[tuple[object, ...]] = [
            (
                p.arxiv_id,
                "found",
                p.version,
                p.title,
                p.abstract,
                to_json(list(p.authors)),
                to_json(list(p.categories)),
                iso(p.published),
                now,
            )
            for p in found
        ]
        rows += [(arxiv_id, "missing", None, "", "", "[]", "[]", None, now) for arxiv_id in missing]
        with self.transaction() as db:
            db.executemany(
                f"INSERT OR REPLACE INTO arxiv_metadata ({names(columns)}) VALUES ({placeholders(columns)})", rows
            )


def _item_values(item: LibraryItem, added: datetime) -> tuple[object, ...]:
    return (
        item.source,
        item.key,
        item.arxiv_id,
        item.doi,
        item.title,
        item.abstract,
        to_json(list(item.keywords)),
        iso(added),
        item.version,
        item.origin,
    )


def _item_from(row: sqlite3.Row) -> LibraryItem:
    get = row.__getitem__
    return LibraryItem(
        source=get("source"),
        key=get("item_key"),
        title=get("title"),
        abstract=get("abstract"),
        arxiv_id=get("arxiv_id"),
        doi=get("doi"),
        keywords=tuple(json.loads(get("keywords"))),
        added=parse_datetime(get("added_at")),
        version=get("version"),
        origin=get("origin"),
    )


def _metadata_from(row: sqlite3.Row) -> Paper | None:
    get = row.__getitem__
    if get("status") != "found":
        return None
    arxiv_id = get("arxiv_id")
    categories = tuple(json.loads(get("categories")))
    return Paper(
        arxiv_id=arxiv_id,
        version=get("version") or 1,
        title=get("title"),
        authors=tuple(json.loads(get("authors"))),
        abstract=get("abstract"),
        categories=categories,
        link=f"https://arxiv.org/abs/{arxiv_id}",
        primary_category=categories[0] if categories else None,
        published=parse_datetime(get("published")),
    )
