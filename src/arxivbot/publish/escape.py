"""Making untrusted text (from arXiv or an LLM) inert in markdown, HTML and XML.

Three kinds of text, three treatments:

- *plain text* from arXiv (titles, authors, abstracts) written into markdown: every character that
  markdown or HTML would act on is escaped, so ``<script>`` and ``](javascript:…)`` stay visible text;
- *model markdown* (LLM summaries) written into markdown: structure is kept (headings, lists, tables,
  bold, code) but raw HTML is neutralised and dangerous link schemes are defused;
- *model markdown* rendered to HTML (page, feeds): markdown-it with raw HTML disabled, so any tag in
  the text comes out as escaped text and unsafe link targets are refused.

XML escaping itself is left to the XML libraries (lxml, feedgen), which always escape.
"""

from __future__ import annotations

import functools
import html
import re
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# Characters that can start inline markup anywhere in a line (code, emphasis, links, tables,
# strikethrough). A link needs "[", so escaping the brackets is enough to keep "(...)" plain text,
# which keeps abstracts readable in the raw README.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
# Markup that only counts at the start of a line: headings, lists, block quotes, ordered lists.
_LINE_START = re.compile(r"^([#+\-=]|\d+(?=[.)]))")
_UNSAFE_SCHEME = re.compile(r"(?i)\b(javascript|vbscript|data|file)\s*:")
# A character reference ("&#58;", "&colon;", "java&#115;cript") is decoded inside link destinations,
# so the model could spell a scheme the check above never sees: such references are shown literally.
_CHARACTER_REFERENCE = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")


def one_line(text: str) -> str:
    """Collapse all whitespace (newlines included) to single spaces."""
    # str.split() knows the same whitespace as the regular expression's \s, and is several times faster.
    return " ".join(text.split())


def escape_markdown(text: str, *, at_line_start: bool = True) -> str:
    """Plain text → markdown that renders as exactly that text, on one line, with no live markup.

    ``&``, ``<`` and ``>`` become HTML entities (so no tag and no autolink can form); every other
    markdown-significant character is backslash-escaped (so no link, emphasis or heading can form).
    ``at_line_start=False`` is for text written after other text on its line (a title inside
    ``[...]``, a field after ``**Authors**:``), where ``1.`` or ``#`` cannot start a block: it is
    then left as it is, which keeps the raw README identical to the reference's.
    """
    flat = one_line(text)
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = _MARKDOWN_SPECIAL.sub(r"\\\1", flat)
    match = _LINE_START.match(flat) if at_line_start else None
    if match:  # "1. Intro" or "# x" at the start of an abstract must not become a list or heading
        token = match.group(1)
        flat = token + "\\" + flat[len(token) :] if token[0].isdigit() else "\\" + flat
    return flat


def neutralize_model_markdown(text: str) -> str:
    """LLM markdown → the same markdown with raw HTML made inert and unsafe link schemes defused.

    Outside code, ``<`` becomes ``&lt;`` (markdown then shows it as a literal ``<``), so the model
    cannot open a tag, close our ``<details>`` block, or inject a script. Code blocks (fenced or
    indented) are already literal and left alone. Which lines are code is decided by a CommonMark
    parser, not by pattern matching: a fence that only looks like one (indented four spaces, a
    backtick in its info string, nested in a list) must not leave the lines after it unescaped.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    # Parsed with raw HTML off, as the escaped result will be parsed; the trailing paragraph shows
    # whether a fence is still open where our README goes on.
    after = len(lines) + 1
    code: set[int] = set()
    unclosed: str | None = None
    for token in _commonmark().parse("\n".join(lines) + "\n\n.\n"):
        if token.type in ("fence", "code_block") and token.map:
            code.update(range(*token.map))
            if token.type == "fence" and token.map[1] > after:
                unclosed = token.markup
    result = [line if index in code else _neutralize_line(line) for index, line in enumerate(lines)]
    if unclosed is not None:  # an unclosed fence would swallow the rest of the README
        result.append(unclosed)
    return "\n".join(result)


def _neutralize_line(line: str) -> str:
    line = _CHARACTER_REFERENCE.sub("&amp;", line)
    line = line.replace("<", "&lt;")
    # A zero-width space before the colon: invisible in text, and since references are decoded
    # in link destinations it must not decode to ":" (as "&#58;" would) but break the scheme.
    return _UNSAFE_SCHEME.sub(lambda m: f"{m.group(0)[:-1]}&#8203;:", line)


# The parsers are built on first use: only runs that have summaries need markdown-it at all.
@functools.cache
def _commonmark() -> MarkdownIt:
    """Only for finding code blocks; GitHub's tables cannot hold code blocks, so plain CommonMark suffices."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})


@functools.cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )


def markdown_to_html(text: str) -> str:
    """Model markdown → safe HTML: raw HTML is escaped and ``javascript:``-style links are refused."""
    return _markdown().render(text)


def arxiv_abs_url(arxiv_id: str) -> str:
    """The paper's arXiv page, built from its id with anything unexpected percent-encoded.

    Ids are ``2512.20276`` or ``astro-ph/0601001``; a stray ``)``, space or ``<`` in a malformed
    one is encoded, so it can neither end a markdown link nor open a tag.
    """
    return "https://arxiv.org/abs/" + quote(arxiv_id.strip(), safe="/")


def escape_html(text: str) -> str:
    """Plain text → HTML text (quotes included, so it is safe inside attributes too)."""
    return html.escape(text, quote=True)
