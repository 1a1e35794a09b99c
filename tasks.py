"""Invoke tasks: a thin shell over the press package. `invoke --list` shows them all."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from invoke import task
from invoke.exceptions import Exit

ROOT = Path(__file__).resolve().parent
MANUSCRIPT = ROOT / "manuscript"
BUILD = ROOT / "build"


def _run(step):
    """Turn the library's BuildError into a readable message and a non-zero exit."""
    from press.errors import BuildError

    try:
        return step()
    except BuildError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        count = sum(p.severity == "error" for p in error.problems)
        raise Exit(f"build failed: {count} error(s); previous outputs in build/ were kept",
                   code=1) from None


def _build(manuscript, out, formats):
    from press.pipeline import build as run_build

    return _run(lambda: run_build(Path(manuscript), Path(out), formats))


@task(help={"manuscript": "manuscript folder (default: manuscript/)",
            "out": "output folder (default: build/)"})
def build(c, manuscript=str(MANUSCRIPT), out=str(BUILD)):
    """Build the PDF and the EPUB."""
    _build(manuscript, out, ("pdf", "epub"))


@task(help={"manuscript": "manuscript folder", "out": "output folder"})
def pdf(c, manuscript=str(MANUSCRIPT), out=str(BUILD)):
    """Build the print PDF only."""
    _build(manuscript, out, ("pdf",))


@task(help={"manuscript": "manuscript folder", "out": "output folder"})
def epub(c, manuscript=str(MANUSCRIPT), out=str(BUILD)):
    """Build the EPUB only."""
    _build(manuscript, out, ("epub",))


@task(help={"manuscript": "manuscript folder"})
def lint(c, manuscript=str(MANUSCRIPT)):
    """Check the manuscript and glossary without writing anything; list every problem."""
    from press.pipeline import PROJECT, prepare

    prepared = _run(lambda: prepare(Path(manuscript), PROJECT / "styles", log=lambda *a: None))
    uses = sum(len(item.uses) for item in prepared.glossary)
    print(f"lint     no problems: {len(prepared.chapters)} parts, "
          f"{len(prepared.glossary)} glossary entries used {uses} times")


@task(help={"manuscript": "manuscript folder", "out": "output folder"})
def check(c, manuscript=str(MANUSCRIPT), out=str(BUILD)):
    """Lint, build, then EPUBCheck and DAISY Ace on the EPUB, structural checks on the PDF."""
    from press.check import check_pdf, run_ace, run_epubcheck

    lint(c, manuscript)
    pdf_path, epub_path = _build(manuscript, out, ("pdf", "epub"))
    sources = Path(out) / ".cache" / f"{epub_path.stem}.sources.json"
    report = _run(lambda: run_epubcheck(epub_path, sources))
    for line in report.errors + report.warnings:
        print(f"epubcheck {line}")
    print(f"epubcheck {len(report.errors)} errors, {len(report.warnings)} warnings")
    ace = _run(lambda: run_ace(epub_path, sources))
    for problem in ace.violations:
        print(f"ace       {problem}")
    print(f"ace       {len(ace.violations)} violations ({ace.outcome})")
    pdf_problems = check_pdf(pdf_path)
    for line in pdf_problems:
        print(f"pdf       {line}")
    print(f"pdf       {len(pdf_problems)} problems")
    if not report.clean or ace.violations or pdf_problems:
        raise Exit("check failed", code=1)


@task
def test(c):
    """Run the test suite (unit and end-to-end)."""
    c.run(f"{sys.executable} -m pytest", pty=False)


@task
def clean(c):
    """Remove build/ and caches."""
    shutil.rmtree(BUILD, ignore_errors=True)
    for cache in ROOT.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(ROOT / ".pytest_cache", ignore_errors=True)


def _say(*args):
    print(*args, flush=True)


def _warn(*args):
    print(*args, file=sys.stderr, flush=True)


@task(help={"manuscript": "manuscript folder", "out": "output folder (the site goes in OUT/html)"})
def html(c, manuscript=str(MANUSCRIPT), out=str(BUILD)):
    """Build the screen (HTML) edition only, in build/html/."""
    _build(manuscript, out, ("html",))


@task(help={"port": "port on 127.0.0.1 (0 picks a free one)", "manuscript": "manuscript folder",
            "out": "output folder (the site goes in OUT/html)"})
def serve(c, port=8000, manuscript=str(MANUSCRIPT), out=str(BUILD)):
    """Preview the book in a browser: rebuild and reload the page after every save."""
    from press.pipeline import PROJECT
    from press.serve import serve as run_serve

    _run(lambda: run_serve(Path(manuscript).resolve(), PROJECT / "styles", Path(out).resolve(),
                           int(port), log=_say, warn=_warn))


@task(help={"manuscript": "manuscript folder", "out": "output folder"})
def watch(c, manuscript=str(MANUSCRIPT), out=str(BUILD)):
    """Rebuild the PDF and the EPUB after every save; errors are printed, the watch goes on."""
    from press.live import watch as run_watch
    from press.pipeline import PROJECT

    _run(lambda: run_watch(Path(manuscript).resolve(), PROJECT / "styles", Path(out).resolve(),
                           log=_say, warn=_warn))
