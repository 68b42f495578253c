"""The four chat markups — Slack mrkdwn, Discord markdown, Telegram HTML, Feishu card markdown — and
one paper written in any of them.

Each :class:`Markup` escapes text its own way (every character that could start formatting, a
mention, a tag or a link is made literal) and wraps already-escaped text in bold, italics, code or a
link. :func:`paper_text` writes one digest entry with it: title link, authors, category and score, why
it was picked, and the start of the AI summary with a link to the rest.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from arxivbot.deliver.digest_view import Line, PaperView, shorten, shorten_lines, summary_lines

_DISCORD_SPECIAL = re.compile(r"([\\*_~`|<>\[\]()@])")
_DISCORD_LINE_START = re.compile(r"^(\s*)([#>+-])", re.MULTILINE)  # headings, quotes, bullets
_DISCORD_NUMBERED = re.compile(r"^(\s*\d+)\.", re.MULTILINE)  # numbered lists
# Feishu's card markdown shows characters written as HTML references; its documentation lists these.
_FEISHU_SPECIAL = re.compile(r"""[&<>~\-!*/\\\[\]()#:+"'`$_]""")


def _wrap(text: str, left: str, right: str) -> str:
    """``left + text + right``, keeping surrounding spaces outside (``*bold *`` is not bold anywhere)."""
    core = text.strip()
    if not core:
        return text
    start = text.index(core[0])
    return f"{text[:start]}{left}{core}{right}{text[start + len(core) :]}"


def escape_slack(text: str) -> str:
    # Slack's documented escaping: &, < and > are the only control characters of mrkdwn.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_discord(text: str) -> str:
    text = _DISCORD_SPECIAL.sub(r"\\\1", text)
    text = _DISCORD_LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", text)
    return _DISCORD_NUMBERED.sub(lambda m: f"{m.group(1)}\\.", text)


def escape_telegram(text: str) -> str:
    return html.escape(text, quote=False)


def escape_feishu(text: str) -> str:
    return _FEISHU_SPECIAL.sub(lambda match: f"&#{ord(match.group(0))};", text)


@dataclass(frozen=True)
class Markup:
    """One chat format: how to escape text, and how to wrap escaped text."""

    escape: Callable[[str], str]
    bold: Callable[[str], str]
    italic: Callable[[str], str]
    code: Callable[[str], str]
    link: Callable[[str, str], str]  # (vetted URL, escaped text)


SLACK = Markup(
    escape=escape_slack,
    bold=lambda text: _wrap(text, "*", "*"),
    italic=lambda text: _wrap(text, "_", "_"),
    code=lambda text: _wrap(text.replace("`", "'"), "`", "`"),
    link=lambda url, text: f"<{url}|{text}>",
)
DISCORD = Markup(
    escape=escape_discord,
    bold=lambda text: _wrap(text, "**", "**"),
    italic=lambda text: _wrap(text, "*", "*"),
    code=lambda text: _wrap(text.replace("`", "'"), "`", "`"),
    link=lambda url, text: f"[{text}]({url})",
)
TELEGRAM = Markup(
    escape=escape_telegram,
    bold=lambda text: f"<b>{text}</b>",
    italic=lambda text: f"<i>{text}</i>",
    code=lambda text: f"<code>{text}</code>",
    link=lambda url, text: f'<a href="{html.escape(url, quote=True)}">{text}</a>',
)
FEISHU = Markup(
    escape=escape_feishu,
    bold=lambda text: _wrap(text, "**", "**"),
    italic=lambda text: _wrap(text, "*", "*"),
    code=lambda text: text,  # inline code is not part of Feishu's card markdown; escaped text reads fine
    link=lambda url, text: f"[{text}]({url})",
)


def lines_markup(lines: Sequence[Line], markup: Markup) -> str:
    """Summary lines in ``markup``: headings bold, list markers kept, links and bold kept."""
    out = []
    for line in lines:
        text = ""
        for span in line.spans:
            piece = markup.code(markup.escape(span.text)) if span.code else markup.escape(span.text)
            if span.bold and not span.code:
                piece = markup.bold(piece)
            if span.href:
                piece = markup.link(span.href, piece)
            text += piece
        if line.kind == "heading":
            text = markup.bold(text)
        elif line.marker:
            text = f"{markup.escape(line.marker)} {text}"
        out.append(text)
    return "\n".join(out)


def paper_text(
    view: PaperView, markup: Markup, *, summary_chars: int, has_page: bool, compact: bool = False, title: bool = True
) -> str:
    """One digest entry: title link, authors, facts and reason, and the summary's start (or the abstract's).

    ``compact`` shortens the title, authors and reason too, for an entry that must fit a small limit;
    ``title=False`` leaves the title line out (Discord shows it as the embed's title).
    """
    esc = markup.escape
    name = shorten(view.title, 150) if compact else view.title
    reason = shorten(view.reason, 120) if compact else view.reason
    parts = [
        markup.bold(f"{view.rank}. " + markup.link(view.link, esc(name))) if title else "",
        esc(view.authors_text(3 if compact else 8)),
        markup.italic(esc(view.facts)) + (f" · why: {esc(reason)}" if reason else ""),
    ]
    if view.summary and summary_chars > 0:
        lines, cut = shorten_lines(summary_lines(view.summary), summary_chars)
        parts.append(markup.bold(esc(f"AI summary (by {view.summary_model})")))
        parts.append(lines_markup(lines, markup))
        if cut and has_page:
            parts.append(markup.link(view.more_link, esc("the whole summary")))
    elif view.summary and has_page:
        parts.append(markup.link(view.more_link, esc(f"AI summary (by {view.summary_model})")))
    elif not view.summary and summary_chars > 0:
        parts.append(esc(shorten(view.abstract, summary_chars)))
    return "\n".join(part for part in parts if part)


def fitted_paper_text(
    view: PaperView, markup: Markup, *, summary_chars: int, has_page: bool, max_chars: int, title: bool = True
) -> str:
    """:func:`paper_text` shortened until it fits in ``max_chars`` (escaping lengthens text unevenly)."""
    budget = summary_chars
    while True:
        text = paper_text(view, markup, summary_chars=budget, has_page=has_page, title=title)
        if len(text) <= max_chars:
            return text
        if budget == 0:
            return paper_text(view, markup, summary_chars=0, has_page=has_page, compact=True, title=title)
        budget = max(0, budget - max(50, len(text) - max_chars))
