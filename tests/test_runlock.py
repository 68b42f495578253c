"""One run at a time per database: real ``arxivbot`` processes against a local LLM that the test holds.

The LLM answers only when the test opens its gate, so the first run is caught mid-way, holding the lock,
for as long as the test needs: no sleeps, no timing assumptions.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from arxivbot.config import config_from_dict
from arxivbot.runlock import lock_path
from arxivbot.serve import create_app
from tests.llmserver import LLMServer
from tests.procs import LLM_KEY_ENV, SAMPLE_FEED, Arxivbot, wait_until

SUMMARIZED = 3


def write_config(folder: Path, llm: LLMServer, name: str = "config.json", lock_timeout: float = 120) -> Path:
    config = {
        "categories": ["cs.AI", "cs.CL", "cs.DC", "cs.LG"],
        "keywords": ["LLM", "Inference", "Sparse", "Framework", "Efficient", "Distributed", "SSM", "RL"],
        "days_back": 0,
        "arxiv": {"rss_url": str(SAMPLE_FEED)},
        "ai_summary": {
            "enabled": True,
            "base_url": llm.base_url,
            "api_key_env": LLM_KEY_ENV,
            "input": "abstract",
            "max_papers_to_summarize": SUMMARIZED,
            "max_workers": 1,
            "max_retries": 0,
        },
        "storage": {"lock_timeout_seconds": lock_timeout},
    }
    path = folder / name
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def summarized_title(chat: dict[str, Any]) -> str:
    """The paper a chat request asks about (its user message names the title)."""
    user = next(m["content"] for m in chat["messages"] if m["role"] == "user")
    match = re.search(r"论文标题：(.*)", user)
    assert match is not None
    return match[1]


def test_a_second_run_waits_for_the_first_and_pays_for_nothing(
    held_llm: tuple[LLMServer, threading.Event], tmp_path: Path
) -> None:
    llm, gate = held_llm
    config = write_config(tmp_path, llm)

    with Arxivbot("run", "--config", str(config), cwd=tmp_path) as first:
        wait_until(lambda: len(llm.chat_requests) == 1, what="the first run to ask the LLM")
        with Arxivbot("run", "--config", str(config), cwd=tmp_path) as second:
            second.wait_for_line(r"Another arxivbot run is using .*: waiting up to 120 s")
            gate.set()
            assert first.finish() == 0, first.stderr
            assert second.finish() == 0, second.stderr

    titles = [summarized_title(request.json) for request in llm.chat_requests]
    assert len(titles) == SUMMARIZED == len(set(titles))  # each paper paid for once, by the first run
    assert f"Summaries: {SUMMARIZED} ({SUMMARIZED} LLM calls, 0 cache hits" in first.stdout
    assert f"Summaries: {SUMMARIZED} (0 LLM calls, {SUMMARIZED} cache hits" in second.stdout
    db = sqlite3.connect(tmp_path / "data" / "arxivbot.db")
    assert db.execute("SELECT status FROM runs ORDER BY id").fetchall() == [("ok",), ("ok",)]


def test_a_second_run_that_cannot_wait_exits_4_in_one_line(
    held_llm: tuple[LLMServer, threading.Event], tmp_path: Path
) -> None:
    llm, gate = held_llm
    config = write_config(tmp_path, llm)
    impatient = write_config(tmp_path, llm, name="impatient.json", lock_timeout=0)

    with Arxivbot("run", "--config", str(config), cwd=tmp_path) as first:
        wait_until(lambda: len(llm.chat_requests) == 1, what="the first run to ask the LLM")
        with Arxivbot("run", "--config", str(impatient), cwd=tmp_path) as second:
            assert second.finish() == 4
        gate.set()
        assert first.finish() == 0, first.stderr

    errors = [line for line in second.stderr_lines if line.startswith("arxivbot: error:")]
    assert errors == [
        f"arxivbot: error: {tmp_path / 'data' / 'arxivbot.db'}: another arxivbot run is using this database "
        "and did not finish within 0 s (storage.lock_timeout_seconds); nothing was done, try again later"
    ]
    assert "Traceback" not in second.stderr
    assert len(llm.chat_requests) == SUMMARIZED  # the second run asked nothing
    db = sqlite3.connect(tmp_path / "data" / "arxivbot.db")
    assert db.execute("SELECT status FROM runs").fetchall() == [("ok",)]  # and recorded no run


def test_update_answers_409_while_another_process_holds_the_lock(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    config = config_from_dict(
        {"keywords": ["LLM"], "server": {"update_token_env": "ARXIVBOT_UPDATE_TOKEN"}}, base_dir=tmp_path
    )
    started: list[str] = []
    app = create_app(config, run_cycle=lambda: started.append("cycle"), scheduler=False)
    token = {"Authorization": "Bearer tok"}

    with pytest.MonkeyPatch.context() as env, TestClient(app) as client:
        env.setenv("ARXIVBOT_UPDATE_TOKEN", "tok")
        with _lock_holder(config.storage.database):
            refused = client.post("/update", headers=token)
        accepted = client.post("/update", headers=token)

    assert refused.status_code == 409 and refused.json() == {"status": "already running"}
    assert accepted.status_code == 202
    wait_until(lambda: started == ["cycle"], what="the accepted cycle")


class _lock_holder:
    """Another process holding the run lock (flock is per open file: a second handle in this process counts)."""

    def __init__(self, database: Path) -> None:
        self.database = database

    def __enter__(self) -> None:
        from filelock import FileLock

        self.lock = FileLock(str(lock_path(self.database)), thread_local=False)
        self.lock.acquire(timeout=0)

    def __exit__(self, *exc: object) -> None:
        self.lock.release()
