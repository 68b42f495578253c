"""Append-only, numbered schema migrations: ``schema/NNNN_name.sql``, applied in order.

Never edit, rename or reorder a migration that has shipped: add the next number. Each applied name
is recorded in ``_migrations``, so a database from last year opens and is brought up to date. A
database whose history this version cannot account for (a newer arxivbot's migrations, a gap, a name
that is not ours) is refused, never rewritten: the user decides between upgrading and a backup.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from pathlib import Path

from arxivbot.errors import StoreError

_FILE_NAME = re.compile(r"^(?P<number>\d{4})_[a-z0-9_]+\.sql$")
_MIGRATION_NAME = re.compile(r"^(?P<number>\d{4})_[a-z0-9_]+$")


@dataclass(frozen=True, slots=True, order=True)
class Migration:
    name: str  # "0003_digests", as recorded in ``_migrations``
    sql: str

    @property
    def number(self) -> int:
        return int(self.name[:4])

    def statements(self) -> list[str]:
        return split_statements(self.sql)


@cache
def migrations() -> tuple[Migration, ...]:
    """This version's migrations, in order (read once from the package's ``schema`` folder)."""
    folder = resources.files("arxivbot.store").joinpath("schema")
    found = sorted(
        Migration(entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if _FILE_NAME.match(entry.name)
    )
    numbers = [migration.number for migration in found]
    if numbers != list(range(1, len(found) + 1)):  # a packaging mistake, caught by the tests
        raise StoreError(f"arxivbot's schema files are not numbered 0001, 0002, ...: got {numbers}")
    return tuple(found)


def split_statements(sql: str) -> list[str]:
    """Cut a script into statements where SQLite itself says one is complete.

    ``sqlite3.complete_statement`` knows about string literals, comments and ``CREATE TRIGGER ...
    END`` bodies, so a ``;`` inside any of them does not cut. Text after the last statement must be
    blank or comments.
    """
    statements: list[str] = []
    start = 0
    for end, char in enumerate(sql):
        if char == ";" and sqlite3.complete_statement(sql[start : end + 1]):
            statements.append(sql[start : end + 1].strip())
            start = end + 1
    rest = sql[start:]
    if _without_comments(rest).strip():
        raise StoreError(f"unterminated SQL statement in arxivbot's schema: {rest.strip()[:60]!r}")
    return statements


def _without_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", "", sql, flags=re.DOTALL)


# --- the history of a database ----------------------------------------------------------------------


def applied_names(db: sqlite3.Connection) -> list[str]:
    return [row[0] for row in db.execute("SELECT name FROM _migrations ORDER BY name")]


def pending(db: sqlite3.Connection, path: Path) -> list[Migration]:
    """The migrations ``db`` still needs; raises :class:`StoreError` for a history we cannot trust."""
    try:
        applied = applied_names(db)
    except sqlite3.OperationalError as err:  # a damaged file (DatabaseError) is reported as such
        raise StoreError(
            f"{path}: the database's migration history (table _migrations) is unreadable ({err}); "
            "restore a backup of the database, or move it away to start a new one"
        ) from None
    known = migrations()
    check_history(applied, known, path)
    return list(known[len(applied) :])


def check_history(applied: list[str], known: tuple[Migration, ...], path: Path) -> None:
    """Accept ``applied`` only when it is exactly the first migrations this version knows."""
    names = [migration.name for migration in known]
    if applied == names[: len(applied)]:
        return
    last = known[-1].number if known else 0
    strangers = [name for name in applied if name not in names]
    newer = [name for name in strangers if (match := _MIGRATION_NAME.match(name)) and int(match["number"]) > last]
    if newer and len(newer) == len(strangers) and applied[: len(names)] == names:
        raise StoreError(
            f"{path}: the database was upgraded by a newer arxivbot (its schema has {', '.join(newer)}, "
            f"which this version does not know); upgrade arxivbot (pip install -U arxivbot) to use it, "
            "or restore a backup made with this version"
        )
    missing = [name for name in names[: len(applied)] if name not in applied]
    problems = []
    if strangers:
        problems.append(f"unknown migration(s) {', '.join(repr(name) for name in strangers)}")
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    raise StoreError(
        f"{path}: the database's migration history is damaged ({'; '.join(problems)}); it was left as "
        "it is: restore a backup of the database, or move it away to start a new one"
    )


def check(db: sqlite3.Connection, path: Path) -> None:
    """Refuse, changing nothing, a database whose history this version cannot continue."""
    # One read of the table list: another process may be creating the database meanwhile.
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY rowid")]
    if "_migrations" in tables:
        pending(db, path)
    elif others := [name for name in tables if not name.startswith("sqlite_")]:
        # Tables but no migration history: another program's database. Leave it alone.
        raise StoreError(
            f"{path}: this SQLite database is not arxivbot's (it has tables such as {', '.join(others[:3])} "
            "but no arxivbot migration history); point storage.database at another file"
        )


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring ``db`` up to date, one transaction per migration.

    Two processes may open a new database at once (``serve`` beside a cron ``run``): each migration
    is checked again under the write lock, and the one that comes second applies nothing.
    """
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for migration in pending(db, path):
        db.execute("BEGIN IMMEDIATE")
        try:
            if migration in pending(db, path):  # re-read under the lock: another process may have won
                for statement in migration.statements():
                    db.execute(statement)
                db.execute(
                    "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                    (migration.name, datetime.now(timezone.utc).isoformat(timespec="seconds")),
                )
        except BaseException as err:
            db.execute("ROLLBACK")
            if isinstance(err, sqlite3.DatabaseError):
                raise StoreError(
                    f"{path}: could not upgrade the database to {migration.name} ({err}); nothing of that "
                    "step was changed: free disk space or fix the file's permissions and run again, "
                    "or restore a backup"
                ) from None
            raise
        db.execute("COMMIT")
