"""The summary prompt and the chat messages built from it, one shape per input mode.

The default prompt (SPEC §2.4) ships as package data (``arxivbot/data/ai_summary_prompt.txt``) so a
user can copy and edit it; ``ai_summary.prompt_file`` points at their copy. Like the reference, a
configured prompt file that is missing falls back to the default (with a warning naming the file).
The prompt's hash is part of the summary cache key: editing the prompt means new summaries.
"""

from __future__ import annotations

import hashlib
import logging
from importlib import resources
from typing import Any

from arxivbot.config import AISummaryConfig
from arxivbot.models import Paper

log = logging.getLogger(__name__)

PROMPT_RESOURCE = "data/ai_summary_prompt.txt"
# The reference's system message, kept for the pdf-upload mode that reproduces its requests.
SYSTEM_MESSAGE = "You are a helpful assistant."

Message = dict[str, Any]


def default_prompt() -> str:
    """The built-in Chinese prompt of SPEC §2.4."""
    return resources.files("arxivbot").joinpath(PROMPT_RESOURCE).read_text(encoding="utf-8")


def load_prompt(ai: AISummaryConfig) -> str:
    """The user's prompt file when configured and readable, else the default prompt."""
    path = ai.prompt_file
    if path is None:
        return default_prompt()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        log.warning("%s: ai_summary.prompt_file not found; using the default summary prompt", path)
        return default_prompt()
    except (OSError, UnicodeDecodeError) as err:
        log.warning("%s: cannot read ai_summary.prompt_file (%s); using the default summary prompt", path, err)
        return default_prompt()
    if not text.strip():
        log.warning("%s: ai_summary.prompt_file is empty; using the default summary prompt", path)
        return default_prompt()
    return text


def prompt_hash(prompt: str) -> str:
    """A short, stable fingerprint of the prompt text, used in the summary cache key."""
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:16]


def user_message(paper: Paper, prompt: str) -> str:
    """``论文标题：<title>`` on the first line, then the prompt, as the reference sends it."""
    title = " ".join(paper.title.split())
    return f"论文标题：{title}\n\n{prompt.strip()}"


def upload_messages(paper: Paper, prompt: str, file_id: str) -> list[Message]:
    """pdf-upload: DashScope reads the uploaded file named by a ``fileid://`` system message."""
    return [
        {"role": "system", "content": SYSTEM_MESSAGE},
        {"role": "system", "content": f"fileid://{file_id}"},
        {"role": "user", "content": user_message(paper, prompt)},
    ]


def text_messages(paper: Paper, prompt: str, paper_text: str) -> list[Message]:
    """pdf-text: the locally extracted text travels in the user message (any OpenAI-compatible server)."""
    content = f"{user_message(paper, prompt)}\n\n论文全文（从 PDF 提取）：\n\n{paper_text}"
    return [{"role": "system", "content": SYSTEM_MESSAGE}, {"role": "user", "content": content}]


def abstract_messages(paper: Paper, prompt: str) -> list[Message]:
    """abstract: title and abstract only — the cheapest, and the least detailed."""
    abstract = " ".join(paper.abstract.split())
    content = f"{user_message(paper, prompt)}\n\n论文摘要：\n\n{abstract}"
    return [{"role": "system", "content": SYSTEM_MESSAGE}, {"role": "user", "content": content}]
