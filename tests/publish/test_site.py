"""The published site: the front page parsed as HTML, papers.json against its doc (archive: test_archive.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import lxml.html

from arxivbot.config import Config
from arxivbot.publish.assets import fingerprint
from arxivbot.publish.site import SCHEMA_VERSION, render_site
from arxivbot.store import open_store
from tests.publish.seeding import (
    EVIL_TITLE,
    NOW,
    SITE_FILES,
    make_config,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "papers-json.md"


def page_of(config: Config) -> lxml.html.HtmlElement:
    with open_store(config.storage.database) as store:
        return lxml.html.fromstring(render_site(store, config, NOW)["index.html"])


def test_page_lists_the_latest_digest_with_scores_authors_and_abstracts(config: Config) -> None:
    page = page_of(config)

    titles = [a.text_content() for a in page.xpath('.//article[@class="paper"]//h2//a')]
    assert titles == [
        "ActionFlow: A Pipelined Action Acceleration",
        EVIL_TITLE,
        "Sparse LLM Inference at Scale, part 2512.00003",
    ]
    first = page.xpath('.//article[@class="paper"]')[0]
    assert first.get("id") == "2512.20276"
    assert first.xpath(".//h2//a")[0].get("href") == "https://arxiv.org/abs/2512.20276"
    assert first.xpath('.//*[@class="authors"]')[0].text_content() == "Yuntao Dai, Hang Gu"
    assert first.xpath('.//*[@class="score"]')[0].text_content() == "Score 3.5"
    assert "We study LLM inference for paper 2512.20276" in first.xpath('.//*[@class="abstract"]')[0].text_content()
    assert "2025-12-23" in page.xpath('.//*[@class="stats"]')[0].text_content()
    assert not page.xpath('.//article[@id="2512.00001"]')  # day 1 has its own page, linked from the archive
    assert page.xpath('.//*[@id="archive"]//a[@href="2025-12-22/"]')


def test_summaries_are_collapsible_details_only_where_present(config: Config) -> None:
    articles = page_of(config).xpath('.//article[@class="paper"]')

    details = [a.xpath(".//details") for a in articles]
    assert [len(d) for d in details] == [1, 1, 0]
    first = details[0][0]
    assert first.get("open") is None  # collapsed until clicked, no JavaScript involved
    assert first.xpath(".//summary")[0].text_content() == "🤖 AI summary (by qwen-long)"
    assert first.xpath('.//*[@class="summary-body"]//h2')[0].text_content() == "Main contributions"
    assert [td.text_content() for td in first.xpath('.//*[@class="summary-body"]//td')] == ["1", "2"]


def test_page_links_every_feed_and_loads_only_its_own_files(config: Config) -> None:
    page = page_of(config)

    hrefs = {a.get("href") for a in page.xpath('.//nav[@class="feeds"]//a')}
    assert hrefs == {"rss.xml", "atom.xml", "papers.json"} | {
        f"{fmt}/{cat}.xml" for fmt in ("rss", "atom") for cat in ("cs.AI", "cs.CL", "cs.LG")
    }
    alternates = {(link.get("type"), link.get("href")) for link in page.xpath('.//link[@rel="alternate"]')}
    assert ("application/rss+xml", "rss.xml") in alternates
    assert ("application/atom+xml", "atom.xml") in alternates
    # One external script and one stylesheet, both the site's own: no inline script or style (strict CSP).
    assert [(s.get("src"), s.text) for s in page.xpath("//script")] == [(f"static/arxivbot.js?v={fingerprint()}", None)]
    assert [link.get("href") for link in page.xpath("//link[@rel='stylesheet']")] == [
        f"static/arxivbot.css?v={fingerprint()}"
    ]
    assert page.xpath("//style | //*[@style] | //img[@src]") == []
    assert [e for e in page.iter() if any(name.startswith("on") for name in e.attrib)] == []


def test_untrusted_text_is_inert_on_the_page(config: Config) -> None:
    page = page_of(config)

    evil = page.xpath('.//article[@class="paper"]')[1]
    assert evil.xpath(".//h2//a")[0].text_content() == EVIL_TITLE
    assert len(page.xpath("//script")) == 1 and page.xpath("//img | //*[@onerror]") == []
    assert not [a for a in page.xpath("//a") if a.get("href", "").lower().startswith("javascript")]
    body = evil.xpath('.//*[@class="summary-body"]')[0].text_content()
    assert "<img src=x onerror=alert(2)>" in body
    assert "<script>document.title='pwned'</script>" in body


def test_papers_json_holds_the_latest_digest(config: Config) -> None:
    with open_store(config.storage.database) as store:
        document = json.loads(render_site(store, config, NOW)["papers.json"])

    assert document["schema_version"] == SCHEMA_VERSION == 1
    assert document["day"] == "2025-12-23"
    assert document["generated_at"] == "2025-12-23T06:00:00+00:00"
    assert document["paper_count"] == 3
    assert document["feeds"]["categories"]["cs.CL"] == {"rss": "rss/cs.CL.xml", "atom": "atom/cs.CL.xml"}
    first, evil, third = document["papers"]
    assert [p["rank"] for p in document["papers"]] == [1, 2, 3]
    assert first["arxiv_id"] == "2512.20276" and first["versioned_id"] == "2512.20276v1"
    assert first["authors"] == ["Yuntao Dai", "Hang Gu"]
    assert first["categories"] == ["cs.AI", "cs.RO"]
    assert first["score"] == 3.5
    assert first["announce_type"] == "new"
    assert first["pdf"] == "https://arxiv.org/pdf/2512.20276"
    assert first["summary"]["model"] == "qwen-long"
    assert first["summary"]["markdown"].startswith("## Main contributions")
    assert first["summary"]["html"].startswith("<h2>Main contributions</h2>")
    assert evil["title"] == EVIL_TITLE  # plain data: escaping is the consumer's job, as documented
    assert "<script>" not in evil["summary"]["html"]
    assert third["summary"] is None


def test_papers_json_fields_are_all_documented(config: Config) -> None:
    with open_store(config.storage.database) as store:
        document = json.loads(render_site(store, config, NOW)["papers.json"])
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(encoding="utf-8"), re.MULTILINE))

    fields = set(document) | set(document["papers"][0]) | set(document["papers"][0]["summary"])
    assert fields == documented


def test_empty_database_gives_a_page_and_json_that_say_so(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    with open_store(config.storage.database) as store:
        files = render_site(store, config, NOW)

    page = lxml.html.fromstring(files["index.html"])
    assert "No digest has been published yet" in page.text_content()
    assert page.xpath('.//article[@class="paper"]') == []
    document = json.loads(files["papers.json"])
    assert document["day"] is None and document["papers"] == [] and document["paper_count"] == 0
    assert set(files) == SITE_FILES
