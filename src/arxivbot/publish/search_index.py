"""The archive's search index: static JSON that the page's script loads on first use.

One shard per month (``search/YYYY-MM.json``) holds every paper of that month's digests — title,
authors, abstract, summary as plain text, reason, day, category, keywords, score — and a manifest
(``search/manifest.json``) lists the shards, each with a ``?v=`` of its key so a browser never mixes
an old shard with a new manifest. A run rewrites the manifest and only the shards whose month
changed (the key scheme of ``archive.py``); the page indexes the documents with MiniSearch in the
browser. The format is described in ``docs/serve.md`` ("The page").
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import groupby

import lxml.html

from arxivbot.models import Digest, DigestEntry
from arxivbot.publish.archive import Published, Rendered, content_key
from arxivbot.publish.escape import markdown_to_html, one_line
from arxivbot.publish.pages import paper_anchor

SEARCH_MANIFEST = "search/manifest.json"
# Bump when a field changes meaning or disappears (the page's script checks it).
SEARCH_SCHEMA = 1
_SHARD_KEY = re.compile(rb'^\{"key": ?"([0-9a-f]{16,64})"')


def shard_path(month: str) -> str:
    return f"search/{month}.json"


def render_search_index(digests: Sequence[Digest], published: Published) -> Rendered:
    """The manifest, and the month shards whose key differs from the published one's."""
    rendered = Rendered()
    shards = []
    by_month = groupby(digests, key=lambda digest: digest.day.isoformat()[:7])  # digests are newest first
    for month, group in by_month:
        days = list(group)
        key = content_key("search", SEARCH_SCHEMA, days)
        path = shard_path(month)
        old = published(path)
        unchanged = old is not None and (match := _SHARD_KEY.match(old)) is not None and match.group(1).decode() == key
        rendered.add(path, None if unchanged else _shard(month, key, days))
        shards.append(
            {
                "month": month,
                "url": f"{path}?v={key[:12]}",
                "days": len(days),
                "papers": sum(len(d.entries) for d in days),
            }
        )
    manifest = {
        "schema": SEARCH_SCHEMA,
        "days": len(digests),
        "papers": sum(shard["papers"] for shard in shards),
        "first_day": digests[-1].day.isoformat() if digests else None,
        "last_day": digests[0].day.isoformat() if digests else None,
        "categories": sorted({e.scored.category for d in digests for e in d.entries}),
        "keywords": sorted({k for d in digests for e in d.entries for k in e.scored.matched_keywords}),
        "shards": shards,
    }
    body = _json(manifest)
    rendered.add(SEARCH_MANIFEST, None if published(SEARCH_MANIFEST) == body else body)
    return rendered


def _shard(month: str, key: str, days: Sequence[Digest]) -> bytes:
    papers = [_document(digest, entry) for digest in days for entry in digest.entries]
    return _json({"key": key, "schema": SEARCH_SCHEMA, "month": month, "papers": papers})


def _document(digest: Digest, entry: DigestEntry) -> dict[str, object]:
    scored = entry.scored
    paper = scored.paper
    day = digest.day.isoformat()
    return {
        "id": f"{day}/{paper.arxiv_id}",  # unique even if a paper were listed on two days
        "arxiv_id": paper.arxiv_id,
        "anchor": paper_anchor(paper.arxiv_id),
        "day": day,
        "rank": entry.rank,
        "title": one_line(paper.title),
        "authors": ", ".join(one_line(a) for a in paper.authors),
        "abstract": one_line(paper.abstract),
        "summary": summary_text(entry.summary.text) if entry.summary else "",
        "reason": one_line(scored.reason),
        "category": scored.category,
        "keywords": list(scored.matched_keywords),
        "score": scored.score,
    }


def summary_text(markdown: str) -> str:
    """A summary as plain words (what a reader searches for), without its markdown syntax."""
    html = markdown_to_html(markdown).strip()
    if not html:
        return ""
    return one_line(lxml.html.fragment_fromstring(html, create_parent="div").text_content())


def _json(data: object) -> bytes:
    # Compact, and not ASCII-escaped: the index is mostly text, and UTF-8 is smaller than \u escapes.
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
