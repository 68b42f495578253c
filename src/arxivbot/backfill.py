"""Catch-up: fetch the announcement days the daily RSS runs missed, from the arXiv API, politely.

arXiv's RSS only ever shows the latest announcement, so a missed cron run or an outage would lose a
day. Each successful fetch records which announcement days it covered (``coverage``: ``"rss"`` for the
daily listing, ``"api"`` for this module); a day with no coverage inside ``days_back`` is fetched from
the API, and a covered day is never fetched again. The details are in ``docs/backfill.md``.

**Announcement days.** The API knows submission times, not announcement days, so each paper's day is
derived from arXiv's published schedule (US Eastern time, holidays ignored): submissions received
before the 14:00 cutoff on a weekday are announced that evening at 20:00 and appear in the next
morning's RSS, dated the next weekday. So the RSS day ``D`` holds the submissions received from 14:00
on the weekday two announcement days before ``D`` up to 14:00 on the weekday before ``D``:

    ======================  ===============================
    submitted (US Eastern)  RSS day (announced)
    ======================  ===============================
    Mon 14:00 - Tue 14:00   Wednesday
    Tue 14:00 - Wed 14:00   Thursday
    Wed 14:00 - Thu 14:00   Friday
    Thu 14:00 - Fri 14:00   Monday (announced Sunday 20:00)
    Fri 14:00 - Mon 14:00   Tuesday
    ======================  ===============================

A paper whose first version (``published``) falls in the window is announced ``"new"`` when its
primary category is one of the configured ones and ``"cross"`` otherwise, as the RSS would. One whose
first version is older (the API can list it when a replacement moves it) is a ``"replace"`` /
``"replace-cross"`` on the day of its current version (``updated``). Papers of days outside the ones
asked for (the query is inclusive to the minute at both ends) are left to those days' own fetches.

**One paper, one entry.** API papers are saved with :meth:`Store.save_backfilled`: a paper that is
already announced (RSS or an earlier catch-up) is not announced again; a newer version only updates
its stored metadata.

**Which days.** :func:`catch_up` looks at the weekdays of the last ``days_back`` calendar days before
``today`` (the same window the digest considers), skips those already covered, and never asks for a day
whose announcement has not happened yet. Consecutive missing days are fetched with one query (at most
``MAX_DAYS_PER_QUERY`` days each, to keep result sets far below the API's limits), and their coverage is
recorded as soon as that query has been read to the end, so an interrupted catch-up keeps its progress.
A window that fails (arXiv unreachable, empty pages that stay empty) raises and is *not* recorded, so the
next run asks again; papers already saved from it stay (saving them again changes nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from arxivbot.arxiv.api import ApiPage, fetch_window
from arxivbot.arxiv.client import PoliteClient
from arxivbot.config import Config
from arxivbot.errors import UsageError
from arxivbot.models import Announcement, Paper
from arxivbot.store import Store

log = logging.getLogger(__name__)

ARXIV_TIMEZONE = ZoneInfo("America/New_York")
SUBMISSION_CUTOFF = time(14, 0)  # US Eastern: later submissions go to the next batch
ANNOUNCEMENT_TIME = time(20, 0)  # US Eastern, the evening before the RSS day
MAX_DAYS_PER_QUERY = 5


@dataclass(frozen=True, slots=True)
class BackfillResult:
    """What a catch-up or backfill did. The pipeline re-reads the announcements from the store."""

    days: tuple[date, ...]  # announcement days fetched (and now covered)
    fetched: int  # papers of those days received from the API
    new_papers: int  # of which new to the database
    skipped_days: tuple[date, ...] = ()  # asked for, but already covered
    queries: int = 0  # API queries (windows) run; each may take several pages


# --- arXiv's schedule -------------------------------------------------------------------------------


def is_announcement_day(day: date) -> bool:
    """Weekdays (arXiv holidays are not modelled)."""
    return day.weekday() < 5


def next_announcement_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_announcement_day(day):
        day += timedelta(days=1)
    return day


def previous_announcement_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_announcement_day(day):
        day -= timedelta(days=1)
    return day


def announcement_days(first: date, last: date) -> list[date]:
    """The announcement days from ``first`` to ``last`` inclusive, oldest first."""
    return [
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if is_announcement_day(first + timedelta(days=n))
    ]


def announcement_day(submitted: datetime) -> date:
    """The RSS day a submission (timezone-aware; naive means UTC) is announced on."""
    if submitted.tzinfo is None:
        submitted = submitted.replace(tzinfo=timezone.utc)
    local = submitted.astimezone(ARXIV_TIMEZONE)
    closing = local.date() if local.time() < SUBMISSION_CUTOFF else local.date() + timedelta(days=1)
    while not is_announcement_day(closing):  # weekend submissions close on Monday
        closing += timedelta(days=1)
    return next_announcement_day(closing)


def submission_window(day: date) -> tuple[datetime, datetime]:
    """``[open, close)`` in UTC: the submissions announced on the RSS day ``day`` (a weekday)."""
    if not is_announcement_day(day):
        raise ValueError(f"{day} is not an announcement day")
    closing = previous_announcement_day(day)
    opening = previous_announcement_day(closing)
    return _eastern(opening, SUBMISSION_CUTOFF), _eastern(closing, SUBMISSION_CUTOFF)


def latest_announced_day(now: datetime) -> date:
    """The newest RSS day already announced at ``now`` (each is announced at 20:00 ET the evening before)."""
    local = (
        now.astimezone(ARXIV_TIMEZONE) if now.tzinfo else now.replace(tzinfo=timezone.utc).astimezone(ARXIV_TIMEZONE)
    )
    day = local.date() + timedelta(days=1) if local.time() >= ANNOUNCEMENT_TIME else local.date()
    while not is_announcement_day(day):
        day -= timedelta(days=1)
    return day


def _eastern(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ARXIV_TIMEZONE).astimezone(timezone.utc)


# --- which days ----------------------------------------------------------------------------------------


def missing_days(store: Store, today: date, days_back: int) -> list[date]:
    """Announcement days in the ``days_back`` calendar days before ``today`` that no fetch has covered."""
    if days_back <= 0:
        return []
    first, last = today - timedelta(days=days_back), today - timedelta(days=1)
    covered = store.covered_days(first, last)
    return [day for day in announcement_days(first, last) if day not in covered]


def query_groups(days: Iterable[date], max_days: int = MAX_DAYS_PER_QUERY) -> list[list[date]]:
    """Consecutive announcement days (Friday then Monday counts as consecutive) grouped into queries."""
    groups: list[list[date]] = []
    for day in sorted(set(days)):
        if groups and len(groups[-1]) < max_days and next_announcement_day(groups[-1][-1]) == day:
            groups[-1].append(day)
        else:
            groups.append([day])
    return groups


# --- the stage -------------------------------------------------------------------------------------------


def catch_up(
    config: Config,
    store: Store,
    client: PoliteClient,
    *,
    today: date,
    run_id: int | None = None,
    now: datetime | None = None,
    on_page: Callable[[ApiPage], None] | None = None,
) -> BackfillResult:
    """Fetch the days missing within ``days_back`` before ``today`` (the automatic catch-up of a run)."""
    days = missing_days(store, today, config.days_back)
    ready = _announced_by(days, now)
    if not ready:
        log.info("Nothing to catch up: the last %d days are covered", config.days_back)
        return BackfillResult(days=(), fetched=0, new_papers=0)
    log.info(
        "Catching up on %d missed announcement day(s) through the arXiv API: %s",
        len(ready),
        ", ".join(day.isoformat() for day in ready),
    )
    return _fetch_days(config, store, client, ready, run_id=run_id, on_page=on_page)


def backfill(
    config: Config,
    store: Store,
    client: PoliteClient,
    *,
    since: date,
    until: date,
    run_id: int | None = None,
    force: bool = False,
    now: datetime | None = None,
    on_page: Callable[[ApiPage], None] | None = None,
) -> BackfillResult:
    """Fetch the announcement days ``since``..``until`` (``arxivbot backfill``); covered days are
    skipped unless ``force``. Days not announced yet are left out."""
    if since > until:
        raise UsageError(f"--since {since} is after --until {until}: nothing to backfill")
    wanted = _announced_by(announcement_days(since, until), now)
    covered = set() if force else store.covered_days(since, until)
    todo = [day for day in wanted if day not in covered]
    skipped = tuple(day for day in wanted if day in covered)
    if skipped:
        log.info("Already fetched, skipped: %s", ", ".join(day.isoformat() for day in skipped))
    report = _fetch_days(config, store, client, todo, run_id=run_id, on_page=on_page)
    return BackfillResult(
        days=report.days,
        fetched=report.fetched,
        new_papers=report.new_papers,
        skipped_days=skipped,
        queries=report.queries,
    )


def _announced_by(days: Sequence[date], now: datetime | None) -> list[date]:
    latest = latest_announced_day(now or datetime.now(timezone.utc))
    later = [day for day in days if day > latest]
    if later:
        log.info("Not announced yet, left out: %s", ", ".join(day.isoformat() for day in later))
    return [day for day in days if day <= latest]


def _fetch_days(
    config: Config,
    store: Store,
    client: PoliteClient,
    days: Sequence[date],
    *,
    run_id: int | None,
    on_page: Callable[[ApiPage], None] | None,
) -> BackfillResult:
    fetched = new_papers = queries = 0
    done: list[date] = []
    for group in query_groups(days):
        got, new = _fetch_group(config, store, client, group, on_page=on_page)
        store.record_coverage(group, "api", run_id)
        fetched, new_papers, queries = fetched + got, new_papers + new, queries + 1
        done.extend(group)
    return BackfillResult(days=tuple(done), fetched=fetched, new_papers=new_papers, queries=queries)


def _fetch_group(
    config: Config,
    store: Store,
    client: PoliteClient,
    group: Sequence[date],
    *,
    on_page: Callable[[ApiPage], None] | None,
) -> tuple[int, int]:
    """Fetch one window of consecutive days and save it page by page; (papers of those days, new)."""
    opens, _ = submission_window(group[0])
    _, closes = submission_window(group[-1])
    wanted = set(group)
    configured = set(config.categories)
    batch: list[Announcement] = []
    kept = new_papers = 0
    log.info(
        "arXiv API: submissions %s to %s (announced %s..%s)",
        opens.isoformat(timespec="minutes"),
        closes.isoformat(timespec="minutes"),
        group[0],
        group[-1],
    )
    papers = fetch_window(
        client, config.arxiv.api_url, config.categories, opens, closes, config.arxiv.api_page_size, on_page=on_page
    )
    for paper in papers:
        announcement = _as_announcement(paper, opens, configured)
        if announcement is None or announcement.announced not in wanted:
            continue
        batch.append(announcement)
        kept += 1
        if len(batch) >= config.arxiv.api_page_size:  # save as we go: memory stays at one page
            new_papers += store.save_backfilled(batch)
            batch.clear()
    new_papers += store.save_backfilled(batch)
    log.info("arXiv API: %d papers announced %s..%s, %d new to the database", kept, group[0], group[-1], new_papers)
    return kept, new_papers


def _as_announcement(paper: Paper, window_opens: datetime, configured: set[str]) -> Announcement | None:
    """The announcement an API paper stands for (see the module docstring), or None without dates."""
    if paper.published is None:
        log.warning("%s: no submission date in the API answer; skipped", paper.versioned_id)
        return None
    primary = paper.primary_category or (paper.categories[0] if paper.categories else None)
    own = primary in configured
    if paper.published >= window_opens:
        return Announcement(paper, "new" if own else "cross", announcement_day(paper.published), source="api")
    current = paper.updated or paper.published
    return Announcement(paper, "replace" if own else "replace-cross", announcement_day(current), source="api")
