"""./book, the launcher: run for real on a small project of its own shape, in a temporary folder.

The small project has the launcher's files, a pyproject.toml whose one dependency is
Invoke, an empty package lock and a tasks.py with one task, so a whole set-up (a venv,
pip, npm ci) takes seconds rather than the real project's minute. The launcher runs
with a PATH that has `python3` and no `python`, as on a stock Debian machine.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import book

PROJECT = Path(__file__).resolve().parent.parent

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "launcher-probe"
version = "0.1.0"
dependencies = ["invoke>=2.2,<4"]

[project.optional-dependencies]
dev = []

[tool.setuptools]
py-modules = []
"""
PACKAGE = '{"name": "launcher-probe", "private": true}\n'
LOCK = ('{"name": "launcher-probe", "lockfileVersion": 3, "requires": true, '
        '"packages": {"": {"name": "launcher-probe"}}}\n')
TASKS = """\
from invoke import task


@task
def hello(c, name="world"):
    print(f"hello {name}")


@task
def echo(c):
    import shlex
    print("args", shlex.split(c.remainder))
"""

needs_posix = pytest.mark.skipif(os.name != "posix", reason="./book is a POSIX shell script")


BASE_PYTHON = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
PYTHON3 = {}  # "folder": a folder whose only file is `python3`, made once for this module


def python3_into(folder: Path) -> None:
    """`python3` that runs the interpreter this test environment was made from, one that
    can make a venv (a system python3 may lack Debian's python3-venv). A script, not a
    link, so that the venv it makes points at the real interpreter."""
    script = folder / "python3"
    script.write_text(f'#!/bin/sh\nexec {shlex.quote(BASE_PYTHON)} "$@"\n', encoding="utf-8")
    script.chmod(0o755)


@pytest.fixture(scope="module", autouse=True)
def python3_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("python3")
    python3_into(folder)
    PYTHON3["folder"] = folder
    yield folder
    PYTHON3.clear()


def python3_only_path() -> str:
    """This PATH without the folders that hold a `python` (pyenv's shims, a venv's bin),
    after the folder with our `python3`."""
    folders = os.environ.get("PATH", "").split(os.pathsep)
    kept = [f for f in folders if f and not (Path(f) / "python").exists()]
    return os.pathsep.join([str(PYTHON3["folder"]), *kept])


def launcher_env(**changes: str) -> dict:
    """The environment a user has: nothing activated, and no permission to install
    system packages (CI sets CI=true, which would grant it)."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CI", book.INSTALL_SYSTEM}}
    env["PATH"] = python3_only_path()
    env.update(changes)
    return env


def make_probe(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("book", "book.py"):
        shutil.copy2(PROJECT / name, folder / name)
    files = {"pyproject.toml": PYPROJECT, "package.json": PACKAGE,
             "package-lock.json": LOCK, "tasks.py": TASKS}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def launch(folder: Path, *args: str, env: dict | None = None, timeout: float = 300):
    started = time.monotonic()
    done = subprocess.run(["./book", *args], cwd=folder, env=env or launcher_env(),
                          text=True, capture_output=True, stdin=subprocess.DEVNULL,
                          timeout=timeout)
    return done, time.monotonic() - started


def setup_lines(done) -> list[str]:
    return [line for line in done.stdout.splitlines() if line.startswith("setup ")]


FIRST: dict = {}  # the probe's first run, for the test that looks at it


@pytest.fixture(scope="module")
def probe(tmp_path_factory, python3_folder) -> Path:
    """The small project, set up once by its first `./book hello`."""
    folder = make_probe(tmp_path_factory.mktemp("launcher") / "probe")
    FIRST["done"], _ = launch(folder, "hello")
    return folder


@needs_posix
def test_first_run_sets_up_then_runs_the_task(probe):
    done = FIRST["done"]
    assert done.returncode == 0, done.stdout + done.stderr
    steps = setup_lines(done)
    assert [s.split(":")[0] for s in steps] == [
        "setup    system packages", "setup    virtual environment", "setup    Python packages",
        "setup    checkers", "setup    done"], done.stdout
    assert f"with Python {sys.version.split()[0]}" in steps[1]  # python3 from PATH made it
    assert done.stdout.splitlines()[-1] == "hello world"
    assert (probe / ".venv" / "bin" / "invoke").exists()
    assert (probe / ".venv" / "press-setup.json").exists()
    assert "Traceback" not in done.stderr


@needs_posix
def test_a_second_run_skips_the_set_up(probe):
    done, _ = launch(probe, "hello", "--name", "again")
    assert done.returncode == 0, done.stdout + done.stderr
    assert setup_lines(done) == []
    assert done.stdout.splitlines() == ["hello again"]


@needs_posix
def test_a_changed_pyproject_reinstalls_only_the_python_packages(probe):
    pyproject = probe / "pyproject.toml"
    pyproject.write_text(PYPROJECT + "# a change\n", encoding="utf-8")
    done, _ = launch(probe, "hello")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [s.split(":")[0] for s in setup_lines(done)] == [
        "setup    system packages", "setup    Python packages", "setup    done"]
    again, _ = launch(probe, "hello")
    assert setup_lines(again) == [], again.stdout


@needs_posix
def test_a_changed_package_lock_reruns_only_npm(probe):
    (probe / "package-lock.json").write_text(LOCK.replace(", \"requires\": true", ""),
                                             encoding="utf-8")
    done, _ = launch(probe, "hello")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [s.split(":")[0] for s in setup_lines(done)] == [
        "setup    system packages", "setup    checkers", "setup    done"]


@needs_posix
def test_test_arguments_reach_the_task_whole(probe):
    """./book test ARGS puts ARGS after Invoke's `--`, each quoted so spaces survive."""
    (probe / "tasks.py").write_text(TASKS.replace("def echo", "def test"), encoding="utf-8")
    done, _ = launch(probe, "test", "-k", "serve or watch", "-x")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "args ['-k', 'serve or watch', '-x']"


@needs_posix
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="hides Pango from the "
                    "Linux loader")
def test_missing_system_packages_are_named_with_one_command(tmp_path):
    """No Pango (an empty file shadows it on LD_LIBRARY_PATH), and a PATH with python3 and
    apt-get only: no Java, Node.js, npm, Chromium or Poppler. Nothing is set up."""
    folder = make_probe(tmp_path / "bare")
    tools = tmp_path / "bin"
    tools.mkdir()
    python3_into(tools)
    for tool in ("apt-get",):
        if shutil.which(tool):
            (tools / tool).symlink_to(shutil.which(tool))
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "libpango-1.0.so.0").write_bytes(b"")
    env = launcher_env(PATH=str(tools), LD_LIBRARY_PATH=str(hidden))
    env.pop("PUPPETEER_EXECUTABLE_PATH", None)
    done, _ = launch(folder, "build", env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    for name in ("libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0", "default-jre-headless",
                 "nodejs npm", "chromium", "poppler-utils"):
        assert name in done.stderr, done.stderr
    if (tools / "apt-get").exists():
        sudo = "" if os.geteuid() == 0 else "sudo "
        assert (f"book: install them with:  {sudo}apt-get install -y --no-install-recommends "
                "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 default-jre-headless "
                "nodejs npm chromium poppler-utils") in done.stderr.splitlines()
    assert not (folder / ".venv").exists()


@needs_posix
def test_without_python_3_11_the_script_says_what_to_install(tmp_path):
    folder = make_probe(tmp_path / "nopython")
    empty = tmp_path / "empty"
    empty.mkdir()
    done = subprocess.run(["/bin/sh", "./book", "build"], cwd=folder, text=True,
                          capture_output=True, env=launcher_env(PATH=str(empty)))
    assert done.returncode == 1
    assert done.stderr.strip() == ("book: Python 3.11 or newer is needed; on Debian or Ubuntu: "
                                   "apt-get install -y python3 python3-venv")


def test_invoke_arguments():
    assert book.invoke_args([]) == ["--list"]
    assert book.invoke_args(["build", "--out", "x"]) == ["build", "--out", "x"]
    assert book.invoke_args(["test"]) == ["test"]
    assert book.invoke_args(["test", "-k", "a b"]) == ["test", "--", "-k", "'a b'"]
    assert book.invoke_args(["test", "--", "-x"]) == ["test", "--", "-x"]


def test_only_root_with_apt_in_ci_or_when_asked_installs(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv(book.INSTALL_SYSTEM, raising=False)
    assert not book.may_install()
    monkeypatch.setenv(book.INSTALL_SYSTEM, "1")
    expected = os.name == "posix" and os.geteuid() == 0 and bool(shutil.which("apt-get"))
    assert book.may_install() == expected
