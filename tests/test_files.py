"""Atomic writes of several files at once: only what changed, all synced before any rename."""

from __future__ import annotations

from pathlib import Path

import pytest

from arxivbot.errors import OutputError
from arxivbot.files import write_all_atomic, write_atomic


def test_only_changed_files_are_written_and_reported_in_order(tmp_path: Path) -> None:
    same, changed, new = tmp_path / "same.xml", tmp_path / "changed.xml", tmp_path / "sub" / "new.xml"
    same.write_bytes(b"kept")
    changed.write_bytes(b"old")
    before = same.stat().st_mtime_ns

    written = write_all_atomic({same: b"kept", changed: "new text", new: b"<rss/>"})

    assert written == [changed, new]
    assert (same.read_bytes(), changed.read_text(), new.read_bytes()) == (b"kept", "new text", b"<rss/>")
    assert same.stat().st_mtime_ns == before
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["changed.xml", "new.xml", "same.xml", "sub"]


def test_a_failure_before_the_renames_leaves_every_file_as_it_was(tmp_path: Path) -> None:
    first, blocked = tmp_path / "first.xml", tmp_path / "a-file" / "second.xml"
    first.write_bytes(b"old")
    (tmp_path / "a-file").write_bytes(b"a file where a folder should be")

    with pytest.raises(OutputError, match=r"second\.xml: cannot write output .*previous file is kept"):
        write_all_atomic({first: b"new", blocked: b"new"})

    assert first.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "first.xml"]  # no temp file left


@pytest.mark.parametrize("durable", [True, False])
def test_write_atomic_is_the_one_file_case(tmp_path: Path, durable: bool) -> None:
    target = tmp_path / "cache"
    assert write_atomic(target, b"x", durable=durable) is True
    assert write_atomic(target, b"x", durable=durable) is False
    assert target.read_bytes() == b"x"
