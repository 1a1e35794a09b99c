"""Paths as messages show them."""
from __future__ import annotations

from pathlib import Path


def as_shown(path: Path, project: Path, follow: bool = True, real: Path | None = None) -> Path:
    """A path as messages show it: relative to the project when inside it.

    follow=False names a link itself rather than the file it leads to; real is the path
    already resolved, when the caller has it.
    """
    try:
        return ((real or path.resolve()) if follow else path).relative_to(project)
    except ValueError:
        return path
    except (OSError, RuntimeError):  # a loop of links: name the link itself
        return as_shown(path, project, follow=False) if follow else path
