"""A task (`invoke serve`, `invoke watch`) running as a real subprocess, as an author runs it."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent


class Running:
    """Start `python -m invoke ARGS` in the project folder and collect its output as it comes."""

    def __init__(self, *args: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "invoke", *args], cwd=PROJECT, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.lines: list[str] = []
        self.arrived = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # always drained, so the task never blocks on a full pipe
            with self.arrived:
                self.lines.append(line.rstrip("\n"))
                self.arrived.notify_all()
        with self.arrived:
            self.arrived.notify_all()

    def mark(self) -> int:
        """Where the output is now; wait_for(since=mark) looks only at what comes after."""
        with self.arrived:
            return len(self.lines)

    def wait_for(self, pattern: str, since: int = 0, timeout: float = 60) -> re.Match:
        """The first line after `since` matching pattern; fail with the whole output if none."""
        regex = re.compile(pattern)

        def found():
            return next((m for line in self.lines[since:] if (m := regex.search(line))), None)

        with self.arrived:
            self.arrived.wait_for(lambda: found() or self.proc.poll() is not None, timeout)
            match = found()
        if match is None:
            state = "exited" if self.proc.poll() is not None else "still running"
            pytest.fail(f"no line matching {pattern!r} within {timeout} s ({state}); "
                        f"output:\n{self.output()}")
        return match

    def output(self) -> str:
        with self.arrived:
            return "\n".join(self.lines)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        """Ctrl+C, as an author stops it; kill only if it does not stop."""
        if self.alive():
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (hidden ones too) and its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}
