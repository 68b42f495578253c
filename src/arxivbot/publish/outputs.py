"""The published files as the first delivery channel: README digest, feeds, page and JSON.

Everything is rendered from the database first — the README (``readme.py``) and the site
(``site.py``: pages, search index, JSON and feeds) — before anything is written, so a rendering
failure leaves every published file as it was. The site is rendered incrementally against the files
already in ``output.site_dir``: a past day whose digest did not change is neither rendered nor
written (``archive.py``). Each file is then written atomically, and a file whose bytes did not change
is not touched, so a digest repository commits only what really changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path

from arxivbot.config import Config
from arxivbot.deliver.channel import Edition
from arxivbot.errors import OutputError, PublishError
from arxivbot.files import write_all_atomic
from arxivbot.models import Delivery, Digest
from arxivbot.publish.archive import HEAD_BYTES
from arxivbot.publish.readme import load_readme_template, render_readme
from arxivbot.publish.repository import repository_url
from arxivbot.publish.site import latest_digest, update_site
from arxivbot.store import Store

log = logging.getLogger(__name__)

FILES_CHANNEL = "files"


class FilesChannel:
    """Writes the README digest and the whole site (``output.readme``, ``output.site_dir``)."""

    name = FILES_CHANNEL

    def deliver(self, edition: Edition) -> Delivery:
        written = write_outputs(edition.store, edition.config, edition.digest, edition.now)
        return Delivery(self.name, ok=True, written=tuple(str(path) for path in written))


def publish_outputs(
    store: Store, config: Config, *, day: date | None = None, now: datetime | None = None
) -> list[Path]:
    """Write the README digest of ``day`` (default: the newest digest) and the whole site.

    Returns the files whose content changed.
    """
    digest = store.load_digest(day) if day is not None else latest_digest(store)
    if digest is None:
        raise PublishError("nothing to publish: the database holds no digest yet; run `arxivbot run` first")
    return write_outputs(store, config, digest, now or datetime.now(timezone.utc))


def write_outputs(store: Store, config: Config, digest: Digest, now: datetime) -> list[Path]:
    """Render the README of ``digest`` and the site, then write every file that changed."""
    readme = render_readme(
        digest,
        template=load_readme_template(config.output.readme_template),
        schedule_text=f"daily at {config.server.schedule} {config.server.timezone}",
        repository_url=repository_url(config),
    )
    files: dict[Path, bytes] = {config.output.readme: readme.encode("utf-8")}
    site_dir = config.output.site_dir
    update = update_site(store, config, now, published=_reader_of(site_dir), published_head=_head_reader_of(site_dir))
    for relative, payload in update.files.items():
        files[site_dir / relative] = payload
    try:
        written = write_all_atomic(files)
    except OutputError as err:
        raise PublishError(str(err)) from None
    for path in written:
        log.debug("wrote %s", path)
    return written


def _reader_of(site_dir: Path) -> Callable[[str], bytes | None]:
    def published(relative: str) -> bytes | None:
        try:
            return (site_dir / relative).read_bytes()
        except OSError:  # absent or unreadable: rendered again
            return None

    return published


def _head_reader_of(site_dir: Path) -> Callable[[str], bytes | None]:
    """The first bytes of a published file, where its key is: a past day's page is not read whole."""

    def head(relative: str) -> bytes | None:
        try:
            with (site_dir / relative).open("rb") as file:
                return file.read(HEAD_BYTES)
        except OSError:  # absent or unreadable: rendered again
            return None

    return head
