"""Cycles run by the web service: on request, every day on schedule, and at start-up.

One cycle at a time: ``CycleRunner`` holds a lock that a requested, scheduled or start-up cycle
must take, and whoever finds it taken does not start another. After every cycle the in-memory site
is re-rendered from the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from arxivbot.config import Config
from arxivbot.errors import ArxivbotError
from arxivbot.publish.served import PublishedSite
from arxivbot.store import Store

if TYPE_CHECKING:
    from arxivbot.runtime import Runtime

log = logging.getLogger(__name__)

DAILY_JOB = "daily-cycle"
# How often the service looks for a cycle run by another process (``arxivbot run`` from cron).
RELOAD_CHECK_SECONDS = 60


class CycleRunner:
    """Runs ``run_cycle`` at most once at a time, then re-renders the site from the database.

    ``busy_elsewhere`` tells whether another process runs a cycle on the same database right now (it
    holds the run lock): a requested or start-up cycle is then not started at all.
    """

    def __init__(
        self,
        run_cycle: Callable[[], object],
        site: PublishedSite,
        *,
        busy_elsewhere: Callable[[], bool] = lambda: False,
    ) -> None:
        self._run_cycle = run_cycle
        self._site = site
        self._busy = threading.Lock()
        self._busy_elsewhere = busy_elsewhere

    @property
    def running(self) -> bool:
        return self._busy.locked()

    def start_in_background(self, reason: str) -> bool:
        """Start a cycle on its own thread; False (and nothing started) when one is running, here or elsewhere."""
        if not self._busy.acquire(blocking=False):
            return False
        if self._busy_elsewhere():
            self._busy.release()
            log.info("%s cycle not started: another process is running one on this database", reason)
            return False
        thread = threading.Thread(target=self._run_holding_lock, args=(reason,), name="arxivbot-cycle")
        thread.daemon = True
        thread.start()
        return True

    def run_now(self, reason: str) -> bool:
        """Run a cycle on the calling thread (the scheduler's); False when one is already running."""
        if not self._busy.acquire(blocking=False):
            log.info("%s cycle skipped: a cycle is already running", reason)
            return False
        self._run_holding_lock(reason)
        return True

    def _run_holding_lock(self, reason: str) -> None:
        try:
            log.info("%s cycle starting", reason)
            self._run_cycle()
        except ArxivbotError as err:
            log.error("%s cycle failed: %s", reason, err)
        except Exception:
            log.exception("%s cycle failed unexpectedly", reason)
        finally:
            try:
                self._site.refresh()
            except ArxivbotError as err:
                log.error("site not re-rendered after the cycle: %s", err)
            except Exception:
                log.exception("site not re-rendered after the cycle")
            self._busy.release()


def pipeline_cycle(config: Config, runtime: Runtime | None = None) -> Callable[[], object]:
    """A cycle for the service: on ``runtime`` (built once by ``serve``), or on a fresh one each time."""

    def run() -> object:
        from arxivbot.pipeline import run_cycle  # imported late: the pipeline pulls in every stage
        from arxivbot.runtime import open_runtime

        if runtime is not None:
            return run_cycle(config, runtime)
        with open_runtime(config) as fresh:
            return run_cycle(config, fresh)

    return run


def daily_trigger(config: Config) -> CronTrigger:
    hour, minute = config.server.schedule.split(":")
    return CronTrigger(hour=int(hour), minute=int(minute), timezone=ZoneInfo(config.server.timezone))


def next_scheduled_run(config: Config, now: datetime) -> datetime | None:
    """When the daily cycle fires next after ``now`` (timezone-aware)."""
    fire: datetime | None = daily_trigger(config).get_next_fire_time(None, now)
    return fire


def should_run_on_startup(store: Store, config: Config, now: datetime) -> bool:
    """True when enabled and no cycle completed today (UTC); a failed or crashed run does not count."""
    if not config.server.run_on_startup:
        return False
    today = now.astimezone(timezone.utc).date()
    return not any(run.status in ("ok", "empty") for run in store.runs_started_on(today))


def start_scheduler(config: Config, site: PublishedSite, runner: CycleRunner) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=ZoneInfo(config.server.timezone))
    scheduler.add_job(
        runner.run_now,
        daily_trigger(config),
        args=("scheduled",),
        id=DAILY_JOB,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )
    # A cycle started elsewhere (``arxivbot run`` from cron) changes the database, not this memory.
    scheduler.add_job(site.refresh_if_changed, IntervalTrigger(seconds=RELOAD_CHECK_SECONDS), id="reload-check")
    scheduler.start()
    log.info("daily cycle scheduled at %s %s", config.server.schedule, config.server.timezone)
    return scheduler
