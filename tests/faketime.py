"""A fake monotonic clock whose time only moves when code sleeps: pacing is checked without waiting.

Safe to share between threads (summaries download PDFs from several workers): each sleep moves the
clock and is recorded as one step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from tests.localserver import RecordedRequest


class FakeTime:
    """Pass ``clock`` and ``sleep`` to the code under test; ``sleeps`` records every wait."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self.request_times: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def answer(self, body: bytes, *, takes: float = 0.2) -> Callable[[RecordedRequest], bytes]:
        """A local-server response body that records the fake time each request arrived at."""

        def respond(_request: RecordedRequest) -> bytes:
            with self._lock:
                self.request_times.append(self.now)
                self.now += takes  # a request takes a little (fake) time
            return body

        return respond
