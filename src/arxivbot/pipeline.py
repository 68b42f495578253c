"""One cycle of arxivbot: fetch → store → (catch up) → rank → summarize → render → publish.

Every stage lives in its own module; this one only chains them and keeps the run's bookkeeping. The
order matters for "nothing is lost": the database is updated in transactions as the stages go, and
the outputs (README, feeds, page, JSON) are all rendered first and written last, atomically, so a
failure anywhere leaves what was published before exactly as it was.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import httpx
import openai

from arxivbot.arxiv.client import PoliteClient, make_http_client, make_polite_client
from arxivbot.arxiv.rss import daily_feed_url, fetch_daily_feed, parse_daily_feed
from arxivbot.backfill import BackfillReport, backfill, catch_up
from arxivbot.config import Config
from arxivbot.errors import ArxivbotError, LLMAuthError
from arxivbot.models import Announcement, HttpValidators, RunReport, ScoredPaper
from arxivbot.publish.outputs import publish_outputs
from arxivbot.rank import SelectionRules, select_papers
from arxivbot.store import Store, open_store, utc_now
from arxivbot.summarize.llm import SummaryRunReport, make_llm_client, summarize_papers

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Preview:
    """What ``run --dry-run`` shows: the ranking a real run would publish, with nothing written."""

    day: date
    announced: int
    ranking: tuple[ScoredPaper, ...]


def run_cycle(
    config: Config,
    *,
    day: date | None = None,
    dry_run: bool = False,
    backfill: bool = True,
    resummarize: bool = False,
    http: httpx.Client | None = None,
    llm: openai.OpenAI | None = None,
    progress: bool = False,
    sleep: Callable[[float], None] | None = None,
) -> RunReport:
    """Run one full cycle and return its report. Raises :class:`ArxivbotError` when the run failed.

    ``http`` and ``llm`` are the clients to use (tests point them at local servers); by default they
    are built from the configuration. ``day`` labels the digest (default: the feed's announcement
    day). With ``dry_run`` nothing is written: see :func:`preview_cycle` for the ranking itself.
    """
    if dry_run:
        preview = preview_cycle(config, day=day, http=http)
        now = utc_now()
        return RunReport(
            run_id=None,
            status="dry-run",
            day=preview.day,
            started_at=now,
            finished_at=now,
            fetched=preview.announced,
            selected=len(preview.ranking),
        )
    with open_store(config.storage.database) as store, _http_client(config, http) as client:
        arxiv = _polite(config, client, sleep)
        run_id = store.start_run("run", day)
        started = utc_now()
        try:
            report = _cycle(
                config,
                store,
                arxiv,
                run_id=run_id,
                started=started,
                day=day,
                do_backfill=backfill,
                resummarize=resummarize,
                llm=llm,
                progress=progress,
                sleep=sleep or time.sleep,
            )
        except BaseException as err:
            _record_failure(store, run_id, started, day, err)
            raise
        store.finish_run(run_id, report)
        try:  # the run itself succeeded: a retention that fails is retried by the next run
            store.apply_retention(report.day or started.date(), config.retention_policy())
        except ArxivbotError as err:
            log.warning("Retention not applied this time: %s", err)
        return report


def preview_cycle(config: Config, *, day: date | None = None, http: httpx.Client | None = None) -> Preview:
    """Fetch and rank today's announcements without writing anything (no database, no outputs)."""
    with _http_client(config, http) as client:
        arxiv = _polite(config, client, None)
        url = daily_feed_url(config.arxiv.rss_url, config.categories)
        listing = parse_daily_feed(fetch_daily_feed(arxiv, url).body or b"", source_url=url)
    digest_day = day or listing.announced or utc_now().date()
    already_listed: set[str] = set()
    if config.storage.database.is_file():
        with open_store(config.storage.database, readonly=True) as store:
            already_listed = store.digested_before(digest_day)
    ranking = select_papers(listing.announcements, SelectionRules.from_config(config), exclude_ids=already_listed)
    return Preview(day=digest_day, announced=len(listing.announcements), ranking=tuple(ranking))


def run_backfill(
    config: Config,
    *,
    since: date,
    until: date,
    http: httpx.Client | None = None,
    sleep: Callable[[float], None] | None = None,
) -> BackfillReport:
    """Fetch ``since``..``until`` from the arXiv API into the database (``arxivbot backfill``)."""
    with open_store(config.storage.database) as store, _http_client(config, http) as client:
        run_id = store.start_run("backfill")
        started = utc_now()
        try:
            result = backfill(config, store, _polite(config, client, sleep), since=since, until=until, run_id=run_id)
        except BaseException as err:
            _record_failure(store, run_id, started, None, err)
            raise
        store.finish_run(
            run_id,
            RunReport(
                run_id=run_id,
                status="ok",
                day=until,
                started_at=started,
                finished_at=utc_now(),
                fetched=result.fetched,
                new_papers=result.new_papers,
                backfilled=result.fetched,
            ),
        )
        return result


def _record_failure(store: Store, run_id: int, started: datetime, day: date | None, err: BaseException) -> None:
    """Mark the run failed, with the reason; never let the bookkeeping hide the original error."""
    if isinstance(err, ArxivbotError):
        message = str(err)
    elif isinstance(err, KeyboardInterrupt):
        message = "interrupted"
    else:
        message = f"internal error: {type(err).__name__}: {err}"
    try:
        store.finish_run(
            run_id,
            RunReport(
                run_id=run_id, status="failed", day=day, started_at=started, finished_at=utc_now(), message=message
            ),
        )
    except Exception:  # the database is the problem: the original error is the one to report
        log.exception("could not record the failed run")


# --- the stages, chained ----------------------------------------------------------------------------


def _cycle(
    config: Config,
    store: Store,
    arxiv: PoliteClient,
    *,
    run_id: int,
    started: datetime,
    day: date | None,
    do_backfill: bool,
    resummarize: bool,
    llm: openai.OpenAI | None,
    progress: bool,
    sleep: Callable[[float], None],
) -> RunReport:
    today_announced, fetched, new_papers = _fetch_today(config, store, arxiv, run_id)
    digest_day = day or today_announced or utc_now().date()

    caught_up, warnings = None, []
    if do_backfill and config.days_back > 0:
        try:
            caught_up = catch_up(config, store, arxiv, today=digest_day, run_id=run_id)
        except ArxivbotError as err:
            # Today's listing is stored; the days that failed are not marked covered, so the next
            # run asks for them again. Losing the catch-up must not cost today's digest.
            log.warning("Catch-up through the arXiv API failed, will retry next run: %s", err)
            warnings.append(f"catch-up failed (retried next run): {err}")
        else:
            new_papers += caught_up.new_papers
    backfilled = caught_up.fetched if caught_up else 0

    if fetched == 0 and backfilled == 0:
        log.info("No announcements today (a weekend or an arXiv holiday): outputs left as they were")
        return RunReport(
            run_id=run_id,
            status="empty",
            day=digest_day,
            started_at=started,
            finished_at=utc_now(),
            message="no announcements today; outputs left as they were",
        )

    window_start = _window_start(store, digest_day, config.days_back)
    candidates = store.announcements_between(window_start, digest_day)
    ranking = select_papers(
        candidates, SelectionRules.from_config(config), exclude_ids=store.digested_before(digest_day)
    )
    store.save_digest(
        digest_day,
        ranking,
        generated_at=utc_now(),
        categories=config.categories,
        keywords=config.keywords,
        run_id=run_id,
        window_start=window_start,
    )

    summaries, summary_warnings = _summarize(
        config, store, ranking, arxiv, llm=llm, resummarize=resummarize, progress=progress, sleep=sleep
    )
    warnings.extend(summary_warnings)
    written = publish_outputs(store, config, day=digest_day)

    return RunReport(
        run_id=run_id,
        status="ok",
        day=digest_day,
        started_at=started,
        finished_at=utc_now(),
        fetched=fetched,
        new_papers=new_papers,
        selected=len(ranking),
        summarized=summaries.summarized if summaries else 0,
        summary_failures=summaries.unsummarized if summaries else 0,
        llm_calls=summaries.llm_calls if summaries else 0,
        cache_hits=summaries.cache_hits if summaries else 0,
        prompt_tokens=summaries.prompt_tokens if summaries else 0,
        completion_tokens=summaries.completion_tokens if summaries else 0,
        backfilled=backfilled,
        outputs=tuple(str(path) for path in written),
        warnings=tuple(warnings),
    )


def _fetch_today(config: Config, store: Store, arxiv: PoliteClient, run_id: int) -> tuple[date | None, int, int]:
    """Fetch and store the daily listing; return (its announcement day, items, papers new to the database).

    A 304 Not Modified means we already stored this listing: its announcements are re-read from the
    database, so a re-run of the same day produces the same digest without downloading it again.
    """
    url = daily_feed_url(config.arxiv.rss_url, config.categories)
    validators = store.http_validators(url)
    response = fetch_daily_feed(arxiv, url, validators)
    if response.not_modified and validators is not None:
        announced = validators.announced
        count = len(store.announcements_on(announced)) if announced else 0
        log.info("Daily listing not modified since the last run (%d announcements)", count)
        return announced, count, 0
    listing = parse_daily_feed(response.body or b"", source_url=url)
    if listing.skipped_items:
        log.warning("Skipped %d malformed item(s) in %s", listing.skipped_items, url)
    new_papers = store.save_announcements(listing.announcements)
    announced = listing.announced or _latest_day(listing.announcements)
    if announced is not None and listing.announcements:
        store.record_coverage([announced], "rss", run_id)
    store.save_http_validators(url, HttpValidators(response.etag, response.last_modified, announced))
    log.info("Fetched %d announcements (%d papers new to the database)", len(listing.announcements), new_papers)
    return announced, len(listing.announcements), new_papers


def _latest_day(announcements: Sequence[Announcement]) -> date | None:
    return max((a.announced for a in announcements), default=None)


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


def _summarize(
    config: Config,
    store: Store,
    ranking: Sequence[ScoredPaper],
    arxiv: PoliteClient,
    *,
    llm: openai.OpenAI | None,
    resummarize: bool,
    progress: bool,
    sleep: Callable[[float], None],
) -> tuple[SummaryRunReport | None, list[str]]:
    """Summarize the top papers; a failure costs the summaries, never the digest."""
    ai = config.ai_summary
    if not ai.enabled or ai.max_papers_to_summarize == 0 or not ranking:
        return None, []
    try:
        client = llm or make_llm_client(ai)
    except LLMAuthError:
        client = None  # summarize_papers still serves cached summaries and reports the missing key once
    owned = client if llm is None else None
    try:
        # PDFs come from arXiv too: downloading them through the same paced client keeps arXiv's
        # pacing across every request of the run.
        report = summarize_papers(
            [s.paper for s in ranking],
            config,
            store,
            llm=client,
            pdf_client=arxiv,
            resummarize=resummarize,
            progress=progress,
            sleep=sleep,
        )
    finally:
        if owned is not None:
            owned.close()
    return report, list(report.warnings())


def _http_client(config: Config, http: httpx.Client | None) -> AbstractContextManager[httpx.Client]:
    # A client handed in belongs to the caller, who closes it; one we build is closed after the run.
    return make_http_client(config.arxiv) if http is None else nullcontext(http)


def _polite(config: Config, client: httpx.Client, sleep: Callable[[float], None] | None) -> PoliteClient:
    if sleep is None:
        return make_polite_client(config.arxiv, client)
    return make_polite_client(config.arxiv, client, sleep=sleep)


__all__ = ["Preview", "preview_cycle", "run_backfill", "run_cycle"]
