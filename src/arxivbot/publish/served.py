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
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from arxivbot.config import Config
from arxivbot.publish.feeds import CONTENT_TYPES
from arxivbot.publish.site import render_site
from arxivbot.store import SQLiteStore, Store, open_store

log = logging.getLogger(__name__)

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
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
    if name.endswith(".html"):
        return _CONTENT_TYPES[".html"]
    if name.endswith(".json"):
        return _CONTENT_TYPES[".json"]
    kind = "rss" if name.startswith("rss") else "atom"
    return _CONTENT_TYPES[f"{kind}.xml"]


class PublishedSite:
    """The site's bytes in memory, re-rendered from the database on ``refresh``.

    A refresh builds a whole new mapping and swaps it in one assignment, so a request sees either
    the old site or the new one, never a mix. A file whose bytes did not change keeps its
    Last-Modified, so clients' conditional requests keep answering 304.
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
                files = render_site(store, self._config, now)
            self._signature = signature
            old = self._resources
            fresh = {}
            for name, body in files.items():
                previous = old.get(name)
                if previous is not None and previous.body == body:
                    fresh[name] = previous
                else:
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


def reader(config: Config) -> SQLiteStore:
    """A read-only connection: the service never writes (only its cycles do), and a reader never
    waits for a lock that a running cycle holds."""
    return open_store(config.storage.database, readonly=True)


def _data_signature(store: Store) -> tuple[Any, ...]:
    run = store.last_run()
    days = store.digest_days()
    return (run.run_id, run.status, run.finished_at) if run else (), days[0] if days else None
