"""One run at a time per database: an operating-system lock on ``<database>.lock``, beside it.

Two runs on one database (a cron ``arxivbot run`` while the service's scheduled cycle is going, a
manual run during either) would each pay the LLM for the same papers and race to publish. Every cycle
and backfill therefore takes this lock first (:mod:`arxivbot.pipeline` does, so the CLI, the service's
schedule and ``POST /update`` all get it); a second one waits up to ``storage.lock_timeout_seconds``,
then gives up with :class:`~arxivbot.errors.LockedError` (exit code 4).

The lock is ``flock`` through the ``filelock`` library: the kernel releases it when its process ends,
however it ends (kill -9 included), so a crash never leaves the database locked. It works on local
disks, in the Docker image and on the GitHub Actions runner; network file systems may not honour it.
The ``.lock`` file itself stays (empty) between runs, so every waiter locks the same file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from arxivbot.errors import LockedError, StoreError

log = logging.getLogger(__name__)

LOCK_SUFFIX = ".lock"


def lock_path(database: Path) -> Path:
    """``data/arxivbot.db`` → ``data/arxivbot.db.lock``."""
    return database.with_name(database.name + LOCK_SUFFIX)


@contextmanager
def run_lock(database: Path, timeout_seconds: float) -> Iterator[None]:
    """Hold the database's lock for the ``with`` block, waiting up to ``timeout_seconds`` for it.

    Raises :class:`LockedError` when another run still holds it after that, and :class:`StoreError`
    when the lock file cannot be created (its folder is not writable).
    """
    if str(database) == ":memory:":  # a private database: nobody to share it with
        yield
        return
    try:
        lock = _file_lock(database)
        if not _try(lock, 0):
            log.info("Another arxivbot run is using %s: waiting up to %g s for it to finish", database, timeout_seconds)
            if not _try(lock, timeout_seconds):
                raise LockedError(
                    f"{database}: another arxivbot run is using this database and did not finish within "
                    f"{timeout_seconds:g} s (storage.lock_timeout_seconds); nothing was done, try again later"
                )
    except OSError as err:
        raise StoreError(
            f"{lock_path(database)}: cannot create the run lock ({err.strerror or err}); "
            "point storage.database at a folder you can write to"
        ) from None
    try:
        yield
    finally:
        lock.release()


def held_elsewhere(database: Path) -> bool:
    """True when another run holds the lock right now (a look, not a wait: it may change at once)."""
    if str(database) == ":memory:" or not lock_path(database).exists():
        return False
    lock = _file_lock(database)
    try:
        if not _try(lock, 0):
            return True
    except OSError:
        return False  # no lock can be taken here at all; the run itself will report why
    lock.release()
    return False


def _file_lock(database: Path) -> FileLock:
    database.parent.mkdir(parents=True, exist_ok=True)
    # thread_local=False: the service takes the lock on a worker thread; any thread of it may look.
    return FileLock(str(lock_path(database)), thread_local=False)


def _try(lock: FileLock, timeout_seconds: float) -> bool:
    try:
        lock.acquire(timeout=timeout_seconds, poll_interval=0.05)
    except Timeout:
        return False
    return True
