"""``POST /api/feedback``: like / dislike from the page, recorded as ``arxivbot like/dislike`` records them.

Request: ``Authorization: Bearer <update token>`` and a JSON body ``{"id": "<arXiv id>", "verdict":
"like" | "dislike" | "none"}`` ("none" forgets the verdict). Answers (always JSON, never a traceback)::

    200  {"id": "2512.20276", "verdict": "like"}      recorded
    400  malformed JSON, a missing or wrong field, not an arXiv identifier
    401  no bearer token, or a wrong one               403  no token configured: feedback is disabled
    404  a paper the database does not know           413  a body over 1 KB
    429  too many requests from this client (Retry-After)   503  the database is busy or unwritable

Nothing from the browser is trusted: the checks run in that order (rate, token, size, JSON, id) and
the store is opened for writing only once all passed, so a refusal never changes it. The service
otherwise reads the database read-only; each verdict takes one short write transaction.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from arxivbot.config import Config
from arxivbot.errors import ArxivbotError
from arxivbot.models import split_arxiv_id
from arxivbot.store import open_store
from arxivbot.web.http import json_response, token_refusal

log = logging.getLogger(__name__)

FEEDBACK_PATH = "/api/feedback"
MAX_BODY_BYTES = 1024
VERDICTS = ("like", "dislike", "none")


class RateLimiter:
    """A token bucket per client: ``burst`` requests at once, then ``per_second`` on average.

    A few lines of our own rather than a dependency: one process, one bucket per address, in memory.
    The table is bounded: when it grows past ``max_clients``, buckets that are full again are dropped.
    """

    def __init__(
        self,
        burst: int = 30,
        per_second: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 4096,
    ) -> None:
        self.burst = float(burst)
        self.per_second = per_second
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, when)
        self._lock = threading.Lock()

    def allow(self, client: str) -> float:
        """0 when ``client`` may go ahead (and takes a token); else the seconds until it may."""
        with self._lock:
            now = self._clock()
            tokens, when = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.per_second)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                return (1.0 - tokens) / self.per_second
            self._buckets[client] = (tokens - 1.0, now)
            if len(self._buckets) > self._max_clients:
                self._forget_idle(now)
            return 0.0

    def _forget_idle(self, now: float) -> None:
        full = [
            c for c, (tokens, when) in self._buckets.items() if tokens + (now - when) * self.per_second >= self.burst
        ]
        for client in full:
            del self._buckets[client]


def feedback_route(config: Config, limiter: RateLimiter | None = None) -> Route:
    """The ``POST /api/feedback`` route for the service over ``config``'s database."""
    bucket = limiter or RateLimiter()

    async def feedback(request: Request) -> Response:
        client = request.client.host if request.client else "unknown"
        wait = bucket.allow(client)
        if wait:
            return json_response(
                {"error": "too many feedback requests: wait a moment"}, 429, {"Retry-After": str(math.ceil(wait))}
            )
        refusal = token_refusal(request, config, action="feedback", wrong_status=401)
        if refusal is not None:
            return refusal
        body = await _read_capped(request, MAX_BODY_BYTES)
        if body is None:
            return json_response({"error": f"request body too large: at most {MAX_BODY_BYTES} bytes"}, 413)
        parsed = _parse_verdict(body)
        if isinstance(parsed, str):
            return json_response({"error": parsed}, 400)
        arxiv_id, verdict = parsed
        try:
            return await run_in_threadpool(_record, config, arxiv_id, verdict)
        except ArxivbotError as err:
            log.warning("feedback not recorded: %s", err)
            return json_response({"error": "the database is busy or cannot be written: try again"}, 503)

    return Route(FEEDBACK_PATH, feedback, methods=["POST"])


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed ``limit`` bytes (declared or sent)."""
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > limit):
        return None
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            return None
    return bytes(received)


def _parse_verdict(body: bytes) -> tuple[str, str] | str:
    """``(arXiv id as sent, verdict)``, or the message of a 400."""
    expected = 'send JSON like {"id": "2512.20276", "verdict": "like"} (verdict: like, dislike or none)'
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return f"the body is not JSON: {expected}"
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or data.get("verdict") not in VERDICTS:
        return f"unexpected body: {expected}"
    text = data["id"].strip()
    try:
        split_arxiv_id(text)
    except ValueError:
        return "id: not an arXiv identifier (expected e.g. 2512.20276 or 2512.20276v2)"
    return text, data["verdict"]


def _record(config: Config, text: str, verdict: str) -> Response:
    arxiv_id, _ = split_arxiv_id(text)
    with open_store(config.storage.database) as store:
        if not store.known_ids([arxiv_id]):
            return json_response({"error": f"unknown paper: {arxiv_id} is not in the database"}, 404)
        if verdict == "none":
            store.remove_feedback([text])
        else:
            store.record_feedback([text], verdict)
    log.info("feedback from the page: %s %s", verdict, arxiv_id)
    return json_response({"id": arxiv_id, "verdict": verdict}, 200)
