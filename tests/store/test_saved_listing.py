"""save_listing: the announcements a run just stored, without reading them back, exactly as stored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from arxivbot.models import Announcement, RetentionPolicy
from arxivbot.store import SQLiteStore, open_store
from tests.store.records import announced, paper

DAY = date(2026, 3, 4)
EASTERN = timezone(timedelta(hours=-5))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with open_store(tmp_path / "arxivbot.db") as opened:
        yield opened


def dated(announcement: Announcement, microsecond: int = 0) -> Announcement:
    """As the RSS parser makes it: published at midnight US Eastern; updated as the API gives it."""
    day = announcement.announced
    published = datetime(day.year, day.month, day.day, 0, 0, 0, microsecond, tzinfo=EASTERN)
    updated = published + timedelta(hours=13, microseconds=microsecond)
    return replace(announcement, paper=replace(announcement.paper, published=published, updated=updated))


def test_a_new_day_comes_back_as_the_database_would_read_it(store: SQLiteStore) -> None:
    listing = [dated(announced(f"2603.{n:05d}", DAY), microsecond=n % 2 * 123) for n in range(1, 6)]

    saved = store.save_listing(listing)

    assert saved.new_papers == 5
    assert saved.days == {DAY}
    assert saved.announcements is not None
    assert list(saved.announcements) == store.announcements_on(DAY)
    # Datetimes are the instants stored: to the second (the database keeps no more).
    assert [a.paper.published for a in saved.announcements] == [a.paper.published for a in store.announcements_on(DAY)]
    assert [a.paper.updated for a in saved.announcements] == [a.paper.updated for a in store.announcements_on(DAY)]
    assert {a.paper.published.microsecond for a in saved.announcements} == {0}
    assert {a.paper.updated.microsecond for a in saved.announcements if a.paper.updated} == {0}


def test_a_listing_over_two_days_comes_back_oldest_day_first_in_arrival_order(store: SQLiteStore) -> None:
    monday = DAY - timedelta(days=1)
    listing = [
        dated(announced("2603.00011", DAY)),
        dated(announced("2603.00001", monday)),
        dated(announced("2603.00010", DAY)),
        dated(announced("2603.00002", monday)),
    ]

    saved = store.save_listing(listing)

    assert saved.days == {monday, DAY}
    assert saved.announcements is not None
    assert list(saved.announcements) == store.announcements_between(monday, DAY)
    assert [a.paper.arxiv_id for a in saved.announcements] == ["2603.00001", "2603.00002", "2603.00011", "2603.00010"]


def test_papers_known_before_or_listed_twice_carry_what_the_database_kept(store: SQLiteStore) -> None:
    earlier = DAY - timedelta(days=1)
    store.save_announcements(
        [
            announced("2603.00001", earlier, version=3),  # newer than today's v2: today's changes nothing
            announced("2603.00002", earlier, version=1),  # older than today's v2: today's replaces it
        ]
    )
    stored_v3 = store.get_paper("2603.00001")
    today = [
        announced("2603.00001", DAY, "replace", version=2),
        announced("2603.00002", DAY, "replace", version=2),
        announced("2603.00003", DAY, "new"),
        announced("2603.00003", DAY, "cross", version=2),  # twice: the first announcement, the newer paper
        announced("2603.00004", DAY, "new"),
    ]

    saved = store.save_listing(today)

    assert saved.new_papers == 2
    assert saved.announcements is not None
    assert list(saved.announcements) == store.announcements_on(DAY)
    by_id = {a.paper.arxiv_id: a for a in saved.announcements}
    assert by_id["2603.00001"].paper == stored_v3
    assert by_id["2603.00002"].paper.version == 2
    assert (by_id["2603.00003"].announce_type, by_id["2603.00003"].paper.version) == ("new", 2)


def test_a_compacted_paper_announced_again_is_new_to_no_one_but_stored_in_full(store: SQLiteStore) -> None:
    old = DAY - timedelta(days=30)
    store.save_announcements([announced("2602.00001", old)])
    store.apply_retention(DAY, RetentionPolicy(full_days=7, vacuum=False))
    assert store.get_paper("2602.00001") is None

    saved = store.save_listing([announced("2602.00001", DAY, "replace", version=2), announced("2603.00009", DAY)])

    assert saved.new_papers == 1
    assert saved.announcements is not None
    assert list(saved.announcements) == store.announcements_on(DAY)


def test_a_day_that_held_announcements_before_is_left_to_the_database(store: SQLiteStore) -> None:
    store.save_announcements([announced("2603.00001", DAY, source="api")])

    saved = store.save_listing([announced("2603.00001", DAY), announced("2603.00002", DAY)])

    assert saved.announcements is None  # the API's announcement was kept, not the RSS one given
    assert saved.new_papers == 1
    assert [a.source for a in store.announcements_on(DAY)] == ["api", "rss"]


def test_announcements_between_can_leave_out_the_days_the_caller_holds(store: SQLiteStore) -> None:
    days = [DAY - timedelta(days=n) for n in (2, 1, 0)]
    for n, day in enumerate(days):
        store.save_announcements([announced(f"2603.0000{n}", day), announced(f"2603.0001{n}", day)])

    kept = store.announcements_between(days[0], days[-1], skip={days[1]})

    assert [a.announced for a in kept] == [days[0], days[0], days[2], days[2]]
    assert store.announcements_between(days[0], days[-1], skip=()) == store.announcements_between(days[0], days[-1])


def test_papers_without_dates_are_kept_as_given(store: SQLiteStore) -> None:
    saved = store.save_listing([Announcement(paper("2603.00001"), "new", DAY)])

    assert saved.announcements is not None
    assert list(saved.announcements) == store.announcements_on(DAY)
