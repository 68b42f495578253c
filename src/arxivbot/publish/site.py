"""The published site: feeds, the archive of day pages, the search index, and the digest as JSON.

``update_site`` turns the database into the site's files and touches nothing else: the web service
holds them in memory (``served.py``), and ``outputs.publish_outputs`` writes them (with the README)
after a run. It is incremental: given the files already published, it renders only what changed
(``archive.py`` explains the keys), loading from the database only the digests it renders;
``render_site`` renders everything.

::

    index.html                the latest day and the archive (pages.py, archive.py)
    YYYY-MM-DD/index.html     one page per digest day
    404.html                  a day without a digest
    static/...                the page's stylesheet and script, and the vendored MiniSearch (assets.py)
    search/manifest.json      the search index: a manifest and one shard per month (search_index.py)
    search/YYYY-MM.json
    papers.json               the latest digest as JSON (docs/papers-json.md)
    rss.xml atom.xml rss/<category>.xml atom/<category>.xml      the feeds (feeds.py)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from arxivbot import __version__
from arxivbot.config import Config
from arxivbot.models import Digest, DigestEntry
from arxivbot.publish.archive import FRONT_PAGE, NOT_FOUND_PAGE, DigestLoader, render_archive, static_assets
from arxivbot.publish.escape import markdown_to_html, one_line
from arxivbot.publish.feeds import abstract_url, feed_path, pdf_url, render_feeds
from arxivbot.publish.pages import PageSettings
from arxivbot.publish.search_index import SEARCH_MANIFEST, render_search_index
from arxivbot.store import Store

log = logging.getLogger(__name__)

PAGE = FRONT_PAGE
PAPERS_JSON = "papers.json"
# Bump when a field of papers.json changes meaning or disappears (adding a field does not bump it).
SCHEMA_VERSION = 1

__all__ = [
    "NOT_FOUND_PAGE",
    "PAGE",
    "PAPERS_JSON",
    "SEARCH_MANIFEST",
    "SiteUpdate",
    "latest_digest",
    "render_site",
    "update_site",
]


@dataclass(frozen=True, slots=True)
class SiteUpdate:
    """What one update of the site produced.

    ``files`` holds the new or changed files (path relative to ``output.site_dir`` → bytes);
    ``paths`` lists every file the site consists of now, unchanged ones included.
    """

    files: dict[str, bytes]
    paths: frozenset[str]


def _nothing_published(path: str) -> bytes | None:
    return None


def latest_digest(store: Store) -> Digest | None:
    days = store.digest_days()
    return store.load_digest(days[0]) if days else None


def update_site(
    store: Store,
    config: Config,
    now: datetime | None = None,
    *,
    published: Callable[[str], bytes | None] = _nothing_published,
    published_head: Callable[[str], bytes | None] | None = None,
    served: bool = False,
) -> SiteUpdate:
    """The site's files read from the database, rendering only those that differ from ``published``.

    ``published(path)`` gives the bytes of a file as published now (None when absent), and
    ``published_head(path)`` (default: ``published``) at least its first ``HEAD_BYTES``, where the
    keys of pages and search shards are. Only the digests of the files rendered are loaded.
    ``served`` renders the pages for ``arxivbot serve``, which adds the like/dislike buttons.
    """
    moment = now or datetime.now(timezone.utc)
    head = published_head or published
    heads = store.digest_heads()
    load = DigestLoader(store)
    latest = load(heads[0].day) if heads else None
    settings = PageSettings.of(config, served=served)
    files: dict[str, bytes] = {PAPERS_JSON: render_papers_json(latest, config)}
    files.update(render_feeds(store, config, moment, latest, revisions={h.day: h.revision for h in heads}))
    paths = set(files)
    for part in (
        render_archive(heads, settings, load, published, head),
        render_search_index(heads, store.digest_facets(), load, published, head),
        static_assets(published),
    ):
        files.update(part.files)
        paths |= part.paths
    log.debug("site: %d of %d files rendered", len(files), len(paths))
    return SiteUpdate(files=files, paths=frozenset(paths))


def render_site(store: Store, config: Config, now: datetime | None = None, *, served: bool = False) -> dict[str, bytes]:
    """Every site file as ``{path relative to output.site_dir: bytes}``, read from the database."""
    return update_site(store, config, now, served=served).files


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
