"""`invoke bench`: time our builds of a synthetic book against a naive Pandoc + WeasyPrint
baseline on the same text, and write the results as JSON to compare between commits.

Each measured build is a fresh process, timed from outside (interpreter start and imports
included, as for `invoke pdf`), with its peak memory taken from the kernel's account of
that process and the processes it waited for (wait4). Builds are interleaved round by
round, ours next to the baseline, so that a busy machine weighs on both alike.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .report import SCHEMA, Measure, table, write_results
from .synth import Spec, Synthetic, synthesize

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "build" / "bench"
QUICK = Spec(pages=16, chapters=3, terms=6)

# The goals of issues #6 and #15, each a ceiling on a median.
TARGETS = {"pdf_ratio": 1.0, "epub_ratio": 1.0, "edit_html": 0.3, "edit_epub": 0.3,
           "edit_pdf": 1.5, "pdf_cold_mem": 300.0, "pdf_cpu_ratio": 1.2}
# A book of a few long chapters gives the parallel layout little to share out (#15).
FEW_CHAPTERS = 2
FEW_CHAPTERS_PDF_RATIO = 1.3


def targets(spec: Spec) -> dict[str, float]:
    """The ceilings for this shape of book: the default length in a few long chapters may
    take a little longer than naive."""
    if spec.chapters <= FEW_CHAPTERS and spec.pages == Spec().pages:
        return {**TARGETS, "pdf_ratio": FEW_CHAPTERS_PDF_RATIO}
    return TARGETS


class BenchError(Exception):
    """A measured process failed; the message says which and shows the end of its output."""


@dataclass(frozen=True)
class Options:
    spec: Spec = Spec()
    runs: int = 3
    out: Path = RESULTS
    budget: float = 500.0  # seconds; later repetitions are dropped to stay within it
    keep: bool = False  # keep the temporary folder (synthetic book and every output)


@dataclass
class Run:
    """One finished process: wall time, peak memory and what it printed as JSON."""

    seconds: float
    rss_mb: float  # the peak of the largest single process (wait4)
    result: dict = field(default_factory=dict)
    tree_mb: float = 0.0  # the peak of all its processes together (workers included)
    cpu: float = 0.0  # user + system seconds of the process and every process it waited for


class TreeMemory:
    """Samples the memory of a process and all its descendants every 50 ms: the build's
    typesetting workers count too. Proportional set size (PSS) is summed, so pages the
    processes share are counted once; VmRSS where PSS is not available."""

    def __init__(self, pid: int):
        import threading

        self.pid, self.peak_kb = pid, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.wait(0.05):
            self.peak_kb = max(self.peak_kb, sum(map(_memory_kb, _tree(self.pid))))

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        return self.peak_kb / 1024


def _tree(root: int) -> list[int]:
    """The process and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _memory_kb(pid: int) -> int:
    for name, field_name in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
        try:
            for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
                if line.startswith(field_name):
                    return int(line.split()[1])
        except (OSError, ValueError):
            continue
    return 0


def run_process(args: list[str], cwd: Path, pythonpath: Path = PROJECT) -> Run:
    """Start a process, wait for it with wait4 to learn its peak memory, fail loudly."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=err)
        memory = TreeMemory(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        tree_mb = memory.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode != 0:
        tail = "\n".join((stderr or stdout).strip().splitlines()[-15:])
        raise BenchError(f"`{' '.join(map(str, args[:4]))} ...` exited with "
                         f"{process.returncode}:\n{tail}")
    last = stdout.strip().splitlines()[-1:] if stdout.strip() else []
    result = _json(last[0]) if last else {}
    # wait4 counts the children the process waited for (workers, Pandoc) in its times.
    return Run(seconds, usage.ru_maxrss / 1024, result, max(tree_mb, usage.ru_maxrss / 1024),
               usage.ru_utime + usage.ru_stime)


def _json(line: str) -> dict:
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def pdf_pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


class Bench:
    """The workspace (a temporary folder) and every sample taken so far."""

    def __init__(self, options: Options, log=print):
        self.options, self.log = options, log
        self.work = Path(tempfile.mkdtemp(prefix="press-bench-"))
        self.started = time.monotonic()
        self.samples: dict[str, list[float]] = {}
        self.book: Synthetic | None = None
        self.edits: dict = {}  # what the warm process reported
        self.edited = ""  # the chapter it edited

    def add(self, key: str, value: float) -> None:
        self.samples.setdefault(key, []).append(value)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def child(self, *args: str) -> Run:
        return run_process([sys.executable, "-m", "bench.child", *args], self.work)

    # The synthetic book and the naive baseline's single Markdown file.

    def prepare(self) -> None:
        self.book = synthesize(self.work / "manuscript", self.options.spec)
        naive = self.work / "naive"
        naive.mkdir()
        (naive / "book.md").write_text(naive_markdown(self.book.root), "utf-8")
        self.log(f"bench    synthetic book: {len(self.book.chapters)} chapters, "
                 f"{self.book.words} words, {len(self.book.terms)} glossary terms "
                 f"in {self.work}")

    # One sample of each kind of build.

    def ours(self, fmt: str, out: Path, key: str) -> float:
        run = self.child("build", fmt, str(self.book.root), str(out))
        self.add(f"{key}_s", run.seconds)
        self.add(f"{key}_rss", run.rss_mb)
        self.add(f"{key}_mem", run.tree_mb)
        self.add(f"{key}_cpu", run.cpu)
        if key == "pdf_cold":
            self.add(f"{key}_pages", pdf_pages(out / "synthetic-book.pdf"))
        return run.seconds

    def naive_pdf(self, n: int) -> float:
        """`pandoc -s` to standalone HTML, then WeasyPrint to PDF, timed together."""
        folder = self.work / "naive"
        html, pdf = folder / f"book-{n}.html", folder / f"book-{n}.pdf"
        first = run_process([*pandoc(), "-s", "-o", str(html), "book.md"], folder)
        second = run_process([sys.executable, "-m", "weasyprint", str(html), str(pdf)], folder)
        self.add("naive_pdf_s", first.seconds + second.seconds)
        self.add("naive_pdf_cpu", first.cpu + second.cpu)
        self.add("naive_pdf_rss", max(first.rss_mb, second.rss_mb))
        self.add("naive_pdf_mem", max(first.tree_mb, second.tree_mb))
        self.add("naive_pdf_pages", pdf_pages(pdf))
        return first.seconds + second.seconds

    def naive_epub(self, n: int) -> float:
        folder = self.work / "naive"
        run = run_process([*pandoc(), "-o", str(folder / f"book-{n}.epub"), "book.md"], folder)
        self.add("naive_epub_s", run.seconds)
        self.add("naive_epub_cpu", run.cpu)
        self.add("naive_epub_rss", run.rss_mb)
        return run.seconds

    def one_document(self, n: int) -> float:
        """WeasyPrint alone on our own print HTML of the whole book, one document in one
        process, as its command line does it (tagged like ours): the limit the part-by-part
        layout is measured against."""
        folder = self.work / "whole"
        folder.mkdir(exist_ok=True)
        html, pdf = folder / "book.html", folder / f"book-{n}.pdf"
        if not html.is_file():
            self.child("print-html", str(self.book.root), str(html))
        run = run_process([sys.executable, "-m", "weasyprint", "-q", "--pdf-variant", "pdf/ua-1",
                           "-u", self.book.root.as_uri() + "/", str(html), str(pdf)], folder)
        self.add("onedoc_pdf_s", run.seconds)
        self.add("onedoc_pdf_cpu", run.cpu)
        return run.seconds

    def round(self, n: int) -> None:
        """One sample of every build, ours beside the baseline. The warm build reuses the
        output folder, and so the cache, of the cold build just before it."""
        work = self.work
        groups = {
            "PDF": [("pdf_cold", lambda: self.ours("pdf", work / f"pdf-{n}", "pdf_cold")),
                    ("naive_pdf", lambda: self.naive_pdf(n)),
                    ("onedoc_pdf", lambda: self.one_document(n)),
                    ("pdf_warm", lambda: self.ours("pdf", work / f"pdf-{n}", "pdf_warm"))],
            "EPUB": [("epub_cold", lambda: self.ours("epub", work / f"epub-{n}", "epub_cold")),
                     ("naive_epub", lambda: self.naive_epub(n)),
                     ("epub_warm", lambda: self.ours("epub", work / f"epub-{n}", "epub_warm"))]}
        for name, jobs in groups.items():
            # A group runs whole or not at all, so that every ratio pairs samples of a round.
            if n > 1 and not self.fits([key for key, _ in jobs]):
                self.log(f"bench    round {n}: {name} builds left out to finish within "
                         f"--budget {self.options.budget:.0f} s")
                continue
            for key, job in jobs:
                took = job()
                self.log(f"bench    round {n}/{self.options.runs}: {key:<10} {took:7.2f} s")

    def fits(self, keys: list[str]) -> bool:
        """Whether one more sample of these builds leaves time for the incremental measure."""
        cost = sum(statistics.median(self.samples[f"{key}_s"]) for key in keys)
        return self.elapsed() + cost + self.reserve() <= self.options.budget

    def reserve(self) -> float:
        """What the incremental measure needs at the least: one build and one edit cycle."""
        typical = sum(statistics.median(self.samples.get(k, [0])) for k in
                      ("pdf_warm_s", "epub_warm_s"))
        return 2 * typical

    # The warm process: build once, edit a paragraph, rebuild.

    def incremental(self) -> None:
        copy = self.work / "edited" / "manuscript"
        shutil.copytree(self.book.root, copy)
        chapter = copy / self.book.chapters[len(self.book.chapters) // 2].relative_to(
            self.book.root)
        self.edited = chapter.relative_to(copy).as_posix()
        seconds = max(1.0, self.options.budget - self.elapsed())
        self.log(f"bench    warm process: build once, then edit {chapter.name} and rebuild, "
                 f"up to {self.options.runs} times")
        run = self.child("incremental", str(copy), str(self.work / "edited" / "out"),
                         str(chapter), str(self.options.runs), f"{seconds:.1f}")
        self.edits = run.result
        for fmt in ("html", "epub", "pdf"):
            for value in run.result.get(fmt, []):
                self.add(f"edit_{fmt}", value)
        before = run.result["pages_before"]
        for after in run.result["pages_after"]:
            self.add("edit_same_pages", int(after == before))
        self.add("edit_rss", run.rss_mb)
        self.add("edit_mem", run.tree_mb)

    def measures(self) -> list[Measure]:
        s = self.samples
        html_note = self.edits.get("html_note")
        rows = [
            ("pdf_cold_s", "PDF, ours, cold (empty cache)", "s"),
            ("pdf_warm_s", "PDF, ours, warm (cache of a previous build)", "s"),
            ("naive_pdf_s", "PDF, naive: pandoc -s + WeasyPrint", "s"),
            ("onedoc_pdf_s", "PDF, WeasyPrint alone on our print HTML, one document", "s"),
            ("pdf_ratio", "PDF ratio ours cold / naive", "ratio"),
            ("pdf_cold_cpu", "CPU, PDF, ours, cold, all processes", "s"),
            ("naive_pdf_cpu", "CPU, PDF, naive", "s"),
            ("onedoc_pdf_cpu", "CPU, PDF, WeasyPrint alone on our print HTML", "s"),
            ("pdf_cpu_ratio", "CPU ratio ours cold / WeasyPrint alone on our HTML", "ratio"),
            ("pdf_pages_per_cpu", "pages per CPU-second, PDF, ours, cold", "rate"),
            ("naive_pages_per_cpu", "pages per CPU-second, PDF, naive", "rate"),
            ("epub_cold_s", "EPUB, ours, cold (empty cache)", "s"),
            ("epub_warm_s", "EPUB, ours, warm (cache of a previous build)", "s"),
            ("naive_epub_s", "EPUB, naive: pandoc", "s"),
            ("epub_ratio", "EPUB ratio ours cold / naive", "ratio"),
            ("epub_cold_cpu", "CPU, EPUB, ours, cold, all processes", "s"),
            ("naive_epub_cpu", "CPU, EPUB, naive", "s"),
            ("pdf_cold_mem", "peak memory, PDF, ours, cold, all processes", "MB"),
            ("pdf_cold_rss", "peak RSS, PDF, ours, cold, largest process", "MB"),
            ("pdf_warm_mem", "peak memory, PDF, ours, warm, all processes", "MB"),
            ("naive_pdf_mem", "peak memory, PDF, naive", "MB"),
            ("epub_cold_rss", "peak RSS, EPUB, ours, cold", "MB"),
            ("naive_epub_rss", "peak RSS, EPUB, naive", "MB"),
            ("pdf_cold_pages", "pages, PDF, ours", "pages"),
            ("naive_pdf_pages", "pages, PDF, naive", "pages"),
            ("edit_html", "after one edit: HTML preview", "s"),
            ("edit_epub", "after one edit: EPUB", "s"),
            ("edit_pdf", "after one edit: PDF", "s"),
            ("edit_same_pages", "after one edit: PDF page count unchanged (1 = yes)", "count"),
            ("edit_mem", "peak memory, warm process (build + edits), all processes", "MB"),
        ]
        ratios = {"pdf_ratio": paired(s.get("pdf_cold_s", []), s.get("naive_pdf_s", [])),
                  "epub_ratio": paired(s.get("epub_cold_s", []), s.get("naive_epub_s", [])),
                  "pdf_cpu_ratio": paired(s.get("pdf_cold_cpu", []), s.get("onedoc_pdf_cpu", [])),
                  "pdf_pages_per_cpu": paired(s.get("pdf_cold_pages", []),
                                              s.get("pdf_cold_cpu", [])),
                  "naive_pages_per_cpu": paired(s.get("naive_pdf_pages", []),
                                                s.get("naive_pdf_cpu", []))}
        ceilings = targets(self.options.spec)
        return [Measure(key, label, unit, ratios.get(key, s.get(key, [])), ceilings.get(key),
                        html_note if key == "edit_html" else None)
                for key, label, unit in rows]

    def cleanup(self) -> None:
        if self.options.keep:
            self.log(f"bench    kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def paired(ours: list[float], naive: list[float]) -> list[float]:
    """Ratios of the samples taken in the same round."""
    return [a / b for a, b in zip(ours, naive) if b > 0]


def pandoc() -> list[str]:
    """The Pandoc that pypandoc-binary ships, reading the same Markdown dialect we do."""
    import pypandoc

    from press.source.convert import FORMAT

    return [pypandoc.get_pandoc_path(), "-f", FORMAT.split("+")[0],
            "--metadata", "title=Signals of the Coast", "--metadata", "lang=en"]


def naive_markdown(manuscript: Path) -> str:
    """Every part in reading order in one file, front matter replaced by a level-1 title:
    the same text our build gets, without the glossary (the baseline has none)."""
    from press.source.load import load_book

    book = load_book(manuscript)
    return "\n\n".join(f"# {part.title}\n\n{part.markdown.strip()}" for part in book.parts) + "\n"


def machine() -> dict:
    import pypandoc
    import weasyprint

    return {"cpu_count": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "weasyprint": weasyprint.__version__,
            "pandoc": pypandoc.get_pandoc_version(), "load_average": list(os.getloadavg())}


def git_state() -> tuple[str | None, bool]:
    """The commit measured, and whether the work tree had uncommitted changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT, check=True,
                                capture_output=True, text=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain"], cwd=PROJECT, check=True,
                                capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None, False
    return commit, bool(status.strip())


def results_at(commit: str, options: Options, log=print) -> Path:
    """Run the same bench at another commit, in a throw-away worktree of this repository,
    and return its results JSON (under options.out/at-<commit>/)."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--verify", f"{commit}^{{commit}}"],
                             cwd=PROJECT, check=True, capture_output=True,
                             text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        raise BenchError(f"{commit!r} is neither a results JSON nor a commit") from None
    out = Path(options.out) / f"at-{sha[:10]}"
    tree = Path(tempfile.mkdtemp(prefix="press-bench-at-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), sha], cwd=PROJECT,
                   check=True, capture_output=True)
    try:
        spec = options.spec
        log(f"bench    the same bench at {sha[:10]}, in {tree}")
        run_process([sys.executable, "-m", "invoke", "bench", "--pages", str(spec.pages),
                     "--chapters", str(spec.chapters), "--terms", str(spec.terms),
                     "--seed", str(spec.seed), "--runs", str(options.runs),
                     "--budget", str(round(options.budget)), "--out", str(out)], tree,
                    pythonpath=tree)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=PROJECT,
                       capture_output=True)
        shutil.rmtree(tree.parent, ignore_errors=True)
    return out / "latest.json"


def bench(options: Options = Options(), log=print) -> tuple[dict, Path]:
    """Run the whole benchmark; print the table; return the results and the JSON path."""
    now = datetime.now(timezone.utc)
    commit, dirty = git_state()
    info = machine()
    b = Bench(options, log)
    try:
        b.prepare()
        for n in range(1, options.runs + 1):
            b.round(n)
        b.incremental()
    finally:
        b.cleanup()
    measures = b.measures()
    info["load_average_after"] = list(os.getloadavg())
    results = {"schema": SCHEMA, "timestamp": now.isoformat(timespec="seconds"),
               "commit": commit, "dirty": dirty, "machine": info,
               "parameters": {**asdict(options.spec), "runs": options.runs,
                              "budget_s": options.budget},
               "book": {"chapters": len(b.book.chapters), "words": b.book.words,
                        "terms": len(b.book.terms)},
               "incremental": {"chapter": b.edited, **{
                   k: v for k, v in b.edits.items()
                   if k in ("pages_before", "pages_after", "edited_line")}},
               "seconds": round(b.elapsed(), 1),
               "measures": {m.key: m.as_json() for m in measures}}
    path = write_results(results, options.out, now.strftime("%Y%m%d-%H%M%S"))
    log("")
    log(table(measures))
    log("")
    if options.spec.pages != Spec().pages or (
            options.spec.chapters != Spec().chapters
            and options.spec.chapters > FEW_CHAPTERS):
        log("note: the targets are set for the default book (about 260 pages) and for "
            f"its text in {FEW_CHAPTERS} long chapters (--chapters {FEW_CHAPTERS})")
    log(f"bench    {b.elapsed():.0f} s on {info['cpu_count']} cores (load average "
        f"{info['load_average'][0]:.1f} before, {info['load_average_after'][0]:.1f} after); "
        f"results in {path}")
    return results, path
