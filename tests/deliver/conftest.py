"""Fixtures for the delivery tests: a seeded digest in a real store, TLS certificates, secrets in the
environment, and an injected sleep (retries never really wait)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from arxivbot.config import Config
from arxivbot.store import open_store
from tests.deliver.smtpserver import Certificates
from tests.publish.seeding import DAY2, EVIL_SUMMARY, EVIL_TITLE, make_config, make_paper, seed_day

NOW = datetime(2025, 12, 23, 7, 0, tzinfo=timezone.utc)  # the morning of DAY2
PASSWORD = "hunter2-Sm7p-9f3a"  # the SMTP password the tests put in SMTP_PASSWORD
SENDER = "arxivbot <bot@example.org>"
RECIPIENTS = ["me@example.org", "Lab <lab@example.org>"]
LONG_SUMMARY = (
    "## 1. 主要贡献和创新点\n- **问题**: 长上下文 LLM 推理的 KV cache 占用过高。\n"
    "- **新方法**: 提出 SparseKV，按注意力分数动态淘汰 token。\n\n## 2. 核心实验方法\n"
    "| 数据集 | 模型 |\n|---|---|\n| LongBench | Llama-3-8B |\n\n## 3. 主要结果\n1. 吞吐提升 2.1×\n2. 精度下降 < 0.5%\n"
)


class Sleeps(list[float]):
    """An injected sleep: records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(autouse=True)
def quiet_smtp_server() -> Iterator[None]:
    # aiosmtpd logs its own deprecation notes and every session at INFO/WARNING; they are not ours.
    logger = logging.getLogger("mail.log")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates.make(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    return PASSWORD


def email_settings(port: int, *, security: str = "none", login: bool = True, **extra: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "security": security,
        "sender": SENDER,
        "recipients": RECIPIENTS,
        "subject": "arXiv {date}: {count} papers",
    }
    if login:
        settings.update(username="me@example.org", password_env="SMTP_PASSWORD")
    return {**settings, **extra}


def seeded_config(tmp_path: Path, delivery: dict[str, Any], *, papers: int = 3, summary: str = LONG_SUMMARY) -> Config:
    """A store holding DAY2's digest (one hostile title and summary among ``papers``) and a config over it."""
    config = make_config(tmp_path, delivery={"max_retries": 2, "timeout_seconds": 5, **delivery})
    seeded = [make_paper("2512.20276", title="SparseKV: Dynamic KV Cache Eviction", categories=("cs.AI",))]
    seeded.append(make_paper("2512.00666", title=EVIL_TITLE, categories=("cs.LG",)))
    seeded += [make_paper(f"2512.{10000 + n:05d}") for n in range(papers - 2)]
    summaries = {paper.arxiv_id: summary for paper in seeded}
    summaries["2512.00666"] = EVIL_SUMMARY
    with open_store(config.storage.database) as store:
        seed_day(store, DAY2, seeded, summaries=summaries)
    return config
