"""Opening the SQLite file: WAL, transactions, migrations, and open errors a user can act on.

WAL mode lets the web service read while a run writes; every multi-row change is one transaction,
so an interrupted run leaves the database as it was. New databases use incremental auto-vacuum, so
space freed by retention can be given back to the file system without rewriting the file.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from arxivbot.errors import StoreError
from arxivbot.store import migrations

_WAL_ATTEMPTS = 50  # about 25 s in all, like the busy timeout
_CHUNK = 500  # ids per ``IN (...)``: well under SQLite's bound-parameter limit
_DAMAGED = ("file is not a database", "malformed")


class Database:
    """One connection to the arxivbot database: the base every concern of :class:`SQLiteStore` shares."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        """Open (creating and migrating) the database; ``readonly`` opens an existing one untouched."""
        self.path = Path(path)
        self.readonly = readonly
        self._db = _connect(self.path, readonly=readonly)
        try:
            self._prepare()
        except sqlite3.DatabaseError as err:
            # Diagnosed before closing: with the connection's descriptors still held, the operating
            # system fails the same way SQLite did (e.g. too many open files).
            error = open_error(self.path, err, readonly=readonly)
            self._db.close()
            raise error from None
        except BaseException:
            self._db.close()
            raise

    def _prepare(self) -> None:
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=10000")
        # A newer, damaged or foreign history is refused before anything is changed (even WAL mode).
        migrations.check(self._db, self.path)
        if self.readonly:
            return
        if _is_empty(self._db):
            # Both only take effect before the first table exists (later they take a VACUUM). 8 kB
            # pages hold four full papers instead of two: a paper kept for ever wastes less of its page.
            self._db.execute("PRAGMA page_size=8192")
            self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")
        self._use_wal()
        self._db.execute("PRAGMA synchronous=NORMAL")
        migrations.migrate(self._db, self.path)

    def _use_wal(self) -> None:
        """Switch to WAL, waiting out another process that is creating the same database.

        Changing the journal mode can fail at once with "database is locked" (SQLite's busy timeout
        does not cover that lock), e.g. when ``serve`` and a cron ``run`` open a new database together.
        """
        for attempt in range(1, _WAL_ATTEMPTS + 1):
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or attempt == _WAL_ATTEMPTS:
                    raise
                time.sleep(0.02 * attempt)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work: all of it is committed, or none of it."""
        if self._db.in_transaction:  # nested use joins the outer transaction
            yield self._db
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def applied_migrations(self) -> list[str]:
        return migrations.applied_names(self._db)

    def _rows_for_ids(self, query: str, arxiv_ids: Iterable[str], *params: Any) -> Iterator[sqlite3.Row]:
        """Rows of ``query`` whose ``IN ({ids})`` takes the distinct ``arxiv_ids``, asked in chunks
        that stay under SQLite's bound-parameter limit. ``params`` follow the ids."""
        ids = list(dict.fromkeys(arxiv_ids))
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            yield from self._db.execute(query.format(ids=",".join("?" * len(chunk))), (*chunk, *params))


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    memory = str(path) == ":memory:"
    try:
        if readonly:
            uri = f"{path.resolve().as_uri()}?mode=ro"
            return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        if not memory:
            path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are explicit (``transaction``), never implicit.
        return sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    except OSError as err:
        raise StoreError(
            f"{path}: cannot create the database's folder ({err.strerror}); "
            "point storage.database at a place you can write to"
        ) from None
    except sqlite3.DatabaseError as err:
        raise open_error(path, err, readonly=readonly) from None


def _is_empty(db: sqlite3.Connection) -> bool:
    count: int = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    return count == 0


def open_error(path: Path, err: sqlite3.DatabaseError, *, readonly: bool = False) -> StoreError:
    """The real reason a database could not be opened, and the fix that fits it.

    Moving the file away is advised only when SQLite says the file itself is damaged: for a full
    descriptor table or a read-only folder, that advice would throw away a good database.
    """
    said = str(err)
    if any(sign in said for sign in _DAMAGED):
        return StoreError(
            f"{path}: cannot open the arxivbot database ({said}): the file is damaged or not an SQLite "
            "database; restore a backup, or move the file away and arxivbot starts a new one"
        )
    cause, advice = _os_cause(path, readonly)
    detail = f"{said}: {cause}" if cause else said
    return StoreError(f"{path}: cannot open the arxivbot database ({detail}); {advice}")


def _os_cause(path: Path, readonly: bool) -> tuple[str, str]:
    """Ask the operating system what SQLite only calls "unable to open database file"."""
    writable_place = "point storage.database at a file you can read and write"
    if path.is_dir():
        return "it is a folder", "point storage.database at a file inside it, e.g. data/arxivbot.db"
    if not path.parent.is_dir():
        return "its folder does not exist", writable_place
    if readonly and not path.exists():
        return "it does not exist yet", "run `arxivbot run` once first, or check storage.database"
    if not readonly and not os.access(path.parent, os.W_OK | os.X_OK):
        # WAL mode needs the -wal and -shm files beside the database.
        return "its folder is not writable, and SQLite keeps -wal and -shm files beside it", writable_place
    try:
        if path.exists():
            os.close(os.open(path, os.O_RDONLY if readonly else os.O_RDWR))
    except OSError as err:
        said = f"{err.strerror} ({errno.errorcode.get(err.errno or 0, f'errno {err.errno}')})"
        if err.errno in (errno.EMFILE, errno.ENFILE):
            return said, "too many files are open: close other programs, or raise the limit (ulimit -n)"
        return said, writable_place
    return "", writable_place
