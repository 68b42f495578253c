"""Rendered feed items, kept between runs so a run renders only the papers that changed.

A feed holds up to ``feeds.max_items`` papers of the last ``feeds.max_days`` days, and all but a day's
worth were in yesterday's feeds already. Each item's RSS ``<item>`` and Atom ``<entry>`` are kept here
under a key made of everything the item shows (the whole :class:`~arxivbot.models.FeedItem`: paper,
score, reasons, summary, day) and the renderer's version, so an item whose summary, score or text
changed gets a new key and is rendered again; nothing is ever invalidated by hand.

The cache is one JSON file beside the database (``arxivbot.db-feeds``). It is only a cache: a missing,
unreadable or foreign file means a full rendering, never a failure, and a failed write costs the next
run some time only. It keeps the items of the last rendering and no others.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from arxivbot.errors import OutputError
from arxivbot.files import write_atomic
from arxivbot.models import FeedItem

log = logging.getLogger(__name__)

# Bump when the rendering of an item changes (feeds.py's _add_item or item_content_html).
RENDERER_VERSION = 1
_FORMATS = ("rss", "atom")


def fragment_cache_path(database: Path) -> Path | None:
    """``data/arxivbot.db`` → ``data/arxivbot.db-feeds``; None for an in-memory database."""
    if str(database) == ":memory:":
        return None
    return database.with_name(database.name + "-feeds")


def _signature() -> str:
    """What the fragments depend on besides the items: our renderer and the feed library's version."""
    from feedgen.version import version_full

    return f"arxivbot-feed-fragments/{RENDERER_VERSION} feedgen/{version_full}"


class FragmentCache:
    """Item key → ``{"rss": bytes, "atom": bytes}``, loaded from and saved to ``path``."""

    def __init__(self, path: Path | None, fragments: dict[str, dict[str, bytes]] | None = None) -> None:
        self.path = path
        self._fragments = fragments or {}
        self._changed = False
        self._keys: dict[tuple[str, int, str], str] = {}

    @classmethod
    def load(cls, path: Path | None) -> FragmentCache:
        if path is None or not path.is_file():
            return cls(path)
        try:
            document = json.loads(path.read_bytes())
            if document.get("signature") != _signature():
                return cls(path)
            fragments = {
                key: {fmt: parts[fmt].encode("utf-8") for fmt in _FORMATS} for key, parts in document["items"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            log.debug("%s: feed fragment cache ignored (%s)", path, err)
            return cls(path)
        return cls(path, fragments)

    def key_of(self, item: FeedItem) -> str:
        """Everything the item shows, hashed. One rendering reads an item once per feed it is in, so
        the key is remembered per (paper, version, day): the database answers alike within one run."""
        paper = item.scored.paper
        memo = (paper.arxiv_id, paper.version, item.day.isoformat())
        key = self._keys.get(memo)
        if key is None:
            key = hashlib.blake2b(repr(item).encode("utf-8"), digest_size=16).hexdigest()
            self._keys[memo] = key
        return key

    def __contains__(self, key: str) -> bool:
        return key in self._fragments

    def fragment(self, key: str, fmt: str) -> bytes:
        return self._fragments[key][fmt]

    def add(self, fragments: Mapping[str, dict[str, bytes]]) -> None:
        self._fragments.update(fragments)
        self._changed = bool(fragments) or self._changed

    def save(self, used: Iterable[str]) -> None:
        """Keep the fragments of this rendering only; write the file when that changed anything."""
        kept = dict.fromkeys(used)
        if kept.keys() != self._fragments.keys():
            self._fragments = {key: self._fragments[key] for key in kept}
            self._changed = True
        if self.path is None or not self._changed:
            return
        document = {
            "signature": _signature(),
            "items": {
                key: {fmt: parts[fmt].decode("utf-8") for fmt in _FORMATS} for key, parts in self._fragments.items()
            },
        }
        try:
            write_atomic(self.path, json.dumps(document, ensure_ascii=False, separators=(",", ":")))
        except OutputError as err:  # a cache: the feeds are published all the same
            log.debug("feed fragment cache not saved: %s", err)
        self._changed = False
