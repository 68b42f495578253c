"""The database's upkeep after a run: the retention policy, alongside delivery where it can be.

Retention compacts papers last announced before ``today - full_days``, never later than the start of
the digest window (``full_days >= days_back``): no paper it touches is in the run's digest, and what it
keeps (digest entries, feedback, summaries) is all written by the time the digest is delivered, which
only reads. Its time is mostly the database's writes and syncs, so a run applies it on a connection of
its own while the files are rendered (measured: started earlier, before ranking, it waited on the
database's write lock instead). A failure is a warning: the next run tries again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from arxivbot.config import Config
from arxivbot.errors import ArxivbotError
from arxivbot.store import Store, open_store

log = logging.getLogger(__name__)


def apply_retention(store: Store, today: date, config: Config) -> None:
    """Apply ``config``'s retention policy as of ``today``; a failure is logged, never raised."""
    try:  # the run itself succeeded: a retention that fails is retried by the next run
        store.apply_retention(today, config.retention_policy())
    except ArxivbotError as err:
        log.warning("Retention not applied this time: %s", err)


@contextmanager
def retention_alongside(config: Config, store: Store, today: date) -> Iterator[None]:
    """Apply the retention policy in a thread, on its own connection, while the body runs; it is
    applied when the block ends. An in-memory database (one connection only) gets it after the body."""
    database = config.storage.database
    if str(database) == ":memory:":  # a second connection would see another database
        yield
        apply_retention(store, today, config)
        return
    failures: list[BaseException] = []

    def apply() -> None:
        try:
            with open_store(database) as own:
                apply_retention(own, today, config)
        except BaseException as err:  # raised in the run's thread, below
            failures.append(err)

    worker = threading.Thread(target=apply, name="arxivbot-retention", daemon=True)
    worker.start()
    try:
        yield
    finally:
        worker.join()
    if failures:
        if isinstance(failures[0], ArxivbotError):
            log.warning("Retention not applied this time: %s", failures[0])
        else:
            raise failures[0]
