"""Shared test fixtures: isolation from the user's files and keys, a local arXiv, the real captures."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.llmserver import LLMServer, Reply
from tests.localserver import LocalServer

TESTS_DIR = Path(__file__).resolve().parent
OWN_FIXTURES = TESTS_DIR / "fixtures"
# Real captured arXiv responses live beside the project, in ../shared; they are used in place.
SHARED_FIXTURES = TESTS_DIR.parent.parent / "shared" / "fixtures" / "arxiv"

# Every variable that could carry a real key or change behaviour is removed for the tests.
_ISOLATED_ENV = (
    "DASHSCOPE_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ARXIVBOT_UPDATE_TOKEN",
    # The secrets the scaffolded workflow hands to `arxivbot run` (docs/deploy.md, "Security").
    "SMTP_PASSWORD",
    "SLACK_WEBHOOK_URL",
    "DISCORD_WEBHOOK_URL",
    "TELEGRAM_BOT_TOKEN",
    "FEISHU_WEBHOOK_URL",
    "FEISHU_SECRET",
    "DIGEST_WEBHOOK_URL",
    "ZOTERO_API_KEY",
    "GITHUB_REPOSITORY",  # names the digest's repository (its Deploy button) on GitHub Actions
    "GITHUB_SERVER_URL",
)
# The loggers an in-process CLI run (cli.setup_logging) reconfigures for the whole process.
_CLI_LOGGERS = ("arxivbot", "httpx", "httpcore", "openai", "apscheduler")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run every test in its own empty folder, with no real keys in the environment."""
    for name in _ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def logging_restored() -> Iterator[None]:
    """Undo what an in-process CLI run (click's CliRunner) does to logging, after every test.

    ``cli.setup_logging`` leaves a handler on that run's captured stderr (a dead stream afterwards), the
    level of ``-v``/``-q``, ``propagate`` off and quieter third-party loggers: the next test would log
    into the dead stream and ``caplog`` could miss records.
    """
    loggers = [logging.getLogger(name) for name in _CLI_LOGGERS]
    saved = [(logger, list(logger.handlers), logger.level, logger.propagate) for logger in loggers]
    yield
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A real HTTP server on 127.0.0.1 with scripted responses (see ``tests/localserver.py``)."""
    with LocalServer() as server:
        yield server


@pytest.fixture
def held_llm() -> Iterator[tuple[LLMServer, threading.Event]]:
    """A local LLM whose answers wait for the gate; the gate opens at the end whatever happens
    (the run lock and crash-recovery tests hold a run in the middle of its summaries)."""
    gate = threading.Event()
    with LLMServer() as llm:
        llm.chat(Reply(gate=gate))
        try:
            yield llm, gate
        finally:
            gate.set()


@pytest.fixture
def shared_fixture() -> object:
    """Return a function giving the path of a real captured arXiv response; skip when absent."""

    def find(name: str) -> Path:
        path = SHARED_FIXTURES / name
        if not path.is_file():
            pytest.skip(f"real arXiv capture {name} not available (../shared is absent)")
        return path

    return find


@pytest.fixture
def own_fixture() -> object:
    """Return a function giving the path of one of the project's own small fixtures."""

    def find(name: str) -> Path:
        path = OWN_FIXTURES / name
        assert path.is_file(), f"missing project fixture {path}"
        return path

    return find


# A RAM disk for the tests' throwaway files when the machine has a roomy one (see pytest_configure).
RAM_DISK = Path("/dev/shm")
RAM_DISK_MIN_FREE = 1 << 30


def pytest_configure(config: pytest.Config) -> None:
    """Put ``tmp_path`` folders (databases, outputs, git repositories) on a RAM disk when there is one.

    The suite writes a few thousand small files and SQLite databases and deletes them again; on a busy
    disk each fsync, unlink and rmdir costs milliseconds, which measured a third of some files' run time.
    Only when nobody chose a place (``--basetemp``, ``TMPDIR``, ``PYTEST_DEBUG_TEMPROOT``) and the RAM
    disk has at least 1 GiB free; otherwise pytest's usual temporary folder. The files are the same.
    """
    if config.option.basetemp or os.environ.get("TMPDIR") or os.environ.get("PYTEST_DEBUG_TEMPROOT"):
        return
    try:
        roomy = os.access(RAM_DISK, os.W_OK) and shutil.disk_usage(RAM_DISK).free >= RAM_DISK_MIN_FREE
    except OSError:
        return
    if roomy:
        tempfile.tempdir = str(RAM_DISK)


def pytest_report_header() -> str:
    shared = "present" if SHARED_FIXTURES.is_dir() else "absent (tests using them are skipped)"
    return (
        f"arxivbot: real arXiv captures in ../shared: {shared}; CI={os.environ.get('CI', '')}; "
        f"temporary files in {tempfile.gettempdir()}"
    )
