"""The archive: a page per day, the front page by month, and incremental rebuilds."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import lxml.html
import pytest
from starlette.testclient import TestClient

from arxivbot.config import Config
from arxivbot.models import Announcement, Summary
from arxivbot.publish.outputs import publish_outputs
from arxivbot.publish.pages import highlight, paper_anchor
from arxivbot.publish.site import update_site
from arxivbot.serve import create_app, create_static_app
from arxivbot.store import Store, open_store
from tests.publish.seeding import EVIL_TITLE, NOW, make_config, make_paper, seed_day

NOV30 = date(2025, 11, 28)
DEC01 = date(2025, 12, 1)
DEC02 = date(2025, 12, 2)
DEC03 = date(2025, 12, 3)


@pytest.fixture
def archive(tmp_path: Path) -> Config:
    config = make_config(tmp_path)
    with open_store(config.storage.database) as store:
        seed_day(store, NOV30, [make_paper("2511.00001"), make_paper("hep-th/9901001", title="Old Style LLM")])
        seed_day(store, DEC01, [make_paper("2512.00101"), make_paper("2512.00102", title=EVIL_TITLE)])
        seed_day(store, DEC02, [make_paper("2512.00201")])
    return config


def on_disk(config: Config) -> Callable[[str], bytes | None]:
    def published(path: str) -> bytes | None:
        file = config.output.site_dir / path
        return file.read_bytes() if file.is_file() else None

    return published


def html(body: bytes) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(body)


def test_every_day_has_a_page_linking_its_neighbours(archive: Config) -> None:
    with open_store(archive.storage.database) as store:
        files = update_site(store, archive, NOW).files

    middle = html(files["2025-12-01/index.html"])
    assert middle.findtext(".//h1") == "Papers of 2025-12-01"
    assert [a.get("id") for a in middle.xpath("//article")] == ["2512.00101", "2512.00102"]
    assert middle.xpath("//header//a[@rel='prev']/@href") == ["../2025-11-28/"]
    assert middle.xpath("//header//a[@rel='next']/@href") == ["../2025-12-02/"]
    assert middle.xpath("//article[@id='2512.00101']//a[@class='permalink']/@href") == ["../2025-12-01/#2512.00101"]
    first = html(files["2025-11-28/index.html"])
    assert first.xpath("//header//a[@rel='prev']") == [] and first.xpath("//header//a[@rel='next']/@href")
    assert first.xpath("//article/@id") == ["2511.00001", "hep-th_9901001"]
    # Every link inside a day page climbs one folder: the page works at any host path.
    assert all(
        ref.startswith(("../", "#", "https://"))
        for ref in first.xpath("//a/@href | //link/@href | //script/@src")
        if not ref.startswith("data:")
    )


def test_the_front_page_is_the_latest_day_and_the_archive_by_month(archive: Config) -> None:
    with open_store(archive.storage.database) as store:
        front = html(update_site(store, archive, NOW).files["index.html"])

    assert front.xpath("//article/@id") == ["2512.00201"]
    assert front.xpath("//*[@id='archive']/h3/text()") == ["December 2025", "November 2025"]
    assert front.xpath("//*[@id='archive']//li/a/@href") == ["2025-12-02/", "2025-12-01/", "2025-11-28/"]
    counts = [" ".join(li.text_content().split()) for li in front.xpath("//*[@id='archive']//li")]
    assert counts == ["2025-12-02 1 paper", "2025-12-01 2 papers", "2025-11-28 2 papers"]
    assert front.xpath("//header//a[@rel='prev']/@href") == ["2025-12-01/"]


def test_an_unchanged_archive_renders_no_day_page_again(archive: Config) -> None:
    with open_store(archive.storage.database) as store:
        publish_outputs(store, archive, now=NOW)
        again = update_site(store, archive, NOW, published=on_disk(archive))

    assert not [path for path in again.files if path.endswith("/index.html") or path.startswith(("search/2", "static"))]
    assert {"2025-11-28/index.html", "search/2025-11.json", "static/arxivbot.js"} <= again.paths


def test_a_new_day_renders_itself_its_neighbour_and_the_front_page_only(archive: Config) -> None:
    with open_store(archive.storage.database) as store:
        publish_outputs(store, archive, now=NOW)
        site = archive.output.site_dir
        stamps = {path: path.stat().st_mtime_ns for path in site.rglob("*.html")}
        seed_day(store, DEC03, [make_paper("2512.00301")])
        update = update_site(store, archive, NOW, published=on_disk(archive))
        publish_outputs(store, archive, now=NOW)

    rendered = {path for path in update.files if path.endswith(".html")}
    assert rendered == {"2025-12-03/index.html", "2025-12-02/index.html", "index.html"}
    assert {p for p in update.files if p.startswith("search/")} == {"search/manifest.json", "search/2025-12.json"}
    for old in ("2025-11-28", "2025-12-01"):
        page = site / old / "index.html"
        assert page.stat().st_mtime_ns == stamps[page], f"{old} was rewritten"
    assert html((site / "2025-12-02/index.html").read_bytes()).xpath("//header//a[@rel='next']/@href") == [
        "../2025-12-03/"
    ]


def add_summary(store: Store, arxiv_id: str, text: str) -> None:
    store.save_summary(
        Summary(arxiv_id=arxiv_id, version=1, model="qwen-long", prompt_hash="p2", input_mode="abstract", text=text)
    )


def test_a_summary_added_later_re_renders_its_day(archive: Config) -> None:
    with open_store(archive.storage.database) as store:
        publish_outputs(store, archive, now=NOW)
        add_summary(store, "2511.00001", "## Findings\n\nA late summary.")
        update = update_site(store, archive, NOW, published=on_disk(archive))

    assert {p for p in update.files if p.endswith("/index.html")} == {"2025-11-28/index.html"}
    assert "search/2025-11.json" in update.files and "search/2025-12.json" not in update.files
    assert "A late summary." in update.files["2025-11-28/index.html"].decode()


def test_a_deleted_or_damaged_page_is_rendered_again(archive: Config) -> None:
    with open_store(archive.storage.database) as store:
        publish_outputs(store, archive, now=NOW)
        (archive.output.site_dir / "2025-12-01" / "index.html").write_text("damaged")
        (archive.output.site_dir / "2025-11-28" / "index.html").unlink()
        update = update_site(store, archive, NOW, published=on_disk(archive))

    assert {p for p in update.files if p.endswith("/index.html")} == {"2025-12-01/index.html", "2025-11-28/index.html"}


def test_old_style_ids_get_an_anchor_without_a_slash() -> None:
    assert paper_anchor("2512.20276") == "2512.20276"
    assert paper_anchor("hep-th/9901001") == "hep-th_9901001"
    assert paper_anchor("math.GT/0309136") == "math.GT_0309136"
    assert paper_anchor('bad"id <x>') == "bad_id__x_"


def test_highlighting_marks_keywords_and_escapes_everything_else() -> None:
    marked = str(highlight("<b>LLMs</b> & llm-based RL in world models", ("LLM", "RL")))
    assert marked == "&lt;b&gt;<mark>LLMs</mark>&lt;/b&gt; &amp; <mark>llm</mark>-based <mark>RL</mark> in world models"
    assert str(highlight("in the world", ("RL",), "substring")) == "in the wo<mark>rl</mark>d"
    assert str(highlight("Mixture-of-Experts and mixture of experts", ("mixture of experts",))) == (
        "<mark>Mixture-of-Experts</mark> and <mark>mixture of experts</mark>"
    )
    assert str(highlight("<i>", ())) == "&lt;i&gt;"


def test_the_404_page_links_to_the_site_root_on_its_host(archive: Config, tmp_path: Path) -> None:
    with open_store(archive.storage.database) as store:
        published = html(update_site(store, archive, NOW).files["404.html"])
        served = html(update_site(store, archive, NOW, served=True).files["404.html"])
        plain = make_config(tmp_path, feeds={"base_url": ""})
        bare = html(update_site(store, plain, NOW).files["404.html"])

    assert published.xpath("//main//a/@href") == ["/arxiv/", "/arxiv/#archive"]  # feeds.base_url's path
    assert published.xpath("//link[@rel='stylesheet']/@href")[0].startswith("/arxiv/static/arxivbot.css?v=")
    assert served.xpath("//main//a/@href") == ["/", "/#archive"]
    assert bare.xpath("//main//a/@href") == ["/", "/#archive"]


@pytest.mark.parametrize("app_kind", ["service", "static"])
def test_day_pages_assets_and_the_index_are_served(archive: Config, app_kind: str) -> None:
    with open_store(archive.storage.database) as store:
        publish_outputs(store, archive, now=NOW)
    app = (
        create_app(archive, run_cycle=lambda: None, scheduler=False)
        if app_kind == "service"
        else create_static_app(archive.output.site_dir, archive)
    )
    with TestClient(app) as client:
        day = client.get("/2025-12-01/")
        assert day.status_code == 200 and day.headers["content-type"] == "text/html; charset=utf-8"
        assert "default-src 'none'" in day.headers["content-security-policy"]
        assert client.get("/2025-12-01/index.html").content == day.content
        assert client.get("/2025-12-01/", headers={"If-None-Match": day.headers["etag"]}).status_code == 304
        assert client.get("/2025-12-01", follow_redirects=False).headers["location"].endswith("/2025-12-01/")

        missing = client.get("/2025-11-29/")
        assert missing.status_code == 404 and "Not found" in missing.text
        assert missing.headers["content-type"] == "text/html; charset=utf-8"
        assert client.get("/2025-13-45/").status_code == 404

        script = client.get("/static/arxivbot.js")
        assert script.headers["content-type"] == "text/javascript; charset=utf-8" and b"MiniSearch" in script.content
        assert client.get("/static/vendor/minisearch.js").content.startswith(b"/*! MiniSearch 7.2.0")
        assert client.get("/static/arxivbot.css").headers["content-type"] == "text/css; charset=utf-8"
        manifest = client.get("/search/manifest.json").json()
        assert [shard["month"] for shard in manifest["shards"]] == ["2025-12", "2025-11"]
        assert client.get("/" + manifest["shards"][0]["url"]).json()["month"] == "2025-12"
        for path in (
            "/static/%2e%2e/index.html",
            "/static/nothing.js",
            "/search/%2e%2e%2fpapers.json",
            "/search/x.json",
        ):
            assert client.get(path).status_code == 404, path


class CountingStore:
    """The real store, counting which digests the site loads (the archive must not load them all)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.loaded: list[date] = []

    def load_digest(self, day: date) -> object:
        self.loaded.append(day)
        return self._store.load_digest(day)

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


def test_a_new_day_loads_only_the_digests_whose_files_change(archive: Config) -> None:
    with open_store(archive.storage.database) as store:
        publish_outputs(store, archive, now=NOW)
        seed_day(store, DEC03, [make_paper("2512.00301")])
        counting = CountingStore(store)
        update_site(counting, archive, NOW, published=on_disk(archive))  # type: ignore[arg-type]

    # The new day and the day before it (its "next" link); December's shard takes December 1 from the
    # shard already published, and November is not touched.
    assert set(counting.loaded) == {DEC03, DEC02} and NOV30 not in counting.loaded
    assert len(counting.loaded) == len(set(counting.loaded))  # each loaded once


def test_a_newer_version_of_a_listed_paper_re_renders_its_day(archive: Config) -> None:
    with open_store(archive.storage.database) as store:
        publish_outputs(store, archive, now=NOW)
        newer = make_paper("2512.00101", title="A Renamed Paper on Graphs", version=2)
        store.save_announcements([Announcement(paper=newer, announce_type="replace", announced=DEC03)])
        update = update_site(store, archive, NOW, published=on_disk(archive))

    assert {p for p in update.files if p.endswith("/index.html")} == {"2025-12-01/index.html"}
    assert "A Renamed Paper on Graphs" in update.files["2025-12-01/index.html"].decode()
    assert "search/2025-12.json" in update.files and "search/2025-11.json" not in update.files


def test_a_page_of_another_arxivbot_version_is_rendered_again(archive: Config) -> None:
    with open_store(archive.storage.database) as store:
        publish_outputs(store, archive, now=NOW)
        page = archive.output.site_dir / "2025-12-01" / "index.html"
        stale = re.sub(rb'(name="arxivbot-key" content=")[0-9a-f]+', rb"\g<1>" + b"0" * 32, page.read_bytes())
        page.write_bytes(stale)  # as an older release left it: same digest, another key
        update = update_site(store, archive, NOW, published=on_disk(archive))

    assert {p for p in update.files if p.endswith("/index.html")} == {"2025-12-01/index.html"}
