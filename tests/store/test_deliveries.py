"""The deliveries table: what went where, what is due, and where a split digest resumes."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

from arxivbot.config import config_from_dict
from arxivbot.deliver import Edition
from arxivbot.deliver.outbox import deliver_due
from arxivbot.models import Delivery
from arxivbot.store import open_store
from tests.publish.seeding import DAY1, DAY2, make_paper, seed_day

AT = datetime(2025, 12, 23, 7, tzinfo=timezone.utc)


def test_an_attempt_is_pending_until_it_ends_and_a_retry_resumes_after_the_parts_sent(tmp_path: Path) -> None:
    with open_store(tmp_path / "a.db") as store:
        first = store.start_delivery(DAY2, "slack", parts_total=3, at=AT)
        assert (first.status, first.attempts, first.parts_sent) == ("pending", 1, 0)
        assert store.due_deliveries("slack", DAY1) == [DAY2]  # a run that dies here leaves it due
        store.record_parts_sent(DAY2, "slack", 1)
        store.finish_delivery(DAY2, "slack", sent=False, error="hooks.slack.com: HTTP 500", at=AT)

        retry = store.start_delivery(DAY2, "slack", parts_total=3, at=AT)
        assert (retry.attempts, retry.parts_sent, retry.last_error) == (2, 1, "hooks.slack.com: HTTP 500")
        changed = store.start_delivery(DAY2, "slack", parts_total=4, at=AT)  # the digest splits differently now
        assert changed.parts_sent == 0

        store.finish_delivery(DAY2, "slack", sent=True, at=AT)
        record = store.delivery(DAY2, "slack")
        assert record is not None and record.status == "sent" and record.sent_at == AT
        assert store.due_deliveries("slack", DAY1) == []
        store.record_parts_sent(DAY2, "slack", 3)
        assert store.start_delivery(DAY2, "slack", parts_total=4, at=AT, restart=True).parts_sent == 0  # --force


def test_deferring_keeps_a_digest_due_but_never_undoes_a_sent_one(tmp_path: Path) -> None:
    with open_store(tmp_path / "a.db") as store:
        store.start_delivery(DAY1, "email", parts_total=1, at=AT)
        store.finish_delivery(DAY1, "email", sent=True, at=AT)
        store.defer_delivery(DAY1, "email", error="smtp down", at=AT)
        store.defer_delivery(DAY2, "email", error="smtp down", at=AT)
        records = {(r.day, r.channel): r for r in store.deliveries()}
    assert records[(DAY1, "email")].status == "sent"
    assert (records[(DAY2, "email")].status, records[(DAY2, "email")].attempts) == ("failed", 0)
    assert records[(DAY2, "email")].last_error == "smtp down"


class Flaky:
    """A channel of any kind (not e-mail or chat): fails while ``down``, records what it was given."""

    name = "pager"
    send_empty = False

    def __init__(self) -> None:
        self.down = True
        self.days: list[date] = []

    def deliver(self, edition: Edition) -> Delivery:
        self.days.append(edition.digest.day)
        return Delivery(self.name, ok=not self.down, message="pager offline" if self.down else "paged")


def test_any_channel_gets_each_digest_once_oldest_first_after_a_crash_or_a_failure(tmp_path: Path) -> None:
    config = config_from_dict({}, base_dir=tmp_path)
    pager = Flaky()
    with open_store(config.storage.database) as store:
        seed_day(store, DAY1, [make_paper("2512.00001")])
        seed_day(store, DAY2, [make_paper("2512.00002")])
        (failed,) = deliver_due([pager], store, config, day=DAY1, now=AT)
        assert not failed.ok and failed.message == "pager offline"
        store.start_delivery(DAY2, "pager", parts_total=1, at=AT)  # a run that died after marking it pending

        pager.down = False
        delivered = deliver_due([pager], store, config, day=DAY2, now=AT)
        assert [d.message for d in delivered] == ["digest of 2025-12-22: paged", "paged"]
        assert pager.days == [DAY1, DAY1, DAY2]
        assert deliver_due([pager], store, config, day=DAY2, now=AT)[0].message.startswith("already sent at")
        assert pager.days == [DAY1, DAY1, DAY2]
