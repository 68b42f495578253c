"""The digest as an e-mail: a plain-text part and an HTML part that read well in Gmail, Outlook and
Apple Mail.

The HTML is a table layout with inline CSS (what Outlook's Word engine and Gmail keep), no scripts, no
images, and explicit colours on every block plus a ``prefers-color-scheme`` override, so dark mode
neither hides text nor inverts it into mud. Everything from arXiv or the LLM reaches the HTML through
Jinja's autoescaping, except the summaries, which markdown-it renders with raw HTML off (only then
marked safe) or which are rebuilt from escaped spans when shortened.

Gmail clips a message whose HTML passes about 102 KB ("[Message clipped] View entire message"). The
HTML is kept under :data:`MAX_HTML_BYTES` by shortening the summaries step by step (each shortened
one links to the page, or to arXiv when ``feeds.base_url`` is not set), and, for a very long digest,
by listing only the first papers and pointing to the page for the rest.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from arxivbot import PROJECT_URL, __version__
from arxivbot.config import Config
from arxivbot.deliver.digest_view import (
    Line,
    PaperView,
    heading,
    page_url,
    paper_views,
    shorten,
    shorten_lines,
    subject_line,
    summary_lines,
)
from arxivbot.deliver.settings import EmailSettings
from arxivbot.models import Digest
from arxivbot.publish.escape import safe_markdown

MAX_HTML_BYTES = 90_000  # Gmail clips at about 102 KB; the rest is room for headers and encoding
# Summary lengths tried in turn until the HTML fits: whole (rendered markdown), then shortened text.
SUMMARY_LIMITS: tuple[int | None, ...] = (None, 1500, 800, 400, 160, 0)
ABSTRACT_LIMIT = 300  # papers without a summary show the start of their abstract, as the README does
FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif"

_environment = Environment(
    loader=PackageLoader("arxivbot.deliver", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_HEADING_STYLE = "font-size:14px;font-weight:bold;margin:10px 0 4px;"
_CELL_STYLE = "border:1px solid #d0d7de;padding:3px 6px;font-size:13px;"
_CODE_STYLE = "font-family:Menlo,Consolas,monospace;font-size:13px;"
# Inline styles for the tags of a rendered summary (email clients drop or ignore most <style> rules).
_STYLES = {
    **{f"h{level}": _HEADING_STYLE for level in range(1, 7)},
    "p": "margin:0 0 8px;",
    "ul": "margin:0 0 8px;padding-left:22px;",
    "ol": "margin:0 0 8px;padding-left:22px;",
    "li": "margin:0 0 3px;",
    "blockquote": "margin:0 0 8px;padding-left:10px;border-left:3px solid #d0d7de;",
    "table": "border-collapse:collapse;margin:0 0 8px;",
    "th": _CELL_STYLE,
    "td": _CELL_STYLE,
    "code": _CODE_STYLE,
    "a": "color:#0969da;",
}


@dataclass(frozen=True, slots=True)
class EmailContent:
    subject: str
    text: str
    html: str


def render_digest_email(digest: Digest, config: Config, settings: EmailSettings) -> EmailContent:
    """The digest's e-mail, its HTML under :data:`MAX_HTML_BYTES`."""
    views = [_Prepared(view) for view in paper_views(digest, config)]
    subject = subject_line(settings.subject, digest)
    page = page_url(config)
    shown = len(views)
    while True:
        for limit in SUMMARY_LIMITS:
            content = _render(digest, subject, views[:shown], limit, hidden=len(views) - shown, page=page)
            if len(content.html.encode("utf-8")) <= MAX_HTML_BYTES or shown == 0:
                return content
        shown = max(0, shown - max(1, shown // 5))  # still too long: list fewer papers, point to the page


def render_test_email(config: Config, now: datetime) -> EmailContent:
    """A short message that proves the settings work (``arxivbot deliver --test``)."""
    subject = "arxivbot test message"
    body = (
        f"This is a test message from arxivbot, sent at {now:%Y-%m-%d %H:%M %Z}. The e-mail settings in "
        "delivery.email work: each digest will arrive like this after every run."
    )
    page = page_url(config)
    template = _environment.get_template("email.html.j2")
    html_text = template.render(
        subject=subject,
        heading=subject,
        intro="",
        page_link=page,
        papers=[],
        empty_text=body,
        footer=_footer(),
        font=FONT,
    )
    return EmailContent(subject, f"{subject}\n\n{body}\n\n{_footer()}\n", html_text)


class _Prepared:
    """A paper with its summary parsed once, however many lengths are tried."""

    def __init__(self, view: PaperView) -> None:
        self.view = view
        self.lines = summary_lines(view.summary) if view.summary else []
        self._html: Markup | None = None

    @property
    def full_html(self) -> Markup:
        if self._html is None:
            # B704 below, reviewed: safe_markdown() made it (raw HTML off, links vetted by is_safe_link, text escaped)
            self._html = Markup(_styled_markdown(self.view.summary or ""))  # nosec B704
        return self._html


def _render(
    digest: Digest, subject: str, views: Sequence[_Prepared], limit: int | None, *, hidden: int, page: str | None
) -> EmailContent:
    intro = _intro(digest, hidden)
    papers = [_paper_context(view, limit, page is not None) for view in views]
    template = _environment.get_template("email.html.j2")
    html_text = template.render(
        subject=subject,
        heading=heading(digest),
        intro=intro,
        page_link=page,
        papers=papers,
        empty_text="No new paper matched your keywords today.",
        footer=_footer(),
        font=FONT,
    )
    return EmailContent(subject, _plain_text(digest, intro, papers, page), html_text)


def _intro(digest: Digest, hidden: int) -> str:
    intro = ", ".join(digest.categories) + (f" · keywords: {', '.join(digest.keywords)}" if digest.keywords else "")
    if hidden:
        intro += f" · the last {hidden} papers are on the page"
    return shorten(intro, 400)


def _footer() -> str:
    return (
        f"Sent by arxivbot {__version__} ({PROJECT_URL}) because this address is in delivery.email.recipients "
        "of an arxivbot configuration."
    )


def _paper_context(prepared: _Prepared, limit: int | None, has_page: bool) -> dict[str, Any]:
    view = prepared.view
    summary_html: Markup | None = None
    summary_text = ""
    shortened = False
    if view.summary and limit != 0:
        lines = prepared.lines
        if limit is None:
            summary_html = prepared.full_html
        else:
            lines, shortened = shorten_lines(lines, limit)
            summary_html = _lines_html(lines)
        summary_text = _lines_text(lines)
    elif view.summary:
        shortened = True
    return {
        "rank": view.rank,
        "title": view.title,
        "link": view.link,
        "authors": view.authors_text(),
        "facts": view.facts,
        "reason": view.reason,
        "summary_model": view.summary_model,
        "summary_html": summary_html,
        "summary_text": summary_text,
        "shortened": shortened,
        "more_link": view.more_link if has_page else None,  # arXiv's page has no summary to read on
        "abstract": "" if view.summary else shorten(view.abstract, ABSTRACT_LIMIT),
    }


def _styled_markdown(markdown: str) -> str:
    parser = safe_markdown()  # raw HTML off, links vetted by is_safe_link
    tokens = parser.parse(markdown)
    for token in tokens:
        for part in [token, *(token.children or [])]:
            if (part.nesting == 1 or part.type in ("code_inline", "fence", "code_block")) and part.tag in _STYLES:
                part.attrSet("style", _STYLES[part.tag])
                if part.tag == "a":  # the dark-mode override recolours links by class
                    part.attrSet("class", "ab-link")
    rendered: str = parser.renderer.render(tokens, parser.options, {})
    return rendered


def _lines_html(lines: Sequence[Line]) -> Markup:
    parts = []
    for line in lines:
        body = "".join(_span_html(span.text, span.bold, span.code, span.href) for span in line.spans)
        if line.kind == "heading":
            parts.append(f'<p style="{_HEADING_STYLE}">{body}</p>')
        elif line.kind == "item":
            parts.append(f'<p style="margin:0 0 3px 12px;">{html.escape(line.marker)} {body}</p>')
        elif line.kind == "code":
            parts.append(f'<p style="margin:0;{_CODE_STYLE}">{body}</p>')
        else:
            parts.append(f'<p style="margin:0 0 8px;">{body}</p>')
    return Markup("\n".join(parts))  # nosec B704  # every piece of text went through html.escape


def _span_html(text: str, bold: bool, code: bool, href: str | None) -> str:
    body = html.escape(text)
    if code:
        body = f'<code style="{_CODE_STYLE}">{body}</code>'
    if bold:
        body = f"<strong>{body}</strong>"
    if href:
        body = f'<a class="ab-link" href="{html.escape(href, quote=True)}" style="color:#0969da;">{body}</a>'
    return body


def _lines_text(lines: Sequence[Line]) -> str:
    return "\n".join(f"{line.marker} {line.text}" if line.marker else line.text for line in lines)


def _plain_text(digest: Digest, intro: str, papers: Sequence[dict[str, Any]], page: str | None) -> str:
    out = [heading(digest), intro]
    if page:
        out.append(f"The page: {page}")
    out.append("")
    if not papers:
        out += ["No new paper matched your keywords today.", ""]
    for paper in papers:
        out += [f"{paper['rank']}. {paper['title']}", f"   {paper['link']}", f"   {paper['authors']}"]
        out.append(f"   {paper['facts']}" + (f" · why: {paper['reason']}" if paper["reason"] else ""))
        if paper["summary_text"]:
            out.append(f"   AI summary (by {paper['summary_model']}):")
            out += [f"   {line}" for line in paper["summary_text"].split("\n")]
            if paper["shortened"] and paper["more_link"]:
                out.append(f"   The whole summary: {paper['more_link']}")
        elif paper["shortened"] and paper["more_link"]:
            out.append(f"   AI summary (by {paper['summary_model']}): {paper['more_link']}")
        elif paper["abstract"]:
            out.append(f"   {paper['abstract']}")
        out.append("")
    out.append(_footer())
    return "\n".join(out) + "\n"
