"""What one benchmark process does; run as `python -m bench.child ...` by bench/run.py.

Every measured build gets a fresh interpreter, so its time includes starting Python and
importing the pipeline (as `invoke pdf` does) and its peak memory is its own. The one
exception is the incremental measure, which is about a process that stays warm.

    python -m bench.child build FORMAT MANUSCRIPT OUT
    python -m bench.child incremental MANUSCRIPT OUT CHAPTER EDITS SECONDS
    python -m bench.child print-html MANUSCRIPT FILE

The last line of standard output is a JSON object with what was measured.
"""
from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def quiet(*_args, **_kwargs) -> None:
    """The pipeline's progress lines would only disturb the timing and the output."""


def build(fmt: str, manuscript: Path, out: Path) -> dict:
    from press.pipeline import build_once

    started = time.perf_counter()
    build_once(manuscript, out, formats=(fmt,), log=quiet)
    return {"seconds": time.perf_counter() - started}


def whole_print_html(manuscript: Path, target: Path) -> dict:
    """The print edition's HTML as one document, style sheets linked, for WeasyPrint alone."""
    from press.pipeline import prepare, print_html
    from press.workspace import Workspace

    styles = Path(__file__).resolve().parent.parent / "styles"
    with Workspace(None) as ws:
        p = prepare(ws, manuscript, styles, log=quiet)
        target.write_text(print_html(p, p.glossary), encoding="utf-8")
    return {}


def html_edition() -> str | None:
    """Why the HTML preview cannot be measured, or None when the pipeline offers it."""
    from press import pipeline

    if not hasattr(pipeline, "make_html"):
        return "n/a (no HTML edition yet)"
    return None


def timed_build(ws, manuscript: Path, fmt: str) -> tuple[float, list[Path]]:
    from press.pipeline import build as run_build

    started = time.perf_counter()
    outputs = run_build(ws, manuscript, formats=(fmt,), log=quiet)
    return time.perf_counter() - started, list(outputs or [])


def pdf_pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def incremental(manuscript: Path, out: Path, chapter: Path, edits: int, seconds: float) -> dict:
    """Build once, then edit one paragraph and time each output's rebuild, `edits` times
    or until `seconds` have passed (always at least once)."""
    from press.workspace import Workspace

    with Workspace(out, warm=True) as ws:  # the one warm process of an editor's loop
        return edit_loop(ws, manuscript, chapter, edits, seconds)


def edit_loop(ws, manuscript: Path, chapter: Path, edits: int, seconds: float) -> dict:
    from bench.synth import edit_paragraph
    from press.pipeline import build as run_build

    deadline = time.monotonic() + seconds
    html_note = html_edition()
    formats = ("pdf", "epub") if html_note else ("pdf", "epub", "html")
    outputs = run_build(ws, manuscript, formats=formats, log=quiet)
    outputs = [Path(p) for p in outputs or []]
    if not html_note and all(p.suffix in (".pdf", ".epub") for p in outputs):
        html_note = "n/a (build() made no HTML edition)"
    pages = pdf_pages(next(p for p in outputs if p.suffix == ".pdf"))
    result = {"html": [], "epub": [], "pdf": [], "pages_before": pages, "pages_after": [],
              "html_note": html_note, "edited_line": None}
    last = 0.0
    for turn in range(edits):
        if turn and time.monotonic() + last > deadline:
            break
        started = time.monotonic()
        result["edited_line"] = edit_paragraph(chapter, turn)
        if not html_note:
            result["html"].append(timed_build(ws, manuscript, "html")[0])
        result["epub"].append(timed_build(ws, manuscript, "epub")[0])
        took, made = timed_build(ws, manuscript, "pdf")
        result["pdf"].append(took)
        result["pages_after"].append(pdf_pages(made[0]))
        last = time.monotonic() - started
    return result


def main(argv: list[str]) -> None:
    command, *args = argv
    if command == "build":
        result = build(args[0], Path(args[1]), Path(args[2]))
    elif command == "incremental":
        result = incremental(Path(args[0]), Path(args[1]), Path(args[2]), int(args[3]),
                             float(args[4]))
    elif command == "print-html":
        result = whole_print_html(Path(args[0]), Path(args[1]))
    else:
        raise SystemExit(f"unknown command {command!r}")
    result["self_max_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
