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
from collections.abc import Iterator, Mapping
from pathlib import Path

from arxivbot.errors import OutputError

_TEMP_SUFFIX = ".tmp"
# What ``tempfile.mkstemp(prefix=".<name>.", suffix=".tmp")`` names a file: 8 of [a-z0-9_] in between.
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp$")


def write_atomic(path: str | Path, data: str | bytes, *, durable: bool = True) -> bool:
    """Write ``data`` to ``path`` through a temp file and a rename; return False if unchanged.

    The temp file lives in the target's folder so the rename is atomic on the same filesystem.
    Unchanged content is not rewritten, so a repository commits only what really changed.
    ``durable=False`` skips the sync before the rename: for caches, which check what they read back.
    """
    return bool(write_all_atomic({Path(path): data}, durable=durable))


def write_all_atomic(files: Mapping[Path, str | bytes], *, durable: bool = True) -> list[Path]:
    """:func:`write_atomic` for several files at once; return the ones that changed, in order.

    Every changed file is written to its temp file first, then all are synced together (one thread
    each: the file system commits them at once instead of one disk flush after another), then each is
    renamed over its target. A failure before the renames leaves every file as it was.
    """
    staged: list[tuple[Path, str]] = []  # (target, temp file) of each file that changed
    written: list[Path] = []
    try:
        for target, data in files.items():
            payload = data.encode("utf-8") if isinstance(data, str) else data
            with _naming(target):
                if target.is_file() and target.read_bytes() == payload:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=_TEMP_SUFFIX, dir=target.parent)
                staged.append((target, temp_name))
                with os.fdopen(fd, "wb") as handle:
                    handle.write(payload)
        if durable:
            _sync_all(staged)
        for target, temp_name in staged:
            with _naming(target):
                os.chmod(temp_name, 0o644)
                os.replace(temp_name, target)
            written.append(target)
    except BaseException:
        for _target, temp_name in staged[len(written) :]:
            Path(temp_name).unlink(missing_ok=True)
        raise
    return written


class _naming:
    """Turn an OSError about ``target`` into the OutputError a user reads."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _trace: object) -> None:
        if isinstance(error, OSError):
            reason = error.strerror or error
            raise OutputError(f"{self.target}: cannot write output ({reason}); the previous file is kept") from None


def _sync_all(staged: list[tuple[Path, str]]) -> None:
    """fsync every staged file, concurrently when there are several."""
    if len(staged) <= 1:
        for target, temp_name in staged:
            _sync(target, temp_name)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(16, len(staged)), thread_name_prefix="arxivbot-sync") as pool:
        for _ in pool.map(lambda pair: _sync(*pair), staged):  # re-raises the first failure
            pass


def _sync(target: Path, temp_name: str) -> None:
    with _naming(target):
        fd = os.open(temp_name, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
