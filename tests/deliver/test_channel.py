"""The Channel seam: every channel gets the edition; a failing one is a failed Delivery, never a raise."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from arxivbot.config import config_from_dict
from arxivbot.deliver import Channel, Edition, deliver_all
from arxivbot.errors import FetchError
from arxivbot.models import Delivery, Digest

NOW = datetime(2026, 5, 5, 6, tzinfo=timezone.utc)


class Recorder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.editions: list[Edition] = []

    def deliver(self, edition: Edition) -> Delivery:
        self.editions.append(edition)
        return Delivery(self.name, ok=True, message="sent")


class Raises:
    def __init__(self, name: str, error: Exception) -> None:
        self.name = name
        self.error = error

    def deliver(self, edition: Edition) -> Delivery:
        raise self.error


def edition(tmp_path: Path) -> Edition:
    digest = Digest(date(2026, 5, 5), NOW, (), ("cs.AI",), ("LLM",))
    store: Any = object()  # these channels never read history
    return Edition(digest, store, config_from_dict({}, base_dir=tmp_path), NOW)


def test_a_failing_channel_costs_neither_the_run_nor_the_other_channels(tmp_path: Path) -> None:
    before, after = Recorder("before"), Recorder("after")
    channels: list[Channel] = [
        before,
        Raises("mail", FetchError("smtp.example.org:587: connection refused; check delivery.email.smtp_host")),
        Raises("buggy", KeyError("oops")),
        after,
    ]
    the_edition = edition(tmp_path)

    deliveries = deliver_all(channels, the_edition)

    assert [(d.channel, d.ok) for d in deliveries] == [
        ("before", True),
        ("mail", False),
        ("buggy", False),
        ("after", True),
    ]
    assert deliveries[1].message == "smtp.example.org:587: connection refused; check delivery.email.smtp_host"
    assert deliveries[2].message == "internal error: KeyError: 'oops'"
    assert before.editions == [the_edition] and after.editions == [the_edition]
