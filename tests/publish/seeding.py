"""Real digests in a real SQLite store, for the publishing and serving tests.

Papers are stored the way the pipeline stores them (``save_announcements``, ``save_digest``,
``save_summary``), so feeds and pages are rendered from genuine rows, not from hand-made records.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

from arxivbot.config import Config, config_from_dict
from arxivbot.models import Announcement, Paper, ScoredPaper, Summary, keyword_reason
from arxivbot.store import Store

# The two days of the seeded site (tests/publish/conftest.py), and the files its site has.
DAY1 = date(2025, 12, 22)
DAY2 = date(2025, 12, 23)
NOW = datetime.combine(DAY2, time(12, 0), tzinfo=timezone.utc)
# The files of every site, with or without a digest: pages, assets, search manifest, JSON and feeds.
SITE_FILES = {
    "index.html",
    "404.html",
    "static/arxivbot.css",
    "static/arxivbot.js",
    "static/vendor/minisearch.js",
    "static/vendor/minisearch.LICENSE.txt",
    "search/manifest.json",
    "papers.json",
    "rss.xml",
    "atom.xml",
    "rss/cs.AI.xml",
    "rss/cs.CL.xml",
    "rss/cs.LG.xml",
    "atom/cs.AI.xml",
    "atom/cs.CL.xml",
    "atom/cs.LG.xml",
}
# ... and those the two seeded days add: their pages and their month's search shard.
SEEDED_SITE_FILES = SITE_FILES | {"2025-12-22/index.html", "2025-12-23/index.html", "search/2025-12.json"}

EVIL_TITLE = "<script>alert(1)</script> & ](javascript:alert(1)) Attention"
EVIL_SUMMARY = (
    "## Main contributions\n\n- **Faster** decoding <img src=x onerror=alert(2)>\n"
    "- [click](javascript:alert(3))\n\n<script>document.title='pwned'</script>\n"
)


def make_config(tmp: Path, **sections: Any) -> Config:
    data: dict[str, Any] = {
        "categories": ["cs.AI", "cs.CL", "cs.LG"],
        "keywords": ["LLM", "Inference"],
        "storage": {"database": "data/arxivbot.db"},
        "output": {"site_dir": "public"},
        "feeds": {"base_url": "https://example.org/arxiv", "max_items": 100, "max_days": 30},
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return config_from_dict(data, base_dir=tmp)


def make_paper(
    arxiv_id: str,
    *,
    title: str | None = None,
    categories: Sequence[str] = ("cs.AI",),
    authors: Sequence[str] = ("Ada Lovelace", "Alan Turing"),
    abstract: str | None = None,
    version: int = 1,
) -> Paper:
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=title or f"Sparse LLM Inference at Scale, part {arxiv_id}",
        authors=tuple(authors),
        abstract=abstract or f"We study LLM inference for paper {arxiv_id}. Results are good.",
        categories=tuple(categories),
        link=f"https://arxiv.org/abs/{arxiv_id}",
        primary_category=categories[0],
    )


def seed_day(
    store: Store,
    day: date,
    papers: Sequence[Paper],
    *,
    summaries: dict[str, str] | None = None,
    categories: Sequence[str] = ("cs.AI", "cs.CL", "cs.LG"),
    announce_type: str = "new",
    matched: dict[str, tuple[str, ...]] | None = None,
    keywords: Sequence[str] = ("LLM",),
) -> None:
    """Store ``papers`` as announced on ``day`` and publish them as that day's digest, best first.

    Each paper's keyword reason names ``matched[arxiv_id]`` (default: ``LLM``).
    """
    announcements = [Announcement(paper=p, announce_type=announce_type, announced=day) for p in papers]
    store.save_announcements(announcements)
    scored = [
        ScoredPaper(
            announcement=a,
            score=float(len(papers) - rank) + 0.5,
            category=next((c for c in a.paper.categories if c in categories), a.paper.categories[0]),
            reasons=(
                keyword_reason(float(len(papers) - rank) + 0.5, (matched or {}).get(a.paper.arxiv_id, ("LLM",)), ()),
            ),
        )
        for rank, a in enumerate(announcements)
    ]
    generated = datetime.combine(day, time(6, 0), tzinfo=timezone.utc)
    store.save_digest(day, scored, generated_at=generated, categories=categories, keywords=list(keywords))
    for arxiv_id, text in (summaries or {}).items():
        paper = next(p for p in papers if p.arxiv_id == arxiv_id)
        store.save_summary(
            Summary(
                arxiv_id=arxiv_id,
                version=paper.version,
                model="qwen-long",
                prompt_hash="p1",
                input_mode="abstract",
                text=text,
                created_at=generated,
            )
        )
