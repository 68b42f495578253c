"""The system's Chromium, as the browser tests and bench/bench_page.py start it.

Playwright's own browser builds are never downloaded: Debian's ``chromium`` is used where it is (or the
one ``ARXIVBOT_CHROMIUM`` names), with flags that keep it to itself — no updates, no sync, no network of
its own, no GPU, no /dev/shm on small containers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def system_chromium() -> str | None:
    """The Chromium to drive, or None when none is installed (the tests that need it skip)."""
    for candidate in (os.environ.get("ARXIVBOT_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def run_headless(profile_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One headless Chromium process (``--dump-dom``, ``--screenshot`` …) with a throwaway profile."""
    chromium = system_chromium()
    if chromium is None:
        raise FileNotFoundError("no Chromium installed (apt-get install chromium)")
    return subprocess.run(
        [chromium, "--headless", "--disable-quic", *CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
