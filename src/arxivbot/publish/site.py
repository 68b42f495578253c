"""The published site: feeds, the digest as a web page, and the digest as JSON.

``render_site`` turns the database into ``{relative path: bytes}`` and touches nothing else: the web
service holds that in memory, and ``outputs.publish_outputs`` writes it (with the README) after a run.

The page and the JSON show the latest digest; the feeds (``feeds.py``) keep history. Every piece of
text from arXiv or the LLM reaches the page through Jinja's autoescaping, except the summaries, which
are rendered by markdown-it with raw HTML disabled and only then marked safe.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from arxivbot import PROJECT_URL, __version__
from arxivbot.config import Config
from arxivbot.models import Digest, DigestEntry
from arxivbot.publish.escape import markdown_to_html, one_line
from arxivbot.publish.feeds import abstract_url, feed_path, pdf_url, render_feeds
from arxivbot.store import Store

log = logging.getLogger(__name__)

PAGE = "index.html"
PAPERS_JSON = "papers.json"
# Bump when a field of papers.json changes meaning or disappears (adding a field does not bump it).
SCHEMA_VERSION = 1

_environment = Environment(
    loader=PackageLoader("arxivbot.publish", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]")


def latest_digest(store: Store) -> Digest | None:
    days = store.digest_days()
    return store.load_digest(days[0]) if days else None


def render_site(store: Store, config: Config, now: datetime | None = None) -> dict[str, bytes]:
    """Every site file as ``{path relative to output.site_dir: bytes}``, read from the database."""
    moment = now or datetime.now(timezone.utc)
    digest = latest_digest(store)
    files = {
        PAGE: render_page(digest, config),
        PAPERS_JSON: render_papers_json(digest, config),
    }
    files.update(render_feeds(store, config, moment, digest))
    return files


# --- the page ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PaperView:
    """What the template shows of one entry: text (autoescaped by Jinja) and vetted URLs."""

    rank: int
    anchor: str
    title: str
    link: str
    pdf: str
    authors: tuple[str, ...]
    score: str
    category: str
    announce_type: str
    versioned_id: str
    reason: str
    abstract: str
    summary_model: str | None
    summary_html: Markup | None


def render_page(digest: Digest | None, config: Config) -> bytes:
    """``index.html``: the digest as a page that works without JavaScript."""
    template = _environment.get_template("index.html.j2")
    html = template.render(
        title=config.feeds.title,
        digest=digest,
        generated=_utc_text(digest.generated_at) if digest else "",
        papers=[_paper_view(entry) for entry in digest.entries] if digest else [],
        categories=config.categories,
        max_days=config.feeds.max_days,
        version=__version__,
        project_url=PROJECT_URL,
    )
    return html.encode("utf-8")


def _paper_view(entry: DigestEntry) -> _PaperView:
    scored = entry.scored
    paper = scored.paper
    summary = entry.summary
    return _PaperView(
        rank=entry.rank,
        anchor="arxiv-" + _ANCHOR_UNSAFE.sub("-", paper.arxiv_id),
        title=one_line(paper.title),
        link=abstract_url(paper),
        pdf=pdf_url(paper),
        authors=tuple(one_line(a) for a in paper.authors),
        score=f"{scored.score:.1f}",
        category=scored.category,
        announce_type=scored.announcement.announce_type,
        versioned_id=paper.versioned_id,
        reason=one_line(scored.reason),
        abstract=one_line(paper.abstract),
        summary_model=summary.model if summary else None,
        summary_html=markdown_to_html(summary.text) if summary else None,  # Markup, safe by construction
    )


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# --- papers.json (schema: docs/papers-json.md) ----------------------------------------------------------


def render_papers_json(digest: Digest | None, config: Config) -> bytes:
    text = json.dumps(papers_document(digest, config), ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


def papers_document(digest: Digest | None, config: Config) -> dict[str, Any]:
    """The latest digest as JSON-ready data, shaped as documented in ``docs/papers-json.md``."""
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": f"arxivbot {__version__}",
        "title": config.feeds.title,
        "day": digest.day.isoformat() if digest else None,
        "generated_at": _iso(digest.generated_at) if digest else None,
        "categories": list(digest.categories) if digest else list(config.categories),
        "keywords": list(digest.keywords) if digest else list(config.keywords),
        "paper_count": len(digest.entries) if digest else 0,
        "feeds": _feed_links(config),
        "papers": [_paper_document(entry) for entry in digest.entries] if digest else [],
    }


def _feed_links(config: Config) -> dict[str, Any]:
    return {
        "rss": feed_path("rss"),
        "atom": feed_path("atom"),
        "categories": {
            category: {"rss": feed_path("rss", category), "atom": feed_path("atom", category)}
            for category in config.categories
        },
    }


def _paper_document(entry: DigestEntry) -> dict[str, Any]:
    scored = entry.scored
    paper = scored.paper
    summary = entry.summary
    return {
        "rank": entry.rank,
        "arxiv_id": paper.arxiv_id,
        "version": paper.version,
        "versioned_id": paper.versioned_id,
        "title": one_line(paper.title),
        "authors": list(paper.authors),
        "abstract": paper.abstract,
        "score": scored.score,
        "category": scored.category,
        "categories": list(paper.categories),
        "primary_category": paper.primary_category,
        "announce_type": scored.announcement.announce_type,
        "announced": scored.announcement.announced.isoformat(),
        "reason": one_line(scored.reason),
        "scores": scored.scores,
        "matched_keywords": list(scored.matched_keywords),
        "title_keywords": list(scored.title_keywords),
        "link": abstract_url(paper),
        "pdf": pdf_url(paper),
        "published": _iso(paper.published),
        "updated": _iso(paper.updated),
        "comment": paper.comment,
        "journal_ref": paper.journal_ref,
        "doi": paper.doi,
        "summary": None
        if summary is None
        else {
            "model": summary.model,
            "input_mode": summary.input_mode,
            "created_at": _iso(summary.created_at),
            "markdown": summary.text,
            "html": markdown_to_html(summary.text),
        },
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds") if moment else None
