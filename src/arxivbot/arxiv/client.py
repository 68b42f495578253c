"""Polite HTTP for arXiv: a descriptive User-Agent, timeouts, pacing, retries with backoff.

arXiv's terms ask for at most one API request every three seconds and a User-Agent that says who is
calling; it answers 429/503 when busy, sometimes with ``Retry-After``. :class:`PoliteClient` wraps an
``httpx.Client`` (passed in, so tests hand one pointed at a local server) and owns all of that. The
clock and the sleep are injectable so tests check the pacing without really waiting.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from arxivbot import USER_AGENT
from arxivbot.config import ArxivConfig
from arxivbot.errors import ArxivErrorFeed, FeedFormatError, FetchError

log = logging.getLogger(__name__)

# Timeouts, "too early", rate limiting and every 5xx: the issue asks for retries on any server error.
MAX_ERROR_BODY = 64 * 1024  # enough for arXiv's error feeds, never a whole response kept around
RETRYABLE_STATUS = frozenset({408, 425, 429, *range(500, 600)})


def user_agent(contact: str | None = None) -> str:
    """``arxivbot/0.1.0 (+https://…)``, with the operator's e-mail when configured."""
    return f"{USER_AGENT[:-1]}; mailto:{contact})" if contact else USER_AGENT


def make_http_client(arxiv: ArxivConfig, *, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An ``httpx.Client`` set up for arXiv: User-Agent, timeout, redirects followed."""
    return httpx.Client(
        headers={"User-Agent": user_agent(arxiv.contact)},
        timeout=httpx.Timeout(arxiv.timeout_seconds or None, connect=min(arxiv.timeout_seconds or 10.0, 10.0)),
        follow_redirects=True,
        transport=transport,
    )


class PoliteClient:
    """GETs with pacing between request starts, bounded retries and exponential backoff.

    Retried: connection errors, timeouts, and the statuses in ``RETRYABLE_STATUS``; a ``Retry-After``
    header (seconds or an HTTP date) is honoured when longer than the computed backoff, up to
    ``max_backoff``. Anything else that is not 2xx or 304 fails at once with a :class:`FetchError`.
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        max_retries: int = 4,
        min_interval: float = 0.0,
        backoff_base: float = 1.0,
        max_backoff: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.max_retries = max_retries
        self.min_interval = min_interval
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._clock = clock
        self._last_request: float | None = None
        self._turn = threading.Lock()  # summaries download PDFs from several threads at once

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_statuses: frozenset[int] = RETRYABLE_STATUS,
    ) -> httpx.Response:
        """The final successful (2xx/304) response; :class:`FetchError` after the last attempt."""
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            self._wait_turn()
            try:
                response = self.http.get(url, params=params, headers=headers)
            except httpx.TransportError as err:  # connection refused/reset, timeouts, protocol errors
                reason = _describe_transport_error(err)
                if attempt == attempts:
                    raise FetchError(
                        f"{url}: {reason} after {attempt} attempts; check your network or "
                        "arxiv.rss_url/arxiv.api_url, or try again later",
                        url=url,
                        attempts=attempt,
                    ) from None
                delay = self._backoff(attempt)
                log.warning("%s: %s; retrying in %.1f s (attempt %d of %d)", url, reason, delay, attempt, attempts)
                self._sleep(delay)
                continue
            if response.status_code < 300 or response.status_code == 304:
                return response
            if response.status_code not in retry_statuses or attempt == attempts:
                busy = response.status_code in retry_statuses
                raise FetchError(
                    f"{url}: HTTP {response.status_code} after {attempt} attempt(s)"
                    + (
                        "; arXiv is busy or down, try again later"
                        if busy
                        else "; check the address (arxiv.rss_url, arxiv.api_url, arxiv.pdf_url) and the categories"
                    ),
                    url=url,
                    status=response.status_code,
                    attempts=attempt,
                    body=response.content[:MAX_ERROR_BODY],
                )
            delay = max(self._backoff(attempt), _retry_after(response) or 0.0)
            delay = min(delay, self.max_backoff)
            log.warning(
                "%s: HTTP %d; retrying in %.1f s (attempt %d of %d)",
                url,
                response.status_code,
                delay,
                attempt,
                attempts,
            )
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def pause(self, seconds: float) -> None:
        """Wait (with the injected sleep) — for callers that must back off on a valid-but-empty page."""
        self._sleep(seconds)

    def _wait_turn(self) -> None:
        """Keep at least ``min_interval`` seconds between the starts of two requests, across threads."""
        with self._turn:
            now = self._clock()
            if self._last_request is not None and self.min_interval > 0:
                remaining = self._last_request + self.min_interval - now
                if remaining > 0:
                    self._sleep(remaining)
                    now = self._clock()
            self._last_request = now

    def _backoff(self, attempt: int) -> float:
        # Exponential with a little jitter, so many clients retrying do not all come back at once.
        base = self.backoff_base * (2 ** (attempt - 1))
        return min(self.max_backoff, base * (1 + random.uniform(0, 0.1)))


def make_polite_client(
    arxiv: ArxivConfig,
    http: httpx.Client | None = None,
    *,
    min_interval: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> PoliteClient:
    """A :class:`PoliteClient` configured from the ``arxiv`` config section."""
    return PoliteClient(
        http or make_http_client(arxiv),
        max_retries=arxiv.max_retries,
        min_interval=arxiv.request_delay_seconds if min_interval is None else min_interval,
        sleep=sleep,
        clock=clock,
    )


def raise_arxiv_reason(err: FetchError, parse: Callable[[bytes], object]) -> None:
    """Raise arXiv's own explanation of a refusal when ``err`` carries one of its error documents.

    arXiv refuses an unknown category or a bad query with HTTP 400 and an error feed saying why;
    ``parse`` (the caller's parser) turns that into an :class:`ArxivErrorFeed`. Any other body changes
    nothing: the caller re-raises ``err`` itself.
    """
    if not err.body:
        return
    try:
        parse(err.body)
    except ArxivErrorFeed as explained:
        raise explained from None
    except FeedFormatError:
        return


def _retry_after(response: httpx.Response) -> float | None:
    return parse_retry_after(response.headers.get("Retry-After"))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP date; None if absent or bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _describe_transport_error(err: httpx.TransportError) -> str:
    if isinstance(err, httpx.TimeoutException):
        return "timed out"
    if isinstance(err, httpx.ConnectError):
        return "connection failed"
    return f"network error ({type(err).__name__})"
