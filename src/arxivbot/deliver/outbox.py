"""Exactly once: each digest to each message channel (e-mail, chat), retried until it arrives, never twice.

The store keeps one record per (digest day, channel). Before anything is sent the record says
``pending``; each message of a split digest is counted as it goes out; then ``sent`` or ``failed``.
So:

* a run delivers its own digest, and before it every digest of the last ``delivery.retry_days`` days
  that a channel has not delivered (``failed``, or ``pending`` after a run that died): oldest first;
* a digest a channel has delivered is never sent to it again (``arxivbot deliver --force`` is the one
  way), and a split digest that failed half-way resumes after the messages that arrived;
* when a channel fails, its later digests are not tried in the same run (the server that refused one
  refuses the next), but stay due for the next run;
* a digest that lists no paper is sent only to channels with ``send_empty``.

The one gap is a crash between a server accepting a message and the record saying so: that message
is sent again by the next run. Every channel's failure is a failed :class:`Delivery` (a warning and
exit code 3), never an exception.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from arxivbot.config import Config
from arxivbot.deliver.channel import Channel, Edition, deliver_all
from arxivbot.deliver.secrets import redact
from arxivbot.errors import ArxivbotError, UsageError
from arxivbot.models import Delivery, Digest
from arxivbot.retry import RetryPolicy

if TYPE_CHECKING:
    from arxivbot.runtime import Runtime
    from arxivbot.store import Store

log = logging.getLogger(__name__)


@runtime_checkable
class MessageChannel(Protocol):
    """A channel that sends messages (as opposed to files rewritten each run): e-mail, chat, webhooks."""

    name: str

    @property
    def send_empty(self) -> bool: ...
    def render(self, edition: Edition) -> Sequence[Any]: ...
    def render_test(self, now: datetime) -> Sequence[Any]: ...
    def session(self) -> AbstractContextManager[Callable[[Any], None]]: ...
    def describe(self, parts: int) -> str: ...
    def deliver(self, edition: Edition) -> Delivery: ...


def message_channels(config: Config, *, sleep: Callable[[float], None] = time.sleep) -> list[MessageChannel]:
    """Every configured e-mail and chat channel, e-mail first, with the one retry policy (and ``sleep``)."""
    settings = config.delivery
    if settings.email is None and not settings.webhooks:
        return []  # none configured: no sender (smtplib, the e-mail template, chat formats) is loaded
    from arxivbot.deliver.chat import GenericService, WebhookChannel
    from arxivbot.deliver.discord import DiscordService
    from arxivbot.deliver.email import EmailChannel
    from arxivbot.deliver.feishu import FeishuService
    from arxivbot.deliver.settings import webhook_names
    from arxivbot.deliver.slack import SlackService
    from arxivbot.deliver.telegram import TelegramService

    policy = RetryPolicy(max_retries=settings.max_retries, sleep=sleep)
    services = {
        "slack": SlackService,
        "discord": DiscordService,
        "telegram": TelegramService,
        "feishu": FeishuService,
        "generic": GenericService,
    }
    channels: list[MessageChannel] = []
    if settings.email is not None:
        channels.append(EmailChannel(settings.email, config, policy=policy, timeout=settings.timeout_seconds))
    for index, (hook, name) in enumerate(zip(settings.webhooks, webhook_names(settings.webhooks), strict=True)):
        service = services[hook.kind](hook, name, f"delivery.webhooks[{index}]")
        channels.append(WebhookChannel(name, service, policy=policy, timeout=settings.timeout_seconds))
    return channels


def deliver_due(
    channels: Sequence[Channel],
    store: Store,
    config: Config,
    *,
    day: date,
    now: datetime,
    force: bool = False,
    backlog: bool = True,
) -> tuple[Delivery, ...]:
    """Deliver the digest of ``day`` (and, with ``backlog``, every digest still due) to each channel.

    ``force`` sends the digest of ``day`` again even to channels that delivered it.
    """
    since = now.date() - timedelta(days=config.delivery.retry_days)
    deliveries: list[Delivery] = []
    for channel in channels:
        due = set(store.due_deliveries(channel.name, since)) if backlog else set()
        days = sorted(due | {day})
        for index, digest_day in enumerate(days):
            delivery = _deliver_day(channel, store, config, digest_day, now, force=force and digest_day == day)
            if delivery is None:
                continue
            if delivery.ok:
                deliveries.append(delivery if digest_day == day else _about(delivery, digest_day))
                continue
            waiting = days[index + 1 :]
            for later in waiting:  # the server that refused one digest refuses the next: keep them due
                store.defer_delivery(later, channel.name, error=delivery.message, at=now)
            if waiting:
                delivery = Delivery(
                    channel.name,
                    ok=False,
                    message=f"{delivery.message}; the digest{'s' if len(waiting) > 1 else ''} of "
                    f"{', '.join(d.isoformat() for d in waiting)} wait{'' if len(waiting) > 1 else 's'} too",
                )
            deliveries.append(delivery if digest_day == day else _about(delivery, digest_day))
            break
    return tuple(deliveries)


def deliver_test(channels: Sequence[MessageChannel], now: datetime) -> tuple[Delivery, ...]:
    """A short test message to each channel; nothing is recorded. Each failure is a failed Delivery."""
    results = []
    for channel in channels:
        try:
            messages = channel.render_test(now)
            with channel.session() as send:
                for message in messages:
                    send(message)
            results.append(Delivery(channel.name, ok=True, message="test message " + channel.describe(len(messages))))
        except ArxivbotError as err:
            results.append(Delivery(channel.name, ok=False, message=str(err)))
        except Exception as err:  # a bug in one channel must not hide the others' results
            log.debug("test of %s failed", channel.name, exc_info=True)
            results.append(
                Delivery(channel.name, ok=False, message=redact(f"internal error: {type(err).__name__}: {err}"))
            )
    return tuple(results)


# --- `arxivbot deliver` ---------------------------------------------------------------------------------


def deliver_by_hand(
    config: Config, runtime: Runtime, *, day: date | None = None, channel: str | None = None, force: bool = False
) -> tuple[Delivery, ...]:
    """``arxivbot deliver``: the newest digest and every digest still due, or the digest of ``day`` alone.

    Under the database's run lock, like ``arxivbot run``: a run delivering at the same time would
    otherwise send a due digest a second time.
    """
    from arxivbot.runlock import run_lock
    from arxivbot.store import open_store

    channels = choose_channels(config, runtime, channel)
    database = config.storage.database
    if not database.is_file():
        raise UsageError(f"{database}: no database yet; run `arxivbot run` first")
    with run_lock(database, config.storage.lock_timeout_seconds), open_store(database) as store:
        days = store.digest_days()
        if day is None and not days:
            raise UsageError(f"{database}: no digest yet; run `arxivbot run` first")
        if day is not None and day not in days:
            raise UsageError(f"{database}: no digest of {day}; run `arxivbot run --date {day}` first")
        target = day or days[0]
        return deliver_due(channels, store, config, day=target, now=runtime.now(), force=force, backlog=day is None)


def send_test_messages(config: Config, runtime: Runtime, *, channel: str | None = None) -> tuple[Delivery, ...]:
    """``arxivbot deliver --test``: a short test message to every channel (or ``channel``)."""
    return deliver_test(choose_channels(config, runtime, channel), runtime.now())


def choose_channels(config: Config, runtime: Runtime, name: str | None) -> list[MessageChannel]:
    channels = message_channels(config, sleep=runtime.sleep)
    if not channels:
        raise UsageError(
            "no delivery channel is configured: add delivery.email or delivery.webhooks to the config "
            "(see docs/configuration.md, Delivery)"
        )
    if name is None:
        return channels
    chosen = [channel for channel in channels if channel.name == name]
    if not chosen:
        raise UsageError(
            f"--channel {name}: no such channel; the configured ones are {', '.join(c.name for c in channels)}"
        )
    return chosen


# --- one digest, one channel ---------------------------------------------------------------------------------


def _deliver_day(
    channel: Channel, store: Store, config: Config, day: date, now: datetime, *, force: bool
) -> Delivery | None:
    """The delivery of one digest to one channel, recorded; None when there is nothing to send."""
    record = store.delivery(day, channel.name)
    if record is not None and record.status == "sent" and not force:
        sent = f" at {record.sent_at:%Y-%m-%d %H:%M} UTC" if record.sent_at else ""
        return Delivery(channel.name, ok=True, message=f"already sent{sent}; `arxivbot deliver --force` sends it again")
    digest = store.load_digest(day) or Digest(day, now, (), tuple(config.categories), tuple(config.keywords))
    if not digest.entries and not getattr(channel, "send_empty", False):
        return None  # an empty day sends nothing, unless the channel asks for it
    edition = Edition(digest, store, config, now)
    if isinstance(channel, MessageChannel):
        return _send(channel, store, edition, force=force)
    # Any other channel (a plugin, a test double) delivers in one go; its outcome is recorded the same way.
    store.start_delivery(day, channel.name, parts_total=1, at=now, restart=force)
    delivery = deliver_all([channel], edition)[0]
    store.finish_delivery(day, channel.name, sent=delivery.ok, error="" if delivery.ok else delivery.message, at=now)
    return delivery


def _send(channel: MessageChannel, store: Store, edition: Edition, *, force: bool) -> Delivery:
    day, name, now = edition.digest.day, channel.name, edition.now
    resumed = 0
    try:
        messages = list(channel.render(edition))
        record = store.start_delivery(day, name, parts_total=len(messages), at=now, restart=force)
        resumed = record.parts_sent
        with channel.session() as send:
            for index in range(record.parts_sent, len(messages)):
                send(messages[index])
                store.record_parts_sent(day, name, index + 1)
    except ArxivbotError as err:
        error = redact(str(err))
    except Exception as err:  # a bug in one channel must not cost the others
        log.debug("channel %s failed", name, exc_info=True)
        error = redact(f"internal error: {type(err).__name__}: {err}")
    else:
        store.finish_delivery(day, name, sent=True, at=now)
        note = channel.describe(len(messages))
        if resumed:
            note += f" (the first {resumed} had arrived before)"
        return Delivery(name, ok=True, message=note)
    if store.delivery(day, name) is None:  # failed before the attempt was recorded: keep the digest due
        store.defer_delivery(day, name, error=error, at=now)
    else:
        store.finish_delivery(day, name, sent=False, error=error, at=now)
    log.warning("%s: %s", name, error)
    return Delivery(name, ok=False, message=error)


def _about(delivery: Delivery, day: date) -> Delivery:
    """A delivery of an earlier digest says which one."""
    return Delivery(delivery.channel, delivery.ok, f"digest of {day.isoformat()}: {delivery.message}")
