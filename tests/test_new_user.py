"""A new user's first steps: `init` in the current folder, the offline trial from the README, a sample
digest whose buttons point at the user's own repository (or nowhere), and a page that counts right."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import lxml.html
import pytest

from tests.clirunner import run_arxivbot

PROJECT = Path(__file__).resolve().parent.parent


def test_init_without_a_folder_fills_the_current_one(tmp_path: Path) -> None:
    result = run_arxivbot("init", "--sample", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Created a digest repository in the current folder:")
    assert "Try it offline now:  arxivbot run --config config.json" in result.stdout
    assert (tmp_path / "config.json").is_file() and (tmp_path / "sample-feed.xml").is_file()
    run = run_arxivbot("run", cwd=tmp_path)  # then `arxivbot run`, no option at all
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "README.md").is_file() and (tmp_path / "public" / "index.html").is_file()


def test_the_readme_starts_with_the_quick_start_and_shows_the_offline_trial() -> None:
    readme = PROJECT.joinpath("README.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## (.+)$", readme, re.MULTILINE)
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]

    assert sections[0] == "Quick start"
    first_block = re.search(r"```bash\n(.*?)```", quick_start, re.DOTALL)
    assert first_block is not None and len(first_block[1].strip().splitlines()) == 2  # the two commands
    assert "arxivbot init --sample" in quick_start


def sample_digest(folder: Path, **env: str) -> str:
    assert run_arxivbot("init", "--sample", cwd=folder).returncode == 0
    result = run_arxivbot("run", cwd=folder, env=env)
    assert result.returncode == 0, result.stderr
    return (folder / "README.md").read_text(encoding="utf-8")


def test_the_sample_digest_has_no_deploy_button_for_someone_elses_repository(tmp_path: Path) -> None:
    readme = sample_digest(tmp_path)

    assert "vercel.com" not in readme
    assert "repository-url=" not in readme


def test_on_github_actions_the_button_deploys_the_users_own_repository(tmp_path: Path) -> None:
    readme = sample_digest(tmp_path, GITHUB_REPOSITORY="ada/my-digest", GITHUB_SERVER_URL="https://github.com")

    buttons = re.findall(r"\(https://vercel\.com/new/clone\?repository-url=([^)]+)\)", readme)
    assert buttons == ["https://github.com/ada/my-digest"]


def test_in_a_clone_the_button_follows_origin_without_its_credentials(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(
        '[core]\n\tbare = false\n[remote "upstream"]\n\turl = https://github.com/arxivbot/arxivbot\n'
        '[remote "origin"]\n\turl = https://x-access-token:ghs_SECRET@github.com/ada/my-digest.git\n'
        "\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
        encoding="utf-8",
    )

    readme = sample_digest(tmp_path)

    assert "(https://vercel.com/new/clone?repository-url=https://github.com/ada/my-digest)" in readme
    assert "ghs_SECRET" not in readme


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("git@github.com:ada/my-digest.git", "https://github.com/ada/my-digest"),
        ("ssh://git@gitlab.com/group/sub/digest.git", "https://gitlab.com/group/sub/digest"),
        ("/srv/git/digest.git", None),
        ("file:///srv/git/digest.git", None),
    ],
)
def test_origin_remotes_become_web_addresses(remote: str, expected: str | None) -> None:
    from arxivbot.publish.repository import _web_address

    assert _web_address(remote) == expected


def test_the_page_says_how_many_papers_were_selected_from_how_many_announced(tmp_path: Path) -> None:
    sample_digest(tmp_path)

    page = lxml.html.parse(str(tmp_path / "public" / "index.html")).getroot()
    stats = " ".join(page.xpath("string(//p[@class='stats'])").split())

    # The sample feed announces 12 papers; 6 match the scaffold's keywords.
    assert stats.startswith("6 papers selected from 12 announced for 2025-12-24 · updated "), stats


def test_a_missing_config_points_at_init(tmp_path: Path) -> None:
    result = run_arxivbot("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "config.json: config file not found (pass --config PATH, or run `arxivbot init` to create one)" in (
        result.stderr
    )


def test_the_scaffolded_gitignore_keeps_crash_leftovers_and_the_lock_out_of_commits(tmp_path: Path) -> None:
    assert run_arxivbot("init", cwd=tmp_path).returncode == 0
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    leftovers = [".README.md.k2j4h1x9.tmp", "public/rss/.cs.AI.xml.a8b7c6d5.tmp", "data/arxivbot.db.lock", "x.db.lock"]
    kept = ["README.md", "public/rss/cs.AI.xml"]
    for name in leftovers + kept:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")

    check = subprocess.run(
        ["git", "check-ignore", "--no-index", *leftovers, *kept], cwd=tmp_path, capture_output=True, text=True
    )

    assert check.stdout.split() == leftovers
