"""The web service: the published site from memory, a health report, and a protected refresh.

Nothing here renders per request, and no request ever fetches from arXiv. The site (page, feeds,
JSON) is rendered from the database into memory (``render_site``) at start-up and again after every
cycle, then served as bytes with a strong ETag (hash of the bytes), Last-Modified, a gzip variant
compressed once, and Cache-Control. A conditional request gets 304.

Routes (each feed also under its file name, so the links inside the static site work here too)::

    GET  /  /index.html             the latest day's page and the archive
    GET  /YYYY-MM-DD/               one day's page (a day without a digest: the 404 page)
    GET  /static/...  /search/...   the page's script, stylesheet and search index
    GET  /rss  /rss.xml             RSS 2.0, all categories     /rss/<category>[.xml]
    GET  /atom  /atom.xml           Atom 1.0, all categories    /atom/<category>[.xml]
    GET  /papers.json               the digest as JSON (docs/papers-json.md)
    GET  /health                    last run, its status and counts, next scheduled run
    GET  /config                    the effective configuration (env var names only, no secrets)
    POST /update                    start a cycle in the background (Bearer token)
    POST /api/feedback              like / dislike a paper from the page (Bearer token; web/feedback.py)

``POST /update`` answers 202 when it started a cycle and **409** when one is already running, in this
process or in another one on the same database (``arxivbot run`` from cron holds the run lock): the
running one is not disturbed and no second one starts. Without a token configured
(``server.update_token_env`` unset, or its env var empty) it answers 403 "disabled"; a missing
``Authorization: Bearer`` header gets 401, a wrong token 403. ``GET /update`` is 405 and triggers
nothing. A daily cycle runs at ``server.schedule`` in ``server.timezone`` (APScheduler), plus one at
start-up when the database has no completed run today and ``server.run_on_startup`` is true.

The bytes in memory live in ``publish/served.py``; the cycles and the schedule in ``schedule.py``; the
site's routes, the HTTP details and the feedback endpoint in the ``web`` package.

``create_static_app`` (``web/static_app.py``) is the read-only variant for hosts without a writable
disk (Vercel, see ``api/index.py``): the same site routes over the files a run published.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from arxivbot import __version__
from arxivbot.config import Config, require_interest
from arxivbot.connection_guard import uvicorn_config
from arxivbot.errors import ServeError
from arxivbot.models import RunReport
from arxivbot.publish.served import PublishedSite, reader
from arxivbot.runlock import held_elsewhere
from arxivbot.runtime import Runtime, open_runtime
from arxivbot.schedule import (
    DAILY_JOB,
    CycleRunner,
    next_scheduled_run,
    pipeline_cycle,
    should_run_on_startup,
    start_scheduler,
)
from arxivbot.store import open_store
from arxivbot.web.feedback import feedback_route
from arxivbot.web.http import PAGE_SECURITY_POLICY, SITE_CACHE_CONTROL, json_response, token_refusal
from arxivbot.web.site_routes import site_routes
from arxivbot.web.static_app import create_static_app

__all__ = [
    "PAGE_SECURITY_POLICY",
    "SITE_CACHE_CONTROL",
    "create_app",
    "create_static_app",
    "next_scheduled_run",
    "serve",
    "should_run_on_startup",
    "site_routes",
]

log = logging.getLogger(__name__)


def create_app(
    config: Config,
    *,
    runtime: Runtime | None = None,
    run_cycle: Callable[[], object] | None = None,
    scheduler: bool = True,
) -> Starlette:
    """The ASGI app. Cycles run on ``runtime`` (or on a fresh one each), or call ``run_cycle`` (tests).

    ``scheduler=False`` runs no daily and no start-up cycle (tests, external cron).
    """
    open_store(config.storage.database).close()  # create and migrate the database once; then only read it
    site = PublishedSite(config)
    site.refresh()
    runner = CycleRunner(
        run_cycle or pipeline_cycle(config, runtime),
        site,
        busy_elsewhere=lambda: held_elsewhere(config.storage.database),  # a cron run holds the run lock
    )
    state = _ServiceState(config=config, site=site, runner=runner)
    config_body = json.dumps(config.public_dict(), ensure_ascii=False, indent=2).encode("utf-8")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if scheduler:
            state.scheduler = start_scheduler(config, site, runner)
            with reader(config) as store:
                if should_run_on_startup(store, config, datetime.now(timezone.utc)):
                    runner.start_in_background("start-up")
        try:
            yield
        finally:
            if state.scheduler is not None:
                state.scheduler.shutdown(wait=False)
                state.scheduler = None

    def health(request: Request) -> Response:  # sync: Starlette runs it in a thread, off the event loop
        return JSONResponse(state.health(), headers={"Cache-Control": "no-store"})

    async def effective_config(request: Request) -> Response:
        return Response(config_body, media_type="application/json", headers={"Cache-Control": "no-store"})

    async def update(request: Request) -> Response:
        refusal = token_refusal(request, config, action="refresh")
        if refusal is not None:
            return refusal
        if not runner.start_in_background("requested"):
            return json_response({"status": "already running"}, 409)
        return json_response({"status": "started"}, 202)

    routes = [
        *site_routes(site.get, config.categories),
        Route("/health", health),
        Route("/config", effective_config),
        Route("/update", update, methods=["POST"]),
        feedback_route(config),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.service = state
    return app


@dataclass
class _ServiceState:
    config: Config
    site: PublishedSite
    runner: CycleRunner
    scheduler: BackgroundScheduler | None = None

    def health(self) -> dict[str, Any]:
        with reader(self.config) as store:
            last = store.last_run()
            completed = store.last_run(status="ok")
        next_run = None
        if self.scheduler is not None:
            job = self.scheduler.get_job(DAILY_JOB)
            next_run = job.next_run_time if job is not None else None
        return {
            "status": "ok",
            "version": __version__,
            "running": self.runner.running,
            "last_run": _run_report(last),
            "last_successful_run": _run_report(completed),
            "next_run": _iso(next_run),
            "schedule": {
                "enabled": self.scheduler is not None,
                "time": self.config.server.schedule,
                "timezone": self.config.server.timezone,
            },
            "site_rendered_at": _iso(self.site.rendered_at),
        }


def _run_report(run: RunReport | None) -> dict[str, Any] | None:
    return None if run is None else run.to_dict()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


# --- running it -------------------------------------------------------------------------------------------


def serve(config: Config, *, host: str | None = None, port: int | None = None) -> None:
    """Run the service under uvicorn until interrupted. Raises ``ServeError`` if it cannot listen."""
    require_interest(config)  # its cycles rank: refuse now, not at the first scheduled run
    bind_host = host or config.server.host
    bind_port = config.server.port if port is None else port
    listener = _listen(bind_host, bind_port)
    with open_runtime(config) as runtime:  # one runtime for every cycle of the service's life
        app = create_app(config, runtime=runtime)
        server = uvicorn.Server(uvicorn_config(app, config.server))  # with slow clients timed out
        log.info("serving on http://%s:%d/", bind_host, listener.getsockname()[1])
        server.run(sockets=[listener])


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
    except OSError as err:
        listener.close()
        raise ServeError(
            f"cannot listen on {host}:{port} ({err.strerror or err}); pass another --port or --host"
        ) from None
    listener.set_inheritable(True)
    listener.listen(2048)  # connections queue from now on ("serving on" is true), uvicorn's default backlog
    return listener
