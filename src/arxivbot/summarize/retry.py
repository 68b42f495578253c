"""Which LLM API failures are worth another attempt, and how they are told; the policy is :mod:`arxivbot.retry`'s.

Why not the SDK's retries (``make_llm_client`` sets ``max_retries=0``): the openai SDK's policy has
changed between releases (which statuses, how far ``Retry-After`` is trusted), it retries silently
and sleeps with a ``time.sleep`` tests cannot replace. Here every retry is the one warning line of
:mod:`arxivbot.retry` naming the paper, the sleep is injectable, the bounds are ours, and the number of
attempts ends up in the failure message.

Retried: timeouts, connection failures, 408, 409, 429 and every 5xx, after the server's
``Retry-After`` (or ``retry-after-ms``) when it asks for longer than the backoff. Anything else (400,
401, 404, 413, ...) will not get better by asking again and is raised at once. Errors are described by
kind and status only, never by the server's text, which may echo the API key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import openai

from arxivbot.retry import RetriesExhausted, Retryable, RetryPolicy, server_retry_after

__all__ = ["RetriesExhausted", "call_with_retries", "describe_api_error", "is_retryable", "llm_retry_policy"]

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 409, 429})
MAX_BACKOFF = 30.0  # the computed backoff's cap; a server's Retry-After is honoured up to 120 s


def llm_retry_policy(max_retries: int, sleep: Callable[[float], None] = time.sleep) -> RetryPolicy:
    """The policy for LLM API requests: ``ai_summary.max_retries`` retries, backoff from 1 s up to 30 s."""
    return RetryPolicy(max_retries=max_retries, backoff_base=1.0, max_backoff=MAX_BACKOFF, sleep=sleep)


def call_with_retries(call: Callable[[], T], *, policy: RetryPolicy, what: str) -> T:
    """``call()``'s result; a non-retryable ``openai.APIError`` propagates, exhaustion raises RetriesExhausted."""
    return policy.call(call, what=what, judge=judge_api_error)


def judge_api_error(err: Exception) -> Retryable | None:
    if isinstance(err, openai.APIError) and is_retryable(err):
        response = getattr(err, "response", None)
        return Retryable(describe_api_error(err), server_retry_after(getattr(response, "headers", None)))
    return None


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
