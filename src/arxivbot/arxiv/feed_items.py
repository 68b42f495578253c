"""One item of arXiv's daily feed (RSS ``<item>`` or Atom ``<entry>``) → an :class:`Announcement`.

Where arXiv puts what (SPEC §3, ``../shared/fixtures/arxiv/SOURCES.md``, arXiv/arxiv-feed's serializer):

* the id and version in ``<guid>`` (``oai:arXiv.org:2604.21935v1``) and in the description prefix
  ``arXiv:2604.21935v1 Announce Type: new \\nAbstract: …``; the link has no version;
* the announce type in ``<arxiv:announce_type>`` (and in that prefix): new, cross, replace,
  replace-cross (the generator also knows absonly); kept as written;
* the authors in one ``<dc:creator>``, joined by ", ", never by "and"; a name may carry
  ``(Affil1, Affil2)``, so the split ignores commas inside parentheses and keeps that text with the name;
* the announcement day in ``<pubDate>`` at midnight US Eastern: we keep the date written there, never
  converted to UTC (``… 00:00:00 -0400`` is that day, not the day before);
* optional ``<arxiv:DOI>`` (upper case) and ``<arxiv:journal_reference>``.

Titles and abstracts are kept as written (LaTeX, ``<`` and ``&`` included; escaping happens when
rendering), only their whitespace is normalised.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime

from lxml import etree

from arxivbot.models import Announcement, Paper, split_arxiv_id

log = logging.getLogger(__name__)

ARXIV_NS = "{http://arxiv.org/schemas/atom}"
DC_NS = "{http://purl.org/dc/elements/1.1/}"
ATOM_NS = "{http://www.w3.org/2005/Atom}"

# What each child of an RSS <item> or Atom <entry> holds; one dict lookup per child keeps parsing fast.
_FIELD_OF_TAG = {
    "title": "title",
    "link": "link",
    "description": "description",
    "guid": "guid",
    "category": "category",
    "pubDate": "date",
    f"{ATOM_NS}title": "title",
    f"{ATOM_NS}link": "atom_link",
    f"{ATOM_NS}summary": "description",
    f"{ATOM_NS}id": "guid",
    f"{ATOM_NS}category": "atom_category",
    f"{ATOM_NS}published": "date",
    f"{ARXIV_NS}announce_type": "announce_type",
    f"{ARXIV_NS}DOI": "doi",
    f"{ARXIV_NS}journal_reference": "journal_ref",
    f"{DC_NS}creator": "creator",
}

# "arXiv:2604.21935v1 Announce Type: new" — the part of the description before "Abstract:".
_DESCRIPTION_PREFIX = re.compile(r"arXiv:(\S+)\s+Announce Type:\s*(\S+)")

_OAI_PREFIX = "oai:arXiv.org:"
_ASCII_SPACES = ("\n", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")  # str.split()'s, but " "
_DEFAULT_ANNOUNCE_TYPE = "new"  # only when neither <arxiv:announce_type> nor the prefix says


class MalformedItem(ValueError):
    """An item lacks something a paper cannot do without; the message says what."""


def announcement_from_item(item: etree._Element, channel_day: date | None, dates: DateCache) -> Announcement:
    """Read one ``<item>``/``<entry>`` in a single pass over its children; :class:`MalformedItem` if unusable.

    ``channel_day`` is the feed's announcement date, used when the item has no ``pubDate`` of its own
    (feeds before August 2024).
    """
    fields: dict[str, str] = {}
    categories: list[str] = []
    creators: list[str] = []
    for child in item:
        kind = _FIELD_OF_TAG.get(child.tag)
        if kind is None:
            continue
        if kind == "atom_category":
            term = child.get("term")
            if term:
                categories.append(term)
            continue
        if kind == "atom_link":
            if child.get("rel", "alternate") == "alternate" and child.get("href"):
                fields["link"] = child.get("href", "")
            continue
        text = child.text  # read once: each access copies the string out of the tree
        if not text:
            continue
        if kind == "category":
            text = text.strip()
            if text:
                categories.append(text)
        elif kind == "creator":
            creators.append(text)
        else:
            fields[kind] = text

    prefix_id, prefix_type, abstract = _split_description(fields.get("description", ""))
    arxiv_id, version = _identify(fields.get("guid"), prefix_id, fields.get("link"), fields.get("title"))
    title = _normalised(fields.get("title", ""))
    if not title:
        raise MalformedItem(f"no <title> (id {arxiv_id}v{version})")
    published = dates.moment(fields.get("date"))
    day = published.date() if published is not None else channel_day
    if day is None:
        raise MalformedItem(f"no announcement date (id {arxiv_id}v{version}, title {title[:60]!r})")
    link = fields.get("link", "").strip()
    if not link or "rss.arxiv.org" in link:  # early-2024 feeds pointed links at rss.arxiv.org/abs
        link = f"https://arxiv.org/abs/{arxiv_id}"
    paper = Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        authors=tuple(name for text in creators for name in _split_authors(text)),
        abstract=abstract,
        categories=tuple(categories),
        link=link,
        primary_category=categories[0] if categories else None,
        published=published,
        journal_ref=_clean(fields.get("journal_ref")),
        doi=_clean(fields.get("doi")),
    )
    announce_type = (fields.get("announce_type") or "").strip() or prefix_type or _DEFAULT_ANNOUNCE_TYPE
    return Announcement(paper=paper, announce_type=announce_type, announced=day, source="rss")


def _identify(guid: str | None, prefix_id: str | None, link: str | None, title: str | None) -> tuple[str, int]:
    """The id and version, from the guid, else the description prefix, else the (unversioned) link."""
    if guid:
        known = _oai_identifier(guid)
        if known is not None:
            return known
    for candidate in (guid, prefix_id, link):
        if candidate:
            try:
                return split_arxiv_id(candidate)
            except ValueError:
                continue
    shown = " ".join((title or "").split())[:60]
    raise MalformedItem(f"no arXiv id in <guid>, description or <link> (title {shown!r})")


def _oai_identifier(guid: str) -> tuple[str, int] | None:
    """``oai:arXiv.org:2604.21935v1`` → ``("2604.21935", 1)`` by string methods: the form of every
    new-style guid. Anything else (old-style ids, stray spaces) is left to ``split_arxiv_id``."""
    if not guid.startswith(_OAI_PREFIX):
        return None
    arxiv_id, v, version = guid[len(_OAI_PREFIX) :].rpartition("v")
    month, dot, number = arxiv_id.partition(".")
    if (
        v
        and dot
        and version.isascii()
        and version.isdigit()
        and len(month) == 4
        and month.isascii()
        and month.isdigit()
        and len(number) in (4, 5)
        and number.isascii()
        and number.isdigit()
    ):
        return arxiv_id, int(version)
    return None


def _split_description(text: str) -> tuple[str | None, str | None, str]:
    """``arXiv:<id>v<N> Announce Type: <type> \\nAbstract: <text>`` → (id, type, normalised abstract)."""
    head, marker, rest = text.partition("Abstract:")
    if marker:
        prefix = _prefix_of(head.strip())
        if prefix:
            return prefix[0], prefix[1], _normalised(rest)
    else:
        # Some re-saved feeds lose "Abstract:"; keep whatever follows a bare prefix.
        match = _DESCRIPTION_PREFIX.match(text.lstrip())
        if match:
            return match[1], match[2], _normalised(text.lstrip()[match.end() :])
    return None, None, _normalised(text)


def _prefix_of(head: str) -> tuple[str, str] | None:
    """(id, type) of a whole ``arXiv:<id> Announce Type: <type>``, by string methods when it is written
    as arXiv writes it (one space each), else by the regular expression."""
    if head.startswith("arXiv:"):
        ident, separator, kind = head[6:].partition(" Announce Type: ")
        single_words = ident.isprintable() and kind.isprintable() and " " not in ident + kind
        if separator and ident and kind and single_words:
            return ident, kind
    match = _DESCRIPTION_PREFIX.fullmatch(head)
    return (match[1], match[2]) if match else None


def _normalised(text: str) -> str:
    """Whitespace collapsed to single spaces; a text that has nothing to collapse is only stripped.

    Most of arXiv's text is ASCII with single spaces: a few C-level substring searches tell, and the
    split and join (the slowest step of reading a feed) are skipped.
    """
    text = text.strip()
    return text if _single_spaced(text) else " ".join(text.split())


def _single_spaced(text: str) -> bool:
    """ASCII whose only whitespace is single spaces: nothing for ``" ".join(text.split())`` to change inside."""
    return text.isascii() and "  " not in text and not any(map(text.__contains__, _ASCII_SPACES))


def _split_authors(text: str) -> list[str]:
    """Split ``dc:creator`` on commas outside parentheses: ``A (MIT, CSAIL), B`` → ``[A (MIT, CSAIL), B]``."""
    if "(" not in text:
        if _single_spaced(text):  # the common case: "Ada Lovelace, Alan Turing"
            return [name for name in map(str.strip, text.split(",")) if name]
        parts = text.split(",")
    else:
        parts, depth, start = [], 0, 0
        for index, char in enumerate(text):
            if char == "(":
                depth += 1
            elif char == ")":
                depth = max(0, depth - 1)
            elif char == "," and depth == 0:
                parts.append(text[start:index])
                start = index + 1
        parts.append(text[start:])
    # arXiv writes "first last", so an author without a first name comes out as " Deepti".
    return [name for name in (" ".join(part.split()) for part in parts) if name]


def _clean(text: str | None) -> str | None:
    cleaned = " ".join(text.split()) if text else ""
    return cleaned or None


class DateCache:
    """Parse each distinct date string once: every item of a day carries the same ``pubDate``."""

    def __init__(self) -> None:
        self._seen: dict[str, datetime | None] = {}

    def moment(self, text: str | None) -> datetime | None:
        """RFC 822 (RSS) or ISO 8601 (Atom) → an aware datetime in the offset written there."""
        if not text:
            return None
        if text not in self._seen:
            self._seen[text] = _parse_date(text.strip())
        return self._seen[text]

    def day(self, text: str | None) -> date | None:
        moment = self.moment(text)
        return moment.date() if moment is not None else None


def _parse_date(text: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            log.warning("unreadable date %r in the daily feed", text)
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
