"""One cycle of arxivbot: fetch → store → (catch up) → rank → summarize → deliver.

Every stage lives in its own module; this one only chains them and keeps the run's bookkeeping in
one :class:`~arxivbot.models.RunReport`. The order matters for "nothing is lost": the database is
updated in transactions as the stages go, and the outputs are delivered last — the published files
first, rendered whole before any is written, then every other channel — so a failure anywhere leaves
what was published before exactly as it was, and one channel's failure costs none of the others.
The published files are rewritten by every run; message channels (e-mail, chat) get each digest
exactly once, and what they failed to deliver is retried by the next runs (``deliver/outbox.py``),
even on a day arXiv announces nothing.

The clients and clocks come from a :class:`~arxivbot.runtime.Runtime` built by the caller (CLI,
service, tests); nothing here builds its own.

A cycle or a backfill holds the database's run lock from start to end (:mod:`arxivbot.runlock`), so
every caller — the CLI, the service's schedule, ``POST /update`` — runs one at a time per database,
and it first clears what a killed run left behind (:mod:`arxivbot.recovery`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from arxivbot.arxiv.rss import daily_feed_url, fetch_daily_feed, parse_daily_feed
from arxivbot.config import Config, require_interest
from arxivbot.deliver.channel import Channel, Edition, deliver_all
from arxivbot.deliver.outbox import deliver_due, message_channels
from arxivbot.errors import ArxivbotError, LLMAuthError, StoreError
from arxivbot.models import Announcement, Delivery, HttpValidators, RunReport, ScoredPaper
from arxivbot.publish.outputs import FILES_CHANNEL, FilesChannel
from arxivbot.recovery import recover_unfinished_runs
from arxivbot.relevance import library_of, rank_announcements, rank_day, recent_history, with_judge_figures
from arxivbot.runlock import run_lock
from arxivbot.runtime import Runtime
from arxivbot.store import SavedListing, Store, open_store
from arxivbot.upkeep import apply_retention, retention_alongside

if TYPE_CHECKING:
    from arxivbot.summarize.llm import SummaryResult

log = logging.getLogger(__name__)

__all__ = ["default_channels", "preview_cycle", "run_backfill", "run_cycle"]


def default_channels(config: Config, runtime: Runtime | None = None) -> list[Channel]:
    """Where a digest goes: the published files (README, feeds, page, JSON), then every configured
    e-mail and chat channel (``delivery``), whose retries wait with ``runtime.sleep``."""
    sleep = runtime.sleep if runtime is not None else time.sleep
    return [FilesChannel(), *message_channels(config, sleep=sleep)]


def run_cycle(
    config: Config,
    runtime: Runtime,
    *,
    day: date | None = None,
    backfill: bool = True,
    resummarize: bool = False,
    channels: Sequence[Channel] | None = None,
) -> RunReport:
    """Run one full cycle and return its report (also stored in ``runs``).

    ``day`` labels the digest (default: the feed's announcement day). A failure to fetch or store
    raises :class:`ArxivbotError` (the run is recorded as failed); a failing delivery channel is
    reported in ``RunReport.deliveries`` and its exit code, never raised. :class:`LockedError` (exit 4)
    when another run kept the database's lock past ``storage.lock_timeout_seconds``.
    """
    require_interest(config)
    with _exclusive_store(config, runtime) as store:
        run_id = store.start_run("run", day)
        started = runtime.now()
        try:
            cycle = _Cycle(config, store, runtime, run_id=run_id, started=started)
            report = cycle.run(day, do_backfill=backfill, resummarize=resummarize, channels=channels)
        except BaseException as err:
            _record_failure(store, runtime, run_id, started, day, err)
            raise
        store.finish_run(run_id, report)
        if not cycle.retention_applied:  # a day without announcements: nothing ran alongside delivery
            apply_retention(store, report.day or started.date(), config)
        return report


def preview_cycle(config: Config, runtime: Runtime, *, day: date | None = None) -> RunReport:
    """Fetch and rank today's announcements without writing anything (no database, no outputs).

    The report's status is ``preview`` and its ``ranking`` is what a run would publish.
    """
    require_interest(config)
    started = runtime.now()
    url = daily_feed_url(config.arxiv.rss_url, config.categories)
    listing = parse_daily_feed(fetch_daily_feed(runtime.arxiv(config), url).body or b"", source_url=url)
    digest_day = day or listing.announced or started.date()
    # Nothing is written: an existing database is read only, a missing one is stood in for in memory.
    existing = config.storage.database.is_file()
    with open_store(config.storage.database if existing else ":memory:", readonly=existing) as store:
        already_listed = store.digested_before(digest_day)
        # an in-memory stand-in may be written to (it is thrown away); a real database may not
        library = library_of(config, store, runtime, save=not existing)
        history = recent_history(config, store, digest_day) if library is not None else []
        ranking, _ranker = rank_announcements(
            config, listing.announcements, already_listed, library=library, history=history, store=store, save=False
        )
    return RunReport(
        run_id=None,
        kind="dry-run",
        status="preview",
        day=digest_day,
        started_at=started,
        finished_at=runtime.now(),
        fetched=len(listing.announcements),
        selected=len(ranking),
        ranking=tuple(ranking),
    )


def run_backfill(config: Config, runtime: Runtime, *, since: date, until: date) -> RunReport:
    """Fetch ``since``..``until`` from the arXiv API into the database (``arxivbot backfill``)."""
    from arxivbot.backfill import backfill  # the API client and its schedule, only when asked for

    with _exclusive_store(config, runtime) as store:
        run_id = store.start_run("backfill")
        started = runtime.now()
        try:
            result = backfill(config, store, runtime.arxiv(config), since=since, until=until, run_id=run_id)
        except BaseException as err:
            _record_failure(store, runtime, run_id, started, None, err)
            raise
        report = RunReport(
            run_id=run_id,
            kind="backfill",
            status="ok",
            day=until,
            started_at=started,
            finished_at=runtime.now(),
            fetched=result.fetched,
            new_papers=result.new_papers,
            backfilled=result.fetched,
        )
        store.finish_run(run_id, report)
        return report


@contextlib.contextmanager
def _exclusive_store(config: Config, runtime: Runtime) -> Iterator[Store]:
    """The database, opened under its run lock, with what a killed run left behind cleared away."""
    with (
        run_lock(config.storage.database, config.storage.lock_timeout_seconds),
        open_store(config.storage.database) as store,
    ):
        recover_unfinished_runs(config, store, runtime.now())
        yield store


def _record_failure(
    store: Store, runtime: Runtime, run_id: int, started: datetime, day: date | None, err: BaseException
) -> None:
    """Mark the run failed, with the reason; never let the bookkeeping hide the original error."""
    if isinstance(err, ArxivbotError):
        message = str(err)
    elif isinstance(err, KeyboardInterrupt):
        message = "interrupted"
    else:
        message = f"internal error: {type(err).__name__}: {err}"
    failed = RunReport(
        run_id=run_id, status="failed", day=day, started_at=started, finished_at=runtime.now(), message=message
    )
    try:
        store.finish_run(run_id, failed)
    except Exception:  # the database is the problem: the original error is the one to report
        log.exception("could not record the failed run")


class _Cycle:
    """The stages of one run, sharing its store, runtime and arXiv client (one pacing for all requests)."""

    def __init__(self, config: Config, store: Store, runtime: Runtime, *, run_id: int, started: datetime) -> None:
        self.config = config
        self.store = store
        self.runtime = runtime
        self.arxiv = runtime.arxiv(config)
        self.run_id = run_id
        self.started = started
        self.warnings: list[str] = []
        self.judge: object = None  # the LLM judge of this run's ranking, when one ran
        self.listed: SavedListing | None = None  # today's listing as stored: ranked without reading it back
        self.retention_applied = False

    def run(
        self, day: date | None, *, do_backfill: bool, resummarize: bool, channels: Sequence[Channel] | None
    ) -> RunReport:
        channels = list(default_channels(self.config, self.runtime) if channels is None else channels)
        announced, fetched, new_papers = self.fetch_today()
        digest_day = day or announced or self.started.date()
        backfilled, caught_up_new = self.catch_up(digest_day) if do_backfill and self.config.days_back > 0 else (0, 0)
        report = RunReport(
            run_id=self.run_id,
            status="ok",
            day=digest_day,
            started_at=self.started,
            finished_at=None,
            fetched=fetched,
            new_papers=new_papers + caught_up_new,
            backfilled=backfilled,
        )
        if fetched == 0 and backfilled == 0:
            log.info("No announcements today (a weekend or an arXiv holiday): outputs left as they were")
            # Digests that earlier runs failed to deliver are retried all the same.
            deliveries = self.send_messages(digest_day, [c for c in channels if c.name != FILES_CHANNEL])
            return replace(
                report,
                status="empty",
                finished_at=self.runtime.now(),
                message="no announcements today; outputs left as they were",
                deliveries=deliveries,
                warnings=tuple(self.warnings),
            )

        ranking = self.rank(digest_day)
        summaries = self.summarize(ranking, resummarize)
        deliveries = self.deliver(digest_day, channels)
        files_failed = next((d for d in deliveries if d.channel == FILES_CHANNEL and not d.ok), None)
        report = with_judge_figures(_with_summary_figures(report, summaries), self.judge)
        return replace(
            report,
            status="failed" if files_failed else "ok",
            message=files_failed.message if files_failed else "",
            finished_at=self.runtime.now(),
            selected=len(ranking),
            ranking=tuple(ranking),
            deliveries=deliveries,
            outputs=tuple(path for d in deliveries for path in d.written),
            warnings=tuple(self.warnings),
        )

    def fetch_today(self) -> tuple[date | None, int, int]:
        """Fetch and store the daily listing; return (its announcement day, items, papers new to the database).

        A 304 Not Modified means we already stored this listing: its announcements are re-read from the
        database, so a re-run of the same day produces the same digest without downloading it again.
        """
        store, url = self.store, daily_feed_url(self.config.arxiv.rss_url, self.config.categories)
        validators = store.http_validators(url)
        response = fetch_daily_feed(self.arxiv, url, validators)
        if response.not_modified and validators is not None:
            announced = validators.announced
            count = len(store.announcements_on(announced)) if announced else 0
            log.info("Daily listing not modified since the last run (%d announcements)", count)
            return announced, count, 0
        listing = parse_daily_feed(response.body or b"", source_url=url)
        if listing.skipped_items:
            log.warning("Skipped %d malformed item(s) in %s", listing.skipped_items, url)
        self.listed = store.save_listing(listing.announcements)
        new_papers = self.listed.new_papers
        announced = listing.announced or max((a.announced for a in listing.announcements), default=None)
        if announced is not None and listing.announcements:
            store.record_coverage([announced], "rss", self.run_id)
        store.save_http_validators(url, HttpValidators(response.etag, response.last_modified, announced))
        log.info("Fetched %d announcements (%d papers new to the database)", len(listing.announcements), new_papers)
        return announced, len(listing.announcements), new_papers

    def catch_up(self, digest_day: date) -> tuple[int, int]:
        """Days missed within ``days_back``, through the API: (papers fetched, papers new to the database).

        Today's listing is stored already; days that failed are not marked covered, so the next run asks
        for them again. Losing the catch-up must not cost today's digest.
        """
        from arxivbot.backfill import catch_up  # the API client and its schedule, only when asked for

        try:
            result = catch_up(self.config, self.store, self.arxiv, today=digest_day, run_id=self.run_id)
        except ArxivbotError as err:
            log.warning("Catch-up through the arXiv API failed, will retry next run: %s", err)
            self.warnings.append(f"catch-up failed (retried next run): {err}")
            return 0, 0
        if result.fetched:
            self.listed = None  # the database is the one that knows how the two sources combined
        return result.fetched, result.new_papers

    def rank(self, digest_day: date) -> list[ScoredPaper]:
        """Rank the window's announcements and store the day's digest (replacing a re-run's)."""
        window_start = _window_start(self.store, digest_day, self.config.days_back)
        candidates = self._candidates(window_start, digest_day)
        ranked = rank_day(self.config, self.store, self.runtime, candidates, digest_day)
        ranking, self.judge = ranked.ranking, ranked.judge
        self.warnings.extend(ranked.warnings)
        self.store.save_digest(
            digest_day,
            ranking,
            generated_at=self.runtime.now(),
            categories=self.config.categories,
            keywords=self.config.keywords,
            run_id=self.run_id,
            window_start=window_start,
            announced=len(candidates),
        )
        return ranking

    def _candidates(self, first: date, last: date) -> list[Announcement]:
        """The window's announcements; the days this run just stored come from memory, not the database."""
        listed = self.listed
        if listed is None or listed.announcements is None:
            return self.store.announcements_between(first, last)
        days = {day for day in listed.days if first <= day <= last}
        others = self.store.announcements_between(first, last, skip=days)
        held = (a for a in listed.announcements if a.announced in days)
        return sorted([*others, *held], key=lambda a: a.announced)  # stable: days are disjoint

    def summarize(self, ranking: Sequence[ScoredPaper], resummarize: bool) -> SummaryResult | None:
        """Summarize the top papers; a failure costs the summaries, never the digest."""
        ai = self.config.ai_summary
        if not ai.enabled or ai.max_papers_to_summarize == 0 or not ranking:
            return None
        # openai and pypdf are heavy: a run with summaries off never imports them.
        from arxivbot.summarize.llm import make_llm_client, summarize_papers

        client, owned = self.runtime.llm, None
        if client is None:
            # Without a usable key, summarize_papers still serves cached summaries and reports the key once.
            with contextlib.suppress(LLMAuthError):
                client = owned = make_llm_client(ai)
        try:
            # PDFs come from arXiv too: downloading them through the run's paced client keeps arXiv's
            # pacing across every request of the run.
            result = summarize_papers(
                [s.paper for s in ranking],
                self.config,
                self.store,
                llm=client,
                pdf_client=self.arxiv,
                resummarize=resummarize,
                progress=self.runtime.progress,
                sleep=self.runtime.sleep,
            )
        finally:
            if owned is not None:
                owned.close()
        self.warnings.extend(result.warnings())
        return result

    def deliver(self, digest_day: date, channels: Sequence[Channel]) -> tuple[Delivery, ...]:
        """The published files first (rewritten each run), then each message channel, exactly once."""
        digest = self.store.load_digest(digest_day)
        if digest is None:  # save_digest just wrote it: only a broken database gets here
            raise StoreError(f"{self.config.storage.database}: the digest of {digest_day} was not saved")
        files = [channel for channel in channels if channel.name == FILES_CHANNEL]
        # Started here, retention waits for none of the run's writes (upkeep.py).
        with retention_alongside(self.config, self.store, digest_day):
            published = deliver_all(files, Edition(digest, self.store, self.config, self.runtime.now()))
        self.retention_applied = True
        self.warnings.extend(f"{d.channel}: {d.message}" for d in published if not d.ok)
        return published + self.send_messages(digest_day, [c for c in channels if c.name != FILES_CHANNEL])

    def send_messages(self, digest_day: date, channels: Sequence[Channel]) -> tuple[Delivery, ...]:
        """Today's digest and every one still due, to each e-mail and chat channel (deliver/outbox.py)."""
        deliveries = deliver_due(channels, self.store, self.config, day=digest_day, now=self.runtime.now())
        self.warnings.extend(f"{d.channel}: {d.message}" for d in deliveries if not d.ok)
        return deliveries


def _with_summary_figures(report: RunReport, result: SummaryResult | None) -> RunReport:
    if result is None:
        return report
    return replace(
        report,
        summarized=result.summarized,
        summary_failures=result.unsummarized,
        llm_calls=result.llm_calls,
        cache_hits=result.cache_hits,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
    )


def _window_start(store: Store, day: date, days_back: int) -> date:
    """First announcement day the digest of ``day`` considers.

    Everything announced since the previous digest (a missed cron run, a catch-up) is considered,
    but never more than ``days_back`` days. Derived from stored digests, so a re-run of the same day
    considers exactly the same window and yields the same digest.
    """
    earliest = day - timedelta(days=days_back)
    previous = store.previous_digest_day(day)
    if previous is None:
        return earliest
    return max(earliest, min(day, previous + timedelta(days=1)))
