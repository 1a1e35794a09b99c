"""Stage 5, write: outputs appear whole or not at all; the last good file survives failures."""
from __future__ import annotations

import os

import pytest

import press.util.write
from press.util.write import atomic_write


def test_creates_file_and_folders(tmp_path):
    target = tmp_path / "build" / "deep" / "book.epub"
    atomic_write(target, b"new book")
    assert target.read_bytes() == b"new book"
    assert os.listdir(target.parent) == ["book.epub"]


def test_replaces_whole_file(tmp_path):
    target = tmp_path / "book.pdf"
    target.write_bytes(b"A much longer old version of the book " * 100)
    atomic_write(target, b"short")
    assert target.read_bytes() == b"short"  # nothing of the old, longer file remains
    assert os.listdir(tmp_path) == ["book.pdf"]


def test_written_file_is_readable_by_others(tmp_path):
    target = tmp_path / "book.pdf"
    atomic_write(target, b"x")
    assert target.stat().st_mode & 0o777 == 0o644


def test_failed_rename_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "book.epub"
    target.write_bytes(b"last good book")

    def broken_replace(src, dst):
        assert os.path.exists(src)  # the new data was fully written before the rename
        raise OSError("disk trouble")

    monkeypatch.setattr(press.util.write.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk trouble"):
        atomic_write(target, b"half a new book")
    assert target.read_bytes() == b"last good book"
    assert os.listdir(tmp_path) == ["book.epub"]


def test_failure_midway_through_writing(tmp_path, monkeypatch):
    target = tmp_path / "book.epub"
    target.write_bytes(b"last good book")
    real_fdopen = os.fdopen

    class Breaks:
        """A file handle that writes the first half of the data, then fails."""

        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()
            return False

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise OSError("no space left")

    monkeypatch.setattr(press.util.write.os, "fdopen", lambda fd, mode: Breaks(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="no space left"):
        atomic_write(target, b"0123456789" * 1000)
    assert target.read_bytes() == b"last good book"
    assert os.listdir(tmp_path) == ["book.epub"]


def test_interrupt_also_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "book.pdf"
    target.write_bytes(b"old")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(press.util.write.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["book.pdf"]
