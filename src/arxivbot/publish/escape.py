"""Making untrusted text (from arXiv or an LLM) inert in markdown, HTML and XML.

Three kinds of text, three treatments:

- *plain text* from arXiv (titles, authors, abstracts) written into markdown: every character that
  markdown or HTML would act on is escaped, so ``<script>`` and ``](javascript:…)`` stay visible text;
- *model markdown* (LLM summaries) written into markdown: structure is kept (headings, lists, tables,
  bold, code) but raw HTML is neutralised and dangerous link schemes are defused;
- *model markdown* rendered to HTML (page, feeds, papers.json): safe by construction, not by
  filtering the output. markdown-it with raw HTML off emits only the tags of its own rules (p, em,
  strong, code, pre, lists, headings, tables, a, img) and escapes every character of text and
  attribute values; the one way left to smuggle script, a URL, is closed by :func:`is_safe_link`,
  which admits only http(s), mailto and relative targets. A link or image it refuses is not made:
  its markdown stays visible as escaped text.

XML escaping itself is left to the XML libraries (lxml, feedgen), which always escape.
"""

from __future__ import annotations

import functools
import html
import re
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from markupsafe import Markup

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
    for token in _code_blocks().parse("\n".join(lines) + "\n\n.\n"):
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


# The parsers are built on first use: only runs that have summaries or deliveries need markdown-it.
@functools.cache
def _code_blocks() -> MarkdownIt:
    """Only for finding code blocks; GitHub's tables cannot hold code blocks, so plain CommonMark suffices."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})


# Link targets a summary may carry into href/src; everything else (javascript:, vbscript:, data:, file:,
# blob:, any scheme a browser or mail reader may add one day) is refused.
SAFE_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_URL_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_URL_EDGE = "".join(chr(c) for c in range(0x21))  # C0 controls and space


def is_safe_link(url: str) -> bool:
    """Whether ``url`` (a link or image target from model markdown) may be written into the HTML.

    Only http(s), mailto and relative targets pass. The URL is first read the way a browser reads it
    (tabs and newlines removed anywhere, controls and spaces trimmed at the ends), so no spelling of a
    scheme that a browser would still run gets through. A relative target whose first segment holds a
    colon is refused too: it is no path a summary needs, and some readers take it for a scheme.
    """
    # Also read once more decoded (percent-encoding, character references): a feed reader that decodes
    # twice must not find a scheme there either.
    decoded = unquote(html.unescape(url))
    return all(_scheme_is_safe(_URL_TAB_OR_NEWLINE.sub("", form).strip(_URL_EDGE)) for form in (url, decoded))


def _scheme_is_safe(cleaned: str) -> bool:
    scheme = _SCHEME.match(cleaned)
    if scheme:
        return scheme.group(1).lower() in SAFE_LINK_SCHEMES
    first_segment = re.split(r"[/?#]", cleaned, maxsplit=1)[0]
    return ":" not in first_segment


@functools.cache
def safe_markdown() -> MarkdownIt:
    """The one markdown parser for model text everywhere (page, feeds, e-mail, chat), built once.

    CommonMark + GitHub tables and strikethrough, raw HTML off, links checked by :func:`is_safe_link`:
    markdown-it calls ``validateLink`` for every inline link, image, autolink and reference
    definition, after decoding character references and percent-encoding the target.
    """
    from markdown_it import MarkdownIt

    class SafeMarkdown(MarkdownIt):
        def validateLink(self, url: str) -> bool:  # markdown-it's name for the hook
            return is_safe_link(url)

    parser = SafeMarkdown("commonmark", {"html": False, "linkify": False, "typographer": False})
    return parser.enable(["table", "strikethrough"])


def markdown_to_html(text: str) -> Markup:
    """Model markdown → HTML that is safe to embed as it is (hence :class:`Markup`).

    Safe by construction (module docstring): raw HTML in ``text`` comes out escaped, every link and
    image target is http(s), mailto or relative, and all text and attributes are escaped.
    """
    rendered = safe_markdown().render(text)
    return Markup(rendered)  # nosec B704  # markdown-it made it: html off, links vetted by is_safe_link, text escaped


def arxiv_abs_url(arxiv_id: str) -> str:
    """The paper's arXiv page, built from its id with anything unexpected percent-encoded.

    Ids are ``2512.20276`` or ``astro-ph/0601001``; a stray ``)``, space or ``<`` in a malformed
    one is encoded, so it can neither end a markdown link nor open a tag.
    """
    return "https://arxiv.org/abs/" + quote(arxiv_id.strip(), safe="/")


def escape_html(text: str) -> str:
    """Plain text → HTML text (quotes included, so it is safe inside attributes too)."""
    return html.escape(text, quote=True)
