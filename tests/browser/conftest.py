"""Browser tests: Debian's Chromium driven by playwright (pytest-playwright's fixtures).

Playwright's own browser builds are never downloaded: the system's Chromium is launched through
``executable_path``. Without it (or without playwright) every test here is skipped, never failed.
pytest-playwright's ``browser`` is session-scoped, so each test worker starts Chromium once; each
test gets a fresh context and page (no shared storage, cookies or permissions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")

from tests.chromium import CHROMIUM_FLAGS, system_chromium


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    chromium = system_chromium()
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            if chromium is None:
                item.add_marker(pytest.mark.skip(reason="no Chromium at /usr/bin/chromium (apt-get install chromium)"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": system_chromium(), "args": list(CHROMIUM_FLAGS)}


@pytest.fixture(scope="session")
def base_url() -> None:
    """No base URL: each test names its server's. (Replaces pytest-base-url's fixture, whose form
    newer pytest deprecates, a warning this suite turns into an error.)"""
    return None
