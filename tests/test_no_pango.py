"""A machine without Pango: the build stops with W003 and the packages to install.

Pango is hidden for real: a folder on LD_LIBRARY_PATH holds an empty file under
Pango's library name, which the dynamic loader finds first and cannot load, so
WeasyPrint's own import fails in the build's typesetting workers and in this process
alike, as it does where the library is absent.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from press.pdf.engine import missing_library

PROJECT = Path(__file__).resolve().parent.parent
TINY = PROJECT / "tests" / "fixtures" / "tiny"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="hides the library through the Linux loader's path")


def without(tmp_path: Path, *libraries: str) -> dict:
    """The environment with each named shared library shadowed by an empty file."""
    hidden = tmp_path / "hidden-libs"
    hidden.mkdir()
    for name in libraries:
        (hidden / name).write_bytes(b"")
    return {**os.environ, "LD_LIBRARY_PATH": os.pathsep.join(
        filter(None, [str(hidden), os.environ.get("LD_LIBRARY_PATH")]))}


def run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=PROJECT, env=env, text=True,
                          capture_output=True, timeout=120)


@pytest.mark.parametrize("library", ["libpango-1.0.so.0", "libgobject-2.0.so.0"])
def test_build_without_pango_names_the_packages(tmp_path, library):
    out = tmp_path / "out"
    done = run(without(tmp_path, library), "-m", "invoke", "build", "--manuscript", str(TINY),
               "--out", str(out))
    said = done.stdout + done.stderr
    assert done.returncode == 1, said
    assert "W003 WeasyPrint cannot load lib" in done.stderr, said
    assert "apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0" in said
    assert "W002" not in said and "Traceback" not in said, said
    assert "WeasyPrint could not import" not in said, said  # its banner is kept out too
    assert f"previous outputs in {out}/ were kept" in said
    assert not list(out.glob("*.pdf")) and not list(out.glob("*.epub"))


def test_importing_the_pdf_stage_without_pango_raises_w003(tmp_path):
    probe = ("from press.problems import BuildError\n"
             "try:\n    import press.pdf.weasy\n"
             "except BuildError as error:\n    print([p.code for p in error.problems])\n")
    done = run(without(tmp_path, "libpango-1.0.so.0"), "-c", probe)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['W003']", done.stdout + done.stderr


def test_other_load_errors_are_not_taken_for_pango():
    pango = OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared "
                    "object file: No such file or directory")
    assert missing_library(pango) == "libpango-1.0-0"
    assert missing_library(OSError("cannot load library 'libcairo.so.2': no")) is None
    assert missing_library(OSError("[Errno 28] No space left on device")) is None
