"""RSS 2.0 and Atom 1.0 feeds of the digests, with history, the AI summaries inside, one per category.

Feeds are read back from the database (``Store.feed_items``), so they keep history: the papers of the
last ``feeds.max_days`` days up to the newest digest, at most ``feeds.max_items``, newest day first and
by rank within a day.
A paper listed on several days appears once, on the newest.

Identity: each item's RSS ``guid`` is the arXiv id *without* version (``isPermaLink="false"``) and
its Atom ``id`` is the unversioned abstract URL. A replaced paper (v2) thus stays the same item in a
feed reader instead of showing up as a new, duplicate one, and the id never depends on our own
``base_url`` (which a user may change). Atom requires an IRI, hence the URL form there.

Escaping: feedgen builds the XML with lxml, which always escapes text. Titles go in as plain text (after
XML decoding they are exactly arXiv's text: ``<script>`` stays literal). The item content is HTML
that we build from escaped parts (the abstract via ``escape_html``, the summary via markdown-it with
raw HTML disabled), carried as escaped text (``type="html"`` in Atom, ``<description>`` in RSS), so no
markup from arXiv or the LLM can become live. Characters XML 1.0 forbids (control characters, which
do occur in arXiv abstracts) are dropped, since lxml would refuse them.

The rendered bytes depend only on the database and the config: the history window ends at the newest
digest's day and the feed's own date is that digest's generation time, never the clock, so
re-rendering unchanged data yields identical bytes (stable ETags, no spurious rewrites).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from arxivbot import PROJECT_URL, __version__
from arxivbot.config import Config
from arxivbot.models import Digest, FeedItem, Paper
from arxivbot.publish.escape import arxiv_abs_url, escape_html, markdown_to_html, one_line
from arxivbot.store import Store

log = logging.getLogger(__name__)

FEED_FORMATS = ("rss", "atom")
CONTENT_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml"}
# arXiv's own namespace for announce_type (as in its daily RSS) and ours for the relevance score.
ARXIV_NS = "http://arxiv.org/schemas/atom"
ARXIVBOT_NS = f"{PROJECT_URL}/ns/feed/1.0"

# Everything XML 1.0 allows; anything else (NUL, form feeds, lone surrogates) is dropped.
_XML_FORBIDDEN = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Drop the characters XML 1.0 cannot carry, escaped or not."""
    return _XML_FORBIDDEN.sub("", text)


def feed_path(fmt: str, category: str | None = None) -> str:
    """The file a feed is published as, relative to the site folder: ``rss.xml``, ``atom/cs.AI.xml``."""
    return f"{fmt}.xml" if category is None else f"{fmt}/{category}.xml"


def feed_window_start(config: Config, newest_day: date) -> date:
    """First day whose papers are still in the feeds: ``feeds.max_days`` days up to ``newest_day``."""
    return newest_day - timedelta(days=config.feeds.max_days - 1)


def render_feeds(
    store: Store,
    config: Config,
    now: datetime,
    newest: Digest | None,
    *,
    revisions: Mapping[date, str] | None = None,
) -> dict[str, bytes]:
    """Every feed, as ``{relative path: bytes}``: all papers and one per configured category.

    The history window ends at ``newest`` (the newest digest, which the caller has already loaded),
    not at the clock: a bot that paused for a while (or an offline demo of an old day) still
    publishes its last papers instead of an empty feed. ``now`` only matters while there is no digest.

    Each item is rendered once for all the feeds it is in (its HTML body once for both formats), and
    only when it is not in the fragment cache beside the database (:mod:`~arxivbot.publish.fragments`):
    a day's run renders its new papers and splices the rest in, byte for byte as a full rendering.
    An item's cache key is its digest's revision (``revisions``: day → revision, as in
    ``Store.digest_heads``, read here when not given), not a hash of all its text.
    """
    from arxivbot.publish.fragments import FragmentCache, fragment_cache_path

    newest_day = newest.day if newest else now.astimezone(timezone.utc).date()
    since = feed_window_start(config, newest_day)
    updated = newest.generated_at if newest else now
    scopes = store.feed_items_by_scope(since, config.feeds.max_items, (None, *config.categories))
    cache = FragmentCache.load(fragment_cache_path(config.storage.database))
    if revisions is None:
        revisions = {head.day: head.revision for head in store.digest_heads()}
    revision = revisions.get
    keys = {category: [cache.key_of(item, revision(item.day)) for item in items] for category, items in scopes.items()}
    missing = {
        key: item
        for category, items in scopes.items()
        for key, item in zip(keys[category], items, strict=True)
        if key not in cache
    }
    if missing:
        fragments = _render_fragments(list(missing.items()), config, updated)
        if fragments is None:  # feedgen's layout is not what we splice into: render every feed whole
            return {
                feed_path(fmt, category): render_feed(items, config, fmt=fmt, category=category, updated=updated)
                for category, items in scopes.items()
                for fmt in FEED_FORMATS
            }
        cache.add(fragments)
    feeds: dict[str, bytes] = {}
    for category in scopes:
        for fmt in FEED_FORMATS:
            head, tail = _envelope(config, fmt=fmt, category=category, updated=updated)
            body = b"".join(cache.fragment(key, fmt) for key in keys[category])
            feeds[feed_path(fmt, category)] = head + body + tail
    cache.save(used=[key for category_keys in keys.values() for key in category_keys])
    log.debug("rendered %d feeds of papers since %s (%d new items)", len(feeds), since, len(missing))
    return feeds


def render_feed(
    items: Sequence[FeedItem], config: Config, *, fmt: str, category: str | None, updated: datetime
) -> bytes:
    """One feed in ``fmt`` ("rss" or "atom") from already selected items, in their order."""
    if fmt not in FEED_FORMATS:
        raise ValueError(f"unknown feed format {fmt!r}")
    generator = _feed_generator(config, fmt=fmt, category=category, updated=updated)
    for item in items:
        _add_item(generator, item, fmt, item_content_html(item))
    return _serialize(generator, fmt)


def _serialize(generator: FeedGenerator, fmt: str) -> bytes:
    if fmt == "rss":
        return bytes(generator.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True))
    return bytes(generator.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True))


# Where items go in a pretty-printed feed: before the line that closes the channel (RSS) or the feed.
_CLOSING = {"rss": b"</channel>", "atom": b"</feed>"}
_ITEM_END = {"rss": b"</item>\n", "atom": b"</entry>\n"}


def _envelope(config: Config, *, fmt: str, category: str | None, updated: datetime) -> tuple[bytes, bytes]:
    """A feed without items, cut where its items go: (everything before, everything after)."""
    empty = _serialize(_feed_generator(config, fmt=fmt, category=category, updated=updated), fmt)
    cut = empty.rfind(b"\n", 0, empty.rindex(_CLOSING[fmt])) + 1
    return empty[:cut], empty[cut:]


def _render_fragments(
    items: list[tuple[str, FeedItem]], config: Config, updated: datetime
) -> dict[str, dict[str, bytes]] | None:
    """Render items the cache lacks, in one feed per format, and cut that feed into one fragment per item.

    An item's text can never hold its closing tag (``<`` is always escaped), so the cut is exact.
    """
    contents = [item_content_html(item) for _, item in items]  # one HTML body per item, for both formats
    fragments: dict[str, dict[str, bytes]] = {key: {} for key, _ in items}
    for fmt in FEED_FORMATS:
        generator = _feed_generator(config, fmt=fmt, category=None, updated=updated)
        for (_, item), content in zip(items, contents, strict=True):
            _add_item(generator, item, fmt, content)
        head, tail = _envelope(config, fmt=fmt, category=None, updated=updated)
        whole = _serialize(generator, fmt)
        if not (whole.startswith(head) and whole.endswith(tail)):
            log.warning("feedgen's %s layout is not the expected one: feeds rendered whole", fmt)
            return None
        pieces = whole[len(head) : len(whole) - len(tail)].split(_ITEM_END[fmt])
        if len(pieces) != len(items) + 1 or pieces[-1]:
            log.warning("feedgen's %s items could not be told apart: feeds rendered whole", fmt)
            return None
        for (key, _), piece in zip(items, pieces, strict=False):
            fragments[key][fmt] = piece + _ITEM_END[fmt]
    return fragments


def item_content_html(item: FeedItem) -> str:
    """An item's body as HTML: facts, abstract and (when there is one) the AI summary."""
    scored = item.scored
    paper = scored.paper
    facts = [
        ("Score", f"{scored.score:.1f}"),
        ("Type", scored.announcement.announce_type),
        ("Category", scored.category),
        ("Categories", ", ".join(paper.categories)),
        ("arXiv", paper.versioned_id),
        ("Announced", scored.announcement.announced.isoformat()),
    ]
    parts = [f"<p><strong>Authors:</strong> {escape_html(', '.join(one_line(a) for a in paper.authors))}</p>"]
    parts.append("<p>" + " · ".join(f"<strong>{name}:</strong> {escape_html(value)}" for name, value in facts) + "</p>")
    if scored.reason:
        parts.append(f"<p><strong>Why:</strong> {escape_html(one_line(scored.reason))}</p>")
    parts.append(f"<h3>Abstract</h3>\n<p>{escape_html(one_line(paper.abstract))}</p>")
    if item.summary is not None:
        parts.append(f"<h3>AI summary (by {escape_html(item.summary.model)})</h3>")
        parts.append(markdown_to_html(item.summary.text))
    link = escape_html(abstract_url(paper))
    pdf = escape_html(pdf_url(paper))
    parts.append(f'<p><a href="{link}">Abstract page</a> · <a href="{pdf}">PDF</a></p>')
    return xml_text("\n".join(parts))


def abstract_url(paper: Paper) -> str:
    """The paper's abstract page; arXiv's canonical URL unless the stored link is a plain http(s) one."""
    if paper.link.startswith(("https://", "http://")) and not any(c in paper.link for c in " \"'<>"):
        return paper.link
    return arxiv_abs_url(paper.arxiv_id)


def pdf_url(paper: Paper) -> str:
    return abstract_url(paper).replace("/abs/", "/pdf/", 1)


# --- feedgen plumbing --------------------------------------------------------------------------------


def _base_url(config: Config) -> str:
    return config.feeds.base_url.strip().rstrip("/")


def _feed_generator(config: Config, *, fmt: str, category: str | None, updated: datetime) -> FeedGenerator:
    base = _base_url(config)
    title = config.feeds.title + (f" — {category}" if category else "")
    scope = f"papers in {category}" if category else "all papers"
    generator = FeedGenerator()
    generator.load_extension("dc", atom=False, rss=True)  # RSS <author> needs an e-mail; dc:creator doesn't
    generator.register_extension("arxivbot", _FeedNamespaces, _EntryFacts, atom=True, rss=True)
    generator.title(xml_text(title))
    generator.description(xml_text(f"arXiv digest by arxivbot: {scope}, with AI summaries"))
    generator.subtitle(xml_text(f"arXiv digest by arxivbot: {scope}, with AI summaries"))
    generator.language("en")
    generator.generator("arxivbot", __version__, PROJECT_URL)
    generator.updated(updated)
    generator.lastBuildDate(updated)
    if base:
        self_url = f"{base}/{feed_path(fmt, category)}"
        generator.link(href=self_url, rel="self", type=CONTENT_TYPES[fmt])
        generator.id(self_url)
    else:
        # Without a public address there is no honest self link; the Atom id still has to be an IRI.
        generator.id(f"urn:arxivbot:feed:{category or 'all'}")
    # Added last: feedgen uses the last link as the RSS channel <link> (the page, not the feed).
    generator.link(href=f"{base}/" if base else "https://arxiv.org/", rel="alternate", type="text/html")
    return generator


def _add_item(generator: FeedGenerator, item: FeedItem, fmt: str, content: str) -> None:
    scored = item.scored
    paper = scored.paper
    moment = datetime.combine(item.day, time(0, 0), tzinfo=timezone.utc)
    entry = generator.add_entry(order="append")
    entry.title(xml_text(one_line(paper.title)))
    entry.link(href=abstract_url(paper), rel="alternate", type="text/html")
    # feedgen ties guid and id together; each format gets its own generator, so set the one it uses.
    if fmt == "rss":
        entry.guid(paper.arxiv_id, permalink=False)
    else:
        entry.id(arxiv_abs_url(paper.arxiv_id))  # Atom ids must be IRIs
    entry.published(moment)
    entry.updated(moment)
    entry.pubDate(moment)
    authors = [xml_text(one_line(name)) for name in paper.authors if name.strip()]
    for name in authors:
        entry.author({"name": name})
    if authors:
        entry.dc.dc_creator(", ".join(authors))
    for category in dict.fromkeys((scored.category, *paper.categories)):
        entry.category(term=xml_text(category), scheme="https://arxiv.org/archive/", label=category)
    entry.content(content, type="html")
    entry.arxivbot.facts(announce_type=scored.announcement.announce_type, score=scored.score)


class _FeedNamespaces(BaseExtension):  # type: ignore[misc]  # feedgen ships no types
    """Declares our namespaces once, on the feed's root element."""

    def extend_ns(self) -> dict[str, str]:
        return {"arxiv": ARXIV_NS, "arxivbot": ARXIVBOT_NS}


class _EntryFacts(BaseEntryExtension):  # type: ignore[misc]  # feedgen ships no types
    """``<arxiv:announce_type>`` (arXiv's own element) and ``<arxivbot:score>`` on every item."""

    def __init__(self) -> None:
        self._announce_type: str | None = None
        self._score: float | None = None

    def facts(self, *, announce_type: str, score: float) -> None:
        self._announce_type = announce_type
        self._score = score

    def extend_ns(self) -> dict[str, str]:
        return {"arxiv": ARXIV_NS, "arxivbot": ARXIVBOT_NS}

    def _extend(self, entry: etree._Element) -> etree._Element:
        if self._announce_type is not None:
            etree.SubElement(entry, f"{{{ARXIV_NS}}}announce_type").text = xml_text(self._announce_type)
        if self._score is not None:
            etree.SubElement(entry, f"{{{ARXIVBOT_NS}}}score").text = f"{self._score:.1f}"
        return entry

    def extend_rss(self, entry: etree._Element) -> etree._Element:
        return self._extend(entry)

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        return self._extend(entry)
