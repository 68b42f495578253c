"""The archive's search index: static JSON that the page's script loads on first use.

One shard per month (``search/YYYY-MM.json``) holds every paper of that month's digests — title,
authors, abstract, summary as plain text, reason, day, category, keywords, score — and a manifest
(``search/manifest.json``) lists the shards, each with a ``?v=`` of its key so a browser never mixes
an old shard with a new manifest. A run rewrites the manifest and only the shards whose month
changed (the key scheme of ``archive.py``: a shard's key is made of its days' revisions, so an
unchanged month is neither loaded nor rendered, and a changed one loads only its changed days: each
day's key is in the shard, beside its papers); the page indexes the documents with MiniSearch in the
browser. The format is described in ``docs/serve.md`` ("The page").
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import groupby

import lxml.html

from arxivbot.models import Digest, DigestEntry, DigestHead
from arxivbot.publish.archive import Loader, Published, Rendered, content_key
from arxivbot.publish.escape import markdown_to_html, one_line
from arxivbot.publish.pages import paper_anchor

SEARCH_MANIFEST = "search/manifest.json"
# Bump when a field changes meaning or disappears (the page's script checks it).
SEARCH_SCHEMA = 1
_SHARD_KEY = re.compile(rb'^\{"key": ?"([0-9a-f]{16,64})"')


def shard_path(month: str) -> str:
    return f"search/{month}.json"


def render_search_index(
    heads: Sequence[DigestHead],
    facets: tuple[Sequence[str], Sequence[str]],
    load: Loader,
    published: Published,
    head: Published,
) -> Rendered:
    """The manifest, and the month shards whose key differs from the published one's.

    ``heads`` are the stored digests, newest first; ``facets`` every entry's categories and matched
    keywords (``Store.digest_facets``); ``load`` is called for the days of the shards rendered only.
    """
    rendered = Rendered()
    shards = []
    by_month = groupby(heads, key=lambda digest: digest.day.isoformat()[:7])  # newest first
    for month, group in by_month:
        days = list(group)
        key = content_key("search", SEARCH_SCHEMA, [(day.day, day.revision) for day in days])
        path = shard_path(month)
        old = head(path)
        unchanged = old is not None and (match := _SHARD_KEY.match(old)) is not None and match.group(1).decode() == key
        rendered.add(path, None if unchanged else _shard(month, key, days, load, published(path)))
        shards.append(
            {
                "month": month,
                "url": f"{path}?v={key[:12]}",
                "days": len(days),
                "papers": sum(day.papers for day in days),
            }
        )
    categories, keywords = facets
    manifest = {
        "schema": SEARCH_SCHEMA,
        "days": len(heads),
        "papers": sum(shard["papers"] for shard in shards),
        "first_day": heads[-1].day.isoformat() if heads else None,
        "last_day": heads[0].day.isoformat() if heads else None,
        "categories": list(categories),
        "keywords": list(keywords),
        "shards": shards,
    }
    body = _json(manifest)
    rendered.add(SEARCH_MANIFEST, None if published(SEARCH_MANIFEST) == body else body)
    return rendered


def _shard(month: str, key: str, days: Sequence[DigestHead], load: Loader, old: bytes | None) -> bytes:
    """A month's shard. The papers of a day whose key is in the published shard (``old``) are taken
    from it as they are: a new day loads itself, not every day of its month again."""
    day_keys = {
        head.day.isoformat(): content_key("search-day", SEARCH_SCHEMA, head.day, head.revision) for head in days
    }
    kept = _papers_by_day(old, day_keys)
    papers: list[object] = []
    for head in days:
        day = head.day.isoformat()
        if day in kept:
            papers.extend(kept[day])
        elif (digest := load(head.day)) is not None:
            papers.extend(_document(digest, entry) for entry in digest.entries)
    return _json({"key": key, "schema": SEARCH_SCHEMA, "month": month, "day_keys": day_keys, "papers": papers})


def _papers_by_day(old: bytes | None, day_keys: dict[str, str]) -> dict[str, list[object]]:
    """The papers of a published shard, by day, for the days whose key it shares with ``day_keys``.

    Decoded and encoded again, they are the same bytes. Anything unexpected means nothing is reused.
    """
    if old is None:
        return {}
    try:
        shard = json.loads(old)
        published_keys = shard["day_keys"]
        same = {day for day, day_key in day_keys.items() if published_keys.get(day) == day_key}
        kept: dict[str, list[object]] = {day: [] for day in same}
        for paper in shard["papers"]:
            if paper["day"] in same:
                kept[paper["day"]].append(paper)
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}
    return kept


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
