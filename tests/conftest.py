"""Shared fixtures and helpers: the tiny fixture book and throw-away copies of it."""
from __future__ import annotations

import logging

import shutil
from pathlib import Path

import pytest

from press.problems import BuildError, Problem

TESTS = Path(__file__).resolve().parent
TINY = TESTS / "fixtures" / "tiny"
PROJECT = TESTS.parent
STYLES = PROJECT / "styles"


def quiet(*_args, **_kwargs) -> None:
    """A log function that keeps pipeline chatter out of the test output."""


@pytest.fixture
def tiny() -> Path:
    """The tiny fixture book, read-only: tests that change files use make_book."""
    return TINY


class BookCopy:
    """A copy of the tiny book in a temporary folder that a test may change freely."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, rel: str) -> Path:
        return self.root / rel

    def read(self, rel: str) -> str:
        return self.path(rel).read_text(encoding="utf-8")

    def write(self, rel: str, content: str | bytes) -> Path:
        """Create or overwrite a file (bytes are written as they are)."""
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return target

    def append(self, rel: str, content: str) -> Path:
        return self.write(rel, self.read(rel) + content)

    def replace(self, rel: str, old: str, new: str) -> Path:
        """Replace one exact piece of text; fail loudly if the fixture no longer has it."""
        text = self.read(rel)
        assert text.count(old) == 1, f"{old!r} should occur once in {rel}"
        return self.write(rel, text.replace(old, new))

    def remove(self, rel: str) -> None:
        self.path(rel).unlink()

    def line_of(self, rel: str, needle: str) -> int:
        return line_of(self.path(rel), needle)


@pytest.fixture
def make_book(tmp_path):
    """Factory: copy the tiny book into tmp_path (optionally overwriting files) and return it.

    make_book({"chapters/01-alpha.md": "..."}) -> BookCopy; .root is the manuscript folder.
    """
    count = 0

    def make(files: dict[str, str | bytes] | None = None) -> BookCopy:
        nonlocal count
        count += 1
        root = tmp_path / f"book{count}" / "manuscript"
        shutil.copytree(TINY, root)
        book = BookCopy(root)
        for rel, content in (files or {}).items():
            book.write(rel, content)
        return book

    return make


def line_of(path: Path, needle: str) -> int:
    """1-based number of the only line of a file that contains needle."""
    lines = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if needle in line]
    assert len(lines) == 1, f"{needle!r} should be on exactly one line of {path}: {lines}"
    return lines[0]


def problems_of(call) -> list[Problem]:
    """Run a stage that must fail and return every problem it reported."""
    with pytest.raises(BuildError) as caught:
        call()
    assert caught.value.problems, "a BuildError must carry at least one problem"
    return caught.value.problems


def load_problems(root: Path) -> list[Problem]:
    from press.source.load import load_book

    return problems_of(lambda: load_book(root))


def prepare(root: Path):
    """load -> convert -> enrich through the real pipeline (real Pandoc)."""
    from press.pipeline import prepare as run_prepare
    from press.workspace import Workspace

    return run_prepare(Workspace(None), root, STYLES, log=quiet)


def prepare_problems(root: Path) -> list[Problem]:
    return problems_of(lambda: prepare(root))


def only(problems: list[Problem], code: str) -> Problem:
    """The single problem with this code; fails listing everything if there is not one."""
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, f"expected one {code}, got:\n" + "\n".join(map(str, problems))
    return found[0]


def codes(problems: list[Problem]) -> set[str]:
    return {p.code for p in problems}


def shown_name(problem: Problem) -> str:
    """The file name part of a problem's path, whatever folder it is shown relative to."""
    return Path(str(problem.path)).as_posix()


class _Said(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_weasyprint_warnings(request):
    """Fail a test on any WeasyPrint warning, in this process or in a typesetting worker
    (the build says a worker's warnings again through the same logger), unless the test
    is marked `weasyprint_warnings` because it expects them."""
    said, logger = _Said(), logging.getLogger("weasyprint")
    logger.addHandler(said)
    try:
        yield
    finally:
        logger.removeHandler(said)
    if said.records and not request.node.get_closest_marker("weasyprint_warnings"):
        pytest.fail("WeasyPrint warned: " + "; ".join(r.getMessage()[:200]
                                                      for r in said.records[:5]))
