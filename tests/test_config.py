"""The config model: what it shows of itself."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from arxivbot.config import config_from_dict, require_interest
from arxivbot.errors import ConfigError


def test_public_dict_leaves_out_unknown_keys_that_may_hold_secrets(tmp_path: Path) -> None:
    config = config_from_dict(
        {
            "allow_unknown_keys": True,
            "api_key": "sk-top-level",
            "ai_summary": {"enabled": True, "api_key": "sk-pasted-here"},
            "server": {"update_token": "tok-secret"},
        },
        base_dir=tmp_path,
    )
    assert config.unknown_keys() == ["ai_summary.api_key", "api_key", "server.update_token"]

    public = config.public_dict()

    text = repr(public)
    assert "sk-top-level" not in text and "sk-pasted-here" not in text and "tok-secret" not in text
    assert "api_key" not in public and "api_key" not in public["ai_summary"]
    # The known keys are all still there.
    assert public["ai_summary"]["enabled"] is True
    assert public["ai_summary"]["api_key_env"] == "DASHSCOPE_API_KEY"
    assert public["server"]["schedule"] == "12:00"
    assert "config_dir" not in public


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"matching": {"mode": "fuzzy"}}, "matching.mode: must be 'word' or 'substring', got \"fuzzy\""),
        ({"max_papers": 0}, "max_papers: must be a positive integer, got 0"),
        ({"deduplication_methods": ["doi"]}, "deduplication_methods[0]: must be 'id', 'title' or 'link', got \"doi\""),
    ],
)
def test_ranking_settings_are_validated_once_at_load(tmp_path: Path, data: dict[str, object], problem: str) -> None:
    # Ranking trusts the validated config: these are refused here, and nowhere else.
    with pytest.raises(ConfigError) as raised:
        config_from_dict(data, base_dir=tmp_path)
    assert raised.value.problems == (problem,)


# --- unknown keys: errors with the nearest known key; allow_unknown_keys makes them warnings ----------------


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"keywrods": ["LLM"]}, "keywrods: unknown key; did you mean `keywords`?"),
        ({"Keywords": ["LLM"]}, "Keywords: unknown key; did you mean `keywords`?"),
        ({"ai_summary": {"enbled": True}}, "ai_summary.enbled: unknown key; did you mean `ai_summary.enabled`?"),
        ({"database": "my.db"}, "database: unknown key; did you mean `storage.database`?"),
        ({"storage": {"schedule": "07:00"}}, "storage.schedule: unknown key; did you mean `server.schedule`?"),
        ({"zzz": 1}, "zzz: unknown key; check its spelling against docs/configuration.md"),
    ],
)
def test_an_unknown_key_is_an_error_suggesting_the_nearest_key(
    tmp_path: Path, data: dict[str, object], problem: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_dict({"keywords": ["LLM"], **data}, base_dir=tmp_path, source="config.json")
    assert raised.value.problems == (problem,)
    assert str(raised.value) == f"config.json: {problem}"


def test_every_problem_is_reported_one_line_each_and_unknown_values_are_never_shown(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_dict(
            {"max_papers": "thirty", "api_key": "sk-pasted-here", "server": {"port": 0}},
            base_dir=tmp_path,
            source="config.json",
        )
    assert str(raised.value).splitlines() == [
        'config.json: max_papers: must be a positive integer, got "thirty"',
        "config.json: server.port: must be a positive integer, got 0",
        "config.json: api_key: unknown key; check its spelling against docs/configuration.md",
    ]
    assert "sk-pasted-here" not in str(raised.value)


def test_allow_unknown_keys_ignores_them_with_a_warning_but_not_other_problems(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="arxivbot.config"):
        config = config_from_dict(
            {"allow_unknown_keys": True, "keywords": ["LLM"], "arxiv": {"rss_urls": "x"}}, base_dir=tmp_path
        )
    assert config.unknown_keys() == ["arxiv.rss_urls"] and config.arxiv.rss_url == "https://rss.arxiv.org/rss"
    assert "arxiv.rss_urls: unknown key; did you mean `arxiv.rss_url`? (ignored: allow_unknown_keys is true)" in (
        caplog.text
    )
    with pytest.raises(ConfigError) as raised:  # a bad value is still an error
        config_from_dict({"allow_unknown_keys": True, "max_papers": 0, "typo": 1}, base_dir=tmp_path)
    assert len(raised.value.problems) == 2


def test_a_config_without_interest_is_refused_by_the_commands_that_rank(tmp_path: Path) -> None:
    config = config_from_dict({"keywords": []}, base_dir=tmp_path)  # loads: backfill and status need none
    with pytest.raises(ConfigError) as raised:
        require_interest(config)
    assert raised.value.exit_code == 2
    assert str(raised.value) == (
        "keywords is empty and no library is configured: add keywords, or a library (see docs/configuration.md#library)"
    )
    require_interest(config_from_dict({"keywords": ["LLM"]}, base_dir=tmp_path))  # no error
