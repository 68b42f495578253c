"""Discord: a channel webhook (``url_env``), one embed per paper.

Limits kept: 2,000 characters of message content, at most 10 embeds per message and 6,000 characters
across them, 256 per embed title and 4,096 per description. Mentions are switched off
(``allowed_mentions``), so an ``@everyone`` in a title pings nobody; every markdown character from
arXiv or the model is backslash-escaped. Messages of a long digest are half a second apart (a
webhook's rate is 5 requests per 2 seconds).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from arxivbot.deliver.channel import Edition
from arxivbot.deliver.chat import CHAT_SUMMARY_CHARS, EMPTY_TEXT, ChatService, Payload, pack, test_text
from arxivbot.deliver.digest_view import PaperView, heading, page_url, paper_views, shorten
from arxivbot.deliver.markup import DISCORD, escape_discord, fitted_paper_text

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBEDS_TOTAL = 6000
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
EMBED_BUDGET = 1800  # of one embed's description: three papers or so per message
COLOUR = 0x2F6FEB


class DiscordService(ChatService):
    kind = "discord"
    min_interval = 0.5

    def messages(self, edition: Edition) -> list[Payload]:
        digest, config = edition.digest, edition.config
        page = page_url(config)
        title = heading(digest)
        content = f"**{escape_discord(title)}**" + (f" · [the page](<{page}>)" if page else "")
        embeds = [self._embed(view, has_page=page is not None) for view in paper_views(digest, config)]
        if not embeds:
            return [_payload(f"{content}\n{escape_discord(EMPTY_TEXT)}", [])]
        groups = pack(embeds, _embed_size, max_size=MAX_EMBEDS_TOTAL, max_count=MAX_EMBEDS)
        payloads = []
        for number, group in enumerate(groups, start=1):
            text = content if number == 1 else f"{escape_discord(title)} (part {number} of {len(groups)})"
            payloads.append(_payload(shorten(text, MAX_CONTENT), group))
        return payloads

    def test_messages(self, now: datetime) -> list[Payload]:
        return [_payload(escape_discord(test_text(self.channel, now)), [])]

    def _embed(self, view: PaperView, *, has_page: bool) -> dict[str, Any]:
        description = fitted_paper_text(
            view, DISCORD, summary_chars=CHAT_SUMMARY_CHARS, has_page=has_page, max_chars=EMBED_BUDGET, title=False
        )
        return {
            # Embed titles render bold, italics and strikethrough, so they are escaped too.
            "title": shorten(f"{view.rank}. {escape_discord(view.title)}", MAX_TITLE),
            "url": view.link,
            "description": description[:MAX_DESCRIPTION],
            "color": COLOUR,
        }


def _embed_size(embed: dict[str, Any]) -> int:
    return len(embed["title"]) + len(embed["description"])


def _payload(content: str, embeds: list[dict[str, Any]]) -> Payload:
    return {
        "content": content,
        "embeds": embeds,
        "username": "arxivbot",
        "allowed_mentions": {"parse": []},  # no @everyone, @here, user or role pings, whatever the text says
    }
