"""The catch-up stage: arXiv's schedule, which days are missing, and fetching them from a local API.

Every fetch goes to a real HTTP server on 127.0.0.1 playing the arXiv API, into a real SQLite file.
Time is a fake clock that only moves when the client sleeps, so pacing and backoff are checked
without waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from arxivbot.arxiv.api import parse_api_page
from arxivbot.arxiv.client import PoliteClient, make_http_client, make_polite_client
from arxivbot.arxiv.rss import parse_daily_feed
from arxivbot.backfill import (
    BackfillResult,
    announcement_day,
    backfill,
    catch_up,
    latest_announced_day,
    missing_days,
    query_groups,
    submission_window,
)
from arxivbot.config import Config, config_from_dict
from arxivbot.errors import FeedFormatError, FetchError, UsageError
from arxivbot.models import Announcement, Paper
from arxivbot.store import Store, open_store
from tests.faketime import FakeTime
from tests.localserver import LocalServer, RecordedRequest, Scripted

Fixture = Callable[[str], Path]
UTC = timezone.utc
EASTERN = ZoneInfo("America/New_York")
NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)  # "now" for every fetch: all the days below are announced

MON, TUE, WED, THU, FRI = (date(2026, 4, 27) + timedelta(days=n) for n in range(5))


def et(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=EASTERN)


# --- arXiv's schedule --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("submitted", "announced"),
    [
        (et(MON, 13, 59, 59), TUE),  # before Monday's cutoff: announced Monday evening, RSS Tuesday
        (et(MON, 14, 0), WED),  # at the cutoff: the next batch
        (et(TUE, 9, 30), WED),
        (et(WED, 16, 0), FRI),
        (et(THU, 14, 0), date(2026, 5, 4)),  # Thursday after the cutoff: announced Sunday, RSS Monday
        (et(FRI, 13, 0), date(2026, 5, 4)),
        (et(FRI, 14, 0), date(2026, 5, 5)),  # Friday after the cutoff and the weekend: Tuesday
        (et(date(2026, 5, 2), 11, 0), date(2026, 5, 5)),
        (et(date(2026, 5, 3), 23, 0), date(2026, 5, 5)),
        (datetime(2026, 4, 27, 17, 59, tzinfo=UTC), TUE),  # 13:59 EDT
        (datetime(2026, 1, 5, 18, 30), date(2026, 1, 6)),  # naive = UTC; 13:30 EST
        (datetime(2026, 1, 5, 19, 0, tzinfo=UTC), date(2026, 1, 7)),  # 14:00 EST
    ],
)
def test_announcement_day_follows_arxivs_schedule(submitted: datetime, announced: date) -> None:
    assert announcement_day(submitted) == announced


def test_submission_windows_tile_the_week_across_a_dst_change() -> None:
    days = [date(2026, 3, 2) + timedelta(days=n) for n in range(21)]  # DST starts 8 March 2026
    weekdays = [d for d in days if d.weekday() < 5]
    for day, following in pairwise(weekdays):
        opens, closes = submission_window(day)
        assert submission_window(following)[0] == closes  # no gap, no overlap
        assert announcement_day(opens) == day
        assert announcement_day(closes - timedelta(seconds=1)) == day
        assert announcement_day(closes) == following
        assert closes.astimezone(EASTERN).hour == 14
    assert submission_window(date(2026, 3, 10)) == (
        datetime(2026, 3, 6, 19, 0, tzinfo=UTC),
        datetime(2026, 3, 9, 18, 0, tzinfo=UTC),
    )
    with pytest.raises(ValueError, match="not an announcement day"):
        submission_window(date(2026, 3, 7))


def test_schedule_agrees_with_real_captures(shared_fixture: Fixture) -> None:
    """The API captured on the morning of 24 Sep 2026 ends with the batch the RSS dated that day."""
    api = parse_api_page(shared_fixture("api2025_search_cat-cs.CL_2026-09-24_3entries_journalref-doi.xml").read_bytes())
    feed = shared_fixture("rss2024_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24_trimmed-4items.xml")
    rss = parse_daily_feed(feed.read_bytes())
    newest = max(p.published for p in api.papers if p.published)
    assert rss.announced == date(2026, 9, 24)
    assert announcement_day(newest) == rss.announced
    # And those newest papers were the latest announced when the API answered.
    captured = datetime(2026, 9, 24, 8, 9, 20, tzinfo=UTC)
    assert latest_announced_day(captured) == rss.announced


@pytest.mark.parametrize(
    ("now", "latest"),
    [
        (et(date(2026, 8, 2), 18, 7), date(2026, 7, 31)),  # Sunday before 20:00: Friday's RSS
        (et(date(2026, 8, 2), 20, 0), date(2026, 8, 3)),  # Sunday 20:00: Monday's is out
        (et(date(2026, 8, 4), 19, 59), date(2026, 8, 4)),
        (et(date(2026, 8, 4), 20, 0), date(2026, 8, 5)),
        (et(date(2026, 8, 1), 12, 0), date(2026, 7, 31)),  # Saturday
        (et(date(2026, 7, 31), 21, 0), date(2026, 7, 31)),  # Friday evening: nothing new until Sunday
    ],
)
def test_latest_announced_day(now: datetime, latest: date) -> None:
    assert latest_announced_day(now) == latest


# --- which days are missing ---------------------------------------------------------------------------


def test_missing_days_are_uncovered_weekdays_within_days_back(tmp_path: Path) -> None:
    with open_store(tmp_path / "a.db") as store:
        today = date(2026, 5, 6)  # a Wednesday
        assert missing_days(store, today, 7) == [WED, THU, FRI, date(2026, 5, 4), date(2026, 5, 5)]
        store.record_coverage([THU, date(2026, 5, 5)], "rss")
        store.record_coverage([date(2026, 5, 4)], "api")
        assert missing_days(store, today, 7) == [WED, FRI]
        assert missing_days(store, today, 1) == []  # yesterday is covered
        assert missing_days(store, today, 0) == []


def test_query_groups_join_consecutive_announcement_days() -> None:
    days = [date(2026, 4, 30), date(2026, 5, 1), date(2026, 5, 4), date(2026, 5, 6), TUE]
    assert query_groups(days) == [[TUE], [date(2026, 4, 30), date(2026, 5, 1), date(2026, 5, 4)], [date(2026, 5, 6)]]
    fortnight = [date(2026, 5, 4) + timedelta(days=n) for n in range(14)]
    two_weeks = [day for day in fortnight if day.weekday() < 5]
    groups = query_groups(two_weeks, max_days=4)
    assert [len(g) for g in groups] == [4, 4, 2]
    assert [d for g in groups for d in g] == two_weeks


# --- fetching from a local API -------------------------------------------------------------------------


@dataclass
class Api:
    server: LocalServer
    config: Config
    store: Store
    client: PoliteClient
    time: FakeTime
    fixture: Fixture

    def page(self, name: str, status: int = 200, headers: dict[str, str] | None = None) -> Scripted:
        return Scripted(status, self.time.answer(self.fixture(name).read_bytes()), headers or {})

    def window_pages(self) -> list[Scripted]:
        return [self.page(f"api_window_page{n}of3.xml") for n in (1, 2, 3)]

    def serve(self, *responses: Scripted) -> None:
        self.server.route("/api/query", *responses)

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.server.requests_to("/api/query")

    def backfill(self, since: date, until: date, *, force: bool = False) -> BackfillResult:
        return backfill(self.config, self.store, self.client, since=since, until=until, now=NOW, force=force)


@pytest.fixture
def api(local_server: LocalServer, own_fixture: Fixture, tmp_path: Path) -> Iterator[Api]:
    config = config_from_dict(
        {
            "categories": ["cs.AI", "cs.LG"],
            "days_back": 7,
            "arxiv": {
                "api_url": f"{local_server.url}/api/query",
                "api_page_size": 2,
                "request_delay_seconds": 3,
                "max_retries": 2,
            },
            "storage": {"database": "data/arxivbot.db"},
        },
        base_dir=tmp_path,
    )
    fake = FakeTime(5000.0)
    http = make_http_client(config.arxiv)
    with open_store(config.storage.database) as store:
        yield Api(
            local_server,
            config,
            store,
            make_polite_client(config.arxiv, http, sleep=fake.sleep, clock=fake.clock),
            fake,
            own_fixture,
        )
    http.close()


def _announced(store: Store, first: date, last: date) -> list[tuple[str, str, date, str]]:
    return [
        (a.paper.arxiv_id, a.announce_type, a.announced, a.source) for a in store.announcements_between(first, last)
    ]


def test_backfill_reads_several_pages_into_announcement_days(api: Api) -> None:
    api.serve(*api.window_pages(), Scripted(500, b"asked past totalResults"))
    report = api.backfill(WED, THU)
    assert report.days == (WED, THU)
    assert (report.fetched, report.new_papers, report.queries) == (5, 5, 1)
    assert [r.query["start"] for r in api.requests] == [["0"], ["2"], ["4"]]
    assert api.requests[0].query["search_query"] == [
        "(cat:cs.AI OR cat:cs.LG) AND submittedDate:[202604271800 TO 202604291800]"
    ]
    assert api.requests[0].headers["user-agent"].startswith("arxivbot/")
    assert _announced(api.store, MON, FRI) == [
        ("2604.24101", "new", WED, "api"),
        ("2604.24188", "cross", WED, "api"),  # primary math.OC: a cross-list for cs.AI/cs.LG readers
        ("2604.24950", "new", WED, "api"),  # one second before the cutoff
        ("2604.25003", "new", THU, "api"),  # exactly at the cutoff: the next day
        ("2604.26990", "cross", THU, "api"),
    ]
    # Submitted after Wednesday's cutoff: Friday's paper, left to Friday's own fetch.
    assert api.store.get_paper("2604.27015") is None
    assert api.store.covered_days(MON, FRI) == {WED, THU}
    stored = api.store.get_paper("2604.25003")
    assert stored is not None and stored.doi == "10.48550/icml.2026.25003" and stored.version == 1


def test_requests_are_paced_by_the_injected_clock(api: Api) -> None:
    api.serve(*api.window_pages())
    api.backfill(WED, THU)
    times = api.time.request_times
    assert len(times) == 3
    assert all(later - earlier >= 3.0 for earlier, later in pairwise(times))
    assert sum(api.time.sleeps) == pytest.approx(2 * (3.0 - 0.2))  # waited only what pacing needed


def test_an_empty_page_midway_is_asked_again(api: Api) -> None:
    first, second, third = api.window_pages()
    api.serve(first, api.page("api_window_empty_page_midway.xml"), second, third)
    report = api.backfill(WED, THU)
    assert [r.query["start"] for r in api.requests] == [["0"], ["2"], ["2"], ["4"]]
    assert report.fetched == 5 and report.days == (WED, THU)
    assert any(s >= 3.0 for s in api.time.sleeps)  # backed off before asking again
    times = api.time.request_times
    assert times[2] - times[1] >= 3.0


def test_empty_pages_that_stay_empty_fail_and_leave_the_days_missing(api: Api) -> None:
    first, *_ = api.window_pages()
    api.serve(first, api.page("api_window_empty_page_midway.xml"))
    with pytest.raises(FetchError, match="empty page at start=2"):
        api.backfill(WED, THU)
    assert len(api.requests) == 1 + 3  # the first page, then the empty one three times (max_retries 2)
    assert api.store.covered_days(MON, FRI) == set()  # asked again next time
    assert missing_days(api.store, FRI, 2) == [WED, THU]
    assert api.store.count_papers() == 2  # what was read is kept; saving it again changes nothing


@pytest.mark.parametrize("status", [503, 429])
def test_busy_answers_are_retried_after_retry_after(api: Api, status: int) -> None:
    busy = Scripted(status, b"busy", {"Retry-After": "7"})
    api.serve(busy, *api.window_pages())
    report = api.backfill(WED, THU)
    assert report.fetched == 5
    assert 7.0 in api.time.sleeps
    assert [r.query["start"] for r in api.requests] == [["0"], ["0"], ["2"], ["4"]]


def test_a_window_with_no_results_is_covered_and_not_asked_again(api: Api) -> None:
    api.serve(api.page("api_window_zero_results.xml"))
    report = api.backfill(FRI, FRI)
    assert (report.days, report.fetched, report.new_papers) == ((FRI,), 0, 0)
    assert len(api.requests) == 2  # "zero results" is confirmed once before it is believed
    assert api.store.covered_days(FRI, FRI) == {FRI}
    again = api.backfill(FRI, FRI)
    assert (again.days, again.skipped_days, again.queries) == ((), (FRI,), 0)
    assert len(api.requests) == 2


def test_malformed_atom_fails_without_recording_coverage(api: Api) -> None:
    api.serve(api.page("api_truncated_mid_entry.xml"))
    with pytest.raises(FeedFormatError, match="not well-formed XML"):
        api.backfill(WED, THU)
    assert api.store.covered_days(MON, FRI) == set()
    assert api.store.count_papers() == 0


def test_an_html_page_with_200_is_a_failure_not_an_empty_window(api: Api) -> None:
    api.serve(api.page("error_page_503.html"))
    with pytest.raises(FeedFormatError):
        api.backfill(WED, THU)
    assert api.store.covered_days(MON, FRI) == set()


def test_catch_up_fetches_only_missing_days_and_never_twice(api: Api) -> None:
    # Thursday came through the RSS; Tuesday..Monday are missing around it: two windows.
    api.store.record_coverage([THU], "rss")
    api.serve(api.page("api_window_zero_results.xml"))
    report = catch_up(api.config, api.store, api.client, today=date(2026, 5, 5), now=NOW)
    assert report.days == (TUE, WED, FRI, date(2026, 5, 4))
    assert report.queries == 2
    queries = list(dict.fromkeys(r.query["search_query"][0] for r in api.requests))
    assert queries == [
        "(cat:cs.AI OR cat:cs.LG) AND submittedDate:[202604241800 TO 202604281800]",  # Tue + Wed
        "(cat:cs.AI OR cat:cs.LG) AND submittedDate:[202604291800 TO 202605011800]",  # Fri + Mon
    ]
    asked = len(api.requests)
    again = catch_up(api.config, api.store, api.client, today=date(2026, 5, 5), now=NOW)
    assert again.days == () and len(api.requests) == asked


def test_catch_up_leaves_out_days_not_announced_yet(api: Api) -> None:
    api.serve(api.page("api_window_zero_results.xml"))
    # Tuesday 18:00 ET: Tuesday's listing is out, Wednesday's is not.
    report = catch_up(api.config, api.store, api.client, today=date(2026, 5, 7), now=et(date(2026, 5, 5), 18))
    assert report.days == (date(2026, 4, 30), date(2026, 5, 1), date(2026, 5, 4), date(2026, 5, 5))


def test_backfill_force_fetches_covered_days_again(api: Api) -> None:
    api.store.record_coverage([WED, THU], "rss")
    api.serve(*api.window_pages())
    assert api.backfill(WED, THU).queries == 0
    assert api.requests == []
    assert api.backfill(WED, THU, force=True).fetched == 5


def test_backfill_rejects_an_inverted_range(api: Api) -> None:
    with pytest.raises(UsageError, match="after --until"):
        api.backfill(THU, WED)


# --- one paper, one entry --------------------------------------------------------------------------------


def test_a_paper_seen_by_rss_and_api_is_one_paper_with_one_announcement(api: Api, own_fixture: Fixture) -> None:
    tuesday = date(2026, 5, 5)
    listing = parse_daily_feed(own_fixture("rss_cs.AI+cs.LG_day1_5items.xml").read_bytes())
    assert listing.announced == tuesday
    api.store.save_announcements(listing.announcements)
    rss_papers = api.store.count_papers()
    old_title = api.store.get_paper("2605.01301").title  # type: ignore[union-attr]

    api.serve(api.page("api_may04-05_4entries.xml"))
    report = api.backfill(tuesday, tuesday, force=True)

    assert report.fetched == 4 and report.new_papers == 2  # 2605.01111 and the replaced 2603.04417
    assert api.store.count_papers() == rss_papers + 2
    on_tuesday = _announced(api.store, tuesday, tuesday)
    assert [entry for entry in on_tuesday if entry[0] == "2605.01234"] == [("2605.01234", "new", tuesday, "rss")]
    assert ("2605.01111", "new", tuesday, "api") in on_tuesday
    assert ("2603.04417", "replace", tuesday, "api") in on_tuesday
    assert len({entry[0] for entry in on_tuesday}) == len(on_tuesday)
    # A newer version updates the stored metadata without announcing the paper again.
    revised = api.store.get_paper("2605.01301")
    assert revised is not None and revised.version == 2 and revised.title != old_title
    assert revised.title == "Escaping Untrusted Text in Agent Outputs (revised)"
    assert revised.doi == "10.1000/escape.2026.01301"
    assert [entry for entry in on_tuesday if entry[0] == "2605.01301"] == [("2605.01301", "new", tuesday, "rss")]


def test_rss_after_api_on_the_same_day_stays_one_announcement(api: Api, own_fixture: Fixture) -> None:
    tuesday = date(2026, 5, 5)
    api.serve(api.page("api_may04-05_4entries.xml"))
    api.backfill(tuesday, tuesday)
    listing = parse_daily_feed(own_fixture("rss_cs.AI+cs.LG_day1_5items.xml").read_bytes())
    api.store.save_announcements(listing.announcements)
    ids = [entry[0] for entry in _announced(api.store, tuesday, tuesday)]
    assert ids.count("2605.01234") == 1 and ids.count("2605.01301") == 1


def test_a_paper_announced_earlier_is_not_announced_again_by_the_api(api: Api) -> None:
    earlier = date(2026, 3, 5)
    v2 = Paper(
        arxiv_id="2603.04417",
        version=2,
        title="Reward Models Drift",
        authors=("Hugo Almeida",),
        abstract="Older abstract.",
        categories=("cs.LG",),
        link="https://arxiv.org/abs/2603.04417",
    )
    api.store.save_announcements([Announcement(v2, "new", earlier)])
    api.serve(api.page("api_may04-05_4entries.xml"))
    api.backfill(date(2026, 5, 5), date(2026, 5, 5))
    assert [
        a.announced
        for a in api.store.announcements_between(earlier, date(2026, 5, 31))
        if a.paper.arxiv_id == "2603.04417"
    ] == [earlier]
    paper = api.store.get_paper("2603.04417")
    assert paper is not None and paper.version == 3 and paper.comment == "v3: camera-ready"


def test_an_older_version_from_the_api_changes_nothing(api: Api) -> None:
    tuesday = date(2026, 5, 5)
    newer = Paper(
        arxiv_id="2605.01301",
        version=3,
        title="Third Version",
        authors=("Mallory Null",),
        abstract="v3.",
        categories=("cs.AI",),
        link="https://arxiv.org/abs/2605.01301",
    )
    api.store.save_announcements([Announcement(newer, "new", tuesday)])
    api.serve(api.page("api_may04-05_4entries.xml"))
    api.backfill(tuesday, tuesday)
    paper = api.store.get_paper("2605.01301")
    assert paper is not None and (paper.version, paper.title) == (3, "Third Version")


def test_pacing_holds_across_catch_up_windows(api: Api, local_server: LocalServer) -> None:
    api.store.record_coverage([THU], "rss")
    api.serve(api.page("api_window_zero_results.xml"))
    catch_up(api.config, api.store, api.client, today=date(2026, 5, 5), now=NOW)
    times = api.time.request_times
    assert len(times) == 4
    assert all(later - earlier >= 3.0 for earlier, later in pairwise(times))


def test_fetch_errors_name_the_url(api: Api) -> None:
    api.serve(Scripted(503, b"down"))
    with pytest.raises(FetchError) as caught:
        api.backfill(WED, THU)
    assert caught.value.url.endswith("/api/query") and caught.value.status == 503
    assert caught.value.attempts == 3
    assert api.store.covered_days(MON, FRI) == set()
