"""Rendered feed items, kept between runs so a run renders only the papers that changed.

A feed holds up to ``feeds.max_items`` papers of the last ``feeds.max_days`` days, and all but a day's
worth were in yesterday's feeds already. Each item's RSS ``<item>`` and Atom ``<entry>`` are kept here
under a key made of everything the item shows (the whole :class:`~arxivbot.models.FeedItem`: paper,
score, reasons, summary, day) and the renderer's version, so an item whose summary, score or text
changed gets a new key and is rendered again; nothing is ever invalidated by hand.

Hashing every item's text on every run costs more than rendering the new ones, so the cache also
remembers which item (paper, version, day) each key belongs to and its digest's revision then: while
that revision is unchanged (the store changes it whenever the digest, a listed paper or a summary of
one changes), the item's key is taken as it was.

The cache is one file beside the database (``arxivbot.db-feeds``): a line naming the renderer, a line of
JSON listing each item's key, the lengths of its two fragments, the item and its digest's revision,
then the fragments' bytes, back to back (no escaping to undo: loading is one read and a few slices).
It is only a cache: a missing, unreadable or foreign file means a full rendering, never a failure, and
a failed write costs the next run some time only. It keeps the items of the last rendering and no
others.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from arxivbot.errors import OutputError
from arxivbot.files import write_atomic
from arxivbot.models import FeedItem

log = logging.getLogger(__name__)

# Bump when the rendering of an item changes in a way the source digest below cannot see.
RENDERER_VERSION = 2  # 2: the index names each item and its digest's revision
_FORMATS = ("rss", "atom")


def fragment_cache_path(database: Path) -> Path | None:
    """``data/arxivbot.db`` → ``data/arxivbot.db-feeds``; None for an in-memory database."""
    if str(database) == ":memory:":
        return None
    return database.with_name(database.name + "-feeds")


@functools.cache
def _signature() -> str:
    """What the fragments depend on besides the items: our renderer and the feed libraries' versions.

    The renderer is named by a digest of the modules that draw an item (feeds.py, escape.py) too: a
    change there (say, a stricter link check in summaries) retires every cached fragment by itself,
    with no version number to forget.
    """
    from feedgen.version import version_str
    from lxml.etree import LXML_VERSION

    from arxivbot.publish import escape, feeds

    source = hashlib.blake2b(digest_size=8)
    for module in (feeds, escape):
        source.update(Path(module.__file__ or "").read_bytes())
    lxml_version = ".".join(map(str, LXML_VERSION))
    return f"arxivbot-feed-fragments/{RENDERER_VERSION}-{source.hexdigest()} feedgen/{version_str} lxml/{lxml_version}"


_FIELDS: dict[type, tuple[str, ...]] = {}


def _content(value: Any) -> Any:
    """A record as nested tuples of plain values, every field included: what the key is made of.

    The same as ``repr(record)`` for telling records apart, several times faster (dataclass reprs go
    through a recursion guard per record).
    """
    kind = type(value)
    if kind is tuple:
        return tuple(map(_content, value))
    if dataclasses.is_dataclass(value):
        names = _FIELDS.get(kind)
        if names is None:
            names = _FIELDS[kind] = tuple(field.name for field in dataclasses.fields(value))
        return (kind.__name__, *(_content(getattr(value, name)) for name in names))
    return value


class FragmentCache:
    """Item key → ``{"rss": bytes, "atom": bytes}``, loaded from and saved to ``path``."""

    def __init__(
        self,
        path: Path | None,
        fragments: dict[str, dict[str, bytes]] | None = None,
        known: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        self.path = path
        self._fragments = fragments or {}
        self._changed = False
        self._keys: dict[tuple[str, int, str], str] = {}
        # "arxiv_id|version|day" → (digest revision, key) of the last rendering, and this one's.
        self._known: dict[str, tuple[str, str]] = known or {}
        self._revisions: dict[str, tuple[str, str]] = {}

    @classmethod
    def load(cls, path: Path | None) -> FragmentCache:
        if path is None or not path.is_file():
            return cls(path)
        try:
            data = path.read_bytes()
            signature, index, body = data.split(b"\n", 2)
            if signature.decode("utf-8") != _signature():
                return cls(path)
            fragments: dict[str, dict[str, bytes]] = {}
            known: dict[str, tuple[str, str]] = {}
            at = 0
            for key, (*lengths, item, revision) in json.loads(index).items():
                if item:
                    known[item] = (revision, key)
                parts = {}
                for fmt, length in zip(_FORMATS, lengths, strict=True):
                    parts[fmt] = body[at : at + length]
                    at += length
                fragments[key] = parts
            if at != len(body):
                raise ValueError(f"{len(body) - at} bytes unaccounted for")
        except (OSError, ValueError, TypeError, AttributeError) as err:
            log.debug("%s: feed fragment cache ignored (%s)", path, err)
            return cls(path)
        return cls(path, fragments, known)

    def key_of(self, item: FeedItem, revision: str | None = None) -> str:
        """Everything the item shows, hashed. One rendering reads an item once per feed it is in, so
        the key is remembered per (paper, version, day): the database answers alike within one run.

        With ``revision``, the revision of the item's digest (``DigestHead.revision``, which the store
        changes whenever the digest, a listed paper or a summary of one changes), the key of the last
        rendering is reused while the revision is the same, without reading the item's text again.
        """
        paper = item.scored.paper
        memo = (paper.arxiv_id, paper.version, item.day.isoformat())
        key = self._keys.get(memo)
        if key is None:
            known = self._known.get("|".join(map(str, memo)))
            if revision is not None and known is not None and known[0] == revision and known[1] in self._fragments:
                key = known[1]
            else:
                key = hashlib.blake2b(repr(_content(item)).encode("utf-8"), digest_size=16).hexdigest()
            self._keys[memo] = key
            if revision is not None:
                self._revisions[key] = ("|".join(map(str, memo)), revision)
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
        self._changed = self._changed or any(
            self._known.get(item, ("", ""))[0] != revision for item, revision in self._revisions.values()
        )
        if kept.keys() != self._fragments.keys():
            self._fragments = {key: self._fragments[key] for key in kept}
            self._changed = True
        if self.path is None or not self._changed:
            return
        index = {
            key: [*(len(parts[fmt]) for fmt in _FORMATS), *self._revisions.get(key, ("", ""))]
            for key, parts in self._fragments.items()
        }
        payload = b"".join(
            [
                _signature().encode("utf-8"),
                b"\n",
                json.dumps(index, separators=(",", ":")).encode("ascii"),
                b"\n",
                *(parts[fmt] for parts in self._fragments.values() for fmt in _FORMATS),
            ]
        )
        try:
            write_atomic(self.path, payload, durable=False)  # a torn file fails its checks: a miss
        except OutputError as err:  # a cache: the feeds are published all the same
            log.debug("feed fragment cache not saved: %s", err)
        self._changed = False
