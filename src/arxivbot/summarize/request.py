"""One paper's summary: prepare its input (PDF upload, PDF text or abstract), ask the model, check the reply.

:class:`PaperSummarizer` is shared by the worker threads of ``summarize_papers``; each call of
:meth:`PaperSummarizer.summarize` handles one paper and never raises: it returns an :class:`Outcome`
(a summary, a failure reason, or a skip). It never touches the database: the caller stores results
from its own thread.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar, cast

import openai

from arxivbot.arxiv.client import PoliteClient
from arxivbot.config import AISummaryConfig
from arxivbot.errors import LLMAuthError, SummaryError
from arxivbot.models import Paper, Summary
from arxivbot.retry import RetryPolicy
from arxivbot.summarize.pdf import extract_text, fetch_pdf
from arxivbot.summarize.prompt import Message, abstract_messages, text_messages, upload_messages
from arxivbot.summarize.retry import RetriesExhausted, call_with_retries

log = logging.getLogger(__name__)

T = TypeVar("T")

# Reasoning models served by Ollama or vLLM (qwen3, deepseek-r1) may open their reply with their
# thinking; it is not part of the summary.
_THINKING = re.compile(r"^\s*<think>.*?</think>", re.DOTALL)
_SERVER_TEXT_LIMIT = 200


def missing_key_message(ai: AISummaryConfig) -> str:
    return f"No API key: set {ai.api_key_env}, or set ai_summary.enabled to false"


def rejected_key_message(ai: AISummaryConfig, status: int) -> str:
    return (
        f"The LLM API rejected the key in {ai.api_key_env} (HTTP {status}): "
        f"set a valid key in {ai.api_key_env}, or set ai_summary.enabled to false"
    )


@dataclass
class Usage:
    """What one paper cost: chat-completion requests sent (retries included) and tokens reported."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def record(self, completion: object) -> None:
        usage = getattr(completion, "usage", None)
        self.prompt_tokens += _count(getattr(usage, "prompt_tokens", 0))
        self.completion_tokens += _count(getattr(usage, "completion_tokens", 0))


@dataclass(frozen=True)
class Outcome:
    paper: Paper
    summary: Summary | None = None
    failure: str | None = None  # why this paper has no summary
    auth_error: str | None = None  # the key is missing or rejected: the run stops asking
    skipped: str | None = None  # "budget" or "stopped": never sent
    usage: Usage = field(default_factory=Usage)


class TokenBudget:
    """``ai_summary.max_tokens_per_run``, shared by the workers: spent tokens are added as replies arrive."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def add(self, tokens: int) -> None:
        with self._lock:
            self.used += tokens

    def exhausted(self) -> bool:
        with self._lock:
            return self.limit is not None and self.used >= self.limit


@dataclass
class PaperSummarizer:
    llm: openai.OpenAI
    ai: AISummaryConfig
    prompt: str
    prompt_hash: str
    input_mode: str
    policy: RetryPolicy
    budget: TokenBudget
    pdf_client: PoliteClient | None = None
    pdf_url: str = ""
    pdf_cache: Path = Path("data/pdfs")
    stop: threading.Event = field(default_factory=threading.Event)
    # One download at a time: the polite client's pacing is per request, and arXiv's rules apply to PDFs.
    download_lock: threading.Lock = field(default_factory=threading.Lock)

    def summarize(self, paper: Paper) -> Outcome:
        """Summarize one paper; every failure becomes an :class:`Outcome`, never an exception."""
        if self.stop.is_set():
            return Outcome(paper, skipped="stopped")
        if self.budget.exhausted():
            return Outcome(paper, skipped="budget")
        usage = Usage()
        try:
            text = self._ask(paper, usage)
        except LLMAuthError as err:
            self.stop.set()  # the same key will be rejected for every other paper too
            return self._spent(Outcome(paper, auth_error=str(err), usage=usage))
        except SummaryError as err:
            return self._spent(Outcome(paper, failure=str(err), usage=usage))
        # A bug (ours or the SDK's) must cost one summary, not the whole digest.
        except Exception as err:
            log.debug("unexpected error while summarizing %s", paper.versioned_id, exc_info=True)
            reason = f"unexpected error: {type(err).__name__}: {self.redact(str(err))[:_SERVER_TEXT_LIMIT]}"
            return self._spent(Outcome(paper, failure=reason, usage=usage))
        summary = Summary(
            arxiv_id=paper.arxiv_id,
            version=paper.version,
            model=self.ai.model,
            prompt_hash=self.prompt_hash,
            input_mode=self.input_mode,
            text=text,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            created_at=datetime.now(timezone.utc),
        )
        return self._spent(Outcome(paper, summary=summary, usage=usage))

    def _spent(self, outcome: Outcome) -> Outcome:
        self.budget.add(outcome.usage.tokens)
        return outcome

    # --- the three input modes ---------------------------------------------------------------------

    def _ask(self, paper: Paper, usage: Usage) -> str:
        if self.input_mode == "abstract":
            return self._complete(paper, abstract_messages(paper, self.prompt), usage)
        pdf = self._pdf(paper)
        if self.input_mode == "pdf-text":
            paper_text = extract_text(pdf, self.ai.pdf_text_max_chars)
            return self._complete(paper, text_messages(paper, self.prompt, paper_text), usage)
        file_id = self._upload(paper, pdf)
        try:
            return self._complete(paper, upload_messages(paper, self.prompt, file_id), usage)
        finally:
            self._delete(paper, file_id)

    def _pdf(self, paper: Paper) -> Path:
        if self.pdf_client is None:
            raise SummaryError(f"no HTTP client to download PDFs with (ai_summary.input is {self.input_mode})")
        with self.download_lock:
            return fetch_pdf(self.pdf_client, self.pdf_url, paper, self.pdf_cache)

    def _upload(self, paper: Paper, pdf: Path) -> str:
        upload = (pdf.name, pdf.read_bytes(), "application/pdf")
        # "file-extract" is DashScope's purpose, unknown to the SDK's type hints.
        purpose = cast(Any, "file-extract")
        created = self._call(lambda: self.llm.files.create(file=upload, purpose=purpose), paper, "PDF upload")
        file_id = getattr(created, "id", None)
        if not isinstance(file_id, str) or not file_id:
            raise SummaryError("PDF upload: the API answered without a file id")
        return file_id

    def _delete(self, paper: Paper, file_id: str) -> None:
        """Uploaded files count against the account's storage; a failed delete is worth a warning only."""
        try:
            self.llm.files.delete(file_id)
        except openai.APIError as err:
            log.warning("%s: could not delete uploaded file %s (%s)", paper.versioned_id, file_id, _short(err))

    def _complete(self, paper: Paper, messages: list[Message], usage: Usage) -> str:
        options: dict[str, Any] = {}
        if self.ai.temperature is not None:
            options["temperature"] = self.ai.temperature

        def send() -> object:
            usage.calls += 1
            return self.llm.chat.completions.create(model=self.ai.model, messages=cast(Any, messages), **options)

        completion = self._call(send, paper, "summary request")
        usage.record(completion)
        return reply_text(completion)

    # --- errors --------------------------------------------------------------------------------------

    def _call(self, call: Callable[[], T], paper: Paper, what: str) -> T:
        """``call()`` with retries; API errors become SummaryError/LLMAuthError with the key redacted."""
        try:
            return call_with_retries(call, policy=self.policy, what=f"{paper.versioned_id}: {what}")
        except RetriesExhausted as err:
            raise SummaryError(f"{what}: {err}") from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as err:
            raise LLMAuthError(rejected_key_message(self.ai, err.status_code)) from None
        except openai.APIStatusError as err:
            detail = self.redact(_short(err))
            raise SummaryError(f"{what}: HTTP {err.status_code} from the LLM API: {detail}") from None
        except openai.APIError as err:
            raise SummaryError(f"{what}: {type(err).__name__}: {self.redact(_short(err))}") from None

    def redact(self, text: str) -> str:
        """``text`` with the API key, and any 8-character piece of it, replaced by ``***``."""
        key = self.llm.api_key if isinstance(self.llm.api_key, str) else ""
        if not key:
            return text
        text = text.replace(key, "***")
        for start in range(max(0, len(key) - 7)):
            text = text.replace(key[start : start + 8], "***")
        return text


def reply_text(completion: object) -> str:
    """The model's markdown, stripped; :class:`SummaryError` for an empty or malformed reply."""
    choices = getattr(completion, "choices", None)
    if not choices:
        raise SummaryError("the model's reply had no choices")
    choice = choices[0]
    content = getattr(getattr(choice, "message", None), "content", None)
    if not isinstance(content, str) or not content.strip():
        finish = getattr(choice, "finish_reason", None)
        raise SummaryError("the model's reply was empty" + (f" (finish_reason: {finish})" if finish else ""))
    text = _THINKING.sub("", content, count=1).strip()
    if not text:
        raise SummaryError("the model's reply held only its reasoning, no summary")
    return text


def _count(value: object) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def _short(err: openai.APIError) -> str:
    return " ".join(str(err.message).split())[:_SERVER_TEXT_LIMIT]
