"""Atomic file writes: a reader (or a crash) never sees half an output.

A write goes to ``.<name>.<8 random characters>.tmp`` beside the target, then is renamed over it. A
process killed between the two leaves that temporary file behind; the next run removes the ones in
the folders it writes to (:func:`remove_leftover_temp_files`), and the scaffolded ``.gitignore``
keeps them out of commits meanwhile.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from arxivbot.errors import OutputError

_TEMP_SUFFIX = ".tmp"
# What ``tempfile.mkstemp(prefix=".<name>.", suffix=".tmp")`` names a file: 8 of [a-z0-9_] in between.
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp$")


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
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=_TEMP_SUFFIX, dir=target.parent)
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


def remove_leftover_temp_files(folder: Path, *, target: str | None = None, recursive: bool = False) -> list[Path]:
    """Delete the temporary files an interrupted :func:`write_atomic` left in ``folder``; return them.

    Only names of write_atomic's own pattern are touched, and only for ``target`` when given (the
    README's folder holds files of other programs). ``recursive`` descends into sub-folders, never
    into ``.git``. Call it only while no write can be going on: under the run lock.
    """
    removed = []
    for path in _temp_files(folder, recursive):
        match = _TEMP_NAME.match(path.name)
        if match is None or (target is not None and match["target"] != target):
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as err:
            raise OutputError(f"{path}: cannot remove a leftover temporary file ({err.strerror or err})") from None
        removed.append(path)
    return removed


def _temp_files(folder: Path, recursive: bool) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for root, dirs, files in os.walk(folder):
        dirs[:] = [name for name in dirs if recursive and name != ".git"]
        for name in files:
            if name.startswith(".") and name.endswith(_TEMP_SUFFIX):
                yield Path(root) / name
