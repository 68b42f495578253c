"""Bounded retries with exponential backoff for LLM API requests, honouring ``Retry-After``.

Why our own loop, with the SDK's retries switched off (``make_llm_client`` sets ``max_retries=0``):
the openai SDK's policy has changed between releases (which statuses, how far ``Retry-After`` is
trusted), it retries silently and sleeps with a ``time.sleep`` tests cannot replace. Here every
retry is a warning that names the paper, the sleep is injectable, the bounds are ours, and the number
of attempts ends up in the failure message.

Retried: timeouts, connection failures, 408, 409, 429 and every 5xx. Anything else (400, 401, 404,
413, ...) will not get better by asking again and is raised at once.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import openai

from arxivbot.arxiv.client import parse_retry_after

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 409, 429})


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 4  # attempts = max_retries + 1
    backoff_base: float = 1.0  # seconds before the first retry, doubled each time
    max_backoff: float = 30.0  # cap of the computed backoff
    max_retry_after: float = 120.0  # a server's Retry-After is honoured up to this long
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int, err: openai.APIError) -> float:
        """Seconds to wait after failed ``attempt``: the backoff, or the server's Retry-After if longer."""
        backoff = min(self.max_backoff, self.backoff_base * 2 ** (attempt - 1)) * (1 + random.uniform(0, 0.1))
        asked = retry_after_seconds(err)
        if asked is None:
            return backoff
        return min(max(backoff, asked), self.max_retry_after)


class RetriesExhausted(Exception):
    """The last attempt failed too; carries the last error and how many attempts were made."""

    def __init__(self, last: openai.APIError, attempts: int) -> None:
        super().__init__(f"{describe_api_error(last)} after {attempts} attempt{'' if attempts == 1 else 's'}")
        self.last = last
        self.attempts = attempts


def call_with_retries(call: Callable[[], T], *, policy: RetryPolicy, what: str) -> T:
    """``call()``'s result; a non-retryable ``openai.APIError`` propagates, exhaustion raises RetriesExhausted."""
    attempts = policy.max_retries + 1
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except openai.APIError as err:
            if not is_retryable(err):
                raise
            if attempt == attempts:
                raise RetriesExhausted(err, attempt) from None
            delay = policy.delay(attempt, err)
            log.warning(
                "%s: %s; retrying in %.1f s (attempt %d of %d)", what, describe_api_error(err), delay, attempt, attempts
            )
            policy.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def is_retryable(err: openai.APIError) -> bool:
    if isinstance(err, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(err, openai.APIStatusError):
        return err.status_code in RETRYABLE_STATUS or err.status_code >= 500
    return False


def describe_api_error(err: openai.APIError) -> str:
    """A short reason built only from the error's kind and status — never from the server's text,
    which may echo the API key."""
    if isinstance(err, openai.APITimeoutError):
        return "timed out"
    if isinstance(err, openai.APIConnectionError):
        return "connection failed"
    if isinstance(err, openai.APIStatusError):
        return f"HTTP {err.status_code}"
    return type(err).__name__


def retry_after_seconds(err: openai.APIError) -> float | None:
    """The ``Retry-After`` (or ``retry-after-ms``) of an error response, in seconds, if any."""
    response = getattr(err, "response", None)
    headers: Mapping[str, str] | None = getattr(response, "headers", None)
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    return parse_retry_after(headers.get("retry-after"))
