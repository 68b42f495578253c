"""The documentation cannot drift: every config key with its real default, every command with help, the
README's commands are the ones CI runs, the messages the guide quotes are the ones the code prints, and
every link between the docs resolves."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from arxivbot.cli import main
from arxivbot.config import AISummaryConfig, Config, config_from_dict, load_config
from arxivbot.errors import ConfigError, UsageError
from arxivbot.scaffold import init_repository
from arxivbot.summarize.request import missing_key_message

PROJECT = Path(__file__).resolve().parent.parent
DOCS = PROJECT / "docs"
CONFIG_DOC = DOCS / "configuration.md"
GUIDE = DOCS / "guide.md"
README = PROJECT / "README.md"


# --- every configuration key, with its default ---------------------------------------------------------------


def config_keys(model: type[BaseModel] = Config, prefix: str = "") -> dict[str, Any]:
    """Every dotted key of the configuration model, with its default as JSON data."""
    keys: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name == "config_dir":  # set by the loader, not by users
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.update(config_keys(annotation, f"{prefix}{name}."))
            continue
        default = field.get_default(call_default_factory=True)
        keys[prefix + name] = str(default) if isinstance(default, Path) else default
    return keys


def as_documented(value: Any) -> str:
    """A default as the reference writes it: JSON, with whole floats written as integers (3, not 3.0)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def documented_rows() -> dict[str, list[str]]:
    rows = {}
    for line in CONFIG_DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `([a-z_.]+)` \|", line)
        if match:
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            rows[match[1]] = cells
    return rows


def test_the_model_walk_finds_the_keys_of_every_section() -> None:
    keys = config_keys()
    sections = {key.split(".")[0] for key in keys if "." in key}
    assert sections == {
        "ai_summary",
        "arxiv",
        "matching",
        "storage",
        "retention",
        "output",
        "feeds",
        "server",
        "library",
        "ranking",
        "delivery",
    }
    assert keys["max_papers"] == 50 and keys["storage.database"] == "data/arxivbot.db"
    assert as_documented(keys["arxiv.request_delay_seconds"]) == "3"


@pytest.mark.parametrize("key", sorted(config_keys()))
def test_every_config_key_is_documented_with_its_default_and_an_example(key: str) -> None:
    rows = documented_rows()
    assert key in rows, f"docs/configuration.md has no row for `{key}`"
    _, default, description, example = rows[key]
    assert default == f"`{as_documented(config_keys()[key])}`", f"{key}: documented default {default}"
    assert len(description) > 20 and example.startswith("`") and example.endswith("`")


def test_every_documented_key_exists_and_its_example_is_valid() -> None:
    keys = config_keys()
    for key, (_, _, _, example) in documented_rows().items():
        assert key in keys, f"docs/configuration.md documents `{key}`, which the model does not have"
        data: dict[str, Any] = {}
        *sections, name = key.split(".")
        node = data
        for section in sections:
            node = node.setdefault(section, {})
        node[name] = json.loads(example.strip("`"))
        config = config_from_dict(data, base_dir=PROJECT)  # raises ConfigError on an invalid example
        assert config.unknown_keys() == [], key


def test_the_complete_example_loads(tmp_path: Path) -> None:
    text = CONFIG_DOC.read_text(encoding="utf-8")
    example = re.search(r"## A complete example\s+```json\n(.*?)```", text, re.DOTALL)
    assert example is not None
    path = tmp_path / "config.json"
    path.write_text(example[1], encoding="utf-8")
    config = load_config(path)
    assert config.unknown_keys() == [] and config.ai_summary.enabled


# --- every command has help and a place in the guide ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_and_option_has_help(name: str) -> None:
    command = main.commands[name]
    result = CliRunner().invoke(main, [name, "--help"])

    assert result.exit_code == 0, result.output
    assert command.help and len(command.help) > 20
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"arxivbot {name} {param.opts[0]} has no help text"
    assert f"arxivbot {name}" in GUIDE.read_text(encoding="utf-8"), f"docs/guide.md never shows `arxivbot {name}`"


# --- the README's commands are the ones CI runs --------------------------------------------------------------------


def readme_quick_start() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block is not None
    return [line for line in block[1].splitlines() if line.strip()]


def test_ci_runs_the_readme_test_command() -> None:
    ci_commands = [
        line.strip()
        for line in (PROJECT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    test_command = next(line for line in readme_quick_start() if "pytest" in line)
    assert test_command in ci_commands


def test_the_readme_demo_command_points_at_a_real_config() -> None:
    demo = next(line for line in readme_quick_start() if "arxivbot run" in line)
    words = shlex.split(demo.split("&&")[-1])
    config = PROJECT / words[words.index("--config") + 1]
    assert (
        load_config(config).arxiv.rss_url
        == "file://localhost" + (PROJECT / "examples" / "offline" / "sample-feed.xml").as_uri()[7:]
    )


def test_the_guide_shows_only_real_commands_and_options() -> None:
    blocks = re.findall(r"```[a-z]*\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.DOTALL)
    lines = [line for block in blocks for line in block.splitlines() if line.startswith("arxivbot ")]
    assert len(lines) >= 5
    for line in lines:
        words = shlex.split(line.split("#")[0])
        assert words[1] in main.commands, f"docs/guide.md shows an unknown command: {line}"
        options = set(re.findall(r"(--[a-z-]+)", CliRunner().invoke(main, [words[1], "--help"]).output))
        for word in words[2:]:
            if word.startswith("--"):
                assert word.split("=")[0] in options, f"{line}: no option {word}"


# --- the messages the guide quotes are the ones users see ------------------------------------------------------------


def test_quoted_error_messages_are_the_real_ones(tmp_path: Path) -> None:
    guide = GUIDE.read_text(encoding="utf-8")

    assert missing_key_message(AISummaryConfig()) in guide
    with pytest.raises(ConfigError) as bad_value:
        config_from_dict({"max_papers": "thirty"}, base_dir=tmp_path)
    assert bad_value.value.problems[0] in guide
    with pytest.raises(ConfigError) as not_found:
        load_config(Path("config.json"))
    assert str(not_found.value) in guide
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(UsageError) as exists:
        init_repository(tmp_path)
    assert str(exists.value).split(": ", 1)[1].split(",")[-1].strip() in guide  # "or choose a new folder"
    assert "already exist; pass --force to overwrite them" in guide


def test_the_exit_codes_in_the_guide_are_the_real_ones() -> None:
    from arxivbot.errors import ArxivbotError, LockedError
    from arxivbot.models import EXIT_LOCKED, EXIT_UNDELIVERED

    guide = GUIDE.read_text(encoding="utf-8")
    assert ArxivbotError.exit_code == 1 and ConfigError.exit_code == 2 and UsageError.exit_code == 2
    assert EXIT_UNDELIVERED == 3 and LockedError.exit_code == EXIT_LOCKED == 4
    for code, meaning in (
        (0, "success"),
        (1, "the run failed"),
        (2, "bad configuration or usage"),
        (3, "published, but some deliveries failed"),
        (4, "another run holds the database's lock"),
    ):
        assert re.search(rf"\| `{code}` \| {meaning}", guide), code


# --- links -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page", [*sorted(p.name for p in DOCS.glob("*.md")), "../README.md", "../CONTRIBUTING.md", "../CHANGELOG.md"]
)
def test_relative_links_resolve(page: str) -> None:
    path = (DOCS / page).resolve()
    text = re.sub(r"^```.*?^```$", "", path.read_text(encoding="utf-8"), flags=re.DOTALL | re.MULTILINE)  # code
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        assert linked.exists(), f"{page}: broken link {target}"
        if anchor and linked.suffix == ".md":
            anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), re.MULTILINE)}
            assert anchor in anchors, f"{page}: no heading for #{anchor} in {file_part}"


def _anchor(heading: str) -> str:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_the_readme_lists_every_doc() -> None:
    readme = README.read_text(encoding="utf-8")
    documentation = readme.split("## Documentation", 1)[1]
    for page in DOCS.glob("*.md"):
        assert f"docs/{page.name}" in documentation, f"README's Documentation section does not list {page.name}"
