"""The web service: the published site from memory, a health report, and a protected refresh.

Nothing here renders per request, and no request ever fetches from arXiv. The site (page, feeds,
JSON) is rendered from the database into memory (``render_site``) at start-up and again after every
cycle, then served as bytes with a strong ETag (hash of the bytes), Last-Modified, a gzip variant
compressed once, and Cache-Control. A conditional request gets 304.

Routes (each feed also under its file name, so the links inside the static site work here too)::

    GET  /  /index.html             the digest page
    GET  /rss  /rss.xml             RSS 2.0, all categories     /rss/<category>[.xml]
    GET  /atom  /atom.xml           Atom 1.0, all categories    /atom/<category>[.xml]
    GET  /papers.json               the digest as JSON (docs/papers-json.md)
    GET  /health                    last run, its status and counts, next scheduled run
    GET  /config                    the effective configuration (env var names only, no secrets)
    POST /update                    start a cycle in the background (Bearer token)

``POST /update`` answers 202 when it started a cycle and **409** when one is already running (the
running one is not disturbed and no second one starts). Without a token configured
(``server.update_token_env`` unset, or its env var empty) it answers 403 "disabled"; a missing
``Authorization: Bearer`` header gets 401, a wrong token 403. ``GET /update`` is 405 and triggers
nothing. A daily cycle runs at ``server.schedule`` in ``server.timezone`` (APScheduler), plus one at
start-up when the database has no completed run today and ``server.run_on_startup`` is true.

The bytes in memory live in ``publish/served.py``; the cycles and the schedule in ``schedule.py``.

``create_static_app`` is the read-only variant for hosts without a writable disk (Vercel, see
``api/index.py``): the same site routes over the files a run published, read once at start-up.
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import json
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from arxivbot import __version__
from arxivbot.config import Config
from arxivbot.errors import ServeError
from arxivbot.models import RunReport
from arxivbot.publish.feeds import feed_path
from arxivbot.publish.served import PublishedSite, Resource, reader
from arxivbot.publish.site import PAGE, PAPERS_JSON
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

__all__ = ["create_app", "create_static_app", "next_scheduled_run", "serve", "should_run_on_startup"]

log = logging.getLogger(__name__)

SITE_CACHE_CONTROL = "public, max-age=300"
# The page carries no script of its own: if escaping ever failed, the browser would still not run any.
PAGE_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


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
    runner = CycleRunner(run_cycle or pipeline_cycle(config, runtime), site)
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
        refusal = _refuse_update(request, config)
        if refusal is not None:
            return refusal
        if not runner.start_in_background("requested"):
            return _json({"status": "already running"}, 409)
        return _json({"status": "started"}, 202)

    routes = [
        *site_routes(site.get, config.categories),
        Route("/health", health),
        Route("/config", effective_config),
        Route("/update", update, methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.service = state
    return app


def create_static_app(site_dir: Path, config: Config | None = None) -> Starlette:
    """The site that a run published in ``site_dir``, served read-only: for Vercel and other read-only hosts.

    The files are read once, here; after that nothing is written, no database is opened, arXiv is
    never contacted and no schedule runs. The routes, headers, ETags and 304s are those of
    :func:`create_app`; ``/config`` and ``POST /update`` do not exist. ``/health`` describes the
    published digest, or answers 503 while there is none. Feeds are served for the categories in
    ``config`` (when given), otherwise for every category feed found in ``site_dir``.
    """
    resources = _read_published_site(site_dir)
    categories = config.categories if config is not None else _published_categories(resources)
    health_body, health_status = _static_health(site_dir, resources)

    async def health(request: Request) -> Response:
        return JSONResponse(health_body, status_code=health_status, headers={"Cache-Control": "no-store"})

    return Starlette(routes=[*site_routes(resources.get, categories), Route("/health", health)])


def _read_published_site(site_dir: Path) -> dict[str, Resource]:
    """Every published file in ``site_dir`` as a ready-to-send Resource, keyed by its path in the site."""
    names = [PAGE, PAPERS_JSON, *(feed_path(fmt) for fmt in ("rss", "atom"))]
    for fmt in ("rss", "atom"):
        folder = site_dir / fmt
        if folder.is_dir():
            names += sorted(f"{fmt}/{path.name}" for path in folder.glob("*.xml") if path.is_file())
    files = {name: (site_dir / name).read_bytes() for name in names if (site_dir / name).is_file()}
    if not files:
        log.warning("%s: no published site (run `arxivbot run` first); /health answers 503", site_dir)
    # File times are no guide on a host that unpacks a deployment (they can all read 1980): the digest's
    # own generation time is the moment the content last changed.
    modified = _generated_at(files.get(PAPERS_JSON)) or datetime.now(timezone.utc)
    return {name: Resource.of(name, body, modified) for name, body in files.items()}


def _generated_at(papers_json: bytes | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(json.loads(papers_json or b"")["generated_at"])
    except (ValueError, TypeError, KeyError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _published_categories(resources: dict[str, Resource]) -> list[str]:
    return sorted({name.split("/", 1)[1].removesuffix(".xml") for name in resources if "/" in name})


def _static_health(site_dir: Path, resources: dict[str, Resource]) -> tuple[dict[str, Any], int]:
    digest: dict[str, Any] = {}
    if PAPERS_JSON in resources:
        with contextlib.suppress(ValueError):
            document = json.loads(resources[PAPERS_JSON].body)
            digest = {key: document.get(key) for key in ("day", "generated_at", "paper_count")}
    body = {
        "status": "ok" if resources else "no site",
        "mode": "static",
        "version": __version__,
        "running": False,
        "digest": digest or None,
        "files": len(resources),
        "schedule": {"enabled": False},
    }
    if not resources:
        body["error"] = f"no published site in {site_dir.name}/: commit the output of `arxivbot run` first"
        return body, 503
    return body, 200


def site_routes(lookup: Callable[[str], Resource | None], categories: Collection[str]) -> list[Route]:
    """The page, the JSON and every feed, each answered from ``lookup`` (path in the site -> bytes)."""

    async def page(request: Request) -> Response:
        return _send(request, lookup(PAGE), security_policy=True)

    async def papers(request: Request) -> Response:
        return _send(request, lookup(PAPERS_JSON))

    def feed(fmt: str) -> Callable[[Request], Any]:
        async def all_papers(request: Request) -> Response:
            return _send(request, lookup(feed_path(fmt)))

        return all_papers

    def category_feed(fmt: str) -> Callable[[Request], Any]:
        async def one_category(request: Request) -> Response:
            category = request.path_params["category"].removesuffix(".xml")
            if category not in categories:  # only known names ever reach the lookup
                return _not_found()
            return _send(request, lookup(feed_path(fmt, category)))

        return one_category

    routes = [Route("/", page), Route("/index.html", page), Route("/papers.json", papers)]
    for fmt in ("rss", "atom"):
        routes += [
            Route(f"/{fmt}", feed(fmt)),
            Route(f"/{fmt}.xml", feed(fmt)),
            Route(f"/{fmt}/{{category}}", category_feed(fmt)),
        ]
    return routes


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


# --- HTTP details -------------------------------------------------------------------------------------------


def _send(request: Request, resource: Resource | None, *, security_policy: bool = False) -> Response:
    if resource is None:
        return _not_found()
    gzipped = _accepts_gzip(request.headers.get("accept-encoding", ""))
    answers = _answers(resource, gzipped, security_policy)
    if _not_modified(request, answers.etag, resource.last_modified):
        return answers.not_modified
    return answers.full


@dataclass(frozen=True)
class _Answers:
    etag: str
    full: Response
    not_modified: Response


@functools.lru_cache(maxsize=64)  # 12 files x 2 encodings: a site and its predecessors
def _answers(resource: Resource, gzipped: bool, security_policy: bool) -> _Answers:
    """The 200 and the 304 for one file in one encoding, built once and sent as they are by every request.

    A Starlette ``Response`` is plain data (status, encoded headers, body) that no code here changes
    after building it, so one object can answer every request; the cache holds the few current files
    (a re-rendered site brings new resources, and the old ones age out).
    """
    etag = resource.gzip_etag if gzipped else resource.etag
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(resource.last_modified, usegmt=True),
        "Cache-Control": SITE_CACHE_CONTROL,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if security_policy:
        headers["Content-Security-Policy"] = PAGE_SECURITY_POLICY
    not_modified = Response(status_code=304, headers=headers)
    headers["Content-Type"] = resource.content_type
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    return _Answers(etag, Response(resource.gzip_body if gzipped else resource.body, headers=headers), not_modified)


def _not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present; If-Modified-Since only otherwise."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False  # an unparsable date is ignored, as the RFC says
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        return last_modified <= since
    return False


def _accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _refuse_update(request: Request, config: Config) -> Response | None:
    """None when the request carries the configured token; otherwise the refusal to send."""
    env_name = config.server.update_token_env
    expected = os.environ.get(env_name, "") if env_name else ""
    if not expected:
        return _json(
            {
                "error": "refresh is disabled: set server.update_token_env to the name of an "
                "environment variable that holds a token"
            },
            403,
        )
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _json(
            {"error": "missing token: send Authorization: Bearer <token>"},
            401,
            {"WWW-Authenticate": 'Bearer realm="arxivbot"'},
        )
    if not hmac.compare_digest(token.strip().encode("utf-8"), expected.encode("utf-8")):
        return _json({"error": "wrong token"}, 403)
    return None


def _json(data: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


def _not_found() -> Response:
    return Response(b"not found\n", status_code=404, media_type="text/plain")


# --- running it -------------------------------------------------------------------------------------------


def serve(config: Config, *, host: str | None = None, port: int | None = None) -> None:
    """Run the service under uvicorn until interrupted. Raises ``ServeError`` if it cannot listen."""
    bind_host = host or config.server.host
    bind_port = config.server.port if port is None else port
    listener = _listen(bind_host, bind_port)
    with open_runtime(config) as runtime:  # one runtime for every cycle of the service's life
        app = create_app(config, runtime=runtime)
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="info", server_header=False, proxy_headers=False, lifespan="on")
        )
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
    return listener
