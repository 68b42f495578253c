"""Publishing a run's outputs: everything rendered first, then written atomically, only when changed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from arxivbot.config import Config
from arxivbot.errors import PublishError
from arxivbot.publish.outputs import publish_outputs
from arxivbot.publish.site import render_site
from arxivbot.store import open_store
from tests.publish.seeding import DAY1, DAY2, NOW, SEEDED_SITE_FILES, make_config, make_paper, seed_day


def published(config: Config) -> dict[Path, bytes]:
    files = [config.output.readme, *config.output.site_dir.rglob("*")]
    return {path: path.read_bytes() for path in files if path.is_file()}


def test_publishing_writes_the_readme_and_every_site_file(config: Config) -> None:
    with open_store(config.storage.database) as store:
        paths = publish_outputs(store, config, now=NOW)
        rendered = render_site(store, config, NOW)

    site = config.output.site_dir
    assert config.output.readme in paths
    assert {p.relative_to(site).as_posix() for p in paths if site in p.parents} == SEEDED_SITE_FILES
    assert all((site / name).read_bytes() == data for name, data in rendered.items())
    assert "ActionFlow" in config.output.readme.read_text(encoding="utf-8")  # the newest digest (DAY2)
    assert not list(site.rglob("*.tmp"))  # no temp file left behind by the atomic writes


def test_the_readme_is_of_the_day_asked_for(config: Config) -> None:
    with open_store(config.storage.database) as store:
        publish_outputs(store, config, day=DAY1, now=NOW)
    readme = config.output.readme.read_text(encoding="utf-8")
    assert "2512.00001" in readme and "ActionFlow" not in readme


def test_publishing_unchanged_data_rewrites_nothing(config: Config) -> None:
    with open_store(config.storage.database) as store:
        first = publish_outputs(store, config, now=NOW)
        stamps = {p: p.stat().st_mtime_ns for p in first}
        second = publish_outputs(store, config, now=NOW)
    assert len(first) == len(SEEDED_SITE_FILES) + 1 and second == []
    assert {p: p.stat().st_mtime_ns for p in first} == stamps


def test_a_render_failure_leaves_every_output_intact(config: Config) -> None:
    store = open_store(config.storage.database)
    publish_outputs(store, config, now=NOW)
    before = published(config)
    with open_store(config.storage.database) as other:
        seed_day(other, DAY2, [make_paper("2512.00999")])
    store.close()  # the next render cannot read the database

    with pytest.raises(sqlite3.ProgrammingError):
        publish_outputs(store, config, now=NOW)

    assert published(config) == before


def test_an_unwritable_site_dir_is_a_publish_error(config: Config, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the site folder should be")
    blocked = make_config(tmp_path, output={"site_dir": str(blocker)})
    with open_store(config.storage.database) as store, pytest.raises(PublishError, match="cannot write"):
        publish_outputs(store, blocked, now=NOW)


def test_an_empty_database_has_nothing_to_publish(tmp_path: Path) -> None:
    empty = make_config(tmp_path)
    with open_store(empty.storage.database) as store, pytest.raises(PublishError, match="no digest yet"):
        publish_outputs(store, empty, now=NOW)
