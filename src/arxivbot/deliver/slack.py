"""Slack: an incoming webhook (``url_env``), Block Kit messages with mrkdwn text.

Limits kept: at most 50 blocks per message, 3,000 characters per section text, 150 per header. One
section per paper (title link, authors, facts, why, the start of the summary), a divider between
papers; a long digest goes out as several messages, one second apart (an incoming webhook's rate).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from arxivbot.deliver.channel import Edition
from arxivbot.deliver.chat import CHAT_SUMMARY_CHARS, EMPTY_TEXT, ChatService, Payload, pack, test_text
from arxivbot.deliver.digest_view import heading, page_url, paper_views, shorten
from arxivbot.deliver.markup import SLACK, escape_slack, fitted_paper_text

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_MESSAGE_CHARS = 12_000  # of section text per message: long messages are cut short by Slack's clients


class SlackService(ChatService):
    kind = "slack"
    min_interval = 1.0

    def messages(self, edition: Edition) -> list[Payload]:
        digest, config = edition.digest, edition.config
        page = page_url(config)
        title = heading(digest)
        intro = [
            _header(title),
            _context(escape_slack(", ".join(digest.categories)) + (f" · <{page}|the page>" if page else "")),
        ]
        sections = [
            fitted_paper_text(
                view, SLACK, summary_chars=CHAT_SUMMARY_CHARS, has_page=page is not None, max_chars=MAX_SECTION
            )
            for view in paper_views(digest, config)
        ]
        if not sections:
            return [_payload(title, [*intro, _section(EMPTY_TEXT)])]
        groups = pack(sections, len, max_size=MAX_MESSAGE_CHARS, max_count=(MAX_BLOCKS - len(intro)) // 2)
        payloads = []
        for number, group in enumerate(groups, start=1):
            blocks = (
                list(intro) if number == 1 else [_context(f"{escape_slack(title)} (part {number} of {len(groups)})")]
            )
            for index, text in enumerate(group):
                if index:
                    blocks.append({"type": "divider"})
                blocks.append(_section(text))
            payloads.append(_payload(title, blocks))
        return payloads

    def test_messages(self, now: datetime) -> list[Payload]:
        text = test_text(self.channel, now)
        return [_payload(text, [_section(escape_slack(text))])]


def _payload(fallback: str, blocks: list[dict[str, Any]]) -> Payload:
    # ``text`` is what notifications show; unfurling off: thirty arXiv previews would bury the digest.
    return {"text": shorten(fallback, 300), "blocks": blocks, "unfurl_links": False, "unfurl_media": False}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": shorten(text, MAX_HEADER), "emoji": True}}


def _context(mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn[:MAX_SECTION]}]}


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}
