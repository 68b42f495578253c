"""Retention: past the window, papers no one kept shrink to a compact record that history still sees;
papers in a digest, with feedback or with a summary keep their full record; the file shrinks."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from arxivbot.config import config_from_dict
from arxivbot.models import Announcement, RetentionPolicy, Summary
from arxivbot.rank import normalised_title
from arxivbot.store import SQLiteStore, open_store
from arxivbot.store.migrations import migrations
from arxivbot.store.retention import KEPT_FOR_EVER, title_hash
from tests.store.records import announced, paper, scored

MONDAY = date(2026, 3, 2)
WEEK = RetentionPolicy(full_days=7)


def day(n: int) -> date:
    return MONDAY + timedelta(days=n)


def ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}.{n:05d}" for n in range(1, count + 1)]


def rows(path: Path, query: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    with open_store(tmp_path / "a.db") as store:
        yield store


def test_papers_past_the_window_keep_only_a_compact_record(store: SQLiteStore) -> None:
    store.save_announcements([announced(i, day(0)) for i in ids("2603", 3)])
    store.save_announcements([announced("2603.00009", day(8), "cross")])

    report = store.apply_retention(day(8), WEEK)

    assert report.cutoff == day(1)
    assert (report.compacted_papers, report.compacted_announcements) == (3, 3)
    assert store.get_paper("2603.00001") is None  # the full record is gone...
    assert store.announcements_between(day(0), day(8)) == [announced("2603.00009", day(8), "cross")]
    assert store.known_ids(["2603.00001", "2603.00009", "2603.00077"]) == {"2603.00001", "2603.00009"}
    assert store.count_papers() == 4  # ...but the paper is still known
    (compact,) = rows(
        store.path,
        "SELECT arxiv_id, version, date(day * 86400, 'unixepoch'), type, title_hash, score "
        "FROM compact_papers WHERE arxiv_id = '2603.00001'",
    )
    assert compact == ("2603.00001", 1, day(0).isoformat(), 1, title_hash(paper("2603.00001").title), None)


def test_papers_within_the_window_are_untouched(store: SQLiteStore) -> None:
    store.save_announcements([announced(i, day(1)) for i in ids("2603", 2)])
    report = store.apply_retention(day(8), WEEK)  # day 1 is the first day inside the window
    assert report.compacted_papers == 0
    assert store.get_paper("2603.00001") == paper("2603.00001")


def test_papers_in_a_digest_with_feedback_or_a_summary_keep_their_full_record(store: SQLiteStore) -> None:
    first, liked, disliked, summarized, plain = (announced(i, day(0)) for i in ids("2603", 5))
    store.save_announcements([first, liked, disliked, summarized, plain])
    store.save_digest(day(0), [scored(first)], generated_at=datetime.now(timezone.utc), categories=[], keywords=[])
    store.record_feedback(["2603.00002"], "like")
    store.record_feedback(["2603.00003v1"], "dislike")
    store.save_summary(Summary("2603.00004", 1, "qwen-long", "h", "abstract", "A summary."))

    report = store.apply_retention(day(30), WEEK)

    assert report.compacted_papers == 1
    assert store.get_paper("2603.00005") is None
    for kept in ids("2603", 4):
        assert store.get_paper(kept) == paper(kept)
    assert len(store.announcements_on(day(0))) == 4
    digest = store.load_digest(day(0))
    assert digest is not None and digest.entries[0].scored.paper == paper("2603.00001")
    assert len(store.feed_items(day(0), 10)) == 1
    assert rows(store.path, "PRAGMA foreign_key_check") == []


def test_the_kept_for_ever_set_is_a_list_of_sql_sources() -> None:
    # Issue 11's library adds one line here; each source must be a plain SELECT of arxiv_id.
    assert all(source.startswith("SELECT arxiv_id FROM ") for source in KEPT_FOR_EVER)
    assert {source.split()[-1] for source in KEPT_FOR_EVER} >= {"digest_entries", "feedback", "summaries"}


def test_a_compacted_paper_announced_again_gets_a_full_record_and_is_not_new(store: SQLiteStore) -> None:
    store.save_announcements([announced("2603.00001", day(0))])
    store.apply_retention(day(14), WEEK)
    assert store.get_paper("2603.00001") is None

    replaced = announced("2603.00001", day(15), "replace", version=2)
    assert store.save_announcements([replaced]) == 0  # known: not new to the database
    assert store.get_paper("2603.00001") == paper("2603.00001", version=2)
    assert store.announcements_on(day(15)) == [replaced]

    store.apply_retention(day(30), WEEK)  # compacted again: the compact record follows the newest
    assert store.get_paper("2603.00001") is None
    assert rows(store.path, "SELECT version, type FROM compact_papers") == [(2, 3)]


def test_new_papers_are_counted_against_compacted_ones(store: SQLiteStore) -> None:
    store.save_announcements([announced(i, day(0)) for i in ids("2603", 3)])
    store.apply_retention(day(14), WEEK)
    again = [announced(i, day(15), "replace", version=2) for i in ids("2603", 3)]
    assert store.save_announcements([*again, announced("2603.00010", day(15))]) == 1


def test_the_api_backfill_does_not_announce_a_compacted_paper_again(store: SQLiteStore) -> None:
    store.save_announcements([announced("2603.00001", day(0))])
    store.apply_retention(day(14), WEEK)

    # The API sees it again, a day apart (its estimate of the announcement day differs), plus a new one.
    api = [announced("2603.00001", day(1), source="api"), announced("2603.00002", day(1), source="api")]
    assert store.save_backfilled(api) == 1
    assert [a.paper.arxiv_id for a in store.announcements_between(day(0), day(2))] == ["2603.00002"]
    assert store.get_paper("2603.00001") is None  # no full record without an announcement
    assert store.count_papers() == 2


def test_coverage_and_digested_ids_outlive_compaction(store: SQLiteStore) -> None:
    first = announced("2603.00001", day(0))
    store.save_announcements([first, announced("2603.00002", day(0))])
    store.record_coverage([day(0)], "rss")
    store.save_digest(day(0), [scored(first)], generated_at=datetime.now(timezone.utc), categories=[], keywords=[])
    store.apply_retention(day(30), WEEK)
    assert store.covered_days(day(0), day(0)) == {day(0)}
    assert store.digested_before(day(1)) == {"2603.00001"}


def test_an_unknown_announce_type_is_compacted_too(store: SQLiteStore) -> None:
    store.save_announcements([announced("2603.00001", day(0), "withdrawn")])
    store.apply_retention(day(14), WEEK)
    assert rows(store.path, "SELECT t.name FROM compact_papers c JOIN announce_types t ON t.code = c.type") == [
        ("withdrawn",)
    ]


def test_retention_off_changes_nothing(store: SQLiteStore) -> None:
    store.save_announcements([announced(i, day(0)) for i in ids("2603", 3)])
    report = store.apply_retention(day(30), RetentionPolicy(full_days=7, compact=False))
    assert report.cutoff is None and report.compacted_papers == 0
    assert store.get_paper("2603.00001") is not None


def big(arxiv_id: str, when: date) -> Announcement:
    """An announcement with an abstract as long as a real one (about 1,200 characters)."""
    return Announcement(paper(arxiv_id, abstract="Sparse inference, measured with care. " * 32), "new", when)


def file_size(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def test_the_file_shrinks_after_compaction(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with open_store(path) as store:
        store.save_announcements([big(i, day(0)) for i in ids("2603", 2000)])
    grown = file_size(path)
    with open_store(path) as store:
        report = store.apply_retention(day(14), WEEK)
    assert report.compacted_papers == 2000 and not report.converted
    assert report.bytes_after < report.bytes_before / 5
    assert file_size(path) < grown / 5  # the pages were given back, not only marked free


def test_without_vacuum_the_space_is_kept_for_reuse(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with open_store(path) as store:
        store.save_announcements([big(i, day(0)) for i in ids("2603", 500)])
        report = store.apply_retention(day(14), RetentionPolicy(full_days=7, vacuum=False))
        assert report.compacted_papers == 500 and report.bytes_after >= report.bytes_before
        assert rows(path, "PRAGMA freelist_count")[0][0] > 0


def test_a_database_made_before_retention_is_converted_once(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)  # as arxivbot 0.1 made it: no auto-vacuum
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for migration in migrations()[:5]:
        db.executescript(migration.sql)
        db.execute("INSERT INTO _migrations VALUES (?, '2025-12-01T06:00:00+00:00')", (migration.name,))
    db.commit()
    db.close()
    with open_store(path) as store:
        store.save_announcements([big(i, day(0)) for i in ids("2603", 1000)])
    grown = file_size(path)
    assert rows(path, "PRAGMA auto_vacuum") == [(0,)]

    with open_store(path) as store:
        first = store.apply_retention(day(14), WEEK)
        second = store.apply_retention(day(15), WEEK)
    assert first.converted and not second.converted
    assert rows(path, "PRAGMA auto_vacuum") == [(2,)]
    assert file_size(path) < grown / 5
    assert rows(path, "PRAGMA integrity_check") == [("ok",)]


def test_the_window_is_never_shorter_than_days_back(tmp_path: Path) -> None:
    config = config_from_dict({"days_back": 10, "retention": {"full_days": 3}}, base_dir=tmp_path)
    assert config.retention_policy() == RetentionPolicy(full_days=10, compact=True, vacuum=True)
    config = config_from_dict({"days_back": 2}, base_dir=tmp_path)
    assert config.retention_policy() == RetentionPolicy(full_days=7)
    config = config_from_dict({"retention": {"compact": False, "vacuum": False}}, base_dir=tmp_path)
    assert config.retention_policy() == RetentionPolicy(full_days=7, compact=False, vacuum=False)


@pytest.mark.parametrize(
    "title",
    [
        "Sparse LLM Inference at Scale",
        "  FP8_training: a   (re)view\tof  2-bit\nquantization!  ",
        "snake_case and C++ and A/B testing",
        "",
        "Ünïcode Tïtle — with ﬁ ligatures",
        "\x00\x1f control \x7f characters",
    ],
)
def test_the_title_hash_is_the_hash_of_the_normalised_title(title: str) -> None:
    expected = hashlib.blake2b(normalised_title(title).encode("utf-8"), digest_size=8).digest()
    assert title_hash(title) == int.from_bytes(expected, "big", signed=True)
