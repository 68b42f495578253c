"""The ``delivery`` configuration: validated once, errors that name the key (never a pasted secret),
warnings for a port that does not fit its security, and documentation that matches the model."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from arxivbot.config import Config, config_from_dict
from arxivbot.deliver.settings import EmailSettings, WebhookSettings
from arxivbot.errors import ConfigError

CONFIG_DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
EMAIL = {"smtp_host": "smtp.example.org", "recipients": ["me@example.org"], "sender": "me@example.org"}


def load(tmp_path: Path, delivery: dict[str, Any]) -> Config:
    return config_from_dict({"delivery": delivery}, base_dir=tmp_path)


def problems(tmp_path: Path, delivery: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as error:
        load(tmp_path, delivery)
    assert error.value.exit_code == 2
    return error.value.problems


def test_an_invalid_recipient_is_named_with_its_position(tmp_path: Path) -> None:
    found = problems(
        tmp_path, {"email": {**EMAIL, "recipients": ["me@example.org", "lab@@example.org", "x@y.org, z@y.org"]}}
    )
    assert found[0].startswith("delivery.email.recipients[1]: not a valid e-mail address (") and found[0].endswith(
        ', got "lab@@example.org"'
    )
    assert found[1].startswith("delivery.email.recipients[2]: must be one e-mail address per entry")


def test_what_an_email_channel_needs_is_named(tmp_path: Path) -> None:
    assert problems(tmp_path, {"email": {"recipients": []}}) == (
        "delivery.email.smtp_host: field required",
        "delivery.email.recipients: list should have at least 1 item after validation, not 0, got []",
        'delivery.email.sender: required (the From address, such as "arxivbot <me@example.org>") unless username '
        "is one, got null",
    )
    assert problems(tmp_path, {"email": {**EMAIL, "username": "me"}}) == (
        "delivery.email.password_env: required with username: the name of the variable that holds the password, "
        "got null",
    )
    assert problems(tmp_path, {"email": {**EMAIL, "subject": "digest {day}"}}) == (
        'delivery.email.subject: unknown placeholder {day}; use {date} and {count}, got "digest {day}"',
    )
    config = load(tmp_path, {"email": {**EMAIL, "sender": None, "username": "me@example.org", "password_env": "PW"}})
    assert config.delivery.email is not None and config.delivery.email.sender == "me@example.org"


@pytest.mark.parametrize("key", ["password_env", "url_env"])
def test_a_secret_pasted_where_a_variable_name_belongs_is_refused_without_repeating_it(
    tmp_path: Path, key: str
) -> None:
    pasted = "https://hooks.slack.com/services/T0/B0/pastedSECRET" if key == "url_env" else "pa55 w0rd!"
    delivery = (
        {"webhooks": [{"kind": "slack", "url_env": pasted}]}
        if key == "url_env"
        else {"email": {**EMAIL, "username": "me", "password_env": pasted}}
    )
    (problem,) = problems(tmp_path, delivery)
    assert "must be the name of an environment variable" in problem and "(hidden" in problem
    assert "pastedSECRET" not in problem and "pa55" not in problem


@pytest.mark.parametrize(
    ("port", "security", "advice"),
    [
        (465, "starttls", 'port 465 usually expects security "ssl"'),
        (587, "ssl", 'port 587 usually expects security "starttls"'),
        (25, "none", None),
        (587, "starttls", None),
    ],
)
def test_a_port_that_does_not_fit_its_security_is_a_warning_naming_the_fix(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, port: int, security: str, advice: str | None
) -> None:
    with caplog.at_level(logging.WARNING, logger="arxivbot"):
        load(tmp_path, {"email": {**EMAIL, "smtp_port": port, "security": security}})
    warnings = [record.getMessage() for record in caplog.records]
    if advice is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and warnings[0].startswith(f"delivery.email: {advice}")


def test_webhooks_get_stable_distinct_names_and_unknown_keys_are_reported(tmp_path: Path) -> None:
    webhooks = {
        "email": EMAIL,
        "webhooks": [
            {"kind": "slack", "url_env": "A"},
            {"kind": "discord", "url_env": "B"},
            {"kind": "discord", "url_env": "C", "urll": "typo"},
            {"kind": "telegram", "bot_token_env": "T", "chat_id": -100123, "name": "lab-tg"},
        ],
    }
    # A typo inside a list of sections is an error naming where it is (never its value) ...
    (problem,) = problems(tmp_path, webhooks)
    assert problem.startswith("delivery.webhooks[2].urll: unknown key") and "typo" not in problem
    # ... or, with allow_unknown_keys, a key dropped with a warning.
    config = config_from_dict({"delivery": webhooks, "allow_unknown_keys": True}, base_dir=tmp_path)
    assert config.delivery.channel_names() == ["email", "slack", "discord:0", "discord:1", "lab-tg"]
    assert config.unknown_keys() == ["delivery.webhooks[2].urll"]
    assert "urll" not in json.dumps(config.public_dict())
    duplicate = [{"kind": "slack", "url_env": "A", "name": "x"}, {"kind": "feishu", "url_env": "B", "name": "x"}]
    assert problems(tmp_path, {"webhooks": duplicate})[0].startswith(
        "delivery.webhooks: two webhooks are named 'x': give each a distinct name"
    )
    assert problems(tmp_path, {"webhooks": [{"kind": "slack", "url_env": "A", "name": "email"}]}) == (
        'delivery.webhooks[0].name: is reserved; choose another name, got "email"',
    )
    assert problems(tmp_path, {"webhooks": [{"kind": "telegram", "bot_token_env": "T"}]}) == (
        "delivery.webhooks[0].chat_id: required for telegram: the chat to post to (@channelname or a numeric id), "
        "got null",
    )
    assert problems(tmp_path, {"webhooks": [{"kind": "teams", "url_env": "A"}]})[0].startswith(
        "delivery.webhooks[0].kind: must be 'slack', 'discord', 'telegram', 'feishu' or 'generic'"
    )


# --- the documentation of the nested keys ---------------------------------------------------------------------


def documented(heading: str) -> dict[str, list[str]]:
    section = CONFIG_DOC.read_text(encoding="utf-8").split(f"### `{heading}`\n", 1)[1].split("\n### ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if match := re.match(r"^\| \*\*([a-z_]+)\*\* \|", line):
            rows[match[1]] = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
    return rows


@pytest.mark.parametrize(
    ("heading", "model", "base"),
    [
        ("delivery.email", EmailSettings, {"email": EMAIL}),
        ("delivery.webhooks", WebhookSettings, {"webhooks": [{"kind": "generic", "url_env": "HOOK"}]}),
    ],
)
def test_every_nested_key_is_documented_with_its_default_and_a_valid_example(
    tmp_path: Path, heading: str, model: type[BaseModel], base: dict[str, Any]
) -> None:
    rows = documented(heading)
    assert sorted(rows) == sorted(model.model_fields)
    for name, (_, default, description, example) in rows.items():
        field = model.model_fields[name]
        expected = (
            "required" if field.is_required() else f"`{json.dumps(field.get_default(call_default_factory=True))}`"
        )
        assert default == expected, name
        assert len(description) > 20
        value = json.loads(example.strip("`"))
        if "email" in base:
            entry = {**base["email"], name: value}
            if name == "username":
                entry["password_env"] = "SMTP_PASSWORD"
            if name == "password_env":
                entry["username"] = "me@example.org"
            config = load(tmp_path, {"email": entry})
        else:
            entry = {**base["webhooks"][0], name: value}
            if name == "kind":
                entry = {"kind": value, "url_env": "HOOK"}
            config = load(tmp_path, {"webhooks": [entry]})
        assert config.unknown_keys() == [], name


def test_the_delivery_examples_in_the_docs_load(tmp_path: Path) -> None:
    section = CONFIG_DOC.read_text(encoding="utf-8").split("## `delivery`", 1)[1]
    examples = re.findall(r"```json\n(.*?)```", section, re.DOTALL)
    assert len(examples) == 5  # Gmail, Outlook, Fastmail, a relay, the chat services
    hosts = []
    for example in examples:
        config = config_from_dict(json.loads(example), base_dir=tmp_path)
        assert config.unknown_keys() == []
        hosts.append(config.delivery.email.smtp_host if config.delivery.email else "chat")
    assert hosts == ["smtp.gmail.com", "smtp.office365.com", "smtp.fastmail.com", "mailrelay.cs.university.edu", "chat"]
    assert config.delivery.channel_names() == ["slack", "discord-lab", "discord-me", "telegram", "feishu", "generic"]
