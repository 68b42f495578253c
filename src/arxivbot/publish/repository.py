"""Which repository the digest lives in: its README's "Deploy with Vercel" button clones that one.

In order: ``output.repository_url`` when set; on GitHub Actions the repository the workflow runs in
(``GITHUB_SERVER_URL`` and ``GITHUB_REPOSITORY``); otherwise the ``origin`` remote of the git checkout
that holds the config. None when none of these says (an offline trial in a fresh folder): the README
then shows no button at all rather than one that deploys somebody else's repository.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from arxivbot.config import Config

_ORIGIN = re.compile(r'^\[remote "origin"\]\s*$(?P<body>.*?)(?=^\[|\Z)', re.MULTILINE | re.DOTALL)
_URL_LINE = re.compile(r"^\s*url\s*=\s*(?P<url>\S+)\s*$", re.MULTILINE)
_SCP_STYLE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>[^/].*)$")  # git@github.com:me/digest.git
_GIT_DIR_LIMIT = 32  # folders climbed at most while looking for the checkout


def repository_url(config: Config) -> str | None:
    """The digest repository's https:// address, or None when it cannot be told."""
    if config.output.repository_url:
        return config.output.repository_url
    repository = os.environ.get("GITHUB_REPOSITORY", "").strip()
    if re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
        server = os.environ.get("GITHUB_SERVER_URL", "").strip() or "https://github.com"
        return f"{server.rstrip('/')}/{repository}"
    return _origin_url(config.config_dir)


def _origin_url(start: Path) -> str | None:
    """The ``origin`` remote of the git checkout around ``start``, as a web address without credentials."""
    folder = start.resolve()
    for _ in range(_GIT_DIR_LIMIT):
        git_config = folder / ".git" / "config"
        if git_config.is_file():
            try:
                text = git_config.read_text(encoding="utf-8", errors="replace")
            except OSError:
                return None
            origin = _ORIGIN.search(text)
            url = _URL_LINE.search(origin["body"]) if origin else None
            return _web_address(url["url"]) if url else None
        if folder.parent == folder:
            return None
        folder = folder.parent
    return None


def _web_address(remote: str) -> str | None:
    """``git@github.com:me/digest.git`` or ``https://token@github.com/me/digest`` → ``https://github.com/me/digest``.

    Credentials in a remote URL (a token some set-ups put there) are dropped: they must never be published.
    """
    scp = _SCP_STYLE.match(remote)
    host: str
    path: str
    if scp and "://" not in remote:
        host, path = scp["host"], scp["path"]
    else:
        parts = urlsplit(remote)
        if parts.scheme not in ("https", "http", "ssh", "git") or not parts.hostname:
            return None
        host, path = parts.hostname, parts.path.lstrip("/")
    path = path.removesuffix("/").removesuffix(".git")
    if not re.fullmatch(r"[\w.-]+(/[\w.-]+)+", path):
        return None
    return urlunsplit(("https", host, "/" + path, "", ""))
