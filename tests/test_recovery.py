"""After kill -9: the lock is free at once, the next run marks the dead run aborted and removes the
temporary files it left, and ``arxivbot status`` tells what happened overnight."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

from arxivbot.config import config_from_dict
from arxivbot.files import remove_leftover_temp_files, write_atomic
from arxivbot.models import RunReport
from arxivbot.runlock import held_elsewhere, lock_path, run_lock
from arxivbot.status import describe_run, run_status
from arxivbot.store import open_store
from tests.clirunner import run_arxivbot
from tests.llmserver import LLMServer
from tests.procs import LLM_KEY_ENV, Arxivbot, wait_until
from tests.test_runlock import write_config

# What write_atomic leaves when killed between writing its temporary file and renaming it.
LEFTOVERS = (
    "public/rss/.cs.AI.xml.k2j4h1x9.tmp",
    ".README.md.a8b7c6d5.tmp",
    "data/pdfs/.2512.20276v1.pdf.q1w2e3r4.tmp",
)
# Look alike, but are not ours: they stay.
NOT_OURS = (".notes.md.tmp", "public/draft.tmp", ".other.md.a8b7c6d5.tmp", "public/.git/.x.y.abcdefgh.tmp")


def test_after_kill_9_the_next_run_cleans_up_and_status_tells(
    held_llm: tuple[LLMServer, threading.Event], tmp_path: Path
) -> None:
    llm, gate = held_llm
    config = write_config(tmp_path, llm)
    database = tmp_path / "data" / "arxivbot.db"

    with Arxivbot("run", "--config", str(config), cwd=tmp_path) as run:
        wait_until(lambda: len(llm.chat_requests) == 1, what="the run to ask the LLM")
        assert held_elsewhere(database)
        run.kill()  # kill -9 mid-run: no cleanup code of its own runs
    for name in LEFTOVERS + NOT_OURS:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("half a file", encoding="utf-8")

    # The kernel dropped the lock with the process: nothing to wait for, nothing to delete by hand.
    assert lock_path(database).exists() and not held_elsewhere(database)
    before = run_arxivbot("status", "--config", str(config))
    assert "#1 run running? (no run holds the lock: it was killed, the next run marks it aborted)" in before.stdout

    gate.set()
    after = run_arxivbot("run", "--config", str(config), env={LLM_KEY_ENV: "sk-test"})

    assert after.returncode == 0, after.stderr
    assert "Run 1 never finished (killed or crashed): marked aborted" in after.stderr
    rows = sqlite3.connect(database).execute("SELECT id, status, finished_at, message FROM runs ORDER BY id").fetchall()
    assert [(row[0], row[1]) for row in rows] == [(1, "aborted"), (2, "ok")]
    assert rows[0][2] is not None and "noticed at" in rows[0][3] and "killed" in rows[0][3]
    assert [name for name in LEFTOVERS if (tmp_path / name).exists()] == []
    assert [name for name in NOT_OURS if not (tmp_path / name).exists()] == []

    status = run_arxivbot("status", "--config", str(config))
    assert status.returncode == 0
    lines = status.stdout.splitlines()
    assert lines[0] == f"Last runs in {database}, newest first:"
    assert lines[1].startswith("#2 run ok 2025-12-24 · started ")
    assert "12 fetched, " in lines[1] and "3 summarized" in lines[1]
    assert lines[2].startswith("#1 run aborted - · started ")
    assert "aborted: the run stopped without finishing" in lines[2]
    data = json.loads(run_arxivbot("status", "--config", str(config), "--json").stdout)
    assert [(r["id"], r["status"], r["exit_code"]) for r in data["runs"]] == [(2, "ok", 0), (1, "aborted", 1)]
    assert data["in_progress"] is False and data["database"] == str(database)


def test_only_running_rows_are_aborted_and_only_under_the_lock(tmp_path: Path) -> None:
    database = tmp_path / "arxivbot.db"
    noticed = datetime(2026, 5, 5, 7, 0, tzinfo=timezone.utc)
    with open_store(database) as store:
        done = store.start_run("run")
        store.finish_run(done, RunReport(run_id=done, status="ok", day=None, started_at=noticed, finished_at=noticed))
        dead = store.start_run("backfill")
        assert store.abort_unfinished_runs(noticed) == [dead]
        assert store.abort_unfinished_runs(noticed) == []  # nothing left to abort
        runs = {run.run_id: run for run in store.runs()}
    assert runs[done].status == "ok" and runs[dead].status == "aborted"
    assert runs[dead].finished_at == noticed and runs[dead].exit_code == 1


def test_a_run_holding_the_lock_is_shown_as_running(tmp_path: Path) -> None:
    config = config_from_dict({"keywords": ["LLM"]}, base_dir=tmp_path)
    with open_store(config.storage.database) as store:
        store.start_run("run")
    with run_lock(config.storage.database, 0):  # another handle: to this process, another run
        found = run_status(config)
    assert found.in_progress
    assert describe_run(found.runs[0], in_progress=True).startswith("#1 run running - · started ")


def test_status_without_a_database(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"keywords": []}), encoding="utf-8")  # status needs no keywords

    result = run_arxivbot("status", "--config", str(config))

    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip()
        == f"No runs recorded in {tmp_path / 'data' / 'arxivbot.db'} yet: `arxivbot run` records one."
    )
    assert not (tmp_path / "data").exists()  # looking changed nothing


def test_leftover_removal_matches_write_atomics_own_names(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    write_atomic(folder / "rss.xml", "<rss/>")  # a finished write leaves nothing behind
    (folder / ".rss.xml.abcd1234.tmp").write_text("x", encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / ".a.json.zz__99yy.tmp").write_text("x", encoding="utf-8")
    (folder / ".rss.xml.TOOLONG123.tmp").write_text("x", encoding="utf-8")

    flat = remove_leftover_temp_files(folder)
    deep = remove_leftover_temp_files(folder, recursive=True)

    assert [p.name for p in flat] == [".rss.xml.abcd1234.tmp"]
    assert [p.name for p in deep] == [".a.json.zz__99yy.tmp"]
    assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == [".rss.xml.TOOLONG123.tmp", "rss.xml"]
