"""Telegram: a bot (``bot_token_env``) posting to a chat, group or channel (``chat_id``) in HTML mode.

``sendMessage`` takes at most 4,096 characters; a digest is split between papers into messages of at
most that, three seconds apart (a bot may send 20 messages a minute to one group). Text is escaped
for Telegram's HTML (``&``, ``<``, ``>``) and link previews are off. Telegram answers errors as JSON
(``{"ok": false, "description": …, "parameters": {"retry_after": …}}``); its ``retry_after`` is honoured
like a ``Retry-After`` header.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from arxivbot.deliver.channel import Edition
from arxivbot.deliver.chat import CHAT_SUMMARY_CHARS, EMPTY_TEXT, ChatService, Payload, ServiceError, pack, test_text
from arxivbot.deliver.digest_view import heading, page_url, paper_views
from arxivbot.deliver.markup import TELEGRAM, escape_telegram, fitted_paper_text
from arxivbot.deliver.secrets import read_secret

MAX_TEXT = 4096
SEPARATOR = "\n\n"


class TelegramService(ChatService):
    kind = "telegram"
    min_interval = 3.0

    def messages(self, edition: Edition) -> list[Payload]:
        digest, config = edition.digest, edition.config
        page = page_url(config)
        top = TELEGRAM.bold(escape_telegram(heading(digest)))
        if page:
            top += "\n" + TELEGRAM.link(page, "the page")
        papers = [
            fitted_paper_text(
                view,
                TELEGRAM,
                summary_chars=CHAT_SUMMARY_CHARS,
                has_page=page is not None,
                max_chars=MAX_TEXT - len(top) - len(SEPARATOR),
            )
            for view in paper_views(digest, config)
        ]
        if not papers:
            return [_payload(top + SEPARATOR + escape_telegram(EMPTY_TEXT))]
        size = len(SEPARATOR)
        groups = pack(papers, lambda text: len(text) + size, max_size=MAX_TEXT - len(top) - size, max_count=len(papers))
        return [
            _payload(SEPARATOR.join([top, *group] if number == 1 else group)) for number, group in enumerate(groups, 1)
        ]

    def test_messages(self, now: datetime) -> list[Payload]:
        return [_payload(escape_telegram(test_text(self.channel, now)))]

    def endpoint(self) -> str:
        token = read_secret(
            self.settings.bot_token_env or "",
            channel=self.channel,
            what="the bot token",
            key=f"{self.config_key}.bot_token_env",
        )
        return f"{self.settings.api_url}/bot{token}/sendMessage"

    @property
    def secret_source(self) -> str:
        return f"the bot token in {self.settings.bot_token_env} (or chat_id {self.settings.chat_id})"

    def prepare(self, payload: Payload) -> Payload:
        return {"chat_id": self.settings.chat_id, **payload}

    def check(self, response: httpx.Response) -> None:
        try:
            data = response.json()
        except ValueError:
            return
        if isinstance(data, dict) and data.get("ok") is False:
            raise ServiceError(
                int(data.get("error_code") or response.status_code),
                self.error_said(response),
                retry_after=self.retry_after(response),
            )

    def retry_after(self, response: httpx.Response) -> float | None:
        try:
            data = response.json()
            seconds = data["parameters"]["retry_after"]
            return float(seconds)
        except (ValueError, KeyError, TypeError):
            return super().retry_after(response)


def _payload(text: str) -> Payload:
    return {
        "text": text,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
        "disable_web_page_preview": True,  # the same, for Bot API servers older than 7.0
    }
