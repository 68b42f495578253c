"""Hostile LLM summaries come out inert in every HTML made from them: the page, the feeds, papers.json.

The checker here is independent of the sanitiser: it parses the HTML as a browser would (lxml) and
looks at what was made, not at how. A summary may only produce markdown-it's own elements, no event
handler, and link or image targets that are http(s), mailto or relative once read the way a browser
reads a URL. The same pages are also opened in headless Chromium, where a script that ran would show.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import unquote

import lxml.etree
import lxml.html
import pytest

from arxivbot.config import Config
from arxivbot.publish.escape import is_safe_link, markdown_to_html
from arxivbot.publish.site import render_site
from arxivbot.store import open_store
from tests.chromium import run_headless, system_chromium
from tests.publish.seeding import DAY2, NOW, make_config, make_paper, seed_day

# What each payload would do if any of it ran: change the page title (seen in the browser test).
PWNED = "document.title='pwned'"

HOSTILE_SUMMARIES: dict[str, str] = {
    "raw script": f"<script>{PWNED}</script>",
    "raw tags with handlers": (
        f'<img src=x onerror="{PWNED}"> <svg onload="{PWNED}"></svg> <iframe src="javascript:{PWNED}"></iframe>'
    ),
    "an HTML block": f'<div onclick="{PWNED}">\n<style>body{{display:none}}</style>\n</div>',
    "a details block closed early": f"</details></div><script>{PWNED}</script>",
    "javascript link": f"[click](javascript:{PWNED})",
    "mixed-case scheme": f"[click](JaVaScRiPt:{PWNED})",
    "vbscript link": "[click](vbscript:msgbox(1))",
    "data link": "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "data image": "![pixel](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk)",
    "svg data image": "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "javascript image": f"![x](javascript:{PWNED})",
    "file link": "[passwd](file:///etc/passwd)",
    "entity-encoded scheme": f"[click](&#106;avascript:{PWNED}) [b](java&#x73;cript&colon;{PWNED})",
    "entity-encoded colon": f"[click](javascript&#58;{PWNED})",
    "tab and newline inside the scheme": f"[a](<java\tscript:{PWNED}>) [b](java&#9;script:{PWNED})",
    "leading control characters": f"[a](<\x01javascript:{PWNED}>) [b](&#1;javascript:{PWNED})",
    "percent-encoded scheme": f"[a](javascript%3A{PWNED}) [b](%6Aavascript:{PWNED})",
    "autolinks": f"<javascript:{PWNED}> <data:text/html,x> <vbscript:x>",
    "reference links": (
        f"[click][evil] and ![img][pic]\n\n[evil]: javascript:{PWNED}\n[pic]: data:image/gif;base64,R0lG"
    ),
    "nested link in image in link": f"[![x](javascript:{PWNED})](javascript:{PWNED})",
    "link text that looks like a safe link": f"[https://arxiv.org](javascript:{PWNED})",
    "a title attribute breaking out": '[a](https://ok.example "x\\" onmouseover=\\"alert(1)")',
    "a code fence info string": f'```js" onmouseover="{PWNED}\nx\n```',
    "html inside a table": f"| a | b |\n|---|---|\n| <script>{PWNED}</script> | [x](javascript:{PWNED}) |",
    "html comment and cdata": f"<!-- x --><![CDATA[<script>{PWNED}</script>]]>",
    "a form": f'<form action="javascript:{PWNED}"><button formaction="javascript:{PWNED}">go</button></form>',
}

# markdown-it's own output, and the page's elements around it: nothing a summary can turn into script.
SUMMARY_ELEMENTS = {
    "p", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "br", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "s",
}  # fmt: skip
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "background", "poster", "srcset")


def browser_scheme(url: str) -> str:
    """The scheme in ``url`` ('' for none) as a browser reads it, or a feed reader that decodes it once more
    (character references, percent-encoding): worked out here, independently of the sanitiser."""
    cleaned = re.sub(r"[\t\n\r]", "", html.unescape(url)).strip("".join(chr(c) for c in range(0x21)))
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", unquote(cleaned))
    return match.group(1).lower() if match else ""


def assert_inert(fragment: str) -> None:
    """``fragment`` (HTML made from model markdown) holds no script, handler or unsafe URL."""
    root = lxml.html.fragment_fromstring(fragment or "<p></p>", create_parent="div")
    for element in root.iterdescendants():
        assert isinstance(element.tag, str), f"a comment or processing instruction was made: {fragment!r}"
        assert element.tag in SUMMARY_ELEMENTS, f"<{element.tag}> made from a summary: {fragment!r}"
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), f"event handler {name} made: {fragment!r}"
            assert name in ("href", "src", "alt", "title", "class"), f"attribute {name} made: {fragment!r}"
            if name in URL_ATTRIBUTES:
                assert browser_scheme(value) in ("", "http", "https", "mailto"), f"{name}={value!r}"
                assert "script" not in unquote(value).lower().replace("\t", ""), f"{name}={value!r}"


# --- the sanitiser alone ---------------------------------------------------------------------------------


@pytest.mark.parametrize("summary", HOSTILE_SUMMARIES.values(), ids=HOSTILE_SUMMARIES.keys())
def test_hostile_summary_renders_inert(summary: str) -> None:
    rendered = markdown_to_html(summary)

    assert_inert(rendered)
    # The hostile markup is still there for the reader to see, as text.
    if "<script>" in summary:
        assert "&lt;script&gt;" in rendered


def test_all_hostile_summaries_together_render_inert() -> None:
    # Run together, one payload's markdown could open a construct that changes how the next is read.
    assert_inert(markdown_to_html("\n\n".join(HOSTILE_SUMMARIES.values())))
    assert_inert(markdown_to_html(" ".join(s.replace("\n", " ") for s in HOSTILE_SUMMARIES.values())))


def test_safe_markdown_keeps_its_structure_and_links() -> None:
    summary = (
        "## Results\n\n- **3x** faster, see [the paper](https://arxiv.org/abs/2512.20276) or "
        "[mail](mailto:author@example.org), [section](#results), [code](/src/x.py) and "
        "<https://example.org/a?b=1&c=2>\n\n| metric | value |\n|---|---|\n| F1 | 0.9 |\n\n"
        "![plot](https://example.org/plot.png)\n\n```python\nprint('<b>')\n```"
    )

    page = lxml.html.fragment_fromstring(markdown_to_html(summary), create_parent="div")

    assert [a.get("href") for a in page.iter("a")] == [
        "https://arxiv.org/abs/2512.20276",
        "mailto:author@example.org",
        "#results",
        "/src/x.py",
        "https://example.org/a?b=1&c=2",
    ]
    assert [img.get("src") for img in page.iter("img")] == ["https://example.org/plot.png"]
    assert page.xpath("//h2")[0].text_content() == "Results"
    assert [td.text_content() for td in page.iter("td")] == ["F1", "0.9"]
    assert page.xpath("//pre/code")[0].text_content() == "print('<b>')\n"


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://arxiv.org/abs/1", True),
        ("HTTP://EXAMPLE.ORG", True),
        ("mailto:a@example.org", True),
        ("/relative/path", True),
        ("#anchor", True),
        ("?q=1", True),
        ("//example.org/x", True),
        ("javascript:alert(1)", False),
        (" \x00javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("vbscript:x", False),
        ("data:image/png;base64,AAAA", False),
        ("file:///etc/passwd", False),
        ("blob:https://example.org/x", False),
        ("ftp://example.org", False),
        ("javascript%3Aalert(1)", False),  # a relative path to a browser, a scheme to a reader that decodes twice
        ("&#1;javascript:alert(1)", False),
        ("java%09script:alert(1)", False),  # a colon in the first segment: refused anyway
        ("/search?q=a%3Ab", True),
        ("a:b/c", False),
    ],
)
def test_which_link_targets_are_safe(url: str, safe: bool) -> None:
    assert is_safe_link(url) is safe


# --- through the published page, feeds and JSON -------------------------------------------------------------


@pytest.fixture
def hostile_site(tmp_path: Path) -> dict[str, bytes]:
    """The site of a digest whose every paper carries one hostile summary, rendered from a real store."""
    config: Config = make_config(tmp_path)
    papers = [make_paper(f"2512.{index:05d}") for index in range(1, len(HOSTILE_SUMMARIES) + 1)]
    with open_store(config.storage.database) as store:
        seed_day(
            store,
            DAY2,
            papers,
            summaries={paper.arxiv_id: text for paper, text in zip(papers, HOSTILE_SUMMARIES.values(), strict=True)},
        )
        return render_site(store, config, NOW)


def test_hostile_summaries_are_inert_on_the_page(hostile_site: dict[str, bytes]) -> None:
    page = lxml.html.fromstring(hostile_site["index.html"])

    bodies = page.xpath('//*[@class="summary-body"]')
    assert len(bodies) == len(HOSTILE_SUMMARIES)
    for body in bodies:
        inner = "".join(lxml.html.tostring(child, encoding="unicode") for child in body)
        assert_inert((body.text or "") + inner)
    # The page's own scripts are external files under static/; nothing else may be a script.
    foreign_scripts = "//script[not(contains(@src, 'static/arxivbot.js?v='))]"
    assert (
        page.xpath(
            f"{foreign_scripts} | //iframe | //svg | //article//form | //style[ancestor::article] | //*[@onerror]"
        )
        == []
    )
    assert len(page.xpath("//details")) == len(HOSTILE_SUMMARIES)  # no summary closed its block early


def test_hostile_summaries_are_inert_in_papers_json(hostile_site: dict[str, bytes]) -> None:
    papers = json.loads(hostile_site["papers.json"])["papers"]

    assert sorted(p["summary"]["markdown"] for p in papers) == sorted(HOSTILE_SUMMARIES.values())
    for paper in papers:
        assert_inert(paper["summary"]["html"])


def test_hostile_summaries_are_inert_in_the_feeds(hostile_site: dict[str, bytes]) -> None:
    for name in ("rss.xml", "atom.xml"):
        feed = lxml.etree.fromstring(hostile_site[name])
        contents = [
            element.text or ""
            for element in feed.iter()
            if isinstance(element.tag, str)
            and lxml.etree.QName(element).localname in ("description", "encoded", "content", "summary")
        ]
        with_summaries = [c for c in contents if "AI summary" in c]
        assert len(with_summaries) == len(HOSTILE_SUMMARIES), name
        for content in with_summaries:
            # The summary's HTML sits after its heading; what precedes it is the feed's own markup.
            assert_inert(content.split("</h3>", 2)[-1].rsplit("<p><a href=", 1)[0])


@pytest.mark.browser
@pytest.mark.skipif(system_chromium() is None, reason="chromium is not installed")
def test_no_hostile_summary_runs_in_a_real_browser(hostile_site: dict[str, bytes], tmp_path: Path) -> None:
    # The page as a file: no Content-Security-Policy header helps here, the markup alone must hold.
    page_file = tmp_path / "index.html"
    page_file.write_bytes(hostile_site["index.html"])

    result = run_headless(tmp_path / "chromium-profile", "--virtual-time-budget=3000", "--dump-dom", page_file.as_uri())

    assert result.returncode == 0, result.stderr[-2000:]
    dom = lxml.html.fromstring(result.stdout)
    assert dom.findtext(".//title").startswith("arXiv digest")  # no payload set it to 'pwned'
    foreign_scripts = "//script[not(contains(@src, 'static/arxivbot.js?v='))]"  # the page's own are external files
    assert (
        dom.xpath(f"{foreign_scripts} | //iframe | //svg | //article//form | //*[@onerror or @onload or @onclick]")
        == []
    )
    hrefs = [a.get("href") for a in dom.xpath("//a[@href]") + dom.xpath("//img[@src]")]
    assert [h for h in hrefs if browser_scheme(h) not in ("", "http", "https", "mailto")] == []
