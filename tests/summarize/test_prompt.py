"""The default prompt (SPEC §2.4), the user's prompt file, its hash and the messages of each input mode."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from arxivbot.config import config_from_dict
from arxivbot.summarize.prompt import (
    abstract_messages,
    default_prompt,
    load_prompt,
    prompt_hash,
    text_messages,
    upload_messages,
)
from tests.summarize.conftest import make_paper


def test_default_prompt_has_the_four_headings_of_the_spec_in_chinese() -> None:
    prompt = default_prompt()
    for heading in ("主要贡献和创新点", "核心实验方法和设置", "主要实验结果和指标", "关键结论和发现"):
        assert heading in prompt
    for point in ("数据集", "基线", "消融实验", "局限性", "未来"):
        assert point in prompt
    assert "中文" in prompt and "Markdown" in prompt and "不要翻译" in prompt


def test_a_configured_prompt_file_is_used(tmp_path: Path) -> None:
    (tmp_path / "ai_summary_prompt.txt").write_text("Summarize in three bullets.", encoding="utf-8")
    config = config_from_dict({"ai_summary": {"prompt_file": "ai_summary_prompt.txt"}}, base_dir=tmp_path)

    assert load_prompt(config.ai_summary) == "Summarize in three bullets."


@pytest.mark.parametrize("content", [None, "  \n"], ids=["missing", "empty"])
def test_a_missing_or_empty_prompt_file_falls_back_to_the_default_with_a_warning(
    tmp_path: Path, content: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    if content is not None:
        (tmp_path / "prompt.txt").write_text(content, encoding="utf-8")
    config = config_from_dict({"ai_summary": {"prompt_file": "prompt.txt"}}, base_dir=tmp_path)

    assert load_prompt(config.ai_summary) == default_prompt()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(tmp_path / "prompt.txt") in warnings[0]


def test_prompt_hash_is_stable_and_changes_with_the_prompt() -> None:
    assert prompt_hash("abc") == prompt_hash("abc")
    assert prompt_hash("abc") != prompt_hash("abd")
    assert len(prompt_hash(default_prompt())) == 16


def test_every_mode_starts_the_user_message_with_the_title_line() -> None:
    paper = make_paper(1, title="Attention\n   Is All You Need")
    for messages in (
        upload_messages(paper, "PROMPT", "file-abc"),
        text_messages(paper, "PROMPT", "the text"),
        abstract_messages(paper, "PROMPT"),
    ):
        user = messages[-1]
        assert user["role"] == "user"
        assert user["content"].startswith("论文标题：Attention Is All You Need\n\nPROMPT")
    assert upload_messages(paper, "PROMPT", "file-abc")[1] == {"role": "system", "content": "fileid://file-abc"}
    assert text_messages(paper, "PROMPT", "the text")[-1]["content"].endswith("the text")
    assert abstract_messages(paper, "PROMPT")[-1]["content"].endswith(paper.abstract)
