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
    """Lint, build, then run EPUBCheck on the EPUB and structural checks on the PDF."""
    from press.check import check_pdf, run_epubcheck

    lint(c, manuscript)
    pdf_path, epub_path = _build(manuscript, out, ("pdf", "epub"))
    report = _run(lambda: run_epubcheck(epub_path))
    for line in report.errors + report.warnings:
        print(f"epubcheck {line}")
    print(f"epubcheck {len(report.errors)} errors, {len(report.warnings)} warnings")
    pdf_problems = check_pdf(pdf_path)
    for line in pdf_problems:
        print(f"pdf       {line}")
    print(f"pdf       {len(pdf_problems)} problems")
    if not report.clean or pdf_problems:
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


@task(help={"pages": "printed pages of the synthetic book (default 260; 16 with --quick)",
            "chapters": "chapters (default 40; 3 with --quick)",
            "terms": "glossary terms used throughout the text (default 50; 6 with --quick)",
            "runs": "repetitions of each build, medians reported (default 3; 1 with --quick)",
            "out": "folder for the JSON results (default: build/bench/)",
            "quick": "a small book and one run: a smoke test of the harness",
            "budget": "seconds the whole run may take; repetitions are dropped to fit",
            "seed": "seed of the synthetic text (same seed, same book)",
            "keep": "keep the temporary folder with the book and every output",
            "compare": "an earlier results JSON to compare this run with"})
def bench(c, pages=0, chapters=0, terms=0, runs=0, out=str(BUILD / "bench"), quick=False,
          budget=500, seed=1, keep=False, compare=""):
    """Time our PDF and EPUB builds of a synthetic book against pandoc + WeasyPrint."""
    from bench.run import QUICK, BenchError, Options, bench as run_bench
    from bench.synth import Spec

    base = QUICK if quick else Spec()
    spec = Spec(pages or base.pages, chapters or base.chapters, terms or base.terms, seed)
    options = Options(spec, runs or (1 if quick else 3), Path(out), float(budget), keep)
    try:
        results, _ = run_bench(options)
    except (BenchError, ValueError) as error:
        raise Exit(f"bench failed: {error}", code=1) from None
    if compare:
        bench_compare(c, compare, str(Path(out) / "latest.json"))


@task(name="bench-compare", help={"old": "an earlier results JSON",
                                  "new": "a later one (default: build/bench/latest.json)"})
def bench_compare(c, old, new=str(BUILD / "bench" / "latest.json")):
    """Compare two benchmark results, measure by measure."""
    from bench.report import compare, load

    try:
        print(compare(load(Path(old)), load(Path(new))))
    except (OSError, ValueError) as error:
        raise Exit(f"bench-compare: {error}", code=1) from None
