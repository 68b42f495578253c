"""Atomic file writes: a reader (or a crash) never sees half an output."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from arxivbot.errors import OutputError


def write_atomic(path: str | Path, data: str | bytes) -> bool:
    """Write ``data`` to ``path`` through a temp file and a rename; return False if unchanged.

    The temp file lives in the target's folder so the rename is atomic on the same filesystem.
    Unchanged content is not rewritten, so a repository commits only what really changed.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if target.is_file() and target.read_bytes() == payload:
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp_name, 0o644)
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
    except OSError as err:
        reason = err.strerror or err
        raise OutputError(f"{target}: cannot write output ({reason}); the previous file is kept") from None
    return True
