"""The reference system's daily run, re-implemented step for step for benchmarking (not its code).

The system arxivbot replaces is MayDomine/arxiv_rss_bot; its ``arxiv_bot.py`` does, per run:

1. at import: ``feedparser``, ``requests``, ``openai``, ``tqdm`` (and the standard library), and
   ``logging.basicConfig`` at INFO;
2. read ``config.json``;
3. for each configured category, ``feedparser.parse`` of ``/rss/<category>`` (one feed per category,
   so a cross-listed paper is downloaded and parsed once per category it is in); for each entry:
   the id from the link, ``datetime(*published_parsed[:6])`` compared with ``days_back``, one
   ``re.match`` that splits ``arXiv:<id> Announce Type: <type> Abstract: <text>``, the authors from
   ``entry.authors``; duplicates skipped by id and by lowercased title;
4. ``deduplicate_papers``: again by id, title and link;
5. ``filter_papers``: announce type ``new``; any keyword as a lowercase substring of
   ``title + " " + abstract``; no exclude keyword; duplicates skipped again; the score (+1 per keyword
   in the text, +0.5 per keyword in the title, each keyword lowercased at every test); sorted; cut to
   ``max_papers``;
6. the README: its template (``README.template.md`` or the built-in one), one block per paper (AI
   summaries off here, as in arxivbot's benchmark), placeholders replaced, ``README.md`` written.

Network is left out: the per-category feeds are read from files or bytes. Run as a process:

    python bench/reference_bot.py --config config.json --feeds DIR --readme README.md
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser

log = logging.getLogger("reference")

# What its run imports at start, whether or not summaries are on (they are module-level imports).
REFERENCE_IMPORTS = ("requests", "openai", "tqdm", "concurrent.futures")
_DESCRIPTION = re.compile(r"arXiv:(\S+)\s+Announce\s+Type:\s+(\S+)\s+Abstract:\s+(.+)")

_TEMPLATE = """# arXiv Papers Bot 🤖

This repository automatically fetches and displays relevant papers from arXiv based on configured criteria.

## 📊 Statistics

- **Last Updated**: {{LAST_UPDATED}}
- **Total Papers Found**: {{PAPER_COUNT}}
- **Categories Monitored**: {{CATEGORIES}}

## 📚 Recent Papers

{{PAPERS_SECTION}}

## 🔧 Configuration

This bot is configured to look for papers containing the following keywords:
- {{KEYWORDS}}

## 📅 Schedule

The bot runs daily at 12:00 UTC via GitHub Actions to fetch the latest papers.

---
*Generated automatically by arXiv Bot*
"""


def import_like_the_reference() -> None:
    """The module-level imports of its ``arxiv_bot.py`` beyond feedparser (paid by every run)."""
    import importlib

    for name in REFERENCE_IMPORTS:
        importlib.import_module(name)


def _split_description(text: str) -> tuple[str | None, str | None, str]:
    match = _DESCRIPTION.match(text)
    if match is None:
        return None, None, text
    return match.group(1), match.group(2), match.group(3)


def _paper(entry: Any, category: str, cutoff: datetime) -> dict[str, Any] | None:
    try:
        published = datetime(*entry.published_parsed[:6])
        arxiv_id, announce_type, abstract = _split_description(entry.summary)
        if published < cutoff:
            return None
        return {
            "id": entry.link.split("/")[-1],
            "title": entry.title,
            "authors": [author.name for author in entry.authors] if hasattr(entry, "authors") else [],
            "type": announce_type,
            "arxiv_id": arxiv_id,
            "summary": abstract,
            "category": category,
            "published_date": published.strftime("%Y-%m-%d"),
            "link": entry.link,
            "score": 0.0,
        }
    except Exception as err:  # as the reference: a bad entry is logged and skipped
        log.error("Error parsing paper entry: %s", err)
        return None


def fetch(config: dict[str, Any], feeds: dict[str, Any]) -> list[dict[str, Any]]:
    """Step 3: one ``feedparser.parse`` per category (``feeds[category]``: a path or the bytes)."""
    papers: list[dict[str, Any]] = []
    seen: set[str] = set()
    cutoff = datetime.now() - timedelta(days=config.get("days_back", 7))
    for category in config["categories"]:
        log.info("Fetching papers from %s", category)
        parsed = feedparser.parse(feeds[category])
        if parsed.bozo:
            log.warning("RSS feed for %s has issues: %s", category, parsed.bozo_exception)
        for entry in parsed.entries:
            paper = _paper(entry, category, cutoff)
            if paper is None:
                continue
            title = paper["title"].lower().strip()
            if (paper["id"] and paper["id"] in seen) or title in seen:
                continue
            seen.add(paper["id"])
            seen.add(title)
            papers.append(paper)
    log.info("Fetched %d unique papers total", len(papers))
    return papers


def deduplicate(papers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Step 4: by id, then title, then link."""
    unique, ids, titles, links = [], set(), set(), set()
    for paper in papers:
        paper_id, title, link = paper["id"].strip(), paper["title"].lower().strip(), paper["link"].strip()
        if (paper_id and paper_id in ids) or (title and title in titles) or (link and link in links):
            continue
        ids.add(paper_id)
        titles.add(title)
        links.add(link)
        unique.append(paper)
    return unique


def _matches(config: dict[str, Any], paper: dict[str, Any]) -> bool:
    text = f"{paper['title']} {paper['summary']}".lower()
    keywords = config.get("keywords", [])
    if (paper.get("type") or "").lower() != "new":
        return False
    if keywords and not any(keyword.lower() in text for keyword in keywords):
        return False
    exclude = config.get("exclude_keywords", [])
    return not (exclude and any(keyword.lower() in text for keyword in exclude))


def _score(config: dict[str, Any], paper: dict[str, Any]) -> float:
    text = f"{paper['title']} {paper['summary']}".lower()
    keywords = config.get("keywords", [])
    score = sum(1.0 for keyword in keywords if keyword.lower() in text)
    title = paper["title"].lower()
    return score + sum(0.5 for keyword in keywords if keyword.lower() in title)


def select(config: dict[str, Any], papers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Step 5: filter, dedup, score, sort, cut."""
    kept, seen = [], set()
    for paper in papers:
        if not _matches(config, paper):
            continue
        title = paper["title"].lower().strip()
        if (paper["id"] and paper["id"] in seen) or title in seen:
            continue
        seen.add(paper["id"])
        seen.add(title)
        paper["score"] = _score(config, paper)
        kept.append(paper)
    kept.sort(key=lambda paper: paper["score"], reverse=True)
    kept = kept[: config.get("max_papers", 50)]
    log.info("Filtered to %d unique papers", len(kept))
    return kept


def render_readme(config: dict[str, Any], papers: list[dict[str, Any]], template_path: Path) -> str:
    """Step 6, without summaries: the template with its placeholders filled."""
    template = template_path.read_text(encoding="utf-8") if template_path.is_file() else _TEMPLATE
    blocks = []
    for number, paper in enumerate(papers, 1):
        abstract = paper["summary"]
        blocks.append(
            f"### {number}. [{paper['title']}]({paper['link']})\n\n"
            f"**Authors**: {', '.join(paper['authors']) if paper['authors'] else 'Unknown'}  \n"
            f"**Category**: {paper['category']}  \n"
            f"**Published**: {paper['published_date']}  \n"
            f"**Score**: {paper['score']:.1f}  \n"
            f"**Type**: {paper['type']}  \n"
            f"**ArXiv ID**: {paper['arxiv_id']}  \n\n"
            f"#### Abstract\n{abstract[:300]}{'...' if len(abstract) > 300 else ''}\n\n---"
        )
    text = template.replace("{{PAPERS_SECTION}}", "\n\n".join(blocks))
    text = text.replace("{{LAST_UPDATED}}", datetime.now().strftime("%Y-%m-%d %H:%M:%S UTC"))
    text = text.replace("{{PAPER_COUNT}}", str(len(papers)))
    text = text.replace("{{CATEGORIES}}", ", ".join(config.get("categories", [])))
    return text.replace("{{KEYWORDS}}", ", ".join(config.get("keywords", [])))


def run(config: dict[str, Any], feeds: dict[str, Any], readme: Path) -> list[dict[str, Any]]:
    """The whole daily run after its imports: fetch, dedup, filter and rank, write the README."""
    papers = fetch(config, feeds)
    if config.get("enable_deduplication", True):
        papers = deduplicate(papers)
    selected = select(config, papers)
    if selected:
        readme.write_text(render_readme(config, selected, readme.with_name("README.template.md")), encoding="utf-8")
    return selected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--feeds", type=Path, required=True, help="folder holding <category>.xml per category")
    parser.add_argument("--readme", type=Path, required=True)
    args = parser.parse_args()
    import_like_the_reference()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s - %(levelname)s - %(message)s")
    config = json.loads(args.config.read_text(encoding="utf-8"))
    feeds = {category: str(args.feeds / f"{category}.xml") for category in config["categories"]}
    run(config, feeds, args.readme)


if __name__ == "__main__":
    main()
