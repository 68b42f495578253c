"""The arXiv API (export.arxiv.org/api/query): query builder, paginator, and a streaming Atom parser.

The API is how arxivbot looks *back*: the RSS only ever shows the latest announcement, so missed days
are fetched here (see :mod:`arxivbot.backfill` and ``docs/backfill.md``).

Parsing is streaming (``lxml.etree.iterparse``): each ``<entry>`` becomes a :class:`~arxivbot.models.Paper`
as soon as it has been read and is then dropped, so memory does not grow with the size of a response or
the number of pages. Both serializations arXiv has used are understood (the current one, and the one
before late 2025 whose titles and abstracts are hard-wrapped at 80 columns).

Text normalisation, the same for both serializations and the same as the daily RSS reader
(:mod:`arxivbot.arxiv.rss`), so a paper seen both ways reads the same: in titles, abstracts, author
names, comments and journal references every whitespace run (the old serialization's hard wraps, the
current one's ``"\\n  "`` paragraph breaks, leading spaces) becomes one space.

Failures: an Atom *error* entry (``<id>https://arxiv.org/api/errors#…``, HTTP 400) or a body that is
not well-formed Atom raises :class:`~arxivbot.errors.FeedFormatError` with a one-line message; a single
entry without a usable id or title is logged and skipped, never fatal.

Pagination (:func:`fetch_window`): pages of ``max_results`` entries, ``sortBy=submittedDate`` ascending,
``start`` advanced by the number of entries actually received, stopping at ``totalResults``. Pacing,
429/503 retries and ``Retry-After`` are the :class:`~arxivbot.arxiv.client.PoliteClient`'s job; this
module adds what only an API client can see, under the same retry policy (:mod:`arxivbot.retry`): a
*valid but empty* page before ``totalResults`` is reached is asked again after a pause (at least the
pacing interval, doubling), up to the client's ``max_retries`` times, and then fails with a
:class:`~arxivbot.errors.FetchError` instead of silently losing the rest of the window. A first page
that reports zero results is asked once more before "no papers in this window" is believed, because
the API is known to answer a busy moment with an empty result. A page that starts elsewhere than
asked (a saved answer served for ``file://``, which ignores ``start``) fails rather than repeating
papers.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import BinaryIO, cast

from lxml import etree

from arxivbot.arxiv.client import PoliteClient, body_preview, printable, raise_arxiv_reason
from arxivbot.errors import ArxivErrorFeed, FeedFormatError, FetchError
from arxivbot.models import Paper, split_arxiv_id
from arxivbot.retry import RetriesExhausted, Retryable

log = logging.getLogger(__name__)

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"

_FEED = f"{_ATOM}feed"
_ENTRY = f"{_ATOM}entry"
_ID = f"{_ATOM}id"
_TITLE = f"{_ATOM}title"
_SUMMARY = f"{_ATOM}summary"
_UPDATED = f"{_ATOM}updated"
_PUBLISHED = f"{_ATOM}published"
_CATEGORY = f"{_ATOM}category"
_AUTHOR = f"{_ATOM}author"
_NAME = f"{_ATOM}name"
_LINK = f"{_ATOM}link"
_PRIMARY = f"{_ARXIV}primary_category"
_COMMENT = f"{_ARXIV}comment"
_JOURNAL_REF = f"{_ARXIV}journal_ref"
_DOI = f"{_ARXIV}doi"
_TOTAL = f"{_OPENSEARCH}totalResults"
_START = f"{_OPENSEARCH}startIndex"
_PER_PAGE = f"{_OPENSEARCH}itemsPerPage"

_HEADER_TAGS = (_TOTAL, _START, _PER_PAGE)
_ERROR_ID_PREFIX = ("https://arxiv.org/api/errors", "http://arxiv.org/api/errors")
_NOT_AN_ANSWER_FIX = "; check arxiv.api_url, or try again later"


@dataclass(frozen=True, slots=True)
class ApiPage:
    """One page of an API answer: the OpenSearch header and the papers on it."""

    total_results: int
    start_index: int
    items_per_page: int
    papers: tuple[Paper, ...]
    skipped: int = 0  # malformed entries that were logged and dropped


# --- the query ------------------------------------------------------------------------------------


def build_search_query(categories: Iterable[str], start: datetime, end: datetime) -> str:
    """``(cat:cs.AI OR cat:cs.LG) AND submittedDate:[202604271800 TO 202604281800]``.

    ``submittedDate`` is the first version's submission time, in GMT, to the minute; both ends are
    inclusive, so callers sort the boundary papers out by their exact ``published`` time. Naive
    datetimes are taken as UTC.
    """
    cats = list(dict.fromkeys(categories))
    if not cats:
        raise ValueError("at least one category is needed for an API query")
    if end < start:
        raise ValueError(f"query window ends ({end}) before it starts ({start})")
    either = " OR ".join(f"cat:{cat}" for cat in cats)
    return f"({either}) AND submittedDate:[{_minute(start)} TO {_minute(end)}]"


def _minute(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y%m%d%H%M")


# --- parsing --------------------------------------------------------------------------------------


def iter_api_entries(source: bytes | BinaryIO) -> Iterator[Paper]:
    """Stream the papers of one API response (bytes or a binary file), one entry in memory at a time."""
    for item in _stream(source, header=False):
        if isinstance(item, Paper):
            yield item


def parse_api_page(body: bytes) -> ApiPage:
    """Parse one API response into its header and papers; :class:`FeedFormatError` if it is not one."""
    start = body.lstrip()
    if start and not start.startswith((b"<", b"\xef\xbb\xbf<")):
        raise FeedFormatError(
            f"the arXiv API answer is not XML (it starts with {body_preview(start)})" + _NOT_AN_ANSWER_FIX
        )
    header: dict[str, int] = {}
    papers: list[Paper] = []
    skipped = 0
    for item in _stream(body, header=True):
        if isinstance(item, Paper):
            papers.append(item)
        elif item is None:
            skipped += 1
        else:
            header[item[0]] = item[1]
    if _TOTAL not in header:
        raise FeedFormatError(
            "the arXiv API answered without opensearch:totalResults: not an API response" + _NOT_AN_ANSWER_FIX
        )
    return ApiPage(
        total_results=header[_TOTAL],
        start_index=header.get(_START, 0),
        items_per_page=header.get(_PER_PAGE, len(papers)),
        papers=tuple(papers),
        skipped=skipped,
    )


def _stream(source: bytes | BinaryIO, *, header: bool) -> Iterator[Paper | tuple[str, int] | None]:
    """Yield papers, ``None`` for each skipped entry, and (when asked) ``(tag, value)`` header numbers."""
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    tags = (_ENTRY, *_HEADER_TAGS) if header else (_ENTRY,)
    context = etree.iterparse(
        stream, events=("end",), tag=tags, resolve_entities=False, no_network=True, huge_tree=False
    )
    try:
        for _event, elem in context:
            if elem.tag == _ENTRY:
                yield _entry_or_none(elem)
                # Drop the entry and everything before it: memory stays at one entry.
                elem.clear(keep_tail=False)
                parent = elem.getparent()
                if parent is not None:
                    while elem.getprevious() is not None:
                        del parent[0]
            else:
                yield elem.tag, _header_number(elem)
        root = context.root
    except etree.XMLSyntaxError as err:
        raise FeedFormatError(
            f"the arXiv API answer is not well-formed XML: {printable(_one_line(str(err)))}" + _NOT_AN_ANSWER_FIX
        ) from None
    if root is None or root.tag != _FEED:
        found = "nothing" if root is None else f"<{etree.QName(root).localname}>"
        raise FeedFormatError(f"the arXiv API answer is not an Atom feed (found {found})" + _NOT_AN_ANSWER_FIX)


def _header_number(elem: etree._Element) -> int:
    text = (elem.text or "").strip()
    try:
        return int(text)
    except ValueError:
        raise FeedFormatError(
            f"the arXiv API answer has a non-numeric {etree.QName(elem).localname}: {text[:40]!r}" + _NOT_AN_ANSWER_FIX
        ) from None


def _entry_or_none(entry: etree._Element) -> Paper | None:
    try:
        return _entry(entry)
    except ValueError as err:
        log.warning("skipping a malformed arXiv API entry: %s", err)
        return None


def _entry(entry: etree._Element) -> Paper:
    """One ``<entry>`` as a Paper; ``ValueError`` for a broken entry, FeedFormatError for an API error."""
    raw_id = title = abstract = ""
    published = updated = None
    primary = comment = journal_ref = doi = None
    categories: list[str] = []
    authors: list[str] = []
    for child in entry:  # one pass over the children, in whatever order arXiv put them
        tag = child.tag
        # The most frequent children first: a typical entry has several authors and categories.
        if tag == _AUTHOR:
            name = child.findtext(_NAME)
            if name and name.strip():
                authors.append(" ".join(name.split()))
        elif tag == _CATEGORY:
            term = child.get("term")
            if term and term not in categories:
                categories.append(term)
        elif tag == _LINK:
            continue  # the abs/pdf/doi links are all derivable from the id and the doi
        elif tag == _ID:
            raw_id = (child.text or "").strip()
        elif tag == _TITLE:
            title = child.text or ""
        elif tag == _SUMMARY:
            abstract = child.text or ""
        elif tag == _PUBLISHED:
            published = _timestamp(child.text)
        elif tag == _UPDATED:
            updated = _timestamp(child.text)
        elif tag == _PRIMARY:
            primary = child.get("term") or None
        elif tag == _COMMENT:
            comment = _one_line(child.text) or None
        elif tag == _JOURNAL_REF:
            journal_ref = _one_line(child.text) or None
        elif tag == _DOI:
            doi = _one_line(child.text) or None
    if raw_id.startswith(_ERROR_ID_PREFIX):
        raise ArxivErrorFeed(
            f"the arXiv API reported an error: {_one_line(abstract) or raw_id}; check the categories and arxiv.api_url"
        )
    if not raw_id:
        raise ValueError("entry without <id>")
    arxiv_id, version = split_arxiv_id(raw_id)
    title = _one_line(title)
    if not title:
        raise ValueError(f"{arxiv_id}: entry without a title")
    if primary is not None:
        # Our convention (models.Paper): the primary category comes first.
        categories = [primary, *(cat for cat in categories if cat != primary)]
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        authors=tuple(authors),
        abstract=_one_line(abstract),
        categories=tuple(categories),
        link=f"https://arxiv.org/abs/{arxiv_id}",
        primary_category=primary or (categories[0] if categories else None),
        published=published,
        updated=updated or published,
        comment=comment,
        journal_ref=journal_ref,
        doi=doi,
    )


def _one_line(text: str | None) -> str:
    return " ".join(text.split()) if text else ""


def _timestamp(text: str | None) -> datetime | None:
    if not text or not text.strip():
        return None
    value = text.strip()
    if value.endswith("Z"):  # Python 3.10's fromisoformat does not read "Z"
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"unreadable date {text.strip()!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# --- fetching -------------------------------------------------------------------------------------


def fetch_window(
    client: PoliteClient,
    api_url: str,
    categories: Iterable[str],
    start: datetime,
    end: datetime,
    page_size: int,
    *,
    on_page: Callable[[ApiPage], None] | None = None,
) -> Iterator[Paper]:
    """Every paper of ``categories`` submitted in ``[start, end]`` (to the minute), oldest first.

    Pages through the API politely; raises :class:`FetchError` when arXiv cannot be read or keeps
    answering empty pages, :class:`FeedFormatError` when it answers something that is not an API feed.
    ``on_page`` is called after each accepted page (for progress displays).
    """
    query = build_search_query(categories, start, end)
    offset = 0
    while True:
        page = _fetch_page(client, api_url, query, offset, page_size)
        if on_page is not None:
            on_page(page)
        yield from page.papers
        offset += len(page.papers) + page.skipped
        if offset >= page.total_results or not (page.papers or page.skipped):
            return


class _EmptyPage(Exception):
    """A valid page without entries: where entries are due, or a first "zero results" not yet confirmed."""

    def __init__(self, page: ApiPage, reason: str) -> None:
        super().__init__(reason)
        self.page = page
        self.reason = reason


def _fetch_page(client: PoliteClient, api_url: str, query: str, offset: int, page_size: int) -> ApiPage:
    """One page; a valid page with no entries where entries are due is asked again, then fails."""
    params = {
        "search_query": query,
        "start": offset,
        "max_results": page_size,
        "sortBy": "submittedDate",
        "sortOrder": "ascending",
    }
    asked = 0

    def ask() -> ApiPage:
        nonlocal asked
        asked += 1
        try:
            body = client.get(api_url, params=params, cap=client.limits.api).content
        except FetchError as err:
            if err.status == 400:  # arXiv explains a refused query in an error entry
                raise_arxiv_reason(err, parse_api_page)
            raise
        page = parse_api_page(body)
        if page.papers or page.skipped:
            _check_paging(api_url, page, offset)
            return page
        if offset < page.total_results:
            raise _EmptyPage(page, f"empty page at start={offset} of {page.total_results} results")
        if offset == 0 and asked == 1:  # the API is known to answer a busy moment with "zero results"
            raise _EmptyPage(page, "zero results, asking once more to be sure")
        return page

    # The pause before asking again is at least the pacing interval: 3 s, 6 s, 12 s, … for arXiv.
    policy = replace(client.retry, backoff_base=max(client.min_interval, client.retry.backoff_base))
    try:
        return policy.call(ask, what=api_url, judge=_judge_page)
    except RetriesExhausted as gave_up:
        empty = cast(_EmptyPage, gave_up.last)  # the only failure _judge_page retries
        if offset >= empty.page.total_results:  # "zero results" with no retries allowed: believed
            return empty.page
        raise FetchError(
            f"{api_url}: the arXiv API kept answering an empty page at start={offset} of "
            f"{empty.page.total_results} results ({gave_up.attempts} attempts); the window stays missing, "
            "try again later",
            url=api_url,
            attempts=gave_up.attempts,
        ) from None


def _judge_page(err: Exception) -> Retryable | None:
    return Retryable(err.reason) if isinstance(err, _EmptyPage) else None


def _check_paging(api_url: str, page: ApiPage, offset: int) -> None:
    """A page that starts elsewhere than asked answers another question (a saved file ignores ``start``).

    Paging on would repeat or skip papers, so this fails instead of silently mixing pages.
    """
    if page.start_index != offset:
        raise FetchError(
            f"{api_url}: asked for results from start={offset}, the answer starts at {page.start_index}; "
            "arxiv.api_url does not page like the arXiv API (a saved answer must be one complete answer)",
            url=api_url,
        )
