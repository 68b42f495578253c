"""Publishing a run: every output rendered from the database first, then all of them written.

The README digest (``readme.py``) and the site (``site.py``: page, JSON and feeds) are rendered before
anything is written, so a rendering failure leaves every published file as it was. Each file is then
written atomically, and a file whose bytes did not change is not touched, so a digest repository
commits only what really changed.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from pathlib import Path

from arxivbot.config import Config
from arxivbot.errors import PublishError
from arxivbot.publish.files import write_atomic
from arxivbot.publish.readme import load_readme_template, render_readme
from arxivbot.publish.site import latest_digest, render_site
from arxivbot.store import Store

log = logging.getLogger(__name__)


def publish_outputs(
    store: Store, config: Config, *, day: date | None = None, now: datetime | None = None
) -> list[Path]:
    """Write the README digest of ``day`` (default: the newest digest) and the whole site.

    Returns the files whose content changed.
    """
    digest = store.load_digest(day) if day is not None else latest_digest(store)
    if digest is None:
        raise PublishError("nothing to publish: the database holds no digest yet; run `arxivbot run` first")
    readme = render_readme(
        digest,
        template=load_readme_template(config.output.readme_template),
        schedule_text=f"daily at {config.server.schedule} {config.server.timezone}",
    )
    files: dict[Path, bytes] = {config.output.readme: readme.encode("utf-8")}
    for relative, payload in render_site(store, config, now or datetime.now(timezone.utc)).items():
        files[config.output.site_dir / relative] = payload
    written = [path for path, payload in files.items() if write_atomic(path, payload)]
    for path in written:
        log.debug("wrote %s", path)
    return written
