"""Real ``arxivbot`` processes for the tests that need more than one at a time (locks, kill -9, serve).

A process's stdout and stderr are read by threads as they come, so a test can wait for a line
("waiting for the lock", "serving on …") and a chatty process never blocks on a full pipe.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE_FEED = PROJECT / "examples" / "offline" / "sample-feed.xml"
LLM_KEY_ENV = "ARXIVBOT_TEST_LLM_KEY"


class Arxivbot:
    """``python -m arxivbot *args`` in its own process; ``stderr_lines`` fills as it writes."""

    def __init__(self, *args: str, cwd: Path, env: Mapping[str, str] | None = None) -> None:
        clean = {k: v for k, v in os.environ.items() if k not in ("DASHSCOPE_API_KEY", "OPENAI_API_KEY")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "arxivbot", *args],
            cwd=cwd,
            env={**clean, "CI": "true", LLM_KEY_ENV: "sk-test", **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self._news: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(stream, lines), daemon=True)
            for stream, lines in ((self.process.stdout, self.stdout_lines), (self.process.stderr, self.stderr_lines))
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: object, lines: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.append(line.rstrip("\n"))
            self._news.put(line)

    def wait_for_line(self, pattern: str, seconds: float = 30.0) -> re.Match[str]:
        """The first line on stdout or stderr matching ``pattern``; fails the test if none comes in time."""
        deadline = time.monotonic() + seconds
        while True:
            for line in [*self.stdout_lines, *self.stderr_lines]:
                if match := re.search(pattern, line):
                    return match
            left = deadline - time.monotonic()
            if left <= 0 or (self.process.poll() is not None and self._news.empty()):
                raise AssertionError(f"no line matching {pattern!r}; stderr: {self.stderr_lines[-20:]}")
            with contextlib.suppress(queue.Empty):
                self._news.get(timeout=min(left, 0.5))

    def finish(self, seconds: float = 60.0) -> int:
        """Wait for the process to end; its output is then complete."""
        code = self.process.wait(timeout=seconds)
        self._close()
        return code

    def _close(self) -> None:
        for reader in self._readers:  # they end at end-of-file, once the process is gone
            reader.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    @property
    def stderr(self) -> str:
        return "\n".join(self.stderr_lines)

    @property
    def stdout(self) -> str:
        return "\n".join(self.stdout_lines)

    def kill(self) -> None:
        """SIGKILL, like the out-of-memory killer or a runner that lost power: nothing runs after it."""
        self.process.kill()
        self.process.wait(timeout=30)
        self._close()

    def __enter__(self) -> Arxivbot:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.kill()
        self._close()


def wait_until(predicate: Callable[[], bool], seconds: float = 30.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
