"""Small records for the store tests: papers, announcements, scored papers."""

from __future__ import annotations

from datetime import date
from xml.sax.saxutils import escape

from arxivbot.models import Announcement, Paper, Reason, ScoredPaper, keyword_reason


def paper(arxiv_id: str, *, version: int = 1, title: str | None = None, abstract: str | None = None) -> Paper:
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=title or f"Sparse Inference for Paper {arxiv_id}",
        authors=("Ada Lovelace", "Alan Turing"),
        abstract=abstract or f"We study sparse inference in paper {arxiv_id}. " * 20,
        categories=("cs.LG", "cs.AI"),
        link=f"https://arxiv.org/abs/{arxiv_id}",
        primary_category="cs.LG",
    )


def announced(arxiv_id: str, day: date, kind: str = "new", *, version: int = 1, source: str = "rss") -> Announcement:
    return Announcement(paper(arxiv_id, version=version), kind, day, source=source)


def scored(announcement: Announcement, score: float = 2.5, *reasons: Reason) -> ScoredPaper:
    return ScoredPaper(
        announcement,
        score,
        "cs.LG",
        reasons or (keyword_reason(score, ("Sparse", "Inference"), ("Sparse",)),),
    )


def rss_feed(day: date, items: list[tuple[str, int, str, str]]) -> bytes:
    """A daily listing in arXiv's RSS layout; ``items`` are (id, version, announce type, title)."""
    stamp = f"{day:%a, %d %b %Y} 00:00:00 -0500"
    body = "".join(
        f"""<item><title>{escape(title)}</title><link>https://arxiv.org/abs/{arxiv_id}</link>
<description>arXiv:{arxiv_id}v{version} Announce Type: {kind}
Abstract: We study {escape(title)} with care.</description>
<guid isPermaLink="false">oai:arXiv.org:{arxiv_id}v{version}</guid><category>cs.LG</category>
<pubDate>{stamp}</pubDate><arxiv:announce_type>{kind}</arxiv:announce_type>
<dc:creator>Ada Lovelace, Alan Turing</dc:creator></item>
"""
        for arxiv_id, version, kind, title in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0"><channel><title>cs.LG updates on arXiv.org'
        f"</title><link>http://rss.arxiv.org/rss/cs.LG</link><pubDate>{stamp}</pubDate>\n{body}</channel></rss>\n"
    ).encode()
