"""A Zotero library through the Zotero web API (pyzotero), synced incrementally into SQLite.

Only what changed since the last sync is asked for: the items modified since the stored library
version (``since=``), and the keys deleted since then. The key comes from the environment variable
``library.zotero.api_key_env`` only (a public library needs none) and is never printed: messages
are scrubbed of it. When Zotero cannot be reached, the run goes on with the library as last synced,
after a warning.

``client_factory`` builds the pyzotero client; tests hand one aimed at a local server playing the
Zotero web API (``library.zotero.api_url`` does the same from a config).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from arxivbot.library.bibtex import arxiv_id_of
from arxivbot.models import LibraryItem

if TYPE_CHECKING:
    from arxivbot.config_relevance import ZoteroConfig
    from arxivbot.store import Store

log = logging.getLogger(__name__)

SOURCE = "zotero"
_NOT_PAPERS = frozenset({"attachment", "note", "annotation"})
_COLLECTION_KEY = re.compile(r"^[A-Z0-9]{8}$")

ZoteroFactory = Callable[["ZoteroConfig", "str | None"], Any]


@dataclass(frozen=True, slots=True)
class ZoteroSync:
    changed: int = 0
    removed: int = 0
    version: int | None = None
    warning: str = ""


def make_zotero_client(config: ZoteroConfig, api_key: str | None) -> Any:
    """A pyzotero client for the configured library, aimed at ``config.api_url``."""
    from pyzotero import zotero

    client = zotero.Zotero(config.library_id, config.library_type, api_key)
    client.endpoint = config.api_url.rstrip("/")
    return client


def origin_of(config: ZoteroConfig) -> str:
    return f"zotero:{config.library_type}/{config.library_id}"


def sync_zotero(
    config: ZoteroConfig, store: Store, *, client_factory: ZoteroFactory | None = None, save: bool = True
) -> ZoteroSync:
    """Bring the stored copy of the Zotero library up to date; a failure leaves it as it was."""
    origin = origin_of(config)
    api_key = os.environ.get(config.api_key_env) or None
    # Another library was configured before: its items are not this user's any more.
    if save and any(item.origin != origin for item in store.library_items(SOURCE)):
        store.clear_library_source(SOURCE)
    since = store.library_sync_version(origin)
    try:
        client = (client_factory or make_zotero_client)(config, api_key)
        changed, removed, version = _changes(client, config, since)
    except Exception as err:  # pyzotero raises its own errors, httpx's, and JSON errors
        message = str(err) or type(err).__name__
        if api_key:
            message = message.replace(api_key, "***")
        cached = len(store.library_items(SOURCE))
        warning = (
            f"Zotero library {origin} could not be synced ({type(err).__name__}: {message[:200]}); "
            f"using the {cached} item(s) synced before"
        )
        log.warning("%s", warning)
        return ZoteroSync(warning=warning)
    if save:
        store.upsert_library_items(changed, removed=removed, source=SOURCE)
        if version is not None:
            store.save_library_sync(origin, version)
    log.info(
        "Zotero %s: %d item(s) new or changed, %d removed (library version %s)",
        origin,
        len(changed),
        len(removed),
        version,
    )
    return ZoteroSync(len(changed), len(removed), version)


def _changes(client: Any, config: ZoteroConfig, since: int | None) -> tuple[list[LibraryItem], list[str], int | None]:
    """(items new or changed since ``since``, keys to drop, the library's version now)."""
    raw = client.everything(client.top(since=since or 0))
    headers = getattr(getattr(client, "request", None), "headers", {}) or {}
    version = int(headers["last-modified-version"]) if "last-modified-version" in headers else None
    wanted = _collection_keys(client, config.collections)
    origin = origin_of(config)
    changed: list[LibraryItem] = []
    removed: list[str] = []
    for entry in raw:
        data = entry.get("data", entry) if isinstance(entry, dict) else {}
        key = str(data.get("key") or entry.get("key") or "")
        if not key:
            continue
        item = _item(data, origin)
        in_collections = wanted is None or bool(wanted & set(data.get("collections") or ()))
        if item is None or data.get("deleted") or not in_collections:
            removed.append(key)  # a note, an item moved to the trash or out of the followed collections
        else:
            changed.append(item)
    if since:
        deleted = client.deleted(since=since)
        removed.extend(str(key) for key in (deleted or {}).get("items", ()))
    return changed, removed, version


def _collection_keys(client: Any, collections: Iterable[str]) -> set[str] | None:
    """The keys of the followed collections (names are looked up), or None to follow everything."""
    wanted = list(collections)
    if not wanted:
        return None
    keys = {c for c in wanted if _COLLECTION_KEY.match(c)}
    names = [c for c in wanted if c not in keys]
    if names:
        found = {
            str(c.get("data", {}).get("name", "")).casefold(): str(c.get("key") or c.get("data", {}).get("key"))
            for c in client.everything(client.collections())
        }
        for name in names:
            if name.casefold() in found:
                keys.add(found[name.casefold()])
            else:
                log.warning("library.zotero.collections: no collection named %r in the Zotero library", name)
    return keys


def _item(data: dict[str, Any], origin: str) -> LibraryItem | None:
    if data.get("itemType") in _NOT_PAPERS:
        return None
    title = " ".join(str(data.get("title") or "").split())
    if not title:
        return None
    fields = {
        "url": str(data.get("url") or ""),
        "doi": str(data.get("DOI") or ""),
        "note": str(data.get("extra") or ""),
        "journal": str(data.get("publicationTitle") or data.get("repository") or ""),
        "eprint": str(data.get("archiveID") or ""),
    }
    return LibraryItem(
        source=SOURCE,
        key=str(data["key"]),
        title=title,
        abstract=" ".join(str(data.get("abstractNote") or "").split()),
        arxiv_id=arxiv_id_of(fields),
        doi=str(data.get("DOI") or "").strip() or None,
        keywords=tuple(str(t.get("tag")) for t in data.get("tags") or () if isinstance(t, dict) and t.get("tag")),
        added=_timestamp(data.get("dateAdded")),
        version=int(data["version"]) if str(data.get("version", "")).isdigit() else None,
        origin=origin,
    )


def _timestamp(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
