"""RSS and Atom feeds rendered from a real store, parsed back with feedparser, lxml and newsboat."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import feedparser
import lxml.html
import pytest
from lxml import etree

from arxivbot.config import Config
from arxivbot.models import FeedItem, Summary
from arxivbot.publish.feeds import (
    ARXIV_NS,
    ARXIVBOT_NS,
    FEED_FORMATS,
    feed_path,
    feed_window_start,
    render_feed,
    render_feeds,
)
from arxivbot.publish.fragments import FragmentCache, fragment_cache_path
from arxivbot.publish.site import latest_digest
from arxivbot.store import open_store
from tests.publish.seeding import EVIL_SUMMARY, EVIL_TITLE, make_config, make_paper, seed_day

DAY1 = date(2025, 12, 22)
DAY2 = date(2025, 12, 23)
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "dc": "http://purl.org/dc/elements/1.1/",
    "arxiv": ARXIV_NS,
    "arxivbot": ARXIVBOT_NS,
}


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=timezone.utc)


def feeds_at(config: Config, day: date) -> dict[str, bytes]:
    with open_store(config.storage.database) as store:
        return render_feeds(store, config, noon(day), latest_digest(store))


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
def two_days(config: Config) -> Config:
    """Day 1: A (cs.AI) and B (cs.CL, cs.AI); day 2: C (cs.LG) and D (cs.AI); A has a summary."""
    with open_store(config.storage.database) as store:
        seed_day(
            store,
            DAY1,
            [make_paper("2512.00001"), make_paper("2512.00002", categories=("cs.CL", "cs.AI"))],
            summaries={"2512.00001": "## Main contributions\n\n- **Sparse** attention, 2.5x faster"},
        )
        seed_day(
            store,
            DAY2,
            [make_paper("2512.00003", categories=("cs.LG",)), make_paper("2512.00004")],
        )
    return config


def test_feed_files_cover_every_configured_category(two_days: Config) -> None:
    feeds = feeds_at(two_days, DAY2)
    expected = {"rss.xml", "atom.xml"} | {
        f"{fmt}/{cat}.xml" for fmt in ("rss", "atom") for cat in ("cs.AI", "cs.CL", "cs.LG")
    }
    assert set(feeds) == expected


def test_rss_parses_back_with_feedparser(two_days: Config) -> None:
    parsed = feedparser.parse(feeds_at(two_days, DAY2)["rss.xml"])

    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == "arXiv digest"
    assert parsed.feed.link == "https://example.org/arxiv/"
    first = parsed.entries[2]  # day 1, rank 1: 2512.00001
    assert first.id == "2512.00001"
    assert first.guidislink is False
    assert first.link == "https://arxiv.org/abs/2512.00001"
    assert first.title == "Sparse LLM Inference at Scale, part 2512.00001"
    assert first.author == "Ada Lovelace, Alan Turing"
    assert [tag.term for tag in first.tags] == ["cs.AI"]
    assert first.published_parsed[:3] == (2025, 12, 22)
    assert first.arxiv_announce_type == "new"
    assert first.arxivbot_score == "2.5"
    body = first.summary
    assert "We study LLM inference for paper 2512.00001" in body
    assert "<h2>Main contributions</h2>" in body  # the AI summary, rendered from markdown
    assert "<strong>Sparse</strong>" in body
    assert "Score:</strong> 2.5" in body and "Type:</strong> new" in body


def test_atom_parses_back_with_feedparser(two_days: Config) -> None:
    parsed = feedparser.parse(feeds_at(two_days, DAY2)["atom.xml"])

    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.id == "https://example.org/arxiv/atom.xml"
    entry = parsed.entries[2]
    assert entry.id == "https://arxiv.org/abs/2512.00001"
    assert [a.name for a in entry.authors] == ["Ada Lovelace", "Alan Turing"]
    assert entry.content[0].type == "text/html"
    assert "<h2>Main contributions</h2>" in entry.content[0].value
    assert entry.updated_parsed[:3] == (2025, 12, 22)


def test_rss_structure_read_with_lxml(two_days: Config) -> None:
    root = etree.fromstring(feeds_at(two_days, DAY2)["rss.xml"])

    assert root.tag == "rss" and root.get("version") == "2.0"
    self_link = root.find("channel/atom:link[@rel='self']", NS)
    assert self_link is not None
    assert self_link.get("href") == "https://example.org/arxiv/rss.xml"
    assert self_link.get("type") == "application/rss+xml"
    items = root.findall("channel/item")
    assert [i.findtext("guid") for i in items] == ["2512.00003", "2512.00004", "2512.00001", "2512.00002"]
    assert {i.find("guid").get("isPermaLink") for i in items} == {"false"}
    second_paper = items[3]
    assert [c.text for c in second_paper.findall("category")] == ["cs.CL", "cs.AI"]
    assert second_paper.findtext("dc:creator", namespaces=NS) == "Ada Lovelace, Alan Turing"
    assert second_paper.findtext("arxiv:announce_type", namespaces=NS) == "new"
    assert second_paper.findtext("arxivbot:score", namespaces=NS) == "1.5"
    assert root.findtext("channel/lastBuildDate") == "Tue, 23 Dec 2025 06:00:00 +0000"


def test_atom_per_category_self_link(two_days: Config) -> None:
    root = etree.fromstring(feeds_at(two_days, DAY2)["atom/cs.CL.xml"])

    assert root.find("atom:link[@rel='self']", NS).get("href") == "https://example.org/arxiv/atom/cs.CL.xml"
    assert root.findtext("atom:title", namespaces=NS) == "arXiv digest — cs.CL"
    ids = [e.findtext("atom:id", namespaces=NS) for e in root.findall("atom:entry", NS)]
    assert ids == ["https://arxiv.org/abs/2512.00002"]


def test_history_keeps_day_one_after_day_two_newest_first(config: Config) -> None:
    with open_store(config.storage.database) as store:
        seed_day(store, DAY1, [make_paper("2512.00001"), make_paper("2512.00002")])
    after_day1 = feedparser.parse(feeds_at(config, DAY1)["rss.xml"])
    assert [e.id for e in after_day1.entries] == ["2512.00001", "2512.00002"]

    with open_store(config.storage.database) as store:
        # 2512.00002 is listed again on day 2 (a replacement): one item, on its newest day.
        seed_day(store, DAY2, [make_paper("2512.00005"), make_paper("2512.00002", version=2)])
    after_day2 = feedparser.parse(feeds_at(config, DAY2)["rss.xml"])

    assert [e.id for e in after_day2.entries] == ["2512.00005", "2512.00002", "2512.00001"]
    assert [e.published_parsed[:3] for e in after_day2.entries] == [(2025, 12, 23), (2025, 12, 23), (2025, 12, 22)]


def test_max_items_and_max_days_bound_the_history(tmp_path: Path) -> None:
    config = make_config(tmp_path, feeds={"max_items": 3, "max_days": 2})
    with open_store(config.storage.database) as store:
        seed_day(store, date(2025, 12, 20), [make_paper("2512.00100")])
        seed_day(store, DAY1, [make_paper(f"2512.0020{i}") for i in range(2)])
        seed_day(store, DAY2, [make_paper(f"2512.0030{i}") for i in range(2)])

    rss = feedparser.parse(feeds_at(config, DAY2)["rss.xml"])
    assert [e.id for e in rss.entries] == ["2512.00300", "2512.00301", "2512.00200"]

    roomy = make_config(tmp_path, feeds={"max_items": 50, "max_days": 2})
    ids = [e.id for e in feedparser.parse(feeds_at(roomy, DAY2)["atom.xml"]).entries]
    assert "https://arxiv.org/abs/2512.00100" not in ids  # day -3: outside the two-day window
    assert len(ids) == 4


def test_the_window_ends_at_the_newest_digest_not_at_the_clock(two_days: Config) -> None:
    """A bot that paused for months still publishes its last papers rather than an empty feed."""
    months_later = feeds_at(two_days, DAY2 + timedelta(days=200))

    assert months_later == feeds_at(two_days, DAY2)
    assert len(feedparser.parse(months_later["rss.xml"]).entries) == 4


def test_category_feeds_hold_only_their_category(two_days: Config) -> None:
    feeds = feeds_at(two_days, DAY2)

    def ids(name: str) -> list[str]:
        return [e.id for e in feedparser.parse(feeds[name]).entries]

    assert ids("rss/cs.AI.xml") == ["2512.00004", "2512.00001", "2512.00002"]
    assert ids("rss/cs.CL.xml") == ["2512.00002"]
    assert ids("rss/cs.LG.xml") == ["2512.00003"]
    assert len(ids("atom/cs.AI.xml")) == 3


def test_untrusted_title_and_summary_stay_inert(config: Config) -> None:
    with open_store(config.storage.database) as store:
        seed_day(
            store,
            DAY1,
            [make_paper("2512.00666", title=EVIL_TITLE, abstract="x < y && <b>bold</b> claim")],
            summaries={"2512.00666": EVIL_SUMMARY},
        )
    feeds = feeds_at(config, DAY1)

    rss = etree.fromstring(feeds["rss.xml"])
    assert rss.findtext("channel/item/title") == EVIL_TITLE  # decoded once: exactly arXiv's text
    atom = etree.fromstring(feeds["atom.xml"])
    assert atom.findtext("atom:entry/atom:title", namespaces=NS) == EVIL_TITLE
    assert atom.find("atom:entry/atom:title", NS).get("type") in (None, "text")

    for content in (rss.findtext("channel/item/description"), atom.findtext("atom:entry/atom:content", namespaces=NS)):
        document = lxml.html.fromstring(f"<div>{content}</div>")
        assert document.xpath("//script") == []
        assert document.xpath("//img") == []
        assert document.xpath("//b") == []  # the abstract's <b> is text, not markup
        assert not [a for a in document.xpath("//a") if "javascript" in a.get("href", "")]
        text = document.text_content()
        assert "<img src=x onerror=alert(2)>" in text
        assert "document.title='pwned'" in text
        assert "x < y && <b>bold</b> claim" in text

    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse(feeds[name])
        assert parsed.bozo == 0
        # feedparser hands the title over as plain text: shown as the literal string, never a tag.
        assert parsed.entries[0].title_detail.type == "text/plain"
        assert parsed.entries[0].title == EVIL_TITLE
        assert "<script" not in parsed.entries[0].summary


def test_control_characters_from_arxiv_do_not_break_the_xml(config: Config) -> None:
    with open_store(config.storage.database) as store:
        seed_day(
            store, DAY1, [make_paper("2512.00007", title="Form\x0cfeed \x00title", abstract="bell\x07 and \x1b escape")]
        )
    feeds = feeds_at(config, DAY1)

    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse(feeds[name])
        assert parsed.bozo == 0, name
        assert parsed.entries[0].title == "Form feed title"  # form feed is whitespace, NUL is dropped


def test_rendering_is_deterministic_for_unchanged_data(two_days: Config) -> None:
    assert feeds_at(two_days, DAY2) == feeds_at(two_days, DAY2)


def test_without_base_url_feeds_have_no_self_link_but_stay_valid(tmp_path: Path) -> None:
    config = make_config(tmp_path, feeds={"base_url": ""})
    with open_store(config.storage.database) as store:
        seed_day(store, DAY1, [make_paper("2512.00001")])
    feeds = feeds_at(config, DAY1)

    atom = etree.fromstring(feeds["atom.xml"])
    assert atom.find("atom:link[@rel='self']", NS) is None
    assert atom.findtext("atom:id", namespaces=NS) == "urn:arxivbot:feed:all"
    assert feedparser.parse(feeds["rss.xml"]).bozo == 0
    assert feedparser.parse(feeds["atom.xml"]).bozo == 0


def test_empty_database_gives_empty_but_valid_feeds(config: Config) -> None:
    feeds = feeds_at(config, DAY1)
    for name in ("rss.xml", "atom/cs.AI.xml"):
        parsed = feedparser.parse(feeds[name])
        assert parsed.bozo == 0
        assert parsed.entries == []


@pytest.mark.skipif(shutil.which("newsboat") is None, reason="newsboat is not installed")
def test_newsboat_reads_the_feeds(two_days: Config, tmp_path: Path) -> None:
    """A real feed reader (Debian's newsboat) loads both feeds and stores every item."""
    feeds = feeds_at(two_days, DAY2)
    folder = tmp_path / "reader"
    folder.mkdir()
    urls = []
    for name in ("rss.xml", "atom.xml"):
        (folder / name).write_bytes(feeds[name])
        urls.append((folder / name).as_uri())
    (folder / "urls").write_text("\n".join(urls) + "\n")
    cache = folder / "cache.db"

    result = subprocess.run(
        ["newsboat", "-u", str(folder / "urls"), "-c", str(cache), "-C", "/dev/null", "-x", "reload", "print-unread"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "8 unread articles"
    with sqlite3.connect(cache) as db:
        rows = db.execute("SELECT feedurl, guid, title, author, url, content FROM rss_item").fetchall()
    by_feed = {url: {row[1]: row for row in rows if row[0] == url} for url in urls}
    rss_items = by_feed[urls[0]]
    assert set(rss_items) == {"2512.00001", "2512.00002", "2512.00003", "2512.00004"}
    first = rss_items["2512.00001"]
    assert first[2] == "Sparse LLM Inference at Scale, part 2512.00001"
    assert first[3] == "Ada Lovelace, Alan Turing"
    assert first[4] == "https://arxiv.org/abs/2512.00001"
    assert "<h2>Main contributions</h2>" in first[5]
    assert set(by_feed[urls[1]]) == {f"https://arxiv.org/abs/2512.0000{i}" for i in range(1, 5)}


# --- incremental rendering: items kept between runs ------------------------------------------------------


def whole_feeds(config: Config) -> dict[str, bytes]:
    """Every feed rendered item by item through feedgen, with no cache: what splicing must equal."""
    with open_store(config.storage.database) as store:
        digest = latest_digest(store)
        assert digest is not None
        since = feed_window_start(config, digest.day)
        return {
            feed_path(fmt, category): render_feed(
                store.feed_items(since, config.feeds.max_items, category),
                config,
                fmt=fmt,
                category=category,
                updated=digest.generated_at,
            )
            for category in (None, *config.categories)
            for fmt in FEED_FORMATS
        }


def test_feeds_spliced_from_kept_items_equal_the_whole_rendering_byte_for_byte(two_days: Config) -> None:
    cache = fragment_cache_path(two_days.storage.database)
    assert cache is not None and not cache.exists()

    first = feeds_at(two_days, DAY2)  # every item rendered, then kept
    assert cache.is_file()
    kept = cache.read_bytes()
    second = feeds_at(two_days, DAY2)  # every item from the cache

    assert first == second == whole_feeds(two_days)
    assert cache.read_bytes() == kept  # nothing changed: the cache is not rewritten


def test_an_item_whose_content_changed_is_rendered_again(two_days: Config) -> None:
    feeds_at(two_days, DAY2)
    with open_store(two_days.storage.database) as store:
        store.save_summary(Summary("2512.00004", 1, "qwen-long", "p1", "abstract", "A **fresh** summary"))

    after = feeds_at(two_days, DAY2)

    assert after == whole_feeds(two_days)
    entry = next(e for e in feedparser.parse(after["rss.xml"]).entries if e.id == "2512.00004")
    assert "<strong>fresh</strong>" in entry.summary


def test_the_cache_keeps_only_the_items_of_the_last_rendering(config: Config) -> None:
    with open_store(config.storage.database) as store:
        seed_day(store, DAY1, [make_paper("2512.00001"), make_paper("2512.00002")])
    feeds_at(config, DAY1)
    with open_store(config.storage.database) as store:  # the same day re-run: one paper left
        seed_day(store, DAY1, [make_paper("2512.00002")])

    assert feeds_at(config, DAY1) == whole_feeds(config)
    cache = fragment_cache_path(config.storage.database)
    assert cache is not None
    assert b"2512.00001" not in cache.read_bytes()


@pytest.mark.parametrize(
    "damage",
    [b"", b"{not json", b'{"signature": "arxivbot-feed-fragments/0", "items": {}}', b'{"items": 3}', b"[1, 2]"],
)
def test_a_damaged_or_foreign_cache_only_costs_a_full_rendering(two_days: Config, damage: bytes) -> None:
    cache = fragment_cache_path(two_days.storage.database)
    assert cache is not None
    cache.write_bytes(damage)

    assert feeds_at(two_days, DAY2) == whole_feeds(two_days)


def test_a_truncated_cache_only_costs_a_full_rendering(two_days: Config) -> None:
    feeds_at(two_days, DAY2)
    cache = fragment_cache_path(two_days.storage.database)
    assert cache is not None
    cache.write_bytes(cache.read_bytes()[:-10])

    assert feeds_at(two_days, DAY2) == whole_feeds(two_days)


def test_a_cache_that_cannot_be_written_does_not_stop_the_feeds(two_days: Config) -> None:
    cache = fragment_cache_path(two_days.storage.database)
    assert cache is not None
    cache.mkdir()  # a folder where the file should be: neither readable nor writable as the cache

    assert feeds_at(two_days, DAY2) == whole_feeds(two_days)


def with_paper(item: FeedItem, **changes: Any) -> FeedItem:
    announcement = item.scored.announcement
    paper = replace(announcement.paper, **changes)
    return replace(item, scored=replace(item.scored, announcement=replace(announcement, paper=paper)))


def test_an_item_key_changes_with_any_field_of_the_item(two_days: Config) -> None:
    with open_store(two_days.storage.database) as store:
        item = next(i for i in store.feed_items(DAY1, 10) if i.scored.paper.arxiv_id == "2512.00001")
    assert item.summary is not None
    cache = FragmentCache(None)
    variants = [
        replace(item, day=DAY2),
        replace(item, summary=replace(item.summary, text=item.summary.text + ".")),
        replace(item, summary=None),
        replace(item, scored=replace(item.scored, score=item.scored.score + 0.5)),
        replace(item, scored=replace(item.scored, reasons=())),
        with_paper(item, title="Another title"),
        with_paper(item, authors=("Someone Else",)),
    ]
    keys = {FragmentCache(None).key_of(variant) for variant in variants}
    assert cache.key_of(item) == FragmentCache(None).key_of(replace(item))
    assert len(keys | {cache.key_of(item)}) == len(variants) + 1


def test_an_item_key_is_taken_from_the_last_rendering_while_its_digest_revision_holds(
    two_days: Config, tmp_path: Path
) -> None:
    with open_store(two_days.storage.database) as store:
        item = next(i for i in store.feed_items(DAY1, 10) if i.scored.paper.arxiv_id == "2512.00001")
    path = tmp_path / "arxivbot.db-feeds"
    first = FragmentCache.load(path)
    key = first.key_of(item, "rev-1")
    assert key == FragmentCache(None).key_of(item)  # the first time: the hash of the item's content
    first.add({key: {"rss": b"<item>x</item>\n", "atom": b"<entry>x</entry>\n"}})
    first.save(used=[key])

    retitled = with_paper(item, title="Another title")
    # The store changes the revision whenever the item changes: an unchanged revision is trusted
    # without hashing the item again, a new one hashes it.
    assert FragmentCache.load(path).key_of(retitled, "rev-1") == key
    assert FragmentCache.load(path).key_of(retitled, "rev-2") == FragmentCache(None).key_of(retitled) != key
    assert FragmentCache.load(path).key_of(retitled) != key  # no revision: always the content
