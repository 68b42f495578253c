"""The archive: a page per digest day, the front page listing them all, rebuilt incrementally.

Every day that has a digest in the store (retention keeps digests for ever) has its page at
``YYYY-MM-DD/index.html``, linking to the previous and the next day; ``index.html`` shows the latest
day and links to every day, newest first, grouped by month.

Incremental, at a cost that does not grow with the archive: each page carries a key
(``<meta name="arxivbot-key">``), a hash of what it is rendered from — its digest's revision, which
the store changes whenever the digest, a listed paper or a summary of one changes (migration
``0013_digest_revision``), its neighbours, the page settings, arxivbot's version and the templates
and static files (``assets.fingerprint``). The keys are computed from the digests' heads
(:class:`~arxivbot.models.DigestHead`, one light query), and compared with the key at the top of the
page already published (on disk for ``arxivbot run``, in memory for ``arxivbot serve``); only a day
whose key differs is loaded from the store and rendered. A new day thus loads and renders itself,
the day before it (its "next" link) and the front page; a summary added later re-renders its day; a
deleted or hand-edited page (its key gone) is rendered again; an upgrade of arxivbot re-renders
every day once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from arxivbot import __version__
from arxivbot.models import Digest, DigestHead
from arxivbot.publish import assets
from arxivbot.publish.pages import (
    ArchiveDay,
    PageSettings,
    archive_months,
    day_path,
    page_key_of,
    render_day_page,
    render_not_found_page,
)
from arxivbot.store import Store

FRONT_PAGE = "index.html"
NOT_FOUND_PAGE = "404.html"
# Bump when a page's meaning changes in a way the templates' bytes do not show.
PAGE_FORMAT = 1

# A page's key, a search shard's key: within the first bytes of the file.
HEAD_BYTES = 4096

Published = Callable[[str], "bytes | None"]
Loader = Callable[[date], "Digest | None"]


@dataclass
class Rendered:
    """Files rendered by one update, and every path of the site (the unchanged ones included)."""

    files: dict[str, bytes] = field(default_factory=dict)
    paths: set[str] = field(default_factory=set)

    def add(self, path: str, body: bytes | None) -> None:
        """Record ``path`` as part of the site, and ``body`` as its new bytes when it was rendered."""
        self.paths.add(path)
        if body is not None:
            self.files[path] = body


class DigestLoader:
    """Digests loaded from the store on first use, each once per update."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._loaded: dict[date, Digest | None] = {}

    def __call__(self, day: date) -> Digest | None:
        if day not in self._loaded:
            self._loaded[day] = self._store.load_digest(day)
        return self._loaded[day]


def content_key(*parts: object) -> str:
    """A key of what a file is made of: small frozen records' ``repr`` is complete and deterministic."""
    text = repr((PAGE_FORMAT, __version__, assets.fingerprint(), *parts))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def day_page_path(day: date) -> str:
    return day_path(day) + "index.html"


def render_archive(
    heads: Sequence[DigestHead], settings: PageSettings, load: Loader, published: Published, head: Published
) -> Rendered:
    """The day pages that changed, the front page and the 404 page (each skipped when its key matches).

    ``heads`` are the stored digests, newest first; ``load`` is called only for the days rendered.
    ``published(path)`` gives a published file's bytes, ``head(path)`` at least its first
    :data:`HEAD_BYTES` (where a page's key is).
    """
    rendered = Rendered()
    for position, digest_head in enumerate(heads):
        following = heads[position - 1].day if position > 0 else None
        previous = heads[position + 1].day if position + 1 < len(heads) else None
        key = content_key("day", settings, digest_head.day, digest_head.revision, previous, following)
        path = day_page_path(digest_head.day)
        body = None
        if page_key_of(head(path)) != key and (digest := load(digest_head.day)) is not None:
            body = render_day_page(digest, settings, key=key, previous=previous, following=following)
        rendered.add(path, body)
    latest = heads[0] if heads else None
    days = [ArchiveDay(h.day, h.papers) for h in heads]
    front_key = content_key("front", settings, latest, days)
    front = None
    if page_key_of(head(FRONT_PAGE)) != front_key:
        previous = heads[1].day if len(heads) > 1 else None
        digest = load(latest.day) if latest else None
        front = render_day_page(digest, settings, key=front_key, previous=previous, archive=archive_months(days))
    rendered.add(FRONT_PAGE, front)
    rendered.add(NOT_FOUND_PAGE, _unless_published(published, NOT_FOUND_PAGE, render_not_found_page(settings)))
    return rendered


def static_assets(published: Published) -> Rendered:
    """The stylesheet, the script and the vendored MiniSearch: listed when their bytes differ."""
    rendered = Rendered()
    for path, body in assets.static_files().items():
        rendered.add(path, _unless_published(published, path, body))
    return rendered


def _unless_published(published: Published, path: str, body: bytes) -> bytes | None:
    return None if published(path) == body else body
