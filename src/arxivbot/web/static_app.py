"""``create_static_app``: the site a run published, served read-only (Vercel and other read-only hosts)."""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from arxivbot import __version__
from arxivbot.config import Config
from arxivbot.publish.assets import STATIC_FILES
from arxivbot.publish.feeds import feed_path
from arxivbot.publish.served import Resource
from arxivbot.publish.site import NOT_FOUND_PAGE, PAGE, PAPERS_JSON
from arxivbot.web.site_routes import site_routes

log = logging.getLogger(__name__)


def create_static_app(site_dir: Path, config: Config | None = None) -> Starlette:
    """The site that a run published in ``site_dir``, served read-only: for Vercel and other read-only hosts.

    The files are read once, here; after that nothing is written, no database is opened, arXiv is
    never contacted and no schedule runs. The routes, headers, ETags and 304s are those of
    ``serve.create_app`` (day pages, search index and assets included); ``/config``, ``POST /update``
    and ``POST /api/feedback`` do not exist, and the pages have no like/dislike buttons. ``/health``
    describes the published digest, or answers 503 while there is none. Feeds are served for the
    categories in ``config`` (when given), otherwise for every category feed found in ``site_dir``.
    """
    resources = _read_published_site(site_dir)
    categories = config.categories if config is not None else _published_categories(resources)
    health_body, health_status = _static_health(site_dir, resources)

    async def health(request: Request) -> Response:
        return JSONResponse(health_body, status_code=health_status, headers={"Cache-Control": "no-store"})

    return Starlette(routes=[*site_routes(resources.get, categories), Route("/health", health)])


def _published_names(site_dir: Path) -> list[str]:
    names = [PAGE, NOT_FOUND_PAGE, PAPERS_JSON, *(feed_path(fmt) for fmt in ("rss", "atom")), *STATIC_FILES]
    for fmt in ("rss", "atom"):
        folder = site_dir / fmt
        if folder.is_dir():
            names += sorted(f"{fmt}/{path.name}" for path in folder.glob("*.xml") if path.is_file())
    names += sorted(path.relative_to(site_dir).as_posix() for path in site_dir.glob("[0-9]*-[0-9]*-[0-9]*/index.html"))
    names += sorted(f"search/{path.name}" for path in site_dir.glob("search/*.json"))
    return names


def _read_published_site(site_dir: Path) -> dict[str, Resource]:
    """Every published file in ``site_dir`` as a ready-to-send Resource, keyed by its path in the site."""
    names = _published_names(site_dir)
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
    feeds = (name for name in resources if name.startswith(("rss/", "atom/")))
    return sorted({name.split("/", 1)[1].removesuffix(".xml") for name in feeds})


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
