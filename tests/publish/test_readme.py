"""The README digest: rendered, then parsed back with markdown-it to check what a reader would see."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from arxivbot.errors import PublishError
from arxivbot.models import Announcement, Digest, DigestEntry, Paper, ScoredPaper, Summary
from arxivbot.publish.readme import (
    BUILTIN_TEMPLATE,
    load_readme_template,
    render_papers_section,
    render_readme,
)

REFERENCE_README = Path(__file__).resolve().parents[3] / "shared" / "reference" / "seed_readme_example.md"
GENERATED_AT = datetime(2025, 12, 24, 5, 57, 56, tzinfo=timezone.utc)
DAY = date(2025, 12, 24)
# The only raw HTML a README may contain: the summary blocks we write ourselves.
OUR_HTML = re.compile(
    r"<details>\n<summary><strong>🤖 AI Summary \(by [^<>]*\)</strong> - Click to expand</summary>\n|</details>\n"
)


def entry(
    rank: int,
    arxiv_id: str = "2512.20276",
    *,
    title: str = "A Paper",
    authors: tuple[str, ...] = ("Ada Lovelace", "Alan Turing"),
    abstract: str = "We study things.",
    category: str = "cs.AI",
    score: float = 3.0,
    announce_type: str = "new",
    version: int = 1,
    summary: str | None = None,
    model: str = "qwen-long",
) -> DigestEntry:
    paper = Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        authors=authors,
        abstract=abstract,
        categories=(category,),
        link=f"https://arxiv.org/abs/{arxiv_id}",
    )
    scored = ScoredPaper(Announcement(paper, announce_type, DAY), score, category)
    made = None if summary is None else Summary(arxiv_id, version, model, "hash", "pdf", summary)
    return DigestEntry(rank, scored, made)


def digest(*entries: DigestEntry, keywords: tuple[str, ...] = ("LLM", "RL")) -> Digest:
    return Digest(DAY, GENERATED_AT, tuple(entries), ("cs.AI", "cs.CL"), keywords)


# --- parsing the README back -------------------------------------------------------------------


def parse(markdown: str) -> list[Token]:
    """Tokens as a renderer that allows raw HTML (like GitHub) and trusts every link would see them.

    markdown-it refuses ``javascript:`` links by itself; that check is switched off here so the
    test sees what our escaping alone achieves.
    """
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md.parse(markdown)


def flatten(tokens: list[Token]) -> list[Token]:
    flat = []
    for token in tokens:
        flat.append(token)
        flat.extend(token.children or [])
    return flat


def text_of(inline: Token) -> str:
    """What a reader sees of an inline token: text, with line breaks as newlines."""
    parts = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
    return "".join(parts)


def raw_html(tokens: list[Token]) -> list[str]:
    return [t.content for t in flatten(tokens) if t.type in ("html_block", "html_inline")]


def hrefs(tokens: list[Token]) -> list[str]:
    return [str(t.attrs["href"]) for t in flatten(tokens) if t.type == "link_open"]


def headings(tokens: list[Token], level: str) -> list[str]:
    return [text_of(tokens[i + 1]) for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == level]


def is_paper_heading(tokens: list[Token], i: int) -> bool:
    """A ``###`` heading whose text links to an arXiv page: how each paper's block starts."""
    return (
        tokens[i].type == "heading_open"
        and tokens[i].tag == "h3"
        and any(href.startswith("https://arxiv.org/abs/") for href in hrefs([tokens[i + 1]]))
    )


def paper_blocks(tokens: list[Token]) -> list[list[Token]]:
    """The tokens of each paper, from its heading to the next paper or the next top-level section."""
    blocks: list[list[Token]] = []
    inside = False
    for i, token in enumerate(tokens):
        if is_paper_heading(tokens, i):
            blocks.append([])
            inside = True
        elif token.type == "heading_open" and token.tag == "h2" and "Configuration" in text_of(tokens[i + 1]):
            inside = False
        if inside:
            blocks[-1].append(token)
    return blocks


def paragraphs(block: list[Token]) -> list[str]:
    return [text_of(block[i + 1]) for i, t in enumerate(block) if t.type == "paragraph_open"]


def assert_inert(markdown: str) -> None:
    """No raw HTML but our own summary blocks, and no link with a scheme other than https.

    A link without a scheme (a relative one, such as a defused ``javascript%E2%80%8B:``) is inert.
    """
    tokens = parse(markdown)
    for html in raw_html(tokens):
        assert OUR_HTML.fullmatch(html), f"unexpected raw HTML: {html!r}"
    for href in hrefs(tokens):
        assert urlsplit(href).scheme in ("https", ""), f"unexpected link: {href!r}"
        # As a browser reads it: tabs and newlines dropped, leading controls and spaces ignored.
        browser_view = re.sub(r"[\t\n\r]", "", href)
        assert not re.match(r"(?i)[\x00-\x20]*(javascript|vbscript|data|file):", browser_view), href
    assert "<script" not in markdown.lower()


# --- layout ------------------------------------------------------------------------------------


def test_each_paper_is_listed_in_rank_order_with_its_link_and_fields() -> None:
    readme = render_readme(
        digest(
            entry(1, "2512.20276", title="First", score=13.5, authors=("A", "B", "C")),
            entry(2, "2512.20604", title="Second", category="cs.CL", score=12.0, announce_type="cross"),
            entry(3, "astro-ph/0601001", title="Third", version=3, score=2.5),
        )
    )
    tokens = parse(readme)

    assert headings(tokens, "h3")[:3] == ["1. First", "2. Second", "3. Third"]
    blocks = paper_blocks(tokens)
    assert len(blocks) == 3
    assert [hrefs(block) for block in blocks] == [
        ["https://arxiv.org/abs/2512.20276"],
        ["https://arxiv.org/abs/2512.20604"],
        ["https://arxiv.org/abs/astro-ph/0601001"],
    ]
    assert paragraphs(blocks[0])[0] == (
        "Authors: A, B, C\nCategory: cs.AI\nPublished: 2025-12-24\nScore: 13.5\nType: new\nArXiv ID: 2512.20276v1"
    )
    assert paragraphs(blocks[1])[0].splitlines()[1:] == [
        "Category: cs.CL", "Published: 2025-12-24", "Score: 12.0", "Type: cross", "ArXiv ID: 2512.20604v1",
    ]  # fmt: skip
    assert paragraphs(blocks[2])[0].endswith("ArXiv ID: astro-ph/0601001v3")
    assert [headings(block, "h4") for block in blocks] == [["Abstract"]] * 3
    assert "Total Papers Found: 3" in [text_of(t) for t in tokens if t.type == "inline"]


def test_statistics_and_configuration_are_filled() -> None:
    readme = render_readme(digest(entry(1), keywords=("State Space", "SSM", "LLM")))

    assert "- **Last Updated**: 2025-12-24 05:57:56 UTC\n" in readme
    assert "- **Total Papers Found**: 1\n" in readme
    assert "- **Categories Monitored**: cs.AI, cs.CL\n" in readme
    assert "following keywords:\n- State Space, SSM, LLM\n" in readme
    assert "The bot runs daily at 12:00 UTC via GitHub Actions" in readme
    assert "{{" not in readme and "}}" not in readme
    assert readme.endswith("---\n*Generated automatically by arXiv Bot*\n")


def test_schedule_text_and_utc_conversion() -> None:
    later = Digest(DAY, datetime(2025, 12, 24, 13, 57, 56, tzinfo=timezone(timedelta(hours=8))), (), ("cs.AI",), ())
    readme = render_readme(later, schedule_text="every day at 06:30 UTC")

    assert "- **Last Updated**: 2025-12-24 05:57:56 UTC\n" in readme
    assert "The bot runs every day at 06:30 UTC via GitHub Actions" in readme


def test_field_lines_end_with_two_spaces_and_scores_have_one_decimal() -> None:
    section = render_papers_section(digest(entry(1, score=13.0), entry(2, score=6.5), entry(3, score=2.34)))
    lines = section.splitlines()

    assert [line for line in lines if line.startswith("**Score**")] == [
        "**Score**: 13.0  ", "**Score**: 6.5  ", "**Score**: 2.3  ",
    ]  # fmt: skip
    field_lines = [line for line in lines if line.startswith("**")]
    assert len(field_lines) == 18
    assert all(line.endswith("  ") and not line.endswith("   ") for line in field_lines)
    hardbreaks = [t for t in flatten(parse(section)) if t.type == "hardbreak"]
    assert len(hardbreaks) == 3 * 5  # five line breaks in each paper's six-line field block


def test_abstract_is_cut_at_300_characters_with_an_ellipsis() -> None:
    long_text = "".join(f"word{i} " for i in range(100)).strip()
    exactly_300 = "x" * 300
    # "&", "*" and "<" count as one character each: the cut is made before escaping.
    specials = "a" * 297 + "&*<" + " and more"
    readme = render_readme(
        digest(entry(1, abstract=long_text), entry(2, abstract=exactly_300), entry(3, abstract=specials))
    )
    abstracts = [paragraphs(block)[1] for block in paper_blocks(parse(readme))]

    assert abstracts[0] == long_text[:300] + "..."
    assert len(abstracts[0]) == 303
    assert abstracts[1] == exactly_300  # nothing was cut, nothing appended
    assert abstracts[2] == "a" * 297 + "&*<..."


def test_a_cut_just_after_a_space_keeps_it_like_the_reference() -> None:
    abstract = "x" * 299 + " tail"
    section = render_papers_section(digest(entry(1, abstract=abstract)))

    assert "\n" + "x" * 299 + " ...\n" in section


def test_abstract_newlines_are_collapsed_before_counting() -> None:
    wrapped = "We study\n  wrapped   text. " * 30  # as the API's Atom wraps abstracts
    section = render_papers_section(digest(entry(1, abstract=wrapped)))
    expected = " ".join(wrapped.split())[:300] + "..."

    assert paragraphs(paper_blocks(parse(section))[0])[1] == expected


def test_summary_block_only_for_summarized_papers_labelled_with_the_model() -> None:
    model_markdown = (
        "## 1. Contributions\n\n- **ActionFlow** pipelines requests\n- second point\n\n"
        "| Model | FPS |\n|---|---|\n| OpenVLA | 3.2 |\n\n```python\nx = a < b\n```"
    )
    readme = render_readme(
        digest(
            entry(1, "2512.00001", summary=model_markdown, model="qwen-long"),
            entry(2, "2512.00002"),
            entry(3, "2512.00003", summary="Short summary.", model="gpt-4o-mini"),
        )
    )
    blocks = paper_blocks(parse(readme))

    labels = [[html for html in raw_html(block) if "<summary>" in html] for block in blocks]
    assert labels[0] and "🤖 AI Summary (by qwen-long)" in labels[0][0]
    assert labels[1] == []
    assert labels[2] and "🤖 AI Summary (by gpt-4o-mini)" in labels[2][0]
    assert readme.count("<details>") == 2 and readme.count("</details>") == 2
    # The model's markdown is kept: heading, bold, list, table and code all survive.
    types = {t.type for t in flatten(blocks[0])}
    assert {"strong_open", "bullet_list_open", "table_open", "fence"} <= types
    assert headings(blocks[0], "h2") == ["1. Contributions"]
    fence = next(t for t in flatten(blocks[0]) if t.type == "fence")
    assert fence.content == "x = a < b\n"
    assert_inert(readme)


def test_the_summary_block_has_the_reference_shape() -> None:
    section = render_papers_section(digest(entry(1, summary="**Bold** text", model="qwen-long")))

    assert section.endswith(
        "\n\n<details>\n"
        "<summary><strong>🤖 AI Summary (by qwen-long)</strong> - Click to expand</summary>\n\n"
        "**Bold** text\n\n</details>\n\n---"
    )


def test_an_empty_summary_gets_no_block_and_an_empty_abstract_says_so() -> None:
    section = render_papers_section(digest(entry(1, summary="  \n\n ", abstract=" \n")))

    assert "<details>" not in section
    assert "#### Abstract\n*No abstract.*\n\n---" in section


# --- untrusted text stays inert ----------------------------------------------------------------

MALICIOUS_TITLE = "<script>alert(1)</script> [Click](javascript:alert(1)) ](javascript:alert(1))"
MALICIOUS_AUTHORS = ("<img src=x onerror=alert(1)>", "[a](javascript:alert(1))", "**Bold** _Em_")
MALICIOUS_ABSTRACT = "# Not a heading <script>alert(1)</script> [x](javascript:alert(1)) <b>hi</b> | a | b |"


def test_malicious_arxiv_text_creates_no_tag_and_no_link() -> None:
    readme = render_readme(
        digest(
            entry(
                1,
                title=MALICIOUS_TITLE,
                authors=MALICIOUS_AUTHORS,
                abstract=MALICIOUS_ABSTRACT,
                category="cs.AI<script>",
                announce_type="new](javascript:alert(1))",
            ),
            entry(2, title="](javascript:alert(1))"),
        )
    )
    tokens = parse(readme)
    assert_inert(readme)

    blocks = paper_blocks(tokens)
    assert len(blocks) == 2
    first = blocks[0]
    # One link per heading, to arXiv, whose visible text is the title exactly as arXiv gave it.
    assert hrefs(first) == ["https://arxiv.org/abs/2512.20276"]
    assert headings(first, "h3") == [f"1. {MALICIOUS_TITLE}"]
    assert headings(blocks[1], "h3") == ["2. ](javascript:alert(1))"]
    fields, abstract = paragraphs(first)[:2]
    assert fields.splitlines()[0] == "Authors: " + ", ".join(MALICIOUS_AUTHORS)
    assert "Category: cs.AI<script>" in fields and "Type: new](javascript:alert(1))" in fields
    assert abstract == MALICIOUS_ABSTRACT
    # No emphasis, table or heading was formed from arXiv's text.
    assert not {"em_open", "table_open"} & {t.type for t in flatten(first)}
    assert headings(first, "h1") == [] and headings(first, "h4") == ["Abstract"]


def test_malicious_summary_keeps_the_details_block_closed_and_links_dead() -> None:
    summary = (
        "</details><script>alert(1)</script>\n\n"
        "[x](javascript:alert(1)) [y](java&#115;cript:alert(1)) [z](JavaScript&#58;alert(1))\n\n"
        "[ref]\n\n[ref]: vbscript:msgbox(1)\n\n"
        "<img src=x onerror=alert(1)>\n\n<!-- hide -->\n\n```\nunclosed fence"
    )
    readme = render_readme(
        digest(entry(1, summary=summary, model="<b>evil</b>"), entry(2, "2512.00002", title="After"))
    )
    tokens = parse(readme)
    assert_inert(readme)

    # Our block closes where we close it: the next paper is a heading outside any HTML.
    assert headings(tokens, "h3")[:2] == ["1. A Paper", "2. After"]
    assert len(paper_blocks(tokens)) == 2
    assert [html for html in raw_html(tokens) if html == "</details>\n"] == ["</details>\n"]
    label = next(html for html in raw_html(tokens) if "<summary>" in html)
    assert "(by &lt;b&gt;evil&lt;/b&gt;)" in label
    # The model's text is still readable as text.
    seen = "\n".join(paragraphs(paper_blocks(tokens)[0]))
    assert "</details><script>alert(1)</script>" in seen
    assert "<img src=x onerror=alert(1)>" in seen


FENCE_LOOKALIKES = {
    # Not fences to CommonMark, so the line after them is not code and must be escaped.
    "indented four spaces": "Intro\n    ```\n<script>alert(1)</script>",
    "backtick in the info string": "```a`\n<script>alert(1)</script>",
    # "```x" cannot close a fence: the fence really ends one line later.
    "info string on a closing line": "```\n```x\n```\n<script>alert(1)</script>",
    # The fence lives in the list item and closes there; the next line is top-level HTML.
    "fence inside a list item": "- ```\n  ```\n<script>alert(1)</script>",
    # Still open at the end, as CommonMark sees it: it is closed before our </details>.
    "closing line with an info string": "```\n```python\nx = 1",
}


@pytest.mark.parametrize("summary", FENCE_LOOKALIKES.values(), ids=FENCE_LOOKALIKES.keys())
def test_code_in_a_summary_is_found_as_commonmark_finds_it(summary: str) -> None:
    readme = render_readme(digest(entry(1, summary=summary), entry(2, "2512.00002", title="After")))
    tokens = parse(readme)
    assert_inert(readme)
    assert headings(tokens, "h3")[:2] == ["1. A Paper", "2. After"]
    assert [html for html in raw_html(tokens) if html == "</details>\n"] == ["</details>\n"]


def test_an_odd_arxiv_id_cannot_break_out_of_the_link() -> None:
    section = render_papers_section(digest(entry(1, "2512.1) [x](javascript:alert(1)", title="T")))
    tokens = parse(section)

    assert_inert(section)
    assert hrefs(tokens) == ["https://arxiv.org/abs/2512.1%29%20%5Bx%5D%28javascript%3Aalert%281%29"]
    assert headings(tokens, "h3") == ["1. T"]


# --- templates ---------------------------------------------------------------------------------

CUSTOM_TEMPLATE = """\
# My radar

Updated {{LAST_UPDATED}} · {{PAPER_COUNT}} papers · {{CATEGORIES}} · {{KEYWORDS}} · {{SCHEDULE}}

{{PAPERS_SECTION}}

Again: {{PAPER_COUNT}}
"""


def test_custom_template_gets_every_placeholder_filled() -> None:
    readme = render_readme(
        digest(entry(1, title="Only"), entry(2, "2512.00002", title="Two")), template=CUSTOM_TEMPLATE
    )

    assert readme.startswith(
        "# My radar\n\nUpdated 2025-12-24 05:57:56 UTC · 2 papers · cs.AI, cs.CL · LLM, RL · daily at 12:00 UTC\n\n"
        "### 1. [Only](https://arxiv.org/abs/2512.20276)\n"
    )
    assert readme.endswith("---\n\nAgain: 2\n")
    assert "{{" not in readme
    assert "Statistics" not in readme  # the built-in template was replaced, not added to
    assert headings(parse(readme), "h3") == ["1. Only", "2. Two"]


def test_placeholders_inside_paper_text_are_not_filled_again() -> None:
    readme = render_readme(
        digest(
            entry(
                1,
                title="On {{KEYWORDS}} and {{PAPER_COUNT}}",
                abstract="{{PAPERS_SECTION}} {{LAST_UPDATED}}",
                authors=("{{CATEGORIES}}",),
                summary="Model says {{SCHEDULE}}",
            )
        ),
        template=CUSTOM_TEMPLATE,
    )
    blocks = paper_blocks(parse(readme))

    assert headings(blocks[0], "h3") == ["1. On {{KEYWORDS}} and {{PAPER_COUNT}}"]
    assert paragraphs(blocks[0])[:3] == [
        "Authors: {{CATEGORIES}}\nCategory: cs.AI\nPublished: 2025-12-24\nScore: 3.0\nType: new\n"
        "ArXiv ID: 2512.20276v1",
        "{{PAPERS_SECTION}} {{LAST_UPDATED}}",
        "Model says {{SCHEDULE}}",
    ]
    assert readme.count("### 1.") == 1


def test_unknown_placeholder_is_left_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="arxivbot.publish.readme"):
        readme = render_readme(digest(), template="{{PAPER_COUNTS}} {{PAPER_COUNT}}\n")

    assert readme == "{{PAPER_COUNTS}} 0\n"
    assert "PAPER_COUNTS" in caplog.text
    assert "PAPERS_SECTION" in caplog.text  # the papers would not be listed: said so


def test_builtin_template_uses_the_placeholders() -> None:
    for name in ("LAST_UPDATED", "PAPER_COUNT", "CATEGORIES", "KEYWORDS", "PAPERS_SECTION", "SCHEDULE"):
        assert BUILTIN_TEMPLATE.count("{{" + name + "}}") == 1
    assert render_readme(digest(entry(1)), template=BUILTIN_TEMPLATE) == render_readme(digest(entry(1)))


def test_load_readme_template(isolated: Path) -> None:
    assert load_readme_template(isolated / "README.template.md") is None

    template = isolated / "README.template.md"
    template.write_bytes("\ufeff# Mine\r\n{{PAPERS_SECTION}}\r\n".encode())
    assert load_readme_template(template) == "# Mine\n{{PAPERS_SECTION}}\n"


def test_unreadable_template_is_a_one_line_publish_error(isolated: Path) -> None:
    broken = isolated / "README.template.md"
    broken.write_bytes(b"# Mine \xff\xfe {{PAPERS_SECTION}}")
    with pytest.raises(PublishError) as caught:
        load_readme_template(broken)
    assert str(broken) in str(caught.value) and "UTF-8" in str(caught.value)
    assert "\n" not in str(caught.value)

    folder = isolated / "folder.md"
    folder.mkdir()
    with pytest.raises(PublishError, match="cannot read README template") as caught:
        load_readme_template(folder)
    assert "\n" not in str(caught.value)


# --- empty digest and the reference ------------------------------------------------------------


def test_an_empty_digest_keeps_the_shape() -> None:
    empty = render_readme(digest())
    full = render_readme(digest(entry(1)))

    assert headings(parse(empty), "h2") == headings(parse(full), "h2")
    assert "- **Total Papers Found**: 0\n" in empty
    assert "## 📚 Recent Papers\n\n*No papers matched the configured criteria on 2025-12-24.*\n\n## 🔧" in empty
    assert headings(parse(empty), "h3")[0] == "arXiv Categories"  # no paper headings at all
    assert_inert(empty)


REFERENCE_ABSTRACT = (
    "Vision-Language-Action (VLA) models have emerged as a unified paradigm for robotic perception and "
    "control, enabling emergent generalization and long-horizon task execution. However, their deployment "
    "in dynamic, real-world environments is severely hin dered by high inference latency. While smooth rob"
)
# Paper 1 of the reference README (seed_readme_example.md, lines 18-28), without its summary.
# Field lines end with two spaces, written out here so no editor trims them.
REFERENCE_PAPER_1 = "".join(
    line + "\n"
    for line in (
        "### 1. [ActionFlow: A Pipelined Action Acceleration for Vision Language Models on Edge]"
        "(https://arxiv.org/abs/2512.20276)",
        "",
        "**Authors**: Yuntao Dai, Hang Gu, Teng Wang, Qianyu Cheng, Yifei Zheng, Zhiyong Qiu, Lei Gong, "
        "Wenqi Lou, Xuehai Zhou" + "  ",
        "**Category**: cs.AI" + "  ",
        "**Published**: 2025-12-24" + "  ",
        "**Score**: 13.5" + "  ",
        "**Type**: new" + "  ",
        "**ArXiv ID**: 2512.20276v1" + "  ",
        "",
        "#### Abstract",
        REFERENCE_ABSTRACT + "...",
    )
)


def reference_digest() -> Digest:
    first = entry(
        1,
        "2512.20276",
        title="ActionFlow: A Pipelined Action Acceleration for Vision Language Models on Edge",
        authors=(
            "Yuntao Dai",
            "Hang Gu",
            "Teng Wang",
            "Qianyu Cheng",
            "Yifei Zheng",
            "Zhiyong Qiu",
            "Lei Gong",
            "Wenqi Lou",
            "Xuehai Zhou",
        ),
        # The reference shows only the first 300 characters; the rest here is made up.
        abstract=REFERENCE_ABSTRACT + "otic control needs 20-30 Hz, current edge hardware reaches 3-5 FPS.",
        score=13.5,
    )
    return Digest(DAY, GENERATED_AT, (first,), ("cs.AI", "cs.CL", "cs.DC", "cs.LG"), ("State Space", "SSM"))


def test_reference_paper_fields_are_reproduced_byte_for_byte() -> None:
    readme = render_readme(reference_digest())

    assert REFERENCE_PAPER_1 + "\n---\n" in readme
    assert (
        "## 📊 Statistics\n\n- **Last Updated**: 2025-12-24 05:57:56 UTC\n- **Total Papers Found**: 1\n"
        "- **Categories Monitored**: cs.AI, cs.CL, cs.DC, cs.LG\n\n## 📚 Recent Papers\n\n### 1. ["
    ) in readme


def test_reference_paper_block_matches_the_reference_file() -> None:
    if not REFERENCE_README.is_file():
        pytest.skip("reference README not available (../shared is absent)")
    lines = REFERENCE_README.read_text(encoding="utf-8").splitlines(keepends=True)

    assert "".join(lines[17:28]) == REFERENCE_PAPER_1  # the hand-copied block above is faithful
    assert "".join(lines[9:18]).replace("30", "1") in render_readme(reference_digest())


def test_static_sections_follow_the_reference() -> None:
    if not REFERENCE_README.is_file():
        pytest.skip("reference README not available (../shared is absent)")
    reference = REFERENCE_README.read_text(encoding="utf-8")
    ours = render_readme(reference_digest())

    def section_titles(text: str) -> list[str]:  # outside the papers, whose summaries have "##" too
        head, rest = text.split("## 📚 Recent Papers", 1)
        outside = head + "## 📚 Recent Papers\n" + rest[rest.index("## 🔧 Configuration") :]
        return [line for line in outside.splitlines() if line.startswith("## ")]

    # Our badges differ (adapted to arxivbot); the two emoji damaged in the capture are our choice.
    damaged = {"## \ufffd Customization": "## 🎨 Customization", "## \ufffd Manual Trigger": "## 🔄 Manual Trigger"}
    expected = [damaged.get(title, title) for title in section_titles(reference)]
    assert section_titles(ours)[1:] == expected[1:]

    def tail(text: str) -> list[str]:  # from "How to Use" to the footer, trailing spaces aside
        text = text[text.index("## 🚀 How to Use") :]
        return [damaged.get(line.rstrip(), line.rstrip()) for line in text.splitlines()]

    assert tail(ours) == tail(reference)
