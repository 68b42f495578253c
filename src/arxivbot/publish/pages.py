"""The HTML pages: one per digest day, the front page (the latest day and the archive), and a 404 page.

Every piece of text from arXiv or the LLM reaches a page through Jinja's autoescaping, or through
:func:`highlight`, which escapes the text around each ``<mark>`` it adds; summaries are rendered by
markdown-it with raw HTML disabled and only then marked safe. Pages carry no inline script or style:
``static/arxivbot.js`` and ``static/arxivbot.css`` (``assets.py``) add search, filters and feedback,
and without JavaScript a page still shows all of its day's papers.

Anchors: each paper's ``id`` is its arXiv id without version (``#2512.20276``); an old-style id's
``/`` becomes ``_`` (``#hep-th_9901001``), a character no arXiv id contains, so anchors never collide
(:func:`paper_anchor`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from arxivbot import PROJECT_URL, __version__
from arxivbot.config import Config
from arxivbot.models import Digest, DigestEntry
from arxivbot.publish import assets
from arxivbot.publish.escape import markdown_to_html, one_line
from arxivbot.publish.feeds import abstract_url, pdf_url

FEEDBACK_ENDPOINT = "api/feedback"  # relative to the site's root; only ``arxivbot serve`` answers it

_environment = Environment(
    loader=PackageLoader("arxivbot.publish", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]")
_KEY_META = re.compile(rb'<meta name="arxivbot-key" content="([0-9a-f]{16,64})">')


@dataclass(frozen=True, slots=True)
class PageSettings:
    """What the pages take from the configuration (part of every page's key: a change re-renders)."""

    title: str
    categories: tuple[str, ...]
    max_days: int
    matching_mode: str
    site_path: str  # where the site lives on its host ("/", "/arxiv/"): the 404 page's links start there
    feedback: bool = False  # like/dislike buttons: only in pages served by ``arxivbot serve`` with a token

    @classmethod
    def of(cls, config: Config, *, served: bool = False) -> PageSettings:
        # ``arxivbot serve`` serves the site at its root; a static host at the path of ``feeds.base_url``
        # (a GitHub Pages project site lives at /<repository>/).
        path = "/"
        if config.feeds.base_url and not served:
            path = urlsplit(config.feeds.base_url).path.rstrip("/") + "/"
        return cls(
            title=config.feeds.title,
            categories=tuple(config.categories),
            max_days=config.feeds.max_days,
            matching_mode=config.matching.mode,
            site_path=path,
            feedback=served and bool(config.server.update_token_env),
        )


@dataclass(frozen=True, slots=True)
class ArchiveDay:
    day: date
    papers: int


@dataclass(frozen=True, slots=True)
class ArchiveMonth:
    label: str  # "December 2025"
    days: tuple[ArchiveDay, ...]  # newest first


def archive_months(days: Sequence[ArchiveDay]) -> list[ArchiveMonth]:
    """``days`` (newest first) grouped by month, newest month first."""
    months: dict[tuple[int, int], list[ArchiveDay]] = {}
    for item in days:
        months.setdefault((item.day.year, item.day.month), []).append(item)
    return [ArchiveMonth(entries[0].day.strftime("%B %Y"), tuple(entries)) for entries in months.values()]


def paper_anchor(arxiv_id: str) -> str:
    """The paper's fragment id: its arXiv id, with ``/`` (old-style ids) and anything unexpected as ``_``."""
    return _ANCHOR_UNSAFE.sub("_", arxiv_id)


def day_path(day: date) -> str:
    """The day page's folder in the site: ``2025-12-23/`` (its file is ``2025-12-23/index.html``)."""
    return f"{day.isoformat()}/"


def page_key_of(body: bytes | None) -> str | None:
    """The key a published page was rendered from (``<meta name="arxivbot-key">``), if any."""
    match = _KEY_META.search(body, 0, 4096) if body else None
    return match.group(1).decode() if match else None


# --- rendering -------------------------------------------------------------------------------------------


def render_day_page(
    digest: Digest | None,
    settings: PageSettings,
    *,
    key: str,
    previous: date | None = None,
    following: date | None = None,
    archive: Sequence[ArchiveMonth] | None = None,
) -> bytes:
    """A day's page. With ``archive`` it is the front page (``index.html``, at the site's root),
    otherwise the day's own page (``YYYY-MM-DD/index.html``, one folder down)."""
    root = "" if archive is not None else "../"
    template = _environment.get_template("day.html.j2")
    html = template.render(
        settings=settings,
        key=key,
        root=root,
        digest=digest,
        day=digest.day.isoformat() if digest else "",
        generated=_utc_text(digest.generated_at) if digest else "",
        papers=[_paper_view(entry, digest, settings, root) for entry in digest.entries] if digest else [],
        filter_categories=_filter_categories(digest, settings),
        filter_keywords=_filter_keywords(digest),
        previous=previous,
        following=following,
        archive=archive,
        **_common(settings),
    )
    return html.encode("utf-8")


def render_not_found_page(settings: PageSettings) -> bytes:
    """``404.html``: a day without a digest (and, on GitHub Pages, any unknown address).

    Its links start at ``settings.site_path``, as it may be shown at any depth of the site.
    """
    html = _environment.get_template("not_found.html.j2").render(
        settings=settings, root=settings.site_path, **_common(settings)
    )
    return html.encode("utf-8")


def _common(settings: PageSettings) -> dict[str, object]:
    return {
        "title": settings.title,
        "version": __version__,
        "project_url": PROJECT_URL,
        "assets_version": assets.fingerprint(),
        "feedback_endpoint": FEEDBACK_ENDPOINT if settings.feedback else "",
    }


@dataclass(frozen=True, slots=True)
class _PaperView:
    """What the template shows of one entry: escaped or highlighted text, and vetted URLs."""

    rank: int
    arxiv_id: str
    anchor: str
    permalink: str  # relative to the page
    title: Markup
    link: str
    pdf: str
    authors: tuple[str, ...]
    score: str
    category: str
    announce_type: str
    versioned_id: str
    reason: str
    keywords: str  # JSON list, for the filters
    abstract: Markup
    summary_model: str | None
    summary_html: Markup | None


def _paper_view(entry: DigestEntry, digest: Digest, settings: PageSettings, root: str) -> _PaperView:
    scored = entry.scored
    paper = scored.paper
    summary = entry.summary
    terms = scored.matched_keywords
    anchor = paper_anchor(paper.arxiv_id)
    return _PaperView(
        rank=entry.rank,
        arxiv_id=paper.arxiv_id,
        anchor=anchor,
        permalink=f"{root}{day_path(digest.day)}#{anchor}",
        title=highlight(one_line(paper.title), terms, settings.matching_mode),
        link=abstract_url(paper),
        pdf=pdf_url(paper),
        authors=tuple(one_line(a) for a in paper.authors),
        score=f"{scored.score:.1f}",
        category=scored.category,
        announce_type=scored.announcement.announce_type,
        versioned_id=paper.versioned_id,
        reason=one_line(scored.reason),
        keywords=json.dumps(list(terms), ensure_ascii=False),
        abstract=highlight(one_line(paper.abstract), terms, settings.matching_mode),
        summary_model=summary.model if summary else None,
        summary_html=markdown_to_html(summary.text) if summary else None,  # Markup, safe by construction
    )


def _filter_categories(digest: Digest | None, settings: PageSettings) -> list[str]:
    shown = {entry.scored.category for entry in digest.entries} if digest else set()
    return sorted(set(settings.categories) | set(digest.categories if digest else ()) | shown)


def _filter_keywords(digest: Digest | None) -> list[str]:
    if digest is None:
        return []
    found = {term for entry in digest.entries for term in entry.scored.matched_keywords}
    return list(dict.fromkeys([*digest.keywords, *sorted(found)]))


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# --- keyword highlighting --------------------------------------------------------------------------------


_MARK, _END_MARK = Markup("<mark>"), Markup("</mark>")


def highlight(text: str, terms: Sequence[str], mode: str = "word") -> Markup:
    """``text`` escaped, with each occurrence of ``terms`` wrapped in ``<mark>``.

    ``word`` mode marks whole words and their simple inflections (``LLM``, ``LLMs``, ``pipelined``),
    ``substring`` mode any occurrence, as the keyword matching (``docs/matching.md``) counts them.
    """
    words = tuple(terms)
    # Speed: ASCII text and terms are searched lowercased, without IGNORECASE (five times faster in
    # re, the same matches: ASCII letters have one lowercase each); other text as it is.
    lowered = text.isascii() and all(map(str.isascii, words))
    pattern = _term_pattern(words, mode, lowered)
    if pattern is None:
        return escape(text)
    search = pattern.search
    haystack = text.lower() if lowered else text
    whole_words = mode != "substring"
    parts: list[Markup] = []
    position = at = 0
    while (match := search(haystack, at)) is not None:
        start, end = match.span()
        # A whole word starts after a non-word character; the pattern cannot say so up front (a
        # look-behind there would hide the literal prefix that lets re skip ahead), so it is checked here.
        if whole_words and start and (haystack[start - 1].isalnum() or haystack[start - 1] == "_"):
            at = start + 1
            continue
        parts += (escape(text[position:start]), _MARK, escape(text[start:end]), _END_MARK)
        position = at = end
    parts.append(escape(text[position:]))
    return Markup("").join(parts)  # every part is escaped text or one of the two tags


@lru_cache(maxsize=256)
def _term_pattern(terms: tuple[str, ...], mode: str, lowered: bool = False) -> re.Pattern[str] | None:
    words = sorted({(t.lower() if lowered else t).strip() for t in terms if t.strip()}, key=len, reverse=True)
    if not words:
        return None
    # A phrase's words may be separated by spaces or hyphens, as the matcher allows.
    alternatives = "|".join(r"[\s\-]+".join(map(re.escape, word.split())) for word in words)
    flags = 0 if lowered else re.IGNORECASE
    if mode == "substring":
        return re.compile(f"(?:{alternatives})", flags)
    return re.compile(rf"(?:{alternatives})(?:s|es|ed|d|ing)?(?!\w)", flags)
