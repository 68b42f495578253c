"""The page in a real Chromium: archive, search, filters, phone width, dark mode, hostile text, feedback.

Five digest days are served by the real service app (``serve.create_app``) under uvicorn on
127.0.0.1, and, for the static-host tests, by ``create_static_app`` over the files ``arxivbot run``
would publish. Every page load is watched: console errors, uncaught exceptions, dialogs, and any
request that would leave the local host (such requests are aborted and reported).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from arxivbot.config import Config
from arxivbot.publish.outputs import publish_outputs
from arxivbot.serve import create_app, create_static_app
from arxivbot.store import open_store
from tests.browser.site import (
    DAYS,
    EVIL,
    EVIL_DAY,
    FOURTH,
    LATEST,
    LIKED,
    LONG_ABSTRACT,
    NO_DIGEST,
    OLD_STYLE,
    OLDEST,
    SECOND,
    SPECULATIVE,
    TOKEN,
    TOKEN_ENV,
    build_archive,
)
from tests.liveserver import LiveServer
from tests.publish.seeding import EVIL_TITLE


@dataclass
class Served:
    url: str
    config: Config


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The archive under the real service app, with a feedback token configured."""
    config = build_archive(tmp_path_factory.mktemp("served"))
    previous = os.environ.get(TOKEN_ENV)
    os.environ[TOKEN_ENV] = TOKEN
    try:
        with LiveServer(create_app(config, run_cycle=lambda: None, scheduler=False)) as server:
            yield Served(server.url, config)
    finally:
        if previous is None:
            os.environ.pop(TOKEN_ENV, None)
        else:
            os.environ[TOKEN_ENV] = previous


@pytest.fixture(scope="module")
def published_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same archive as ``arxivbot run`` publishes it into ``output.site_dir``."""
    config = build_archive(tmp_path_factory.mktemp("published"))
    with open_store(config.storage.database) as store:
        publish_outputs(store, config)
    return config.output.site_dir


@pytest.fixture(scope="module")
def static_host(published_dir: Path) -> Iterator[str]:
    with LiveServer(create_static_app(published_dir)) as server:
        yield server.url


@dataclass
class Watch:
    """What a page did that a reader should never see: errors, dialogs, requests to other hosts."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


def watch(page: Page) -> Watch:
    seen = Watch()
    page.on("console", lambda message: seen.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))

    def dialog(d: object) -> None:
        seen.dialogs.append(d.message)  # type: ignore[attr-defined]
        d.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", dialog)

    def route(r: Route) -> None:
        url = r.request.url
        seen.requests.append(url)
        if re.match(r"^(http://127\.0\.0\.1:\d+/|data:)", url):
            r.continue_()
        else:
            seen.blocked.append(url)
            r.abort()

    page.route("**/*", route)
    return seen


def visible_ids(page: Page) -> list[str]:
    return page.eval_on_selector_all("article.paper:not([hidden])", "els => els.map(e => e.dataset.id)")


# --- archive ---------------------------------------------------------------------------------------------


def test_the_archive_links_every_day_and_days_link_each_other(page: Page, served: Served) -> None:
    seen = watch(page)
    page.goto(served.url + "/")

    expect(page.locator("h1")).to_have_text(f"Papers of {LATEST.isoformat()}")
    archive = page.locator("#archive")
    expect(archive.locator("h3")).to_have_text(["December 2025", "November 2025"])
    expect(archive.locator("li a")).to_have_text([day.isoformat() for day in DAYS])

    archive.get_by_role("link", name=OLDEST.isoformat()).click()
    expect(page).to_have_url(f"{served.url}/{OLDEST.isoformat()}/")
    expect(page.locator("h1")).to_have_text(f"Papers of {OLDEST.isoformat()}")
    expect(page.locator("article.paper h2 a")).to_have_text(
        ["Speculative Decoding with Tiny Draft Models", "Branes Revisited for LLM Inference"]
    )
    page.locator("header nav.days a[rel=next]").click()
    expect(page).to_have_url(f"{served.url}/{SECOND.isoformat()}/")
    page.locator("header nav.days a[rel=prev]").click()
    expect(page).to_have_url(f"{served.url}/{OLDEST.isoformat()}/")
    assert seen.errors == [] and seen.blocked == []


def test_anchors_are_arxiv_ids_and_old_style_ids_get_a_safe_one(page: Page, served: Served) -> None:
    page.goto(f"{served.url}/{OLDEST.isoformat()}/#{SPECULATIVE}")
    expect(page.locator("article.paper:target")).to_have_attribute("data-id", SPECULATIVE)

    page.goto(f"{served.url}/{OLDEST.isoformat()}/#hep-th_9901001")
    expect(page.locator("article.paper:target")).to_have_attribute("data-id", OLD_STYLE)
    # A link written with the id as arXiv spells it still lands on the paper.
    page.goto(f"{served.url}/{OLDEST.isoformat()}/#{OLD_STYLE}")
    expect(page).to_have_url(re.compile(r"#hep-th_9901001$"))
    expect(page.locator("article.paper:target")).to_have_attribute("data-id", OLD_STYLE)


def test_a_day_without_a_digest_is_a_404_page(page: Page, served: Served) -> None:
    seen = watch(page)
    response = page.goto(f"{served.url}/{NO_DIGEST.isoformat()}/")

    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page.locator("h1")).to_have_text("Not found")
    page.get_by_role("link", name="The latest digest").click()
    expect(page.locator("h1")).to_have_text(f"Papers of {LATEST.isoformat()}")
    # The only console message is Chromium's own note of the 404 response.
    assert all("404" in error for error in seen.errors) and seen.blocked == []


def test_copy_link_puts_the_papers_permalink_on_the_clipboard(page: Page, served: Served) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(served.url + "/")

    article = page.locator(f'article[data-id="{LIKED}"]')
    article.get_by_role("button", name="Copy link").click()
    expect(article.get_by_role("button", name="Link copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == f"{served.url}/{LATEST.isoformat()}/#{LIKED}"


# --- search and filters ----------------------------------------------------------------------------------------


def test_search_finds_a_paper_from_an_older_day(page: Page, served: Served) -> None:
    seen = watch(page)
    page.goto(served.url + "/")
    assert not [url for url in seen.requests if "/search/" in url or "minisearch" in url]  # loaded lazily

    box = page.get_by_role("searchbox", name="Search every day")
    box.fill("speculative draft")

    results = page.locator("#results-list li")
    expect(results).to_have_count(1)
    expect(results.locator("h3 a")).to_have_text("Speculative Decoding with Tiny Draft Models")
    expect(results.locator("h3 mark")).to_have_text(["Speculative", "Draft"])
    expect(results.locator(".meta").first).to_contain_text(OLDEST.isoformat())
    results.locator("h3 a").click()
    expect(page).to_have_url(f"{served.url}/{OLDEST.isoformat()}/#{SPECULATIVE}")
    expect(page.locator("article.paper:target")).to_have_attribute("data-id", SPECULATIVE)
    assert seen.errors == [] and seen.blocked == []


def test_search_reaches_authors_summaries_and_reasons(page: Page, served: Served) -> None:
    page.goto(f"{served.url}/{FOURTH.isoformat()}/")
    box = page.get_by_role("searchbox", name="Search every day")

    box.fill("hopper")  # an author
    expect(page.locator("#results-list li h3 a")).to_have_text(["Speculative Decoding with Tiny Draft Models"])
    box.fill("halves")  # a word only in a summary
    expect(page.locator("#results-list li h3 a")).to_have_text(["Sparse Attention for LLM Inference"])
    # From a day page, results link one folder up.
    expect(page.locator("#results-list li h3 a")).to_have_attribute("href", f"../{LATEST.isoformat()}/#{LIKED}")
    box.fill("")
    expect(page.locator("#results")).to_be_hidden()


def test_filters_change_what_is_shown(page: Page, served: Served) -> None:
    seen = watch(page)
    page.goto(served.url + "/")
    assert visible_ids(page) == [LIKED, "2512.03002", "2512.03003"]

    page.get_by_label("Category", exact=True).select_option("cs.CL")
    assert visible_ids(page) == ["2512.03002"]
    expect(page.locator("#filter-status")).to_have_text("Showing 1 of 3 papers of this day.")
    page.get_by_label("Category", exact=True).select_option("")
    page.get_by_label("Has summary").check()
    assert visible_ids(page) == [LIKED]
    page.get_by_label("Has summary").uncheck()
    page.get_by_label("Keyword", exact=True).select_option("Inference")
    assert visible_ids(page) == [LIKED, "2512.03003"]

    # A day range lists the archive's papers of those days, here filtered by keyword too.
    page.get_by_label("From", exact=True).fill(OLDEST.isoformat())
    page.get_by_label("To", exact=True).fill(SECOND.isoformat())
    expect(page.locator("#results-list li h3 a")).to_have_text(["Speculative Decoding with Tiny Draft Models"])
    page.get_by_label("Keyword", exact=True).select_option("")
    expect(page.locator("#results-list li")).to_have_count(4)
    page.get_by_label("Sort", exact=True).select_option("score")
    scores = page.locator("#results-list li .meta:first-of-type").all_text_contents()
    values = [float(re.search(r"score (\d+\.\d)", text).group(1)) for text in scores]  # type: ignore[union-attr]
    assert values == sorted(values, reverse=True)

    page.get_by_role("button", name="Clear").click()
    expect(page.locator("#results")).to_be_hidden()
    assert visible_ids(page) == [LIKED, "2512.03002", "2512.03003"]
    assert seen.errors == [] and seen.blocked == []


def test_configured_keywords_are_highlighted_and_long_abstracts_collapse(page: Page, served: Served) -> None:
    page.goto(served.url + "/")
    expect(page.locator(f'article[data-id="{LIKED}"] h2 mark')).to_have_text(["LLM", "Inference"])

    page.goto(f"{served.url}/{EVIL_DAY.isoformat()}/")
    article = page.locator(f'article[data-id="{LONG_ABSTRACT}"]')
    abstract = article.locator(".abstract")
    collapsed = abstract.bounding_box()
    more = article.get_by_role("button", name="Show more")
    expect(more).to_have_attribute("aria-expanded", "false")
    more.click()
    expect(article.get_by_role("button", name="Show less")).to_have_attribute("aria-expanded", "true")
    expanded = abstract.bounding_box()
    assert collapsed is not None and expanded is not None and expanded["height"] > 2 * collapsed["height"]


def test_the_search_box_is_reachable_from_the_keyboard(page: Page, served: Served) -> None:
    page.goto(served.url + "/")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    else:
        pytest.fail("the search box cannot be reached with Tab")
    page.keyboard.type("warmup")
    expect(page.locator("#results-list li h3 a")).to_have_text(["Learning Rate Warmup Revisited"])


# --- phone, dark mode, hostile text ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", f"/{EVIL_DAY.isoformat()}/"])
def test_a_phone_never_scrolls_sideways(page: Page, served: Served, path: str) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(served.url + path)
    page.locator("details summary").first.click()  # an open summary, wide table included
    page.get_by_role("searchbox").fill("LLM")
    expect(page.locator("#results-list li").first).to_be_visible()

    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.evaluate("document.body.scrollWidth") <= 375


def test_dark_mode_follows_the_system_setting(page: Page, served: Served) -> None:
    page.emulate_media(color_scheme="light")
    page.goto(served.url + "/")
    background = "getComputedStyle(document.body).backgroundColor"
    color = "getComputedStyle(document.body).color"
    assert page.evaluate(background) == "rgb(246, 247, 249)"

    page.emulate_media(color_scheme="dark")
    assert page.evaluate(background) == "rgb(20, 23, 28)"
    assert page.evaluate(color) == "rgb(228, 231, 236)"


def test_hostile_titles_and_summaries_stay_inert(page: Page, served: Served) -> None:
    seen = watch(page)
    page.goto(f"{served.url}/{EVIL_DAY.isoformat()}/")
    article = page.locator(f'article[data-id="{EVIL}"]')
    expect(article.locator("h2 a")).to_have_text(EVIL_TITLE)
    article.locator("details summary").click()
    expect(article.locator(".summary-body")).to_contain_text("<img src=x onerror=alert(2)>")

    page.get_by_role("searchbox").fill("attention")
    expect(page.locator("#results-list li h3 a", has_text="<script>")).to_have_text(EVIL_TITLE)
    page.get_by_role("searchbox").fill("pwned")  # a word only in the hostile summary
    expect(page.locator("#results-list li .snippet")).to_contain_text("<script>document.title='pwned'</script>")

    scripts = page.eval_on_selector_all("script", "els => els.map(e => e.getAttribute('src').split('?')[0])")
    assert scripts == ["../static/arxivbot.js", "../static/vendor/minisearch.js"]
    assert page.locator("img").count() == 0
    assert page.title() != "pwned" and seen.dialogs == []
    assert page.evaluate("[...document.querySelectorAll('a')].filter(a => a.protocol === 'javascript:').length") == 0
    assert seen.errors == [] and seen.blocked == []


# --- feedback ------------------------------------------------------------------------------------------------------


def verdicts(config: Config) -> dict[str, str]:
    with open_store(config.storage.database, readonly=True) as store:
        return store.feedback()


def test_like_and_dislike_reach_the_store(page: Page, served: Served) -> None:
    seen = watch(page)
    page.goto(served.url + "/")
    article = page.locator(f'article[data-id="{LIKED}"]')

    article.get_by_role("button", name="👍 Like").click()
    panel = page.locator("#token-panel")
    expect(panel).to_be_visible()
    page.get_by_label("Token", exact=True).fill(TOKEN)
    panel.get_by_role("button", name="Save").click()
    expect(article.locator(".note")).to_have_text("Recorded: like.")
    expect(article.get_by_role("button", name="👍 Like")).to_have_attribute("aria-pressed", "true")
    assert verdicts(served.config) == {LIKED: "like"}

    article.get_by_role("button", name="👎 Dislike").click()  # the token is remembered: no question
    expect(article.locator(".note")).to_have_text("Recorded: dislike.")
    assert verdicts(served.config) == {LIKED: "dislike"}

    article.get_by_role("button", name="👎 Dislike").click()  # pressed again: the verdict is withdrawn
    expect(article.locator(".note")).to_have_text("Verdict removed.")
    assert verdicts(served.config) == {}
    assert seen.errors == [] and seen.blocked == []


def test_a_wrong_token_is_asked_again_and_records_nothing(page: Page, served: Served) -> None:
    page.goto(f"{served.url}/{SECOND.isoformat()}/")
    article = page.locator('article[data-id="2511.00100"]')

    article.get_by_role("button", name="👍 Like").click()
    page.get_by_label("Token", exact=True).fill("not-the-token")
    page.locator("#token-panel").get_by_role("button", name="Save").click()
    expect(page.locator("#token-status")).to_have_text("wrong token")
    assert verdicts(served.config).get("2511.00100") is None

    page.get_by_label("Token", exact=True).fill(TOKEN)
    page.locator("#token-panel").get_by_role("button", name="Save").click()
    expect(article.locator(".note")).to_have_text("Recorded: like.")
    assert verdicts(served.config).get("2511.00100") == "like"


# --- a static host ----------------------------------------------------------------------------------------------


def test_a_static_host_shows_no_feedback_buttons_and_search_works(page: Page, static_host: str) -> None:
    seen = watch(page)
    page.goto(static_host + "/")

    expect(page.locator("article.paper")).to_have_count(3)
    assert page.locator("button.verdict").count() == 0
    page.get_by_role("searchbox").fill("branes")
    expect(page.locator("#results-list li h3 a")).to_have_text(["Branes Revisited for LLM Inference"])
    expect(page.locator("#results-list li h3 a")).to_have_attribute("href", f"{OLDEST.isoformat()}/#hep-th_9901001")
    assert seen.errors == [] and seen.blocked == []


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_a_broken_search_index_leaves_the_page_readable(
    page: Page, published_dir: Path, tmp_path: Path, damage: str
) -> None:
    site = tmp_path / "site"
    shutil.copytree(published_dir, site)
    shard = site / "search" / "2025-11.json"
    if damage == "corrupt":
        shard.write_bytes(shard.read_bytes()[:200])
    else:
        shard.unlink()
    with LiveServer(create_static_app(site)) as server:
        page.goto(server.url + "/")
        box = page.get_by_role("searchbox")
        box.focus()
        expect(box).to_have_attribute("placeholder", "Search unavailable")
        expect(page.locator("#search-status")).to_contain_text("Search unavailable")
        expect(page.locator("article.paper")).to_have_count(3)
        page.get_by_label("Category", exact=True).select_option("cs.LG")  # the day's filters still work
        assert visible_ids(page) == ["2512.03003"]
