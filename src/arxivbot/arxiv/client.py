"""Polite HTTP for arXiv: a descriptive User-Agent, timeouts, pacing, retries with backoff.

arXiv's terms ask for at most one API request every three seconds and a User-Agent that says who is
calling; it answers 429/503 when busy, sometimes with ``Retry-After``. :class:`PoliteClient` wraps an
``httpx.Client`` (passed in, so tests hand one pointed at a local server) and owns the pacing; its
retries follow the one policy of :mod:`arxivbot.retry`. The clock and the sleep are injectable so
tests check the pacing and the backoff without really waiting.

:func:`make_http_client` mounts :class:`~arxivbot.arxiv.files.FileTransport` for ``file://``, so a
local feed, API answer or PDF folder (offline demos, tests) is fetched with the same GETs as arXiv.

Answers are read as they stream in, against a cap per kind of answer (:class:`ResponseLimits`, from
``arxiv.max_feed_mb``, ``max_api_mb`` and ``max_pdf_mb``): a server that sends far too much (garbage, a
gzip bomb) fails the fetch once the cap is passed, instead of filling memory. Wherever the first bytes
of a body are quoted in an error, :func:`body_preview` makes them safe to print.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from arxivbot import USER_AGENT
from arxivbot.arxiv.files import FileTransport, with_host
from arxivbot.config import ArxivConfig
from arxivbot.errors import ArxivErrorFeed, FeedFormatError, FetchError
from arxivbot.retry import RetriesExhausted, Retryable, RetryPolicy, server_retry_after

# Timeouts, "too early", rate limiting and every 5xx: the issue asks for retries on any server error.
MAX_ERROR_BODY = 64 * 1024  # enough for arXiv's error feeds, never a whole response kept around
RETRYABLE_STATUS = frozenset({408, 425, 429, *range(500, 600)})
# Pacing is politeness towards a server; reading a local file (file://) needs none.
_PACED_SCHEMES = frozenset({"http", "https"})
_MB = 1024 * 1024
_PREVIEW_BYTES = 40
_HEX_BYTES = 16


@dataclass(frozen=True, slots=True)
class Cap:
    """The most one answer may hold, decoded: ``what`` it is and the ``setting`` that raises the cap."""

    max_bytes: int
    what: str
    setting: str


@dataclass(frozen=True, slots=True)
class ResponseLimits:
    """A cap per kind of answer arXiv gives: the daily feed, one API page, one PDF."""

    feed: Cap
    api: Cap
    pdf: Cap

    @classmethod
    def from_config(cls, arxiv: ArxivConfig) -> ResponseLimits:
        return cls(
            feed=Cap(int(arxiv.max_feed_mb * _MB), "daily feed", "arxiv.max_feed_mb"),
            api=Cap(int(arxiv.max_api_mb * _MB), "arXiv API answer", "arxiv.max_api_mb"),
            pdf=Cap(int(arxiv.max_pdf_mb * _MB), "PDF", "arxiv.max_pdf_mb"),
        )


def printable(text: str, limit: int = 200) -> str:
    """``text`` (e.g. a parser's message quoting the body) with control characters escaped, cut to ``limit``."""
    safe = "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def body_preview(data: bytes, limit: int = _PREVIEW_BYTES) -> str:
    """The first bytes of an answer, safe to print in an error: quoted text with escapes, or hex.

    Raw bytes from a server never reach a terminal or a log: control characters (an escape sequence
    could rewrite the terminal) are escaped, and a body that is not text (not UTF-8, or mostly control
    characters) is shown as hex.
    """
    if not data:
        return "nothing (an empty body)"
    head = data[:limit]
    text: str | None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as err:
        # A character cut in two at the limit is still text; anything else undecodable is binary.
        text = head[: err.start].decode("utf-8") if err.start >= len(head) - 3 and err.end == len(head) else None
    if text is None or sum(not char.isprintable() and char not in "\t\r\n" for char in text) > len(text) // 4:
        shown = data[:_HEX_BYTES]
        return f"bytes {shown.hex(' ')}" + (" …" if len(data) > len(shown) else "") + " (not text)"
    more = "…" if len(data) > len(head) else ""
    return '"' + printable(text, limit=4 * limit).replace('"', '\\"') + more + '"'


def user_agent(contact: str | None = None) -> str:
    """``arxivbot/0.1.0 (+https://…)``, with the operator's e-mail when configured."""
    return f"{USER_AGENT[:-1]}; mailto:{contact})" if contact else USER_AGENT


def make_http_client(arxiv: ArxivConfig, *, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An ``httpx.Client`` set up for arXiv: User-Agent, timeout, redirects followed, ``file://`` served.

    Without a ``transport``, the network one is built at the first http(s) request: a run that reads
    a local feed never loads the system's TLS certificates (httpx loads them when a transport is made).
    """
    return httpx.Client(
        headers={"User-Agent": user_agent(arxiv.contact)},
        timeout=httpx.Timeout(arxiv.timeout_seconds or None, connect=min(arxiv.timeout_seconds or 10.0, 10.0)),
        follow_redirects=True,
        transport=transport or NetworkOnFirstUse(),
        mounts={"file://": FileTransport()},
    )


class NetworkOnFirstUse(httpx.BaseTransport):
    """httpx's own ``HTTPTransport`` with its defaults, made when the first request needs it."""

    def __init__(self) -> None:
        self._transport: httpx.HTTPTransport | None = None
        self._making = threading.Lock()  # PDFs are downloaded from several threads

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._transport is None:
            with self._making:
                if self._transport is None:
                    self._transport = httpx.HTTPTransport()
        return self._transport.handle_request(request)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class PoliteClient:
    """GETs with pacing between request starts and bounded retries (see :mod:`arxivbot.retry`).

    Retried: connection errors, timeouts, and the statuses in ``RETRYABLE_STATUS``; a ``Retry-After``
    header (seconds or an HTTP date) is honoured when longer than the computed backoff, up to
    ``max_backoff``. Anything else that is not 2xx or 304 fails at once with a :class:`FetchError`.
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        limits: ResponseLimits | None = None,
        max_retries: int = 4,
        min_interval: float = 0.0,
        backoff_base: float = 1.0,
        max_backoff: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.limits = limits or ResponseLimits.from_config(ArxivConfig())
        self.min_interval = min_interval
        self.retry = RetryPolicy(
            max_retries=max_retries,
            backoff_base=backoff_base,
            max_backoff=max_backoff,
            max_retry_after=max_backoff,
            sleep=sleep,
        )
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
        cap: Cap | None = None,
    ) -> httpx.Response:
        """The final successful (2xx/304) response, read whole; :class:`FetchError` after the last attempt.

        ``cap`` bounds the body (default: the API's cap, the most generous but a PDF's): past it the
        fetch fails at once, without reading the rest.
        """
        url = with_host(url)
        limit = cap or self.limits.api
        attempt = 0

        def once() -> httpx.Response:
            nonlocal attempt
            attempt += 1
            self._wait_turn(url)
            try:
                with self.http.stream("GET", url, params=params, headers=headers) as streamed:
                    if streamed.status_code < 300 or streamed.status_code == 304:
                        return _buffered(streamed, _read_capped(url, streamed, limit))
                    response = _buffered(streamed, _read_prefix(streamed, MAX_ERROR_BODY))
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as err:  # asking again cannot help
                raise FetchError(
                    f"{url}: cannot be fetched ({err}); check arxiv.rss_url, arxiv.api_url and arxiv.pdf_url",
                    url=url,
                    attempts=attempt,
                ) from None
            if response.status_code in retry_statuses:
                raise _Busy(response)
            raise _refused(url, response, attempt)

        try:
            return self.retry.call(once, what=url, judge=_judge)
        except RetriesExhausted as gave_up:
            raise _exhausted(url, gave_up) from None

    def _wait_turn(self, url: str) -> None:
        """Keep at least ``min_interval`` seconds between the starts of two requests, across threads."""
        if self.min_interval <= 0 or httpx.URL(url).scheme not in _PACED_SCHEMES:
            return
        with self._turn:
            now = self._clock()
            if self._last_request is not None:
                remaining = self._last_request + self.min_interval - now
                if remaining > 0:
                    self._sleep(remaining)
                    now = self._clock()
            self._last_request = now


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
        make_http_client(arxiv) if http is None else http,
        limits=ResponseLimits.from_config(arxiv),
        max_retries=arxiv.max_retries,
        min_interval=arxiv.request_delay_seconds if min_interval is None else min_interval,
        sleep=sleep,
        clock=clock,
    )


def _read_capped(url: str, response: httpx.Response, cap: Cap) -> bytes:
    """The decoded body, or :class:`FetchError` as soon as it passes ``cap`` (the rest is never read)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap.max_bytes:  # compressed or not, it will not fit
        raise _too_large(url, cap, b"", f"it announces {int(declared) / _MB:.1f} MB")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():  # decoded: a gzip bomb is measured by what it inflates to
        chunks.append(chunk)
        size += len(chunk)
        if size > cap.max_bytes:
            raise _too_large(url, cap, _head(chunks), "stopped reading it")
    return b"".join(chunks)


def _head(chunks: list[bytes]) -> bytes:
    """The first bytes of a body read in ``chunks``, without joining all of them."""
    head = b""
    for chunk in chunks:
        head += chunk[: _PREVIEW_BYTES - len(head)]
        if len(head) >= _PREVIEW_BYTES:
            break
    return head


def _read_prefix(response: httpx.Response, limit: int) -> bytes:
    """At most ``limit`` bytes of the body: enough to explain a refusal."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def _too_large(url: str, cap: Cap, head: bytes, how: str) -> FetchError:
    starts = f"; it starts with {body_preview(head)}" if head else ""
    return FetchError(
        f"{url}: the {cap.what} is larger than the {cap.max_bytes / _MB:g} MB allowed ({how}{starts}); "
        f"if such a large answer is genuine, raise {cap.setting}",
        url=url,
    )


def _buffered(streamed: httpx.Response, body: bytes) -> httpx.Response:
    """A plain, already-read response with ``body`` (decoded, so without its Content-Encoding)."""
    dropped = ("content-encoding", "content-length", "transfer-encoding")
    headers = [(name, value) for name, value in streamed.headers.multi_items() if name.lower() not in dropped]
    return httpx.Response(streamed.status_code, headers=headers, content=body, request=streamed.request)


class _Busy(Exception):
    """A retryable status (429, 503, …): the response is kept for its Retry-After and its body."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def _judge(err: Exception) -> Retryable | None:
    if isinstance(err, _Busy):
        return Retryable(f"HTTP {err.response.status_code}", server_retry_after(err.response.headers))
    if isinstance(err, httpx.TransportError):  # connection refused/reset, timeouts, protocol errors
        return Retryable(_describe_transport_error(err))
    return None


def _refused(url: str, response: httpx.Response, attempts: int) -> FetchError:
    """A status that asking again will not change (400, 404, …): fail at once, saying what to check."""
    return FetchError(
        f"{url}: HTTP {response.status_code} after {attempts} attempt(s); "
        "check the address (arxiv.rss_url, arxiv.api_url, arxiv.pdf_url) and the categories",
        url=url,
        status=response.status_code,
        attempts=attempts,
        body=response.content[:MAX_ERROR_BODY],
    )


def _exhausted(url: str, gave_up: RetriesExhausted) -> FetchError:
    if isinstance(gave_up.last, _Busy):
        response = gave_up.last.response
        return FetchError(
            f"{url}: HTTP {response.status_code} after {gave_up.attempts} attempt(s); "
            "arXiv is busy or down, try again later",
            url=url,
            status=response.status_code,
            attempts=gave_up.attempts,
            body=response.content[:MAX_ERROR_BODY],
        )
    return FetchError(
        f"{url}: {gave_up.reason} after {gave_up.attempts} attempts; check your network or "
        "arxiv.rss_url/arxiv.api_url, or try again later",
        url=url,
        attempts=gave_up.attempts,
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


def _describe_transport_error(err: httpx.TransportError) -> str:
    if isinstance(err, httpx.TimeoutException):
        return "timed out"
    if isinstance(err, httpx.ConnectError):
        return "connection failed"
    return f"network error ({type(err).__name__})"
