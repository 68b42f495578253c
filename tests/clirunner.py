"""The real CLI, in-process: click's ``CliRunner`` around ``arxivbot.cli.main``, isolated like a subprocess.

A subprocess per test pays a Python start-up and every import (about 1.5 s); an in-process run pays for
the run alone. What a subprocess gave for free is kept: stdout and stderr apart, the exit code, ``CI=true``
(no progress bars), and nothing left behind: the logging set-up the CLI installs is undone after every
test (``logging_restored`` in ``tests/conftest.py``). An exception escaping the CLI fails the test, as a
traceback on a subprocess's stderr would. A few tests in ``tests/test_cli.py`` still run the installed
command in a subprocess, end to end.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner


@dataclass(frozen=True)
class Finished:
    """How a command ended, with the names of ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


def run_arxivbot(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Finished:
    """Run ``arxivbot *args`` in this process. ``sleep`` replaces the runtime's waits (pacing, back-off)."""
    from arxivbot.cli import main

    runner = CliRunner(env={"CI": "true", **(env or {})})
    overrides = {"sleep": sleep} if sleep is not None else None
    with _working_directory(cwd):
        result = runner.invoke(main, list(args), obj=overrides, catch_exceptions=False)
    return Finished(result.exit_code, result.stdout, result.stderr)


@contextmanager
def _working_directory(cwd: Path | None) -> Iterator[None]:
    if cwd is None:
        yield
        return
    before = Path.cwd()
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(before)
