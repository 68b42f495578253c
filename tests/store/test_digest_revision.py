"""A digest's revision: changed by the database whenever what the digest's pages show changes, and only then."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

from arxivbot.models import DigestHead, RetentionPolicy, Summary
from arxivbot.store import SQLiteStore, open_store
from tests.store.records import announced, scored

DAY1 = date(2026, 5, 4)
DAY2 = date(2026, 5, 5)
NOW = datetime(2026, 5, 5, 6, tzinfo=timezone.utc)


def seeded(tmp_path: Path) -> SQLiteStore:
    store = open_store(tmp_path / "a.db")
    for day, ids in ((DAY1, ["2605.00001", "2605.00002"]), (DAY2, ["2605.00101"])):
        listing = [announced(arxiv_id, day) for arxiv_id in ids]
        store.save_announcements(listing)
        store.save_digest(
            day, [scored(a) for a in listing], generated_at=NOW, categories=["cs.LG"], keywords=["Sparse"]
        )
    return store


def revisions(store: SQLiteStore) -> dict[date, str]:
    return {head.day: head.revision for head in store.digest_heads()}


def summary(arxiv_id: str, text: str, version: int = 1) -> Summary:
    return Summary(arxiv_id, version, "qwen-long", "p1", "abstract", text)


def test_heads_list_each_digest_newest_first_with_its_size(tmp_path: Path) -> None:
    with seeded(tmp_path) as store:
        heads = store.digest_heads()
        assert [(h.day, h.papers) for h in heads] == [(DAY2, 1), (DAY1, 2)]
        assert all(isinstance(h, DigestHead) and len(h.revision) == 16 for h in heads)
        assert store.digest_facets() == (["cs.LG"], ["Inference", "Sparse"])


def test_a_summary_a_newer_version_or_a_new_save_changes_only_that_days_revision(tmp_path: Path) -> None:
    with seeded(tmp_path) as store:
        before = revisions(store)
        store.save_summary(summary("2605.00001", "A summary."))
        after_summary = revisions(store)
        assert after_summary[DAY1] != before[DAY1] and after_summary[DAY2] == before[DAY2]

        store.save_announcements([announced("2605.00101", DAY2, "replace", version=2)])
        after_version = revisions(store)
        assert after_version[DAY2] != after_summary[DAY2] and after_version[DAY1] == after_summary[DAY1]

        listing = [announced("2605.00001", DAY1)]
        store.save_digest(DAY1, [scored(a) for a in listing], generated_at=NOW, categories=[], keywords=[])
        resaved = revisions(store)
        assert resaved[DAY1] != after_version[DAY1] and resaved[DAY2] == after_version[DAY2]


def test_what_pages_do_not_show_leaves_revisions_alone(tmp_path: Path) -> None:
    with seeded(tmp_path) as store:
        before = revisions(store)
        store.save_announcements([announced("2605.00001", DAY2, "cross"), announced("2605.00999", DAY2)])
        store.save_summary(summary("2605.00999", "A paper in no digest."))
        store.apply_retention(date(2026, 9, 1), RetentionPolicy(full_days=1))
        store.record_feedback(["2605.00101"], "like")
        assert revisions(store) == before
