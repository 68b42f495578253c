"""The one retry policy for everything arxivbot asks over the network: arXiv feeds, API pages, PDFs, the LLM.

Built on tenacity (imported at the first failure: most calls succeed at once, and a run that reads a
local feed never needs it); this module only fixes the choices, so every caller retries the same way:

* **bounded attempts**: ``max_retries`` retries after the first try (``arxiv.max_retries``,
  ``ai_summary.max_retries``);
* **exponential backoff with jitter**: ``backoff_base`` seconds, then twice that, four times, …,
  plus up to 10 % of ``backoff_base`` at random (so clients that failed together do not come back
  together), capped at ``max_backoff``;
* **the server's word**: a ``Retry-After`` (delay-seconds or an HTTP date; ``retry-after-ms`` too, as
  LLM APIs send) is honoured when it is longer than the backoff, up to ``max_retry_after``;
* **an injectable sleep**, so tests never really wait;
* **one log line**, a warning: ``<what>: <reason>; retrying in 2.0 s (attempt 1 of 5)``.

A caller says which failures deserve another attempt with a *judge*: a function from the exception an
attempt raised to a :class:`Retryable` (why, and how long the server asked to wait) or ``None``
(raised at once, as it is). Reasons name the kind of failure and the status only (``HTTP 503``,
``timed out``), never the server's text, which may echo a key. When the last attempt fails too,
:class:`RetriesExhausted` carries that failure and the attempt count; each caller turns it into its
own user-facing error (a ``FetchError``, a summary failure).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import tenacity

log = logging.getLogger(__name__)

T = TypeVar("T")

JITTER = 0.1  # of backoff_base, added at random to every backoff
RETRY_LOG_LINE = "%s: %s; retrying in %.1f s (attempt %d of %d)"


@dataclass(frozen=True, slots=True)
class Retryable:
    """A failed attempt worth repeating: why (kind and status only), and the server's Retry-After."""

    reason: str
    retry_after: float | None = None


Judge = Callable[[Exception], "Retryable | None"]


class RetriesExhausted(Exception):
    """The last attempt failed too. ``last`` is what it raised; ``reason`` the judge's words for it."""

    def __init__(self, last: Exception, attempts: int, reason: str) -> None:
        super().__init__(f"{reason} after {attempts} attempt{'' if attempts == 1 else 's'}")
        self.last = last
        self.attempts = attempts
        self.reason = reason


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait; :meth:`call` runs one operation under it."""

    max_retries: int = 4  # attempts = max_retries + 1
    backoff_base: float = 1.0  # seconds before the first retry, doubled each time
    max_backoff: float = 120.0  # cap of the computed backoff
    max_retry_after: float = 120.0  # a server's Retry-After is honoured up to this long
    sleep: Callable[[float], None] = time.sleep

    @property
    def attempts(self) -> int:
        return self.max_retries + 1

    def call(self, attempt: Callable[[], T], *, what: str, judge: Judge) -> T:
        """``attempt()``'s result, trying again while ``judge`` calls its failure retryable.

        A failure the judge does not call retryable propagates unchanged; when the attempts run out,
        :class:`RetriesExhausted` is raised. ``what`` starts the log line (a URL, a paper and a step).
        """

        def one_attempt() -> T:
            try:
                return attempt()
            except Exception as err:
                verdict = judge(err)
                if verdict is None:
                    raise
                raise _Failed(err, verdict) from err

        failed: _Failed | None = None
        try:
            return one_attempt()
        except _Failed as first:
            failed = first
        import tenacity

        def announce(state: tenacity.RetryCallState) -> None:
            failed = _failure(state)
            delay = state.next_action.sleep if state.next_action else 0.0
            reason = failed.verdict.reason if failed else "failed"
            log.warning(RETRY_LOG_LINE, what, reason, delay, state.attempt_number, self.attempts)

        def attempts_after_the_first() -> T:
            nonlocal failed
            if failed is not None:  # tenacity's attempt 1 is the one made above: its failure, replayed
                replayed, failed = failed, None
                raise replayed
            return one_attempt()

        # A fresh Retrying per call: summaries retry from several threads at once.
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=_backoff_or_retry_after(self),
            retry=tenacity.retry_if_exception_type(_Failed),
            sleep=self.sleep,
            before_sleep=announce,
        )
        try:
            return retrying(attempts_after_the_first)
        except tenacity.RetryError as gave_up:
            last = gave_up.last_attempt.exception()
            if not isinstance(last, _Failed):  # pragma: no cover - only _Failed is ever retried
                raise
            raise RetriesExhausted(last.error, gave_up.last_attempt.attempt_number, last.verdict.reason) from None


class _Failed(Exception):
    """An attempt's failure that the judge called retryable, with its verdict."""

    def __init__(self, error: Exception, verdict: Retryable) -> None:
        super().__init__(verdict.reason)
        self.error = error
        self.verdict = verdict


def _failure(state: tenacity.RetryCallState) -> _Failed | None:
    error = state.outcome.exception() if state.outcome is not None else None
    return error if isinstance(error, _Failed) else None


def _backoff_or_retry_after(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], float]:
    """tenacity's exponential backoff plus jitter, capped; or the server's Retry-After when longer."""
    from tenacity.wait import wait_exponential, wait_random

    base = policy.backoff_base
    backoff = wait_exponential(multiplier=base, max=policy.max_backoff) + wait_random(0, base * JITTER)

    def wait(retry_state: tenacity.RetryCallState) -> float:
        delay = min(backoff(retry_state), policy.max_backoff)
        failed = _failure(retry_state)
        asked = failed.verdict.retry_after if failed else None
        if asked is None:
            return delay
        return max(delay, min(asked, policy.max_retry_after))

    return wait


# --- Retry-After --------------------------------------------------------------------------------------


def server_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds a response asks us to wait: ``retry-after-ms`` (LLM APIs) or ``Retry-After``; None if neither."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    return parse_retry_after(headers.get("retry-after"))


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


__all__ = [
    "RETRY_LOG_LINE",
    "Judge",
    "RetriesExhausted",
    "RetryPolicy",
    "Retryable",
    "parse_retry_after",
    "server_retry_after",
]
