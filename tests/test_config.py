"""The config model: what it shows of itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from arxivbot.config import config_from_dict
from arxivbot.errors import ConfigError


def test_public_dict_leaves_out_unknown_keys_that_may_hold_secrets(tmp_path: Path) -> None:
    config = config_from_dict(
        {
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
