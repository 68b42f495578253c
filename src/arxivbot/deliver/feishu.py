"""Feishu (Lark): a group's custom bot webhook (``url_env``), interactive cards with markdown.

A custom bot takes request bodies of at most 20 KB, five messages a second: a digest is split
between papers into cards of at most :data:`MAX_CARD_BYTES`, a quarter second apart. Text is written
with HTML character references for every character Feishu's card markdown acts on (as its
documentation asks), so ``<at id=all></at>`` in a title mentions nobody. A bot with signature checks
gets ``timestamp`` and ``sign`` (HMAC-SHA256 keyed with ``timestamp + "\n" + secret``, from
``secret_env``). Feishu reports refusals inside a 200 answer (``{"code": 19021, "msg": …}``); a
``frequency limited`` code is retried like a 429.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime
from typing import Any

import httpx

from arxivbot.deliver.channel import Edition
from arxivbot.deliver.chat import CHAT_SUMMARY_CHARS, EMPTY_TEXT, ChatService, Payload, ServiceError, pack, test_text
from arxivbot.deliver.digest_view import heading, page_url, paper_views, shorten
from arxivbot.deliver.markup import FEISHU, escape_feishu, fitted_paper_text
from arxivbot.deliver.secrets import read_secret

MAX_CARD_BYTES = 18_000  # of the JSON body; Feishu refuses more than 20 KB
MAX_ELEMENT_CHARS = 5_000
RATE_LIMITED = (11232, 9499)  # "frequency limited", "too many requests"


class FeishuService(ChatService):
    kind = "feishu"
    min_interval = 0.25

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._secret: str | None = None

    def messages(self, edition: Edition) -> list[Payload]:
        digest, config = edition.digest, edition.config
        page = page_url(config)
        title = shorten(heading(digest), 100)
        elements = [
            {
                "tag": "markdown",
                "content": fitted_paper_text(
                    view,
                    FEISHU,
                    summary_chars=CHAT_SUMMARY_CHARS,
                    has_page=page is not None,
                    max_chars=MAX_ELEMENT_CHARS,
                ),
            }
            for view in paper_views(digest, config)
        ]
        if page:
            footer = {"tag": "markdown", "content": FEISHU.link(page, escape_feishu("the page"))}
        if not elements:
            return [_card(title, [{"tag": "markdown", "content": escape_feishu(EMPTY_TEXT)}])]
        groups = pack(elements, _size, max_size=MAX_CARD_BYTES - 1000, max_count=len(elements))
        cards = []
        for number, group in enumerate(groups, start=1):
            body: list[dict[str, Any]] = []
            for index, element in enumerate(group):
                body += [{"tag": "hr"}, element] if index else [element]
            if page and number == len(groups):
                body += [{"tag": "hr"}, footer]
            cards.append(_card(title if number == 1 else f"{title} ({number}/{len(groups)})", body))
        return cards

    def test_messages(self, now: datetime) -> list[Payload]:
        return [
            _card(
                "arxivbot test message", [{"tag": "markdown", "content": escape_feishu(test_text(self.channel, now))}]
            )
        ]

    def endpoint(self) -> str:
        if self.settings.secret_env:
            self._secret = read_secret(
                self.settings.secret_env,
                channel=self.channel,
                what="the signing secret",
                key=f"{self.config_key}.secret_env",
            )
        return super().endpoint()

    def prepare(self, payload: Payload) -> Payload:
        if not self._secret:
            return payload
        timestamp = str(int(time.time()))  # Feishu accepts a signature within an hour of its time
        return {"timestamp": timestamp, "sign": sign(timestamp, self._secret), **payload}

    def check(self, response: httpx.Response) -> None:
        try:
            data = response.json()
        except ValueError:
            return
        if not isinstance(data, dict):
            return
        code = data.get("code", data.get("StatusCode", 0))
        if code not in (0, None):
            raise ServiceError(
                response.status_code, f"code {code}: {self.error_said(response)}", retryable=code in RATE_LIMITED
            )


def sign(timestamp: str, secret: str) -> str:
    """Feishu's custom-bot signature: HMAC-SHA256 keyed with ``timestamp\\nsecret`` over nothing, base64."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _size(element: dict[str, Any]) -> int:
    return len(json.dumps(element, ensure_ascii=False).encode("utf-8")) + 20


def _card(title: str, elements: list[dict[str, Any]]) -> Payload:
    return {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": title}, "template": "blue"},
            "elements": elements,
        },
    }
