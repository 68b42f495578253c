"""Every query names its columns: no ``SELECT *``, no ``INSERT INTO t VALUES`` without a column list,
so a column added by a later migration can never shift what a query reads or writes."""

from __future__ import annotations

import re
from pathlib import Path

import arxivbot.store

PACKAGE = Path(arxivbot.store.__file__).parent
SELECT_STAR = re.compile(r"\bSELECT\s+(DISTINCT\s+)?(\w+\.)?\*", re.IGNORECASE)
BARE_INSERT = re.compile(r"\bINSERT\s+(OR\s+\w+\s+)?INTO\s+[\w.]+\s+VALUES\b", re.IGNORECASE)


def sources() -> list[Path]:
    found = sorted(PACKAGE.rglob("*.py")) + sorted(PACKAGE.rglob("*.sql"))
    assert len(found) > 10 and any(path.suffix == ".sql" for path in found)
    return found


def test_the_patterns_catch_what_they_look_for() -> None:
    assert SELECT_STAR.search("SELECT * FROM papers") and SELECT_STAR.search("select p.* from papers p")
    assert BARE_INSERT.search("INSERT OR REPLACE INTO summaries VALUES (?)")
    assert not BARE_INSERT.search("INSERT INTO summaries (arxiv_id) VALUES (?)")
    assert not SELECT_STAR.search("SELECT count(*) FROM papers")


def test_no_query_in_the_store_leaves_its_columns_unnamed() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if SELECT_STAR.search(line) or BARE_INSERT.search(line)
    ]
    assert offenders == []


def test_only_the_store_speaks_sql() -> None:
    outside = [
        path
        for path in sorted(PACKAGE.parent.rglob("*.py"))
        if PACKAGE not in path.parents and re.search(r"\bimport sqlite3\b", path.read_text(encoding="utf-8"))
    ]
    assert outside == []
