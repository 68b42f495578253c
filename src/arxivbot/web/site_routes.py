"""The routes of the published site, each answered from a lookup (path in the site → Resource).

::

    GET  /  /index.html                  the latest day and the archive
    GET  /YYYY-MM-DD/  /YYYY-MM-DD/index.html   one day's page (a day without a digest: the 404 page)
    GET  /static/<file>                  the page's stylesheet and script, the vendored MiniSearch
    GET  /search/<file>.json             the search index: manifest.json and one shard per month
    GET  /papers.json                    the latest digest as JSON
    GET  /rss  /rss.xml  /rss/<category>[.xml]    and the same under /atom

Only paths the site has are ever looked up: anything else is a plain 404, whatever its dots and
slashes, since a lookup is a dictionary access, never a file-system path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import date
from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from arxivbot.publish.feeds import feed_path
from arxivbot.publish.served import Resource
from arxivbot.publish.site import NOT_FOUND_PAGE, PAGE, PAPERS_JSON
from arxivbot.web.http import not_found, send

Lookup = Callable[[str], "Resource | None"]


class DayConvertor(Convertor[str]):
    """``YYYY-MM-DD`` in a path: a day page's folder."""

    regex = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("day", DayConvertor())
_SEARCH_FILE = re.compile(r"(manifest|[0-9]{4}-[0-9]{2})\.json")


def site_routes(lookup: Lookup, categories: Collection[str]) -> list[Route]:
    """The pages, the search index, the assets, the JSON and every feed."""

    async def page(request: Request) -> Response:
        return send(request, lookup(PAGE), page=True)

    async def day_page(request: Request) -> Response:
        day = request.path_params["day"]
        resource = lookup(f"{day}/index.html") if _is_date(day) else None
        if resource is None:
            return _not_found_page(request, lookup)
        return send(request, resource, page=True)

    async def static(request: Request) -> Response:
        return send(request, lookup(f"static/{request.path_params['path']}"))

    async def search(request: Request) -> Response:
        name = request.path_params["name"]
        return send(request, lookup(f"search/{name}")) if _SEARCH_FILE.fullmatch(name) else not_found()

    async def papers(request: Request) -> Response:
        return send(request, lookup(PAPERS_JSON))

    def feed(fmt: str) -> Callable[[Request], Any]:
        async def all_papers(request: Request) -> Response:
            return send(request, lookup(feed_path(fmt)))

        return all_papers

    def category_feed(fmt: str) -> Callable[[Request], Any]:
        async def one_category(request: Request) -> Response:
            category = request.path_params["category"].removesuffix(".xml")
            if category not in categories:  # only known names ever reach the lookup
                return not_found()
            return send(request, lookup(feed_path(fmt, category)))

        return one_category

    routes = [
        Route("/", page),
        Route("/index.html", page),
        Route("/{day:day}/", day_page),
        Route("/{day:day}/index.html", day_page),
        Route("/static/{path:path}", static),
        Route("/search/{name}", search),
        Route("/papers.json", papers),
    ]
    for fmt in ("rss", "atom"):
        routes += [
            Route(f"/{fmt}", feed(fmt)),
            Route(f"/{fmt}.xml", feed(fmt)),
            Route(f"/{fmt}/{{category}}", category_feed(fmt)),
        ]
    return routes


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _not_found_page(request: Request, lookup: Lookup) -> Response:
    """A day without a digest: the site's 404 page (HTML, status 404)."""
    resource = lookup(NOT_FOUND_PAGE)
    return send(request, resource, page=True, status=404) if resource is not None else not_found()
