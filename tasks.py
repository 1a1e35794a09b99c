"""Invoke tasks: a thin shell over the press package. `invoke --list` shows them all."""
from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from invoke import Argument, Task, task
from invoke.exceptions import Exit, ParseError

ROOT = Path(__file__).resolve().parent
MANUSCRIPT = ROOT / "manuscript"
BUILD = ROOT / "build"


class Number(Argument):
    """An INT option that answers a word with a sentence, not a traceback."""

    def set_value(self, value, cast=True):
        try:
            super().set_value(value, cast)
        except ValueError:
            raise ParseError(f"--{self.name} takes a whole number, not '{value}'") from None


class PressTask(Task):
    """Our tasks' options: -m is --manuscript only, and a number option says when it is
    given a word."""

    def arg_opts(self, name, default, taken_names):
        return super().arg_opts(name, default, set(taken_names) | {"m"}
                                if name != "manuscript" else taken_names)

    def get_arguments(self, ignore_unknown_help=None):
        return [Number(**vars_of(a)) if a.kind is int else a
                for a in super().get_arguments(ignore_unknown_help)]


def vars_of(argument: Argument) -> dict:
    """What an Argument was made with, to make it again as another kind."""
    return {"names": argument.names, "kind": argument.kind, "default": argument.default,
            "help": argument.help, "positional": argument.positional,
            "optional": argument.optional, "incrementable": argument.incrementable,
            "attr_name": argument.attr_name}


def _run(step, out=None):
    """Turn the library's BuildError into a readable message and a non-zero exit; any
    other error becomes one short coded problem (E001), never a traceback. `out`, for a
    build, is the output folder whose previous files the failure left alone."""
    from press.problems import BuildError, counted, in_order, unexpected

    try:
        return step()
    except BuildError as error:
        problems = error.problems
    except Exception as error:  # noqa: BLE001 - the CLI's last line of defence
        if os.environ.get("PRESS_TRACEBACK"):
            raise
        problems = [unexpected(error)]
    for problem in in_order(problems):
        print(problem, file=sys.stderr)
    count = sum(p.severity == "error" for p in problems)
    kept = f"; previous outputs in {_shown(out)} were kept" if out else ""
    raise Exit(f"build failed: {counted(count, 'error')}{kept}", code=1)


def _shown(folder) -> str:
    """A folder as the user would name it: relative to the project when inside it."""
    path = Path(folder).resolve()
    return f"{path.relative_to(ROOT)}/" if path.is_relative_to(ROOT) else f"{path}/"


def _build(manuscript, out, formats):
    from press.pipeline import build as run_build
    from press.workspace import Workspace

    with Workspace(Path(out)) as ws:
        return _run(lambda: run_build(ws, Path(manuscript), formats), out)


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
    """Check the manuscript, glossary and prose without writing anything; list every finding.

    Exits non-zero when any finding is an error; warnings alone pass.
    """
    from press.lint.run import format_problem, lint_manuscript
    from press.pipeline import PROJECT

    report = _run(lambda: lint_manuscript(Path(manuscript), PROJECT / "styles"))
    for problem in report.problems:
        print(format_problem(problem))
    from press.problems import counted

    read = f"{counted(report.files, 'Markdown file')} read" + \
        ("" if report.spelling else ", spelling not checked: no dictionary for the language")
    if report.problems:
        files = len({str(p.path) for p in report.problems})
        print(f"lint     {counted(report.errors, 'error')}, "
              f"{counted(report.warnings, 'warning')} in {counted(files, 'file')} ({read})")
    else:
        print(f"lint     no problems ({read})")
    if report.errors:
        raise Exit("lint failed", code=1)


@task(help={"manuscript": "manuscript folder", "out": "output folder"})
def check(c, manuscript=str(MANUSCRIPT), out=str(BUILD)):
    """Lint, build, then EPUBCheck and DAISY Ace on the EPUB, structural checks and the
    typographic preflight (stranded words, hyphenation, page depths) on the PDF, and a
    printer's preflight of the print-ready PDF (built too)."""
    from press.pipeline import check as run_check
    from press.workspace import Workspace

    lint(c, manuscript)
    with Workspace(Path(out)) as ws:
        checked = _run(lambda: run_check(ws, Path(manuscript)), out)
    for checker, line in checked.lines:
        print(f"{checker:<10} {line}")
    if not checked.ok:
        raise Exit("check failed", code=1)


@task(name="print-ready", klass=PressTask, help={
    "manuscript": "manuscript folder", "out": "output folder",
    "standard": "x-4 (default) or x-1a",
    "marks": "add crop marks outside the bleed (for an offset house; not for KDP or IngramSpark)",
    "multiple": "pad the page count with blank pages to a multiple of this (default 2; 4 for "
                "some printers)"})
def print_ready(c, manuscript=str(MANUSCRIPT), out=str(BUILD), standard="x-4", marks=False,
                multiple=2):
    """Build OUT/<slug>-print.pdf for a printer: PDF/X with an output intent, 0.125 in bleed,
    trim and bleed boxes, K-only text, no links, an even page count."""
    from press.pdf.printready import Settings
    from press.pipeline import build_print_ready

    from press.workspace import Workspace

    settings = Settings(standard=standard.lower(), marks=marks, multiple=int(multiple))
    with Workspace(Path(out)) as ws:
        return _run(lambda: build_print_ready(ws, Path(manuscript), settings), out)


def _checkers_installed() -> None:
    """The end-to-end tests run DAISY Ace from node_modules/. `./book` installs it; an
    environment made by hand (`pip install -e '.[dev]'`) has not yet, so do it here."""
    import book

    if book.node_installed():
        return
    try:
        book.install_node()
    except (book.SetupFailed, OSError) as failed:
        raise Exit(f"{failed}\nbook: the tests need DAISY Ace: install Node.js 20+ and npm "
                   "(README, Prerequisites), then run ./book setup", code=1) from None


@task
def test(c):
    """Run the test suite (unit and end-to-end); pytest's own options go after `--`.

    `invoke test -- -k serve -x`, or `./book test -k serve -x`.
    """
    _checkers_installed()
    c.run(shlex.join([sys.executable, "-m", "pytest", *shlex.split(c.remainder)]), pty=False)


# What `invoke clean` leaves alone: the set-up (./book makes them), not caches of ours.
INSTALLED = {".venv", "venv", "node_modules", ".git"}


@task(help={"update": "rewrite tests/golden/ from the current outputs (after reviewing them)"})
def golden(c, update=False):
    """Compare the tiny book's key outputs (OPF, nav, a chapter, a print part) with
    tests/golden/; with --update, accept the current ones."""
    env = {"PRESS_GOLDEN_UPDATE": "1"} if update else {}
    c.run(shlex.join([sys.executable, "-m", "pytest", "-q", "tests/test_golden.py"]), env=env,
          pty=False)


@task
def clean(c):
    """Remove build/ and caches (not the set-up: .venv/ and node_modules/ stay)."""
    shutil.rmtree(BUILD, ignore_errors=True)
    for folder, subfolders, _ in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if name not in INSTALLED]
        if Path(folder).name == "__pycache__":
            shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(ROOT / ".pytest_cache", ignore_errors=True)


def _say(*args):
    print(*args, flush=True)


def _warn(*args):
    print(*args, file=sys.stderr, flush=True)


@task(help={"manuscript": "manuscript folder", "out": "output folder (the site goes in OUT/html)"})
def html(c, manuscript=str(MANUSCRIPT), out=str(BUILD)):
    """Build the screen (HTML) edition only, in build/html/."""
    _build(manuscript, out, ("html",))


@task(klass=PressTask, help={"port": "port on 127.0.0.1 (default 8000; 0 picks a free one)",
            "manuscript": "manuscript folder",
            "out": "output folder (the site goes in OUT/html)"})
def serve(c, port=8000, manuscript=str(MANUSCRIPT), out=str(BUILD)):
    """Preview the book in a browser: rebuild and reload the page after every save."""
    from press.pipeline import PROJECT
    from press.live.serve import serve as run_serve

    _run(lambda: run_serve(Path(manuscript).resolve(), PROJECT / "styles", Path(out).resolve(),
                           int(port), log=_say, warn=_warn))


@task(help={"manuscript": "manuscript folder", "out": "output folder"})
def watch(c, manuscript=str(MANUSCRIPT), out=str(BUILD)):
    """Rebuild the PDF and the EPUB after every save; errors are printed, the watch goes on."""
    from press.live.loop import watch as run_watch
    from press.pipeline import PROJECT

    _run(lambda: run_watch(Path(manuscript).resolve(), PROJECT / "styles", Path(out).resolve(),
                           log=_say, warn=_warn))


@task(klass=PressTask, help={"title": "the chapter's title (quote it)",
            "position": "its place among the chapters, 1 = first (default 0: after the last)",
            "manuscript": "manuscript folder"})
def new_chapter(c, title, position=0, manuscript=str(MANUSCRIPT)):
    """Create chapters/NN-slug.md with front matter and list it in book.yaml.

    NN is the new chapter's position; other chapters keep their file names. book.yaml
    gains one line and is otherwise unchanged, comments included. Nothing is changed
    when the file exists, the name is taken or the position is out of range.
    """
    from press.problems import BuildError
    from press.tools.new_chapter import new_chapter as create

    try:
        made = create(Path(manuscript), title, position or None)
    except BuildError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        raise Exit("new-chapter: nothing was changed", code=1) from None
    print(f"new      {made.entry}: chapter {made.position} of {made.count}, "
          "listed in book.yaml")


@task(help={"folder": "the new manuscript folder (it must not hold files yet)",
            "title": "the book's title (quote it)",
            "creator": "the author, as the title page names them (default: Anonymous)",
            "language": "the book's language, a BCP 47 tag (default en; en-GB spells the "
                        "British way)"})
def new_book(c, folder, title, creator="", language="en"):
    """Write a minimal manuscript that builds: book.yaml with a fresh identifier, one
    chapter and an empty glossary. Build it with --manuscript FOLDER."""
    from press.problems import BuildError
    from press.tools.new_book import new_book as create

    try:
        made = create(Path(folder), title, creator, language)
    except BuildError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        raise Exit("new-book: nothing was written", code=1) from None
    print(f"new      {_shown(made.root)}: {', '.join(made.files)}; identifier "
          f"{made.identifier}")
    print(f"next     invoke build --manuscript {shlex.quote(folder)}")


@task(help={"manuscript": "manuscript folder"})
def stats(c, manuscript=str(MANUSCRIPT)):
    """Words, reading time and printed pages of each part and of the whole book.

    Pages come from the real print layout (as `invoke pdf` makes it); a part's pages run
    up to the next part's first page, so the blank verso before a chapter opening is
    counted with the part before it. Reading time assumes 238 words a minute.
    """
    from press.pipeline import PROJECT
    from press.tools.stats import book_stats, table
    from press.workspace import Workspace

    with Workspace(None) as ws:
        print(table(_run(lambda: book_stats(ws, Path(manuscript), PROJECT / "styles"))))


@task(klass=PressTask, help={
    "pages": "printed pages of the synthetic book (default 260; 16 with --quick)",
            "chapters": "chapters (default 40; 3 with --quick)",
            "terms": "glossary terms used throughout the text (default 50; 6 with --quick)",
            "runs": "repetitions of each build, medians reported (default 3; 1 with --quick)",
            "out": "folder for the JSON results (default: build/bench/)",
            "quick": "a small book and one run: a smoke test of the harness",
            "budget": "seconds the whole run may take; repetitions are dropped to fit",
            "seed": "seed of the synthetic text (same seed, same book)",
            "keep": "keep the temporary folder with the book and every output",
            "compare": "an earlier results JSON, or a commit to run the same bench at, "
                       "to compare this run with"})
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
    if compare and not Path(compare).is_file():
        from bench.run import results_at

        try:
            compare = str(results_at(compare, options))
        except BenchError as error:
            raise Exit(f"bench failed at {compare}: {error}", code=1) from None
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


@task(name="import", help={
    "source": "the book to bring in: a Markdown file, or an mdBook, Quarto, bookdown or "
              "Pandoc book's folder",
    "dir": "the new manuscript's folder (new, empty, or an earlier import of the same book)",
    "from": "the kind of source: single, mdbook, quarto, bookdown or pandoc (default: "
            "guessed from its files)"})
def import_(c, source, dir, from_=""):
    """Lay an existing book out as a press manuscript in DIR, then report what was done.

    Every word and construct is kept; what press cannot take is left in the text and
    listed with its source file and line. Importing an unchanged source again writes the
    same bytes (the identifier is kept).
    """
    from press.problems import BuildError, unexpected
    from press.tools.importer import import_book

    try:
        report = import_book(Path(source), Path(dir), from_ or None)
    except BuildError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        raise Exit("import: nothing was written", code=1) from None
    except Exception as error:  # noqa: BLE001 - the CLI's last line of defence
        if os.environ.get("PRESS_TRACEBACK"):
            raise
        print(unexpected(error), file=sys.stderr)
        raise Exit("import: nothing was written", code=1) from None
    for line in report.lines():
        print(line)
    print(f"next     invoke build --manuscript {shlex.quote(str(dir))}")
