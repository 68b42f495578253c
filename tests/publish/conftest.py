"""Fixtures for the publishing tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from arxivbot.config import Config
from arxivbot.store import open_store
from tests.publish.seeding import DAY1, DAY2, EVIL_SUMMARY, EVIL_TITLE, make_config, make_paper, seed_day


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """A database with two days of digests (one hostile title and summary) and a config over it."""
    config = make_config(tmp_path)
    with open_store(config.storage.database) as store:
        seed_day(store, DAY1, [make_paper("2512.00001")])
        seed_day(
            store,
            DAY2,
            [
                make_paper(
                    "2512.20276",
                    title="ActionFlow: A Pipelined Action Acceleration",
                    authors=("Yuntao Dai", "Hang Gu"),
                    categories=("cs.AI", "cs.RO"),
                ),
                make_paper("2512.00666", title=EVIL_TITLE, categories=("cs.LG",)),
                make_paper("2512.00003", categories=("cs.CL",)),
            ],
            summaries={
                "2512.20276": "## Main contributions\n\n| a | b |\n|---|---|\n| 1 | 2 |",
                "2512.00666": EVIL_SUMMARY,
            },
        )
    return config
