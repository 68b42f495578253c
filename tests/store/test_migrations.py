"""Migrations: an old database is brought up to date with nothing lost; a history this version cannot
account for (a newer arxivbot's, a gap, garbage) is refused and left exactly as it was."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest

from arxivbot.errors import StoreError
from arxivbot.models import keyword_reason
from arxivbot.store import open_store
from arxivbot.store.migrations import migrations, split_statements

OLD_FIVE = 5  # the migrations of arxivbot 0.1, before the store became a package
PROJECT = Path(__file__).resolve().parents[2]


def old_database(path: Path) -> None:
    """A database as arxivbot 0.1 left it: its five migrations, a digest with keyword-only columns."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for migration in migrations()[:OLD_FIVE]:
        db.executescript(migration.sql)
        db.execute("INSERT INTO _migrations VALUES (?, '2025-12-01T06:00:00+00:00')", (migration.name,))
    for n, title in enumerate(["Sparse LLM Inference", "A Survey; of Everything", "Planning, with RL"], start=1):
        db.execute(
            "INSERT INTO papers VALUES (?, 2, ?, '[\"A. Author\"]', 'An abstract.', '[\"cs.AI\"]', 'cs.AI', ?,"
            " NULL, NULL, NULL, NULL, NULL, '2025-12-01T06:00:00+00:00', '2025-12-01T06:00:00+00:00')",
            (f"2512.0000{n}", title, f"https://arxiv.org/abs/2512.0000{n}"),
        )
        db.execute("INSERT INTO announcements VALUES (?, '2025-12-01', 'new', 2, 'rss')", (f"2512.0000{n}",))
    db.execute(
        "INSERT INTO runs (kind, started_at, status, day)"
        " VALUES ('run', '2025-12-01T06:00:00+00:00', 'ok', '2025-12-01')"
    )
    db.execute(
        "INSERT INTO digests VALUES ('2025-12-01', 1, '2025-12-01T06:00:00+00:00', '2025-11-24', '[\"cs.AI\"]',"
        ' \'["LLM", "Sparse", "RL"]\')'
    )
    entries = [
        ("2512.00001", 1, 3.5, ["LLM", "Sparse"], ["Sparse"]),
        ("2512.00003", 2, 1.0, ["RL"], []),
        ("2512.00002", 3, 0.0, [], []),
    ]
    for arxiv_id, rank, score, matched, in_title in entries:
        db.execute(
            "INSERT INTO digest_entries VALUES ('2025-12-01', ?, ?, ?, 'cs.AI', 'new', '2025-12-01', 'rss', ?, ?)",
            (rank, arxiv_id, score, json.dumps(matched), json.dumps(in_title)),
        )
    db.execute(
        "INSERT INTO summaries VALUES ('2512.00001', 2, 'qwen-long', 'h', 'pdf-text', 'Paid for.', 10, 20,"
        " '2025-12-01T06:01:00+00:00')"
    )
    db.execute("INSERT INTO http_cache VALUES ('u', 'etag', NULL, '2025-12-01', '2025-12-01T06:00:00+00:00')")
    db.execute("INSERT INTO coverage VALUES ('2025-11-28', 'api', 1, '2025-12-01T06:00:00+00:00')")
    db.commit()
    db.close()


def test_an_old_database_is_brought_up_to_date_with_nothing_lost(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_database(path)
    with open_store(path) as store:
        assert store.applied_migrations() == [migration.name for migration in migrations()]
        digest = store.load_digest(date(2025, 12, 1))
        assert store.count_papers() == 3 and store.count_summaries() == 1
        assert store.covered_days(date(2025, 11, 28), date(2025, 11, 28)) == {date(2025, 11, 28)}
        validators = store.http_validators("u")
        assert validators is not None and validators.etag == "etag"
        run = store.last_run()
        assert run is not None and run.status == "ok"
        assert store.digested_before(date(2025, 12, 2)) == {"2512.00001", "2512.00002", "2512.00003"}
    assert digest is not None
    assert [e.scored.paper.arxiv_id for e in digest.entries] == ["2512.00001", "2512.00003", "2512.00002"]
    assert [e.scored.reasons for e in digest.entries] == [
        (keyword_reason(3.5, ("LLM", "Sparse"), ("Sparse",)),),
        (keyword_reason(1.0, ("RL",), ()),),
        (keyword_reason(0.0, (), ()),),
    ]
    assert digest.entries[0].scored.reason == "keywords: LLM, Sparse"
    assert digest.entries[2].scored.reason == ""
    assert digest.entries[0].summary is not None and digest.entries[0].summary.text == "Paid for."
    db = sqlite3.connect(path)
    columns = {row[1] for row in db.execute("PRAGMA table_info(digest_entries)")}
    assert "matched" not in columns and "title_matched" not in columns and "reasons" in columns
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _history(path: Path, names: list[str]) -> None:
    db = sqlite3.connect(path)
    db.execute("DELETE FROM _migrations")
    db.executemany("INSERT INTO _migrations VALUES (?, '2026-01-01T00:00:00+00:00')", [(name,) for name in names])
    db.commit()
    db.close()


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_database_from_a_newer_arxivbot_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    open_store(path).close()
    _history(path, [m.name for m in migrations()] + ["9001_embeddings"])
    before = _fingerprint(path)
    for readonly in (False, True):
        with pytest.raises(StoreError) as refused:
            open_store(path, readonly=readonly)
        message = str(refused.value)
        assert message.startswith(f"{path}: the database was upgraded by a newer arxivbot")
        assert "9001_embeddings" in message and "upgrade arxivbot" in message and "restore a backup" in message
    assert _fingerprint(path) == before


@pytest.mark.parametrize(
    ("history", "named"),
    [
        (["0001_papers_and_announcements", "0003_digests"], "missing 0002_runs"),  # a gap
        (["0001_papers_and_announcements", "0002_runs", "0002_runs_by_hand"], "'0002_runs_by_hand'"),
        (["0001_papers_and_announcements", "hello world"], "'hello world'"),  # garbage
    ],
)
def test_a_damaged_history_is_refused_and_left_alone(tmp_path: Path, history: list[str], named: str) -> None:
    path = tmp_path / "damaged.db"
    open_store(path).close()
    _history(path, history)
    before = _fingerprint(path)
    with pytest.raises(StoreError) as refused:
        open_store(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: the database's migration history is damaged")
    assert named in message and "restore a backup" in message
    assert _fingerprint(path) == before


def test_an_unreadable_history_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE _migrations (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match=r"odd\.db: the database's migration history .* is unreadable"):
        open_store(path)


def test_another_programs_database_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE bookmarks (url TEXT)")
    db.commit()
    db.close()
    before = _fingerprint(path)
    with pytest.raises(StoreError, match=r"other\.db: this SQLite database is not arxivbot's .*bookmarks"):
        open_store(path)
    assert _fingerprint(path) == before


def test_a_failing_migration_changes_nothing_and_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_database(path)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE digest_entries_new (x)")  # in the way of 0006's rebuild
    db.commit()
    db.close()
    with pytest.raises(StoreError, match=r"old\.db: could not upgrade the database to 0006_digest_reasons"):
        open_store(path)
    db = sqlite3.connect(path)
    assert [row[0] for row in db.execute("SELECT name FROM _migrations ORDER BY name")][
        -1
    ] == "0005_http_cache_and_coverage"
    assert {row[1] for row in db.execute("PRAGMA table_info(digest_entries)")} >= {"matched", "title_matched"}
    db.close()


def test_statements_are_cut_where_sqlite_says_they_end() -> None:
    script = """
        -- a comment; with a semicolon
        CREATE TABLE t (a TEXT DEFAULT 'x;y');  /* another; comment */
        CREATE TRIGGER t_log AFTER INSERT ON t BEGIN
            INSERT INTO t (a) SELECT 'nested;' WHERE 0;
        END;
        INSERT INTO t (a) VALUES ('it''s; fine');
        -- trailing comment
    """
    statements = split_statements(script)
    assert len(statements) == 3
    assert "CREATE TRIGGER" in statements[1] and statements[1].endswith("END;")
    db = sqlite3.connect(":memory:")
    for statement in statements:
        db.execute(statement)
    assert db.execute("SELECT a FROM t").fetchall() == [("it's; fine",)]


def test_an_unterminated_statement_is_a_packaging_error() -> None:
    with pytest.raises(StoreError, match="unterminated SQL statement"):
        split_statements("CREATE TABLE t (a); CREATE TABLE u (b)")


def test_every_migration_is_valid_sql_cut_into_whole_statements() -> None:
    for migration in migrations():
        for statement in migration.statements():
            assert sqlite3.complete_statement(statement), (migration.name, statement)


def test_the_schema_files_ship_in_the_wheel(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building leaves build/ and *.egg-info behind
    shutil.copytree(PROJECT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(PROJECT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", "dist", "."]
    subprocess.run(command, cwd=source, check=True, capture_output=True)
    (wheel,) = (source / "dist").glob("arxivbot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for migration in migrations():
        assert f"arxivbot/store/schema/{migration.name}.sql" in names


def test_the_cli_refuses_a_newer_database_in_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from arxivbot.cli import main

    (tmp_path / "config.json").write_text(
        json.dumps({"categories": ["cs.LG"], "keywords": ["LLM"], "arxiv": {"rss_url": "feed.xml"}}), encoding="utf-8"
    )
    database = tmp_path / "data" / "arxivbot.db"
    open_store(database).close()
    _history(database, [m.name for m in migrations()] + ["9001_embeddings"])
    before = _fingerprint(database)

    result = CliRunner().invoke(main, ["run", "--config", str(tmp_path / "config.json"), "--no-backfill"])

    assert result.exit_code == 1
    assert result.output.strip() == (
        f"arxivbot: error: {database}: the database was upgraded by a newer arxivbot (its schema has "
        "9001_embeddings, which this version does not know); upgrade arxivbot (pip install -U arxivbot) "
        "to use it, or restore a backup made with this version"
    )
    assert _fingerprint(database) == before
