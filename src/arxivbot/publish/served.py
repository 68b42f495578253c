"""The published site held in memory, as the web service sends it.

The site is rendered from the database (``render_site``) into bytes once per change, with everything
a response needs computed up front: a strong ETag (hash of the bytes), a gzip copy compressed once
(with its own ETag), Last-Modified and the Content-Type. Requests only look bytes up.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from arxivbot.config import Config
from arxivbot.publish.feeds import CONTENT_TYPES
from arxivbot.publish.site import update_site
from arxivbot.store import SQLiteStore, Store, open_store

log = logging.getLogger(__name__)

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    **{f"{fmt}.xml": f"{kind}; charset=utf-8" for fmt, kind in CONTENT_TYPES.items()},
}


@dataclass(frozen=True, slots=True)
class Resource:
    """One published file, ready to send: identity and gzip variants with their validators."""

    body: bytes
    gzip_body: bytes
    etag: str
    gzip_etag: str
    last_modified: datetime
    content_type: str

    @classmethod
    def of(cls, name: str, body: bytes, last_modified: datetime) -> Resource:
        digest = hashlib.sha256(body).hexdigest()[:32]
        return cls(
            body=body,
            gzip_body=gzip.compress(body, compresslevel=6, mtime=0),
            etag=f'"{digest}"',
            gzip_etag=f'"{digest}-gz"',
            last_modified=last_modified.replace(microsecond=0),
            content_type=_content_type(name),
        )


def _content_type(name: str) -> str:
    suffix = name[name.rfind(".") :]
    if suffix in _CONTENT_TYPES:
        return _CONTENT_TYPES[suffix]
    kind = "rss" if name.startswith("rss") else "atom"
    return _CONTENT_TYPES[f"{kind}.xml"]


class PublishedSite:
    """The site's bytes in memory, re-rendered from the database on ``refresh``.

    A refresh builds a whole new mapping and swaps it in one assignment, so a request sees either
    the old site or the new one, never a mix. It renders incrementally against the site in memory
    (a past day whose digest did not change is not rendered again), and a file whose bytes did not
    change keeps its Resource and Last-Modified, so clients' conditional requests keep answering 304.
    The pages are rendered for the service (``served=True``: with like/dislike buttons).
    """

    def __init__(self, config: Config) -> None:
        self._config = config
        self._resources: dict[str, Resource] = {}
        self._signature: tuple[Any, ...] | None = None
        self._lock = threading.Lock()
        self.rendered_at: datetime | None = None

    def get(self, name: str) -> Resource | None:
        return self._resources.get(name)

    def refresh(self) -> None:
        with self._lock:
            now = datetime.now(timezone.utc)
            with reader(self._config) as store:
                # Read before rendering: a run that lands mid-render then still differs from it,
                # so the next ``refresh_if_changed`` renders again instead of keeping a stale site.
                signature = _data_signature(store)
                old = self._resources
                update = update_site(store, self._config, now, published=_body_in(old), served=True)
            self._signature = signature
            fresh = {}
            for name in update.paths:
                previous = old.get(name)
                body = update.files.get(name)
                if previous is not None and (body is None or previous.body == body):
                    fresh[name] = previous
                elif body is not None:
                    fresh[name] = Resource.of(name, body, now)
            self._resources = fresh
            self.rendered_at = now
        log.info("site rendered: %d files", len(fresh))

    def refresh_if_changed(self) -> bool:
        """Re-render when another process (``arxivbot run`` from cron) changed the database."""
        with reader(self._config) as store:
            signature = _data_signature(store)
        if signature == self._signature:
            return False
        self.refresh()
        return True


def _body_in(resources: dict[str, Resource]) -> Callable[[str], bytes | None]:
    def published(name: str) -> bytes | None:
        resource = resources.get(name)
        return resource.body if resource is not None else None

    return published


def reader(config: Config) -> SQLiteStore:
    """A read-only connection: the service never writes (only its cycles do), and a reader never
    waits for a lock that a running cycle holds."""
    return open_store(config.storage.database, readonly=True)


def _data_signature(store: Store) -> tuple[Any, ...]:
    run = store.last_run()
    days = store.digest_days()
    return (run.run_id, run.status, run.finished_at) if run else (), days[0] if days else None
