"""Synthetic arXiv days for the benchmarks: announcements in arXiv's real RSS layout, and stored history.

Texts come from ``bench_state_growth`` (abstracts of about 170 words from a research-prose vocabulary
with a Zipf-like distribution, titles of 6-14 words, 1-10 authors). A day mixes new papers (60%),
cross-lists (15%), replacements (20%, half of them of papers announced on earlier days) and
replace-crosses (5%). The same day is written as the combined feed arxivbot reads
(``/rss/cs.AI+cs.CL+cs.DC+cs.LG``) and as the per-category feeds the reference system reads, where a
paper appears in every category it is listed in, announced ``new`` only in its primary one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from xml.sax.saxutils import escape

from bench_state_growth import CATEGORIES, OTHER_CATEGORIES, abstract, authors, title

from arxivbot.models import Announcement, Paper

_KINDS = ("new", "cross", "replace", "replace-cross")
_KIND_WEIGHTS = (60, 15, 20, 5)


@dataclass(frozen=True)
class Item:
    arxiv_id: str
    version: int
    kind: str
    categories: tuple[str, ...]  # primary first
    title: str
    abstract: str
    authors: str


@dataclass(frozen=True)
class Texts:
    """A pool of titles, abstracts and author lists, drawn once and reused for stored history."""

    titles: tuple[str, ...]
    abstracts: tuple[str, ...]
    authors: tuple[str, ...]

    @classmethod
    def draw(cls, rng: random.Random, count: int) -> Texts:
        return cls(
            tuple(title(rng) for _ in range(count)),
            tuple(abstract(rng) for _ in range(count)),
            tuple(authors(rng) for _ in range(count)),
        )


def weekdays_before(day: date, count: int) -> list[date]:
    """The ``count`` weekdays before ``day``, oldest first."""
    found: list[date] = []
    while len(found) < count:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            found.append(day)
    return found[::-1]


def latest_weekday(today: date) -> date:
    while today.weekday() >= 5:
        today -= timedelta(days=1)
    return today


class IdSource:
    """New-style ids, increasing, numbered per month as arXiv does (from ``first`` in each month)."""

    def __init__(self, first: int = 1, announced: list[str] | None = None) -> None:
        self._first = first
        self._next: dict[str, int] = {}
        self.announced: list[str] = announced if announced is not None else []  # what later days replace

    def new(self, day: date) -> str:
        month = f"{day:%y%m}"
        number = self._next.get(month, self._first)
        self._next[month] = number + 1
        arxiv_id = f"{month}.{number:05d}"
        self.announced.append(arxiv_id)
        return arxiv_id


def day_items(rng: random.Random, day: date, count: int, ids: IdSource, texts: Texts | None = None) -> list[Item]:
    """One day's announcements; fresh texts unless a pool is given."""
    items = []
    for n in range(count):
        kind = rng.choices(_KINDS, weights=_KIND_WEIGHTS)[0]
        if kind in ("new", "cross") or not ids.announced or rng.random() < 0.5:
            arxiv_id = ids.new(day) if kind in ("new", "cross") else f"2511.{rng.randrange(1, 30000):05d}"
            version = 1 if kind in ("new", "cross") else rng.randint(2, 4)
        else:
            arxiv_id, version = rng.choice(ids.announced), rng.randint(2, 4)
        primary = rng.choice(CATEGORIES if kind in ("new", "replace") else OTHER_CATEGORIES)
        listed = dict.fromkeys([primary, *rng.sample(CATEGORIES + OTHER_CATEGORIES, rng.randint(0, 2))])
        if kind in ("cross", "replace-cross"):
            listed[rng.choice(CATEGORIES)] = None
        if texts is None:
            text = (title(rng), abstract(rng), authors(rng))
        else:
            at = rng.randrange(len(texts.titles)) if n >= len(texts.titles) else n
            text = (texts.titles[at], texts.abstracts[at], texts.authors[at])
        items.append(Item(arxiv_id, version, kind, tuple(listed), *text))
    return items


def _kind_in(item: Item, category: str) -> str:
    """The announce type a per-category feed shows: ``new``/``replace`` only in the primary category."""
    if category == item.categories[0]:
        return item.kind
    return "cross" if item.kind in ("new", "cross") else "replace-cross"


def rss_feed(items: list[Item], day: date, category: str | None = None) -> bytes:
    """The items as arXiv's RSS 2.0: the combined feed, or one category's (``category``)."""
    label = category or "+".join(CATEGORIES)
    names = category or ", ".join(CATEGORIES)
    stamp = f"{day:%a, %d %b %Y} 00:00:00 -0500"
    parts = [
        "<?xml version='1.0' encoding='UTF-8'?>\n",
        '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'version="2.0">\n  <channel>\n',
        f"    <title>{names} updates on arXiv.org</title>\n",
        f"    <link>http://rss.arxiv.org/rss/{label}</link>\n",
        f"    <description>{names} updates on the arXiv.org e-print archive.</description>\n",
        f'    <atom:link href="https://rss.arxiv.org/rss/{label}" rel="self" type="application/rss+xml"/>\n',
        "    <docs>http://www.rssboard.org/rss-specification</docs>\n",
        "    <language>en-us</language>\n",
        f"    <lastBuildDate>{day:%a, %d %b %Y} 05:00:03 +0000</lastBuildDate>\n",
        "    <managingEditor>rss-help@arxiv.org</managingEditor>\n",
        f"    <pubDate>{stamp}</pubDate>\n",
        "    <skipDays>\n      <day>Saturday</day>\n      <day>Sunday</day>\n    </skipDays>\n",
    ]
    for item in items:
        if category is not None and category not in item.categories:
            continue
        kind = item.kind if category is None else _kind_in(item, category)
        versioned = f"{item.arxiv_id}v{item.version}"
        parts.append(
            "    <item>\n"
            f"      <title>{escape(item.title)}</title>\n"
            f"      <link>https://arxiv.org/abs/{item.arxiv_id}</link>\n"
            f"      <description>arXiv:{versioned} Announce Type: {kind} \n"
            f"Abstract: {escape(item.abstract)}</description>\n"
            f'      <guid isPermaLink="false">oai:arXiv.org:{versioned}</guid>\n'
            + "".join(f"      <category>{c}</category>\n" for c in item.categories)
            + f"      <pubDate>{stamp}</pubDate>\n"
            f"      <arxiv:announce_type>{kind}</arxiv:announce_type>\n"
            "      <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>\n"
            f"      <dc:creator>{escape(item.authors)}</dc:creator>\n"
            "    </item>\n"
        )
    parts.append("  </channel>\n</rss>\n")
    return "".join(parts).encode("utf-8")


def announcements(items: list[Item], day: date) -> list[Announcement]:
    """The items as the records arxivbot's parser makes of them (for storing history directly)."""
    moment = datetime(day.year, day.month, day.day, tzinfo=timezone(timedelta(hours=-5)))
    return [
        Announcement(
            Paper(
                item.arxiv_id,
                item.version,
                item.title,
                tuple(item.authors.split(", ")),
                item.abstract,
                item.categories,
                f"https://arxiv.org/abs/{item.arxiv_id}",
                primary_category=item.categories[0],
                published=moment,
            ),
            item.kind,
            day,
            "rss",
        )
        for item in items
    ]
