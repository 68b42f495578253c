"""What every message shows of a digest, before any format: the papers as plain views, and the LLM's
summary as lines of styled spans.

Nothing here is escaped: each renderer (e-mail, Slack, Discord, Telegram, Feishu) escapes every span
of text for its own format and keeps only the structure it can show. A summary is model markdown, so
it is parsed (markdown-it, raw HTML off) rather than passed on: a ``<script>`` or a ``[x](javascript:…)``
in it is text in a span, and only http(s) and mailto links survive as links.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import quote

from arxivbot.config import Config
from arxivbot.models import Digest
from arxivbot.publish.escape import one_line, safe_markdown
from arxivbot.publish.feeds import abstract_url
from arxivbot.publish.pages import day_path, paper_anchor

if TYPE_CHECKING:
    from markdown_it.token import Token

ELLIPSIS = "…"
_SAFE_LINK = re.compile(r"^(https?:|mailto:)", re.IGNORECASE)
# Kept as they are in a URL; anything else (spaces, quotes, brackets, pipes, parentheses) is
# percent-encoded, so a URL can close no markdown link, Slack link or HTML attribute.
_URL_SAFE = ":/?#@!$&'*+,;=%~-._"


@dataclass(frozen=True, slots=True)
class PaperView:
    """One digest entry as every message shows it; text is plain (unescaped), URLs are vetted."""

    rank: int
    title: str
    link: str  # the arXiv abstract page
    authors: tuple[str, ...]
    category: str
    score: str  # one decimal, as everywhere
    announce_type: str
    reason: str  # why it was picked: "keywords: LLM, RL"
    abstract: str
    summary: str | None  # the model's markdown
    summary_model: str | None
    more_link: str  # where to read all of it: the page when feeds.base_url is set, else arXiv

    def authors_text(self, limit: int = 8) -> str:
        """``A, B, C`` or, past ``limit`` names, ``A, B, … et al. (23 authors)``."""
        if len(self.authors) <= limit:
            return ", ".join(self.authors)
        return ", ".join(self.authors[:limit]) + f" et al. ({len(self.authors)} authors)"

    @property
    def facts(self) -> str:
        """``cs.AI · score 4.0 · new``."""
        return f"{self.category} · score {self.score} · {self.announce_type}"


def paper_views(digest: Digest, config: Config) -> list[PaperView]:
    page = page_url(config)
    views = []
    for entry in digest.entries:
        paper, scored = entry.scored.paper, entry.scored
        link = safe_url(abstract_url(paper))
        views.append(
            PaperView(
                rank=entry.rank,
                title=one_line(paper.title),
                link=link,
                authors=tuple(one_line(author) for author in paper.authors),
                category=one_line(scored.category),
                score=f"{scored.score:.1f}",
                announce_type=one_line(scored.announcement.announce_type),
                reason=one_line(scored.reason),
                abstract=one_line(paper.abstract),
                summary=entry.summary.text if entry.summary else None,
                summary_model=one_line(entry.summary.model) if entry.summary else None,
                # The paper on its day's page of the archive (the page keeps every day).
                more_link=f"{page}{day_path(digest.day)}#{paper_anchor(paper.arxiv_id)}" if page else link,
            )
        )
    return views


def page_url(config: Config) -> str | None:
    """The published page (``feeds.base_url``), or None when the site's address is not configured."""
    base = config.feeds.base_url.strip().rstrip("/")
    return safe_url(base + "/") if _SAFE_LINK.match(base) else None


def heading(digest: Digest) -> str:
    count = len(digest.entries)
    return f"arXiv digest {digest.day.isoformat()}: {count} paper{'' if count == 1 else 's'}"


def subject_line(template: str, digest: Digest) -> str:
    """The configured subject with ``{date}`` and ``{count}`` filled (validated at load)."""
    return one_line(template.format(date=digest.day.isoformat(), count=len(digest.entries)))


def safe_url(url: str) -> str:
    return quote(url.strip(), safe=_URL_SAFE)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, ending in an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)]
    if " " in cut[len(cut) // 2 :]:  # a space in the second half: cut there rather than mid-word
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + ELLIPSIS


# --- summaries as lines of spans -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    bold: bool = False
    code: bool = False
    href: str | None = None  # a vetted http(s) or mailto link


@dataclass(frozen=True, slots=True)
class Line:
    spans: tuple[Span, ...]
    kind: str = "text"  # text, heading, item (a list item, with its marker) or code
    marker: str = ""  # "•" or "2." for list items, indented by nesting depth

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)


def summary_lines(markdown: str) -> list[Line]:
    """Model markdown → lines: headings, list items (with markers), paragraphs, code, table rows."""
    return _LineBuilder().build(safe_markdown().parse(markdown))  # the page's parser: raw HTML off, links vetted


def lines_length(lines: Sequence[Line]) -> int:
    return sum(len(line.marker) + len(line.text) + 1 for line in lines)


def shorten_lines(lines: Sequence[Line], limit: int) -> tuple[list[Line], bool]:
    """The first lines that fit in ``limit`` characters, the last one cut short; and whether anything was cut."""
    kept: list[Line] = []
    room = limit
    for line in lines:
        size = len(line.marker) + len(line.text) + 1
        if size <= room:
            kept.append(line)
            room -= size
            continue
        if room > 20:  # worth a partial line
            kept.append(_cut_line(line, room - len(line.marker) - 1))
        return kept, True
    return kept, False


def _cut_line(line: Line, limit: int) -> Line:
    spans: list[Span] = []
    room = limit
    for span in line.spans:
        if len(span.text) < room:
            spans.append(span)
            room -= len(span.text)
            continue
        spans.append(replace(span, text=shorten(span.text, max(room, 1))))
        break
    else:
        spans.append(Span(ELLIPSIS))
    return replace(line, spans=tuple(spans))


class _LineBuilder:
    """Walks markdown-it's block tokens, keeping what every chat format can show."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.lists: list[list[int]] = []  # per open list: [next number] (ordered) or [] (bullets)
        self.marker = ""
        self.kind = "text"
        self.row: list[str] | None = None  # the cells of a table row being read

    def build(self, tokens: list[Token]) -> list[Line]:
        for token in tokens:
            self._block(token)
        return [line for line in self.lines if line.text.strip()]

    def _block(self, token: Token) -> None:
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            self.lists.append([int(token.attrGet("start") or 1)] if kind == "ordered_list_open" else [])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.lists.pop()
        elif kind == "list_item_open":
            self.marker = self._next_marker()
        elif kind == "heading_open":
            self.kind = "heading"
        elif kind in ("fence", "code_block"):
            for text in token.content.rstrip("\n").split("\n"):
                self.lines.append(Line((Span(text, code=True),), kind="code"))
        elif kind == "tr_open":
            self.row = []
        elif kind == "tr_close" and self.row is not None:
            self.lines.append(Line((Span(" | ".join(self.row)),)))
            self.row = None
        elif kind == "inline":
            self._inline(token)

    def _next_marker(self) -> str:
        depth = "  " * (len(self.lists) - 1)
        current = self.lists[-1] if self.lists else []
        if not current:
            return depth + "•"
        number = current[0]
        current[0] += 1
        return f"{depth}{number}."

    def _inline(self, token: Token) -> None:
        spans = _spans(token.children or [])
        if self.row is not None:  # a table cell: rows become "a | b | c" lines
            self.row.append("".join(span.text for span in spans))
            return
        kind = "item" if self.marker else self.kind
        self.lines.append(Line(tuple(spans), kind=kind, marker=self.marker))
        self.marker, self.kind = "", "text"


def _spans(children: list[Token]) -> list[Span]:
    spans: list[Span] = []
    bold = 0
    href: str | None = None
    for child in children:
        kind = child.type
        if kind == "strong_open":
            bold += 1
        elif kind == "strong_close":
            bold -= 1
        elif kind == "link_open":
            target = str(child.attrGet("href") or "")
            href = safe_url(target) if _SAFE_LINK.match(target) else None
        elif kind == "link_close":
            href = None
        elif kind in ("text", "html_inline", "image"):
            spans.append(Span(child.content, bold=bold > 0, href=href))
        elif kind == "code_inline":
            spans.append(Span(child.content, code=True, href=href))
        elif kind in ("softbreak", "hardbreak"):
            spans.append(Span(" ", bold=bold > 0, href=href))
    return _merged(spans)


def _merged(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in spans:
        if not span.text:
            continue
        if merged and (merged[-1].bold, merged[-1].code, merged[-1].href) == (span.bold, span.code, span.href):
            merged[-1] = replace(merged[-1], text=merged[-1].text + span.text)
        else:
            merged.append(span)
    return merged
