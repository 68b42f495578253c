"""Open errors name the real cause, and advise moving the file away only when SQLite says it is damaged."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from arxivbot.errors import StoreError
from arxivbot.store import open_store
from tests.store.records import announced

MOVE_AWAY = "move the file away"

# Uses up the process's file descriptors, then opens the database: SQLite only says "unable to open".
OUT_OF_DESCRIPTORS = """
import resource, sys
from arxivbot.errors import StoreError
from arxivbot.store import open_store
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
held = []
try:
    while True:
        held.append(open(sys.argv[1] + ".probe", "a"))
except OSError:
    pass
held.pop().close()  # one descriptor free: enough to start, not enough for the WAL files
try:
    open_store(sys.argv[1])
except StoreError as err:
    print(err)
"""


def test_a_file_that_is_not_a_database_is_called_damaged(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(StoreError) as refused:
        open_store(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: cannot open the arxivbot database (file is not a database)")
    assert MOVE_AWAY in message and "restore a backup" in message


def test_a_malformed_database_is_called_damaged(tmp_path: Path) -> None:
    path = tmp_path / "torn.db"
    with open_store(path) as store:
        store.save_announcements([announced(f"2603.{n:05d}", date(2026, 3, 2)) for n in range(300)])
    data = bytearray(path.read_bytes())
    page = 8192
    for offset in range(page, len(data), page):  # every page after the first: the schema reads fine,
        data[offset : offset + 100] = b"\xff" * 100  # the tables do not
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as refused, open_store(path) as store:
        store.count_papers()
    message = str(refused.value)
    assert "malformed" in message and MOVE_AWAY in message


def test_running_out_of_file_descriptors_is_named_and_the_file_is_not_blamed(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    open_store(path).close()
    result = subprocess.run(
        [sys.executable, "-c", OUT_OF_DESCRIPTORS, str(path)], capture_output=True, text=True, timeout=60, check=True
    )
    message = result.stdout.strip()
    assert message.startswith(f"{path}: cannot open the arxivbot database")
    assert "Too many open files (EMFILE)" in message and "ulimit -n" in message
    assert MOVE_AWAY not in message


def test_a_folder_in_place_of_the_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "data.db").mkdir()
    with pytest.raises(StoreError) as refused:
        open_store(tmp_path / "data.db")
    message = str(refused.value)
    assert "unable to open database file: it is a folder" in message and MOVE_AWAY not in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    open_store(folder / "a.db").close()
    for leftover in folder.glob("a.db-*"):
        leftover.unlink()
    folder.chmod(0o555)
    try:
        with pytest.raises(StoreError, match="its folder is not writable") as refused:
            open_store(folder / "a.db")
        assert MOVE_AWAY not in str(refused.value)
    finally:
        folder.chmod(0o755)


def test_a_folder_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("in the way")
    with pytest.raises(StoreError, match=r"cannot create the database's folder \(Not a directory\)"):
        open_store(tmp_path / "file" / "data" / "a.db")
