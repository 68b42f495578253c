"""Feedback: like and dislike, replaced, removed, and refused when it is not an arXiv id or verdict."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from arxivbot.errors import ConfigError
from arxivbot.store import open_store
from tests.store.records import announced


def test_verdicts_are_recorded_replaced_and_removed(tmp_path: Path) -> None:
    with open_store(tmp_path / "a.db") as store:
        store.save_announcements([announced("2603.00001", date(2026, 3, 2), version=3)])
        assert store.record_feedback(["2603.00001", "https://arxiv.org/abs/2603.00002v2"], "like") == 2
        assert store.record_feedback(["astro-ph/0601001"], "dislike") == 1
        assert store.feedback() == {"2603.00001": "like", "2603.00002": "like", "astro-ph/0601001": "dislike"}

        assert store.record_feedback(["2603.00002"], "dislike") == 1  # a second verdict replaces the first
        assert store.feedback()["2603.00002"] == "dislike"

        assert store.remove_feedback(["2603.00001v3", "2603.00099"]) == 1
        assert "2603.00001" not in store.feedback()
        versions = dict(store._db.execute("SELECT arxiv_id, version FROM feedback").fetchall())
    # The stated version wins; without one, the stored paper's; for an unknown paper, none.
    assert versions == {"2603.00002": None, "astro-ph/0601001": None}


def test_the_version_judged_is_kept(tmp_path: Path) -> None:
    with open_store(tmp_path / "a.db") as store:
        store.save_announcements([announced("2603.00001", date(2026, 3, 2), version=3)])
        store.record_feedback(["2603.00001", "2603.00002v2"], "like")
        versions = dict(store._db.execute("SELECT arxiv_id, version FROM feedback").fetchall())
    assert versions == {"2603.00001": 3, "2603.00002": 2}


@pytest.mark.parametrize(
    ("ids", "verdict", "message"),
    [
        (["2603.00001"], "love", r"feedback: the verdict must be 'like' or 'dislike', got 'love'"),
        (["not-an-id"], "like", r"feedback: not an arXiv identifier: 'not-an-id' \(expected e\.g\. 2512\.20276"),
    ],
)
def test_bad_input_is_refused_with_nothing_recorded(tmp_path: Path, ids: list[str], verdict: str, message: str) -> None:
    with open_store(tmp_path / "a.db") as store:
        with pytest.raises(ConfigError, match=message):
            store.record_feedback(["2603.00009", *ids], verdict)
        assert store.feedback() == {}
