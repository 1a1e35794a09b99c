"""The benchmark's warm edit loop on its own, for looking into it: times and profiles.

    python -m bench.warm MANUSCRIPT [--turns 7] [--pdf] [--profile DIR]

Copies the manuscript to a temporary folder, builds everything once, then edits one
paragraph of the middle chapter (bench.synth.edit_paragraph) and rebuilds the HTML
preview and the EPUB (and the PDF with --pdf), each a whole build() as in
`invoke bench`. Each edit leaves a text Pandoc has not seen, so every HTML rebuild
includes one Pandoc run, timed on its own. With --profile, the last turn's builds are
profiled with cProfile into DIR/<format>.prof (read them with python -m pstats).
"""
from __future__ import annotations

import argparse
import cProfile
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("manuscript", type=Path)
    parser.add_argument("--turns", type=int, default=7)
    parser.add_argument("--pdf", action="store_true", help="also rebuild the PDF each turn")
    parser.add_argument("--profile", type=Path, help="write the last turn's profiles here")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="press-warm-") as work:
        times = loop(options.manuscript, Path(work), options.turns,
                     ("html", "epub", "pdf") if options.pdf else ("html", "epub"),
                     options.profile)
    for name, values in times.items():
        print(f"{name:<18} median {statistics.median(values):6.3f} s   "
              + " ".join(f"{v:.3f}" for v in values))


def loop(manuscript: Path, work: Path, turns: int, formats, profile: Path | None) -> dict:
    from bench.synth import edit_paragraph
    from press.pipeline import build as run_build
    from press.source import convert
    from press.workspace import Workspace

    copy, out = work / "manuscript", work / "out"
    ws = Workspace(out, warm=True)

    def build(manuscript, out, formats, log):
        run_build(ws, manuscript, formats, log=log)

    shutil.copytree(manuscript, copy)
    chapters = sorted((copy / "chapters").glob("*.md"))
    chapter = chapters[len(chapters) // 2]
    pandoc = PandocClock(convert)
    build(copy, out, formats=("pdf", "epub", "html"), log=quiet)
    times: dict[str, list[float]] = {f: [] for f in formats}
    times["pandoc (in html)"] = []
    for turn in range(turns):
        edit_paragraph(chapter, turn)
        # A text never converted before: a trailing blank line more each turn.
        chapter.write_text(chapter.read_text("utf-8").rstrip("\n") + "\n" * (turn + 2), "utf-8")
        for fmt in formats:
            profiler = cProfile.Profile() if profile and turn == turns - 1 else None
            pandoc.seconds = 0.0
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            build(copy, out, formats=(fmt,), log=quiet)
            if profiler:
                profiler.disable()
                profile.mkdir(parents=True, exist_ok=True)
                profiler.dump_stats(profile / f"{fmt}.prof")
            times[fmt].append(time.perf_counter() - started)
            if fmt == "html":
                times["pandoc (in html)"].append(pandoc.seconds)
    pandoc.restore()
    ws.close()
    return times


class PandocClock:
    """Times the Pandoc runs of the builds (press.source.convert.run_pandoc)."""

    def __init__(self, convert):
        self.convert, self.original, self.seconds = convert, convert.run_pandoc, 0.0

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
        convert.run_pandoc = timed

    def restore(self) -> None:
        self.convert.run_pandoc = self.original


def quiet(*_args, **_kwargs) -> None:
    pass


if __name__ == "__main__":
    main()
