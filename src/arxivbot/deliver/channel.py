"""The Channel seam: one small interface for every place a digest goes.

A channel is a named target (the published files, an inbox, a chat room, a webhook) that delivers
one :class:`Edition` and reports a :class:`Delivery`: success, or a warning saying what went wrong
and how to fix it. :func:`deliver_all` hands the edition to every channel in turn and never lets one
channel's failure — an error of ours or a bug — stop the others or lose the run: it becomes a failed
:class:`Delivery` in the run report (and the exit code), never an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from arxivbot.errors import ArxivbotError
from arxivbot.models import Delivery, Digest

if TYPE_CHECKING:
    from arxivbot.config import Config
    from arxivbot.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Edition:
    """What a channel delivers: one day's digest, and where to read more (history, settings)."""

    digest: Digest
    store: Store  # for channels that show history (feeds, the archive)
    config: Config
    now: datetime


@runtime_checkable
class Channel(Protocol):
    """Delivers a digest somewhere. Raise an :class:`ArxivbotError` or return a failed Delivery on failure."""

    name: str

    def deliver(self, edition: Edition) -> Delivery: ...


class RenderedChannel:
    """The shape e-mail and chat share: render an edition into messages, then send them in one session
    (one SMTP connection, one HTTP client). The outbox (deliver/outbox.py) drives render and session
    itself, to record each message sent; :meth:`deliver` is the plain Channel way, all in one go."""

    name: str

    def render(self, edition: Edition) -> Sequence[Any]:
        raise NotImplementedError

    def session(self) -> AbstractContextManager[Callable[[Any], None]]:
        raise NotImplementedError

    def describe(self, parts: int) -> str:
        raise NotImplementedError

    def deliver(self, edition: Edition) -> Delivery:
        messages = self.render(edition)
        with self.session() as send:
            for message in messages:
                send(message)
        return Delivery(self.name, ok=True, message=self.describe(len(messages)))


def deliver_all(channels: Iterable[Channel], edition: Edition) -> tuple[Delivery, ...]:
    """Every channel's delivery of ``edition``, in order; a failure is a failed Delivery, never a raise."""
    return tuple(_deliver_one(channel, edition) for channel in channels)


def _deliver_one(channel: Channel, edition: Edition) -> Delivery:
    try:
        delivery = channel.deliver(edition)
    except ArxivbotError as err:
        delivery = Delivery(channel.name, ok=False, message=str(err))
    except Exception as err:  # a bug in one channel must not cost the others
        log.debug("channel %s failed", channel.name, exc_info=True)
        delivery = Delivery(channel.name, ok=False, message=f"internal error: {type(err).__name__}: {err}")
    if not delivery.ok:
        log.warning("%s: %s", channel.name, delivery.message)
    return delivery
