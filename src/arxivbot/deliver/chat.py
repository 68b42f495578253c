"""Chat channels: each digest posted to a webhook (Slack, Discord, Feishu, any URL) or a Telegram chat.

One :class:`WebhookChannel` speaks HTTP for every service, through httpx and the one retry policy
(:mod:`arxivbot.retry`): a 429 waits for the service's ``Retry-After`` (a header, or the JSON body
Discord and Telegram also send), 5xx answers and connection failures are retried with backoff, and
messages of a split digest are spaced by the service's rate limit. What differs per service — the
payload, the length limits, the endpoint, errors hidden in a 200 answer — is a :class:`ChatService`
(``slack.py``, ``discord.py``, ``telegram.py``, ``feishu.py``, and :class:`GenericService` here).

Apprise was considered and not used: it retries on its own terms (our policy, with an injectable
sleep and Retry-After, could not apply), takes no injected transport, and builds each service's
payload itself, where we need per-service control of splitting and escaping.

The webhook URL and the bot token are secrets: errors and logs name the host only (never the URL
or its path), and :mod:`arxivbot.deliver.secrets` blanks them out of anything a server echoes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import httpx

from arxivbot import USER_AGENT, __version__
from arxivbot.deliver.channel import Edition, RenderedChannel
from arxivbot.deliver.secrets import read_secret, redact
from arxivbot.deliver.settings import WebhookSettings
from arxivbot.errors import DeliveryError
from arxivbot.publish.escape import one_line
from arxivbot.retry import RetriesExhausted, Retryable, RetryPolicy, server_retry_after

T = TypeVar("T")
Payload = dict[str, Any]
CHAT_SUMMARY_CHARS = 600  # of each summary in a chat message; the whole one is on the page
EMPTY_TEXT = "No new paper matched your keywords today."


class ServiceError(Exception):
    """A service's refusal (an HTTP error, or an error inside a 200 answer), in its own words."""

    def __init__(self, status: int, said: str, *, retry_after: float | None = None, retryable: bool = False) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.said = said
        self.retry_after = retry_after
        self.retryable = retryable or status == 429 or status >= 500


class ChatService:
    """How one kind of service wants a digest: payloads within its limits, its endpoint, its errors."""

    kind = "generic"
    min_interval = 1.0  # seconds between two messages of one digest (the service's rate limit)

    def __init__(self, settings: WebhookSettings, channel: str, config_key: str = "delivery.webhooks[0]") -> None:
        self.settings = settings
        self.channel = channel
        self.config_key = config_key  # where its settings are: delivery.webhooks[2]

    def messages(self, edition: Edition) -> list[Payload]:
        raise NotImplementedError

    def test_messages(self, now: datetime) -> list[Payload]:
        raise NotImplementedError

    def endpoint(self) -> str:
        """The URL to POST to, read from the environment (a secret)."""
        env = self.settings.url_env or ""
        return read_secret(env, channel=self.channel, what="the webhook URL", key=f"{self.config_key}.url_env")

    @property
    def secret_source(self) -> str:
        """Where the endpoint's secret lives, for error messages."""
        return f"the URL in {self.settings.url_env}"

    def prepare(self, payload: Payload) -> Payload:
        """The payload as sent (a signature, a chat id added at send time)."""
        return payload

    def check(self, response: httpx.Response) -> None:
        """Raise :class:`ServiceError` for a refusal the status code does not show."""

    def error_said(self, response: httpx.Response) -> str:
        """The service's own words for an error answer, as one short line."""
        try:
            data = response.json()
        except ValueError:
            return one_line(response.text)[:160]
        if isinstance(data, dict):
            for key in ("description", "message", "msg", "error"):
                if isinstance(data.get(key), str):
                    return one_line(data[key])[:160]
        return one_line(response.text)[:160]

    def retry_after(self, response: httpx.Response) -> float | None:
        return server_retry_after(response.headers)


class GenericService(ChatService):
    """Any URL: the digest's ``papers.json`` document (docs/papers-json.md), POSTed as JSON."""

    kind = "generic"

    def messages(self, edition: Edition) -> list[Payload]:
        from arxivbot.publish.site import papers_document

        return [papers_document(edition.digest, edition.config)]

    def test_messages(self, now: datetime) -> list[Payload]:
        return [{"test": True, "generator": f"arxivbot {__version__}", "message": test_text(self.channel, now)}]


class WebhookChannel(RenderedChannel):
    """A chat or webhook target: renders with its :class:`ChatService`, posts with retries."""

    def __init__(
        self,
        name: str,
        service: ChatService,
        *,
        policy: RetryPolicy,
        timeout: float,
        http: httpx.Client | None = None,
    ) -> None:
        self.name = name
        self.service = service
        self.policy = policy
        self.timeout = timeout
        self._http = http
        self.host = ""

    @property
    def send_empty(self) -> bool:
        return self.service.settings.send_empty

    def render(self, edition: Edition) -> list[Payload]:
        return self.service.messages(edition)

    def render_test(self, now: datetime) -> list[Payload]:
        return self.service.test_messages(now)

    def describe(self, parts: int) -> str:
        return f"posted {parts} message{'' if parts == 1 else 's'} to {self.host or self.service.kind}"

    @contextmanager
    def session(self) -> Iterator[Callable[[Payload], None]]:
        url = self.service.endpoint()
        parsed = httpx.URL(url) if url.startswith(("http://", "https://")) else None
        if parsed is None or not parsed.host:
            raise DeliveryError(
                f"{self.service.secret_source} is not an http(s) URL; copy the whole URL the "
                "service gave you into that variable",
                channel=self.name,
            )
        self.host = parsed.host
        client = self._http or httpx.Client(timeout=self.timeout, headers={"User-Agent": USER_AGENT})
        sent = 0

        def send(payload: Payload) -> None:
            nonlocal sent
            if sent:
                self.policy.sleep(self.service.min_interval)  # the service's rate limit, between messages
            try:
                self.policy.call(
                    lambda: self._post(client, url, payload), what=f"{self.name} ({self.host})", judge=_judge
                )
            except RetriesExhausted as gave_up:
                raise self._error(gave_up.last, attempts=gave_up.attempts) from None
            except (httpx.HTTPError, ServiceError) as err:
                raise self._error(err) from None
            sent += 1

        try:
            yield send
        finally:
            if self._http is None:
                client.close()

    def _post(self, client: httpx.Client, url: str, payload: Payload) -> None:
        body = json.dumps(self.service.prepare(payload), ensure_ascii=False).encode("utf-8")
        response = client.post(url, content=body, headers={"Content-Type": "application/json; charset=utf-8"})
        if response.status_code >= 300:
            raise ServiceError(
                response.status_code, self.service.error_said(response), retry_after=self.service.retry_after(response)
            )
        self.service.check(response)

    def _error(self, err: BaseException, *, attempts: int = 1) -> DeliveryError:
        after = f" after {attempts} attempts" if attempts > 1 else ""
        where = self.host
        if isinstance(err, httpx.TimeoutException):
            text = f"{where}: no answer within {self.timeout:g} s{after}; it is retried next run"
        elif isinstance(err, httpx.TransportError):
            text = f"{where}: cannot connect ({_reason(err)}){after}; check {self.service.secret_source}"
        elif isinstance(err, ServiceError):
            text = f"{where}: {self._refusal(err)}{after}"
        else:
            text = f"{where}: {type(err).__name__}{after}"
        return DeliveryError(redact(text), channel=self.name)

    def _refusal(self, err: ServiceError) -> str:
        said = f" ({err.said})" if err.said else ""
        source = self.service.secret_source
        if err.status in (401, 403):
            return f"refused (HTTP {err.status}){said}: {source} is wrong or was revoked"
        if err.status == 404:
            return f"not found (HTTP 404){said}: {source} names no webhook (deleted?); put a current one there"
        if err.status == 429:
            return f"rate-limited (HTTP 429){said}; it is retried next run"
        if err.status >= 500:
            return f"the service failed (HTTP {err.status}){said}; it is retried next run"
        return f"refused the message (HTTP {err.status}){said}"


def _judge(err: Exception) -> Retryable | None:
    if isinstance(err, ServiceError):
        return Retryable(f"HTTP {err.status}", retry_after=err.retry_after) if err.retryable else None
    if isinstance(err, httpx.TimeoutException):
        return Retryable("timed out")
    if isinstance(err, httpx.TransportError):
        return Retryable("connection failed")
    return None


def _reason(err: httpx.TransportError) -> str:
    cause = err.__cause__ or err.__context__
    text = str(getattr(cause, "strerror", None) or err or type(err).__name__)
    return one_line(text)[:120]


# --- shared by the services ----------------------------------------------------------------------------------


def pack(items: Sequence[T], size: Callable[[T], int], *, max_size: int, max_count: int) -> list[list[T]]:
    """``items`` in order, grouped so that no group passes ``max_count`` items or ``max_size`` in all."""
    groups: list[list[T]] = [[]]
    total = 0
    for item in items:
        if groups[-1] and (len(groups[-1]) >= max_count or total + size(item) > max_size):
            groups.append([])
            total = 0
        groups[-1].append(item)
        total += size(item)
    return groups


def test_text(channel: str, now: datetime) -> str:
    return (
        f"arxivbot test message ({now:%Y-%m-%d %H:%M %Z}): the settings of the channel {channel} work. "
        "Each digest will arrive here after every run."
    )


__all__ = [
    "CHAT_SUMMARY_CHARS",
    "EMPTY_TEXT",
    "ChatService",
    "GenericService",
    "ServiceError",
    "WebhookChannel",
    "pack",
    "test_text",
]
