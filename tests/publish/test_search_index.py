"""The static search index: a manifest and one shard per month, each paper's searchable text."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from arxivbot.config import Config
from arxivbot.models import Digest, Summary
from arxivbot.publish.search_index import SEARCH_SCHEMA, summary_text
from arxivbot.publish.site import update_site
from arxivbot.store import open_store
from tests.publish.seeding import EVIL_SUMMARY, EVIL_TITLE, NOW, make_config, make_paper, seed_day

DOC = Path(__file__).resolve().parents[2] / "docs" / "serve.md"


def build(tmp_path: Path) -> Config:
    config = make_config(tmp_path)
    with open_store(config.storage.database) as store:
        seed_day(
            store,
            date(2025, 11, 28),
            [make_paper("hep-th/9901001", title="Branes", authors=("Ed Witten",), categories=("cs.LG",))],
            matched={"hep-th/9901001": ("Inference",)},
        )
        seed_day(
            store,
            date(2025, 12, 1),
            [make_paper("2512.00101"), make_paper("2512.00666", title=EVIL_TITLE)],
            summaries={"2512.00666": EVIL_SUMMARY},
        )
        seed_day(store, date(2025, 12, 2), [make_paper("2512.00201", categories=("cs.CL",))])
    return config


def test_the_manifest_lists_one_shard_per_month_newest_first(tmp_path: Path) -> None:
    config = build(tmp_path)
    with open_store(config.storage.database) as store:
        files = update_site(store, config, NOW).files

    manifest = json.loads(files["search/manifest.json"])
    assert manifest["schema"] == SEARCH_SCHEMA == 1
    assert (manifest["days"], manifest["papers"]) == (3, 4)
    assert (manifest["first_day"], manifest["last_day"]) == ("2025-11-28", "2025-12-02")
    assert manifest["categories"] == ["cs.AI", "cs.CL", "cs.LG"]
    assert manifest["keywords"] == ["Inference", "LLM"]
    assert [(s["month"], s["days"], s["papers"]) for s in manifest["shards"]] == [("2025-12", 2, 3), ("2025-11", 1, 1)]
    for shard in manifest["shards"]:
        path, version = shard["url"].split("?v=")
        body = json.loads(files[path])
        assert body["key"].startswith(version) and body["month"] == shard["month"]


def test_each_paper_carries_its_searchable_text_and_where_it_lives(tmp_path: Path) -> None:
    config = build(tmp_path)
    with open_store(config.storage.database) as store:
        files = update_site(store, config, NOW).files

    november = json.loads(files["search/2025-11.json"])["papers"]
    assert november == [
        {
            "id": "2025-11-28/hep-th/9901001",
            "arxiv_id": "hep-th/9901001",
            "anchor": "hep-th_9901001",
            "day": "2025-11-28",
            "rank": 1,
            "title": "Branes",
            "authors": "Ed Witten",
            "abstract": "We study LLM inference for paper hep-th/9901001. Results are good.",
            "summary": "",
            "reason": "keywords: Inference",
            "category": "cs.LG",
            "keywords": ["Inference"],
            "score": 1.5,
        }
    ]
    december = json.loads(files["search/2025-12.json"])["papers"]
    assert [p["id"] for p in december] == ["2025-12-02/2512.00201", "2025-12-01/2512.00101", "2025-12-01/2512.00666"]
    evil = december[2]
    assert evil["title"] == EVIL_TITLE  # data, escaped by the page's script when shown (text nodes only)
    assert evil["summary"].startswith("Main contributions Faster decoding <img src=x onerror=alert(2)>")
    assert "**" not in evil["summary"] and "##" not in evil["summary"]


def test_summary_text_drops_markdown_but_keeps_every_word() -> None:
    assert summary_text("## Results\n\n| a | b |\n|---|---|\n| 1.5x | *fast* |\n\n- `code` item") == (
        "Results a b 1.5x fast code item"
    )
    assert summary_text("") == ""


def test_the_shard_fields_are_documented(tmp_path: Path) -> None:
    config = build(tmp_path)
    with open_store(config.storage.database) as store:
        files = update_site(store, config, NOW).files
    section = DOC.read_text(encoding="utf-8").split("### The search index", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE))

    manifest = json.loads(files["search/manifest.json"])
    shard = json.loads(files["search/2025-12.json"])
    fields = set(manifest) | set(manifest["shards"][0]) | set(shard) | set(shard["papers"][0])
    assert fields == documented


def test_a_new_day_loads_only_itself_and_its_shard_equals_a_full_rendering(tmp_path: Path) -> None:
    config = build(tmp_path)
    with open_store(config.storage.database) as store:
        published = dict(update_site(store, config, NOW).files)
        seed_day(store, date(2025, 12, 3), [make_paper("2512.00301")], summaries={"2512.00301": "New **work**."})
        loaded: list[date] = []
        real_load = store.load_digest

        def counting_load(day: date) -> Digest | None:
            loaded.append(day)
            return real_load(day)

        store.load_digest = counting_load  # type: ignore[method-assign]  # counts the days read, reads them all the same
        update = update_site(store, config, NOW, published=lambda path: published.get(path))
        store.load_digest = real_load  # type: ignore[method-assign]
        full = update_site(store, config, NOW).files
    assert update.files["search/2025-12.json"] == full["search/2025-12.json"]
    assert date(2025, 12, 1) not in loaded and date(2025, 12, 3) in loaded  # Dec 1 and 2 came from the shard
    shard = json.loads(full["search/2025-12.json"])
    assert [p["arxiv_id"] for p in shard["papers"]] == ["2512.00301", "2512.00201", "2512.00101", "2512.00666"]
    assert shard["papers"][0]["summary"] == "New work."


def test_a_day_whose_summary_changed_is_read_again_for_its_shard(tmp_path: Path) -> None:
    config = build(tmp_path)
    with open_store(config.storage.database) as store:
        published = dict(update_site(store, config, NOW).files)
        paper = make_paper("2512.00201", categories=("cs.CL",))
        store.save_summary(
            Summary(
                arxiv_id=paper.arxiv_id,
                version=paper.version,
                model="qwen-long",
                prompt_hash="p1",
                input_mode="abstract",
                text="Added later.",
                created_at=NOW,
            )
        )
        update = update_site(store, config, NOW, published=lambda path: published.get(path))
        full = update_site(store, config, NOW).files
    assert update.files["search/2025-12.json"] == full["search/2025-12.json"]
    papers = json.loads(full["search/2025-12.json"])["papers"]
    assert next(p for p in papers if p["arxiv_id"] == "2512.00201")["summary"] == "Added later."
    assert "search/2025-11.json" not in update.files  # an unchanged month is not rewritten


def test_a_foreign_or_broken_published_shard_is_not_reused(tmp_path: Path) -> None:
    config = build(tmp_path)
    with open_store(config.storage.database) as store:
        full = update_site(store, config, NOW).files
        for old in (b"{not json", b'{"key": "00", "papers": []}', b'{"day_keys": [], "papers": 3}'):
            update = update_site(store, config, NOW, published=lambda path, old=old: old if "search/" in path else None)
            assert update.files["search/2025-12.json"] == full["search/2025-12.json"]
