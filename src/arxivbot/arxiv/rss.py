"""The daily listing: fetch ``rss.arxiv.org/rss/<cat>+<cat>…`` once, parse it into Announcements.

One request carries every configured category. The body is parsed with lxml in a single pass over
each item's children (a real day across a few busy categories is thousands of items); what each
item holds is read by :mod:`arxivbot.arxiv.feed_items`.

A response that is not a daily feed (an HTML page, truncated XML, garbage, arXiv's error feed, an API
answer) raises :class:`FeedFormatError`: a failed fetch, never an empty day. A feed with no items is a
valid empty :class:`Listing` (weekends, holidays). A malformed item is logged and skipped.

The Atom flavour of the same feed (``rss.arxiv.org/atom/…``) is read too, so ``arxiv.rss_url`` may
point at either.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from lxml import etree

from arxivbot.arxiv.client import body_preview, printable, raise_arxiv_reason
from arxivbot.arxiv.feed_items import DateCache, MalformedItem, announcement_from_item
from arxivbot.errors import ArxivErrorFeed, FeedFormatError, FetchError
from arxivbot.models import Announcement, Listing

if TYPE_CHECKING:
    from arxivbot.arxiv.client import PoliteClient
    from arxivbot.models import HttpValidators

log = logging.getLogger(__name__)

_ATOM = "{http://www.w3.org/2005/Atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


@dataclass(frozen=True, slots=True)
class FetchedFeed:
    """The daily feed as it came back: its body, or nothing when the server said 304 Not Modified."""

    url: str
    body: bytes | None  # None when the server answered 304 Not Modified
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.body is None


# --- where the feed is -----------------------------------------------------------------------------


def daily_feed_url(rss_url: str, categories: Sequence[str]) -> str:
    """Where today's listing for ``categories`` lives: one URL for all of them.

    The categories are appended to ``rss_url``, joined by ``+``, the same way for arXiv and for a
    local source: ``https://rss.arxiv.org/rss`` + ``["cs.AI", "cs.LG"]`` →
    ``https://rss.arxiv.org/rss/cs.AI+cs.LG``. For a ``file://`` source the transport
    (:mod:`arxivbot.arxiv.files`) answers such a URL from a saved feed file, or from a folder's
    ``cs.AI+cs.LG`` or ``cs.AI+cs.LG.xml``. A category listed twice is requested once.
    """
    joined = "+".join(dict.fromkeys(categories))
    return f"{rss_url.rstrip('/')}/{joined}"


# --- fetching --------------------------------------------------------------------------------------


def fetch_daily_feed(client: PoliteClient, url: str, validators: HttpValidators | None = None) -> FetchedFeed:
    """GET the daily feed, conditionally when ``validators`` are known.

    Sends ``If-None-Match`` / ``If-Modified-Since`` from the validators remembered in the database; a
    304 answer gives a :class:`FetchedFeed` whose ``not_modified`` is true. The body is not checked
    here: :func:`parse_daily_feed` decides whether it is a feed, so callers should remember the new
    validators only after it parsed. Raises :class:`FetchError` when the feed can't be read.
    """
    headers: dict[str, str] = {}
    if validators is not None:
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
    try:
        response = client.get(url, headers=headers, cap=client.limits.feed)
    except FetchError as err:
        if err.status in (400, 404):  # arXiv answers 400 with an error feed for an unknown category
            raise_arxiv_reason(err, lambda body: parse_daily_feed(body, source_url=url))
            raise FetchError(
                f"{url}: HTTP {err.status}: no such feed; check arxiv.rss_url and the "
                f"categories ({url.rsplit('/', 1)[-1]})",
                url=url,
                status=err.status,
                attempts=err.attempts,
            ) from None
        raise
    etag = response.headers.get("ETag")
    last_modified = response.headers.get("Last-Modified")
    if response.status_code == 304:
        # A 304 may omit the validators; the ones we sent are still the current ones.
        return FetchedFeed(
            url,
            None,
            etag or (validators.etag if validators else None),
            last_modified or (validators.last_modified if validators else None),
        )
    return FetchedFeed(url, response.content, etag, last_modified)


# --- parsing ---------------------------------------------------------------------------------------


def parse_daily_feed(body: bytes, *, source_url: str = "") -> Listing:
    """Turn a daily RSS (or Atom) feed into a :class:`Listing`; :class:`FeedFormatError` if it isn't one."""
    source = source_url or "the daily feed"
    root = _parse_xml(body, source)
    if root.tag == "rss":
        return _parse_rss(root, source)
    if root.tag == f"{_ATOM}feed":
        return _parse_atom(root, source)
    raise _format_error(source, f"not an RSS feed ({_describe_root(root)})")


def _parse_xml(body: bytes, source: str) -> etree._Element:
    text = body.lstrip()  # a stray newline before "<?xml" (a hand-saved file) is harmless
    if not text:
        raise _format_error(source, "empty response, not an RSS feed")
    if text[:15].lower().startswith((b"<!doctype html", b"<html")):
        raise _format_error(source, "not an RSS feed (got an HTML page)")
    if not text.startswith((b"<", b"\xef\xbb\xbf<")):
        raise _format_error(source, f"not an RSS feed (not XML; it starts with {body_preview(text)})")
    # No entity expansion, no network, no DTD: the body is untrusted.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
        # huge_tree stays off: documents of any size parse, and libxml2 keeps its limits on text
        # nodes (10 MB) and depth, which no real feed comes near.
    )
    try:
        root = etree.fromstring(text, parser)
    except etree.XMLSyntaxError as err:
        if b"<html" in text[:1024].lower():  # HTML after a comment or a BOM, which XML rejects
            raise _format_error(source, "not an RSS feed (got an HTML page)") from None
        last = err.error_log.last_error  # libxml2's own words, without lxml's position suffix
        message = printable(" ".join(str(last.message if last else err.msg).split()))
        line, column = (last.line, last.column) if last else (err.lineno, err.offset)
        raise _format_error(source, f"truncated or malformed XML at line {line}, column {column} ({message})") from None
    if root is None:
        raise _format_error(source, "not an RSS feed (no XML element)")
    return root


def _describe_root(root: etree._Element) -> str:
    local = etree.QName(root).localname
    if local.lower() == "html":
        return "got an HTML page"
    if local == "RDF":
        return "got an RSS 1.0/RDF document, arXiv's format before 2024"
    return f"the document is <{local}>"


def _format_error(
    source: str,
    what: str,
    fix: str = "check arxiv.rss_url, or try again later",
    kind: type[FeedFormatError] = FeedFormatError,
) -> FeedFormatError:
    return kind(f"{source}: {what}" + (f"; {fix}" if fix else ""), url=source)


def _parse_rss(root: etree._Element, source: str) -> Listing:
    channel = root.find("channel")
    if channel is None:
        raise _format_error(source, "not an RSS feed (no <channel>)")
    title = channel.findtext("title") or ""
    if title.startswith("Feed error"):
        reason = " ".join((channel.findtext("description") or "no reason given").split())
        raise _format_error(
            source, f"arXiv answered with an error feed: {reason}", "check the categories", ArxivErrorFeed
        )
    dates = DateCache()
    announced = dates.day(channel.findtext("pubDate"))
    if announced is None:  # pubDate missing: the build time, a few hours after midnight Eastern
        announced = dates.day(channel.findtext("lastBuildDate"))
    return _listing(channel.iterchildren("item"), announced, dates, source)


def _parse_atom(root: etree._Element, source: str) -> Listing:
    if root.find(f"{_OPENSEARCH}totalResults") is not None:
        for entry in root.iterchildren(f"{_ATOM}entry"):
            if "/api/errors" in (entry.findtext(f"{_ATOM}id") or ""):
                reason = " ".join((entry.findtext(f"{_ATOM}summary") or "no reason given").split())
                raise _format_error(
                    source, f"arXiv answered with an error: {reason}", "check the categories", ArxivErrorFeed
                )
        raise _format_error(
            source, "an arXiv API answer, not a daily feed", "arxiv.rss_url should be https://rss.arxiv.org/rss"
        )
    dates = DateCache()
    entries = list(root.iterchildren(f"{_ATOM}entry"))
    # Atom has no channel pubDate: the first entry's <published> is the announcement; else the build time.
    announced = dates.day(entries[0].findtext(f"{_ATOM}published")) if entries else None
    if announced is None:
        announced = dates.day(root.findtext(f"{_ATOM}updated"))
    return _listing(entries, announced, dates, source)


def _listing(items: Iterable[etree._Element], announced: date | None, dates: DateCache, source: str) -> Listing:
    announcements: list[Announcement] = []
    problems: list[str] = []
    for number, item in enumerate(items, start=1):
        try:
            announcements.append(announcement_from_item(item, announced, dates))
        except MalformedItem as err:
            problems.append(str(err))
            log.warning("%s: skipped malformed item %d: %s", source, number, err)
    if problems and not announcements:
        # Items are there but none is readable: a changed format, not a quiet day.
        raise _format_error(
            source,
            f"none of its {len(problems)} items could be read ({problems[0]})",
            "has arXiv changed the feed format? check arxiv.rss_url, or look for a newer arxivbot",
        )
    return Listing(tuple(announcements), announced, len(problems))
