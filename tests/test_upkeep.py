"""Retention alongside delivery: applied on its own connection by the end of the block, a failure a warning."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import pytest

from arxivbot.config import Config, config_from_dict
from arxivbot.store import open_store
from arxivbot.upkeep import retention_alongside
from tests.store.records import announced

TODAY = date(2026, 3, 12)
LONG_AGO = TODAY - timedelta(days=30)


def config(tmp_path: Path, database: str = "arxivbot.db") -> Config:
    return config_from_dict(
        {"categories": ["cs.LG"], "keywords": ["Sparse"], "storage": {"database": database}}, base_dir=tmp_path
    )


def test_what_aged_out_is_compacted_by_the_end_of_the_block_while_the_body_reads(tmp_path: Path) -> None:
    settings = config(tmp_path)
    with open_store(settings.storage.database) as store:
        store.save_announcements([announced("2602.00001", LONG_AGO), announced("2603.00001", TODAY)])
        with retention_alongside(settings, store, TODAY):
            assert store.get_paper("2603.00001") is not None  # the run's own connection reads on meanwhile

        assert store.get_paper("2602.00001") is None
        assert store.known_ids(["2602.00001"]) == {"2602.00001"}  # compacted, not forgotten
        assert store.get_paper("2603.00001") is not None


def test_an_in_memory_database_gets_it_after_the_block_on_its_one_connection(tmp_path: Path) -> None:
    on_disk = config(tmp_path)
    # No config file can name it (paths are anchored to the config's folder): a program's own settings.
    settings = on_disk.model_copy(update={"storage": on_disk.storage.model_copy(update={"database": Path(":memory:")})})
    with open_store(settings.storage.database) as store:
        store.save_announcements([announced("2602.00001", LONG_AGO)])
        with retention_alongside(settings, store, TODAY):
            assert store.get_paper("2602.00001") is not None

        assert store.get_paper("2602.00001") is None


def test_a_database_retention_cannot_open_costs_a_warning_not_the_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = config(tmp_path, "broken.db")
    (tmp_path / "broken.db").write_bytes(b"this is not an SQLite database, not even close" * 100)
    with (
        open_store(tmp_path / "good.db") as store,
        caplog.at_level(logging.WARNING, logger="arxivbot"),
        retention_alongside(settings, store, TODAY),
    ):
        pass  # the run's delivery

    assert any("Retention not applied this time" in record.getMessage() for record in caplog.records)
