"""A fake monotonic clock whose time only moves when code sleeps: pacing is checked without waiting."""

from __future__ import annotations

from collections.abc import Callable

from tests.localserver import RecordedRequest


class FakeTime:
    """Pass ``clock`` and ``sleep`` to the code under test; ``sleeps`` records every wait."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self.request_times: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def answer(self, body: bytes, *, takes: float = 0.2) -> Callable[[RecordedRequest], bytes]:
        """A local-server response body that records the fake time each request arrived at."""

        def respond(_request: RecordedRequest) -> bytes:
            self.request_times.append(self.now)
            self.now += takes  # a request takes a little (fake) time
            return body

        return respond
