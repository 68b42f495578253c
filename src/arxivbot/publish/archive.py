"""The archive: a page per digest day, the front page listing them all, rebuilt incrementally.

Every day that has a digest in the store (retention keeps digests for ever) has its page at
``YYYY-MM-DD/index.html``, linking to the previous and the next day; ``index.html`` shows the latest
day and links to every day, newest first, grouped by month.

Incremental: each page carries a key (``<meta name="arxivbot-key">``), a hash of everything it is
rendered from — the day's digest as loaded from the store (entries, reasons, papers' metadata,
summaries, generation time), its neighbours, the page settings and the templates and static files
(``assets.fingerprint``). Before rendering a day, the key is compared with the one in the page
already published (on disk for ``arxivbot run``, in memory for ``arxivbot serve``); when they are
equal the day is neither rendered nor written. A new day thus renders itself, the day before it (its
"next" link) and the front page; a summary added later re-renders its day; an upgrade of arxivbot
re-renders every day once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from arxivbot.models import Digest
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

Published = Callable[[str], "bytes | None"]


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


def load_archive(store: Store) -> list[Digest]:
    """Every stored digest, newest day first."""
    return [digest for day in store.digest_days() if (digest := store.load_digest(day)) is not None]


def content_key(*parts: object) -> str:
    """A key of what a file is made of: frozen records' ``repr`` is complete and deterministic."""
    text = repr((PAGE_FORMAT, assets.fingerprint(), *parts))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def day_page_path(digest: Digest) -> str:
    return day_path(digest.day) + "index.html"


def render_archive(digests: Sequence[Digest], settings: PageSettings, published: Published) -> Rendered:
    """The day pages that changed, the front page and the 404 page (each skipped when its key matches)."""
    rendered = Rendered()
    for position, digest in enumerate(digests):
        following = digests[position - 1].day if position > 0 else None
        previous = digests[position + 1].day if position + 1 < len(digests) else None
        key = content_key("day", settings, digest, previous, following)
        path = day_page_path(digest)
        unchanged = page_key_of(published(path)) == key
        body = None if unchanged else render_day_page(digest, settings, key=key, previous=previous, following=following)
        rendered.add(path, body)
    latest = digests[0] if digests else None
    days = [ArchiveDay(d.day, len(d.entries)) for d in digests]
    front_key = content_key("front", settings, latest, days)
    previous = digests[1].day if len(digests) > 1 else None
    front = None
    if page_key_of(published(FRONT_PAGE)) != front_key:
        front = render_day_page(latest, settings, key=front_key, previous=previous, archive=archive_months(days))
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
