"""Stage 5, write: put finished files in place atomically, never leaving half a book."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes, sync: bool = True) -> None:
    """Write beside the target, then rename: the old file stays until the new one is whole.

    sync=False skips flushing to the disk, for a cache entry whose seal finds a short file.
    """
    tmp = _staged(path, data, sync)
    try:
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_together(files: list[tuple[Path, bytes]]) -> None:
    """Write every file beside its target first (flushed to the disk), then rename them
    all: a full disk or a fault while writing leaves every old file in place."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files:
            staged.append((_staged(path, data), path))
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)


def _staged(path: Path, data: bytes, sync: bool = True) -> str:
    """A temporary file beside path holding data, synced, readable by others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:64]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if sync:  # a crash or full disk never leaves a short file under the name
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def file_stamp(path) -> tuple | None:
    """A file's time stamp, size and inode; None when it is not there. A warm process
    compares it with the stamp it took when it last read or wrote the file."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_mtime_ns, found.st_size, found.st_ino
