"""Typesetting workers: processes that lay out and write the print edition's parts.

WeasyPrint's laid-out pages hold C objects and cannot leave the process that made them,
so each worker does both jobs for a part: lay it out, report what the book needs to
know at once (its page count, where its anchors and page texts fall), then write the
part as a tagged PDF and send the bytes (press.pdf.bind puts the parts together).

A part is laid out without knowing where in the book it falls: its folios are the only
thing that depends on the parts before it, and they are set after layout, by renumbering
its pages (press.pdf.weasy.refolio). So every chapter can be laid out at once, on any
core; a worker whose part's first folio is not known yet when its layout ends waits for
a Folio message (the parts before it are then being laid out on the other cores).

A worker imports WeasyPrint and loads the fonts once, then serves parts until its input
closes; the style sheets are parsed once per worker and kept while they are unchanged.
Messages are pickled and length-prefixed on the worker's standard input and output.
"""
from __future__ import annotations

import atexit
import ctypes
import gc
import os
import pickle
import selectors
import struct
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from press.problems import BuildError
from press.util.cores import usable_cores

HEADER = struct.Struct("!Q")


@dataclass(frozen=True)
class Job:
    """One part to typeset."""

    key: str  # a hash of everything below that decides the output
    html: str
    base: str  # relative URLs (images) resolve against this folder
    roots: tuple[str, ...]  # the only folders WeasyPrint may read from
    css: tuple[tuple[str, str], ...]  # style sheets: (text, base URL)
    more: bool  # another part follows: its last page only shows where that part opens
    epoch: int  # SOURCE_DATE_EPOCH for the fonts' time stamps
    # Added to every folio of the part as laid out; None: not known yet, a Folio message
    # says it once the part is laid out. Not in the key: layout does not depend on it.
    shift: int | None = 0


@dataclass
class Laid:
    """What the book needs from a laid-out part, before its PDF is written."""

    key: str
    pages: int
    anchors: dict[str, int]  # id -> index of the part's page it lands on
    marks: list  # per page: (block key, offset) where its text begins, or None
    warnings: list[str] = field(default_factory=list)
    starts: dict = field(default_factory=dict)  # block key -> [(offset, page index)]


@dataclass
class Written:
    key: str
    data: bytes | None  # the part's tagged PDF; None: it was no longer wanted
    shift: int | None = 0  # the folio shift it was written with


@dataclass(frozen=True)
class Folio:
    """To a worker holding a laid-out part: the shift of its folios, or None (drop it).
    A provisional one (final False) comes from the lengths of the parts before it at
    their first layout, before any mend: the worker writes the part with it while it
    waits, and it most often proves right."""

    key: str
    shift: int | None
    final: bool = True


@dataclass(frozen=True)
class Length:
    """From a worker: a part's length at its first layout, before any mend."""

    key: str
    pages: int


@dataclass
class Failed:
    key: str
    problems: list  # press.problems.Problem, for the build to report
    trace: str = ""  # an unexpected error's traceback


def send(stream, message) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def receive(stream):
    """The next message, or None when the other side has closed the pipe.

    The build reads its workers' output unbuffered (a pipe's raw stream), as it waits
    for them with select: a buffered read could take in a second message with the
    first, and select would then wait for data already read."""
    header = read_exactly(stream, HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    data = read_exactly(stream, size)
    if len(data) < size:
        return None
    return pickle.loads(data)


def read_exactly(stream, size: int) -> bytes:
    """size bytes, or fewer at the end of the stream (a raw read may give less)."""
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# --- the worker --------------------------------------------------------------------------

def serve(source, sink) -> None:
    """The worker's loop: a Job in, a Laid then a Written (or a Failed) out; or something
    that draws itself (press.epub.cover.Cover) in, its bytes out (Written)."""
    from press.pdf.engine import load_weasyprint

    try:
        load_weasyprint()
    except BuildError as error:  # no Pango: every part fails with W003, the worker lives on
        while (job := receive(source)) is not None:
            send(sink, Failed(job.key, list(error.problems)))
        return
    from weasyprint.text.fonts import FontConfiguration

    from press.pdf import weasy as pdf

    pdf.install_fixes()  # this process writes PDFs and nothing else
    fonts = FontConfiguration()
    sheets: dict = {}
    warm_up(fonts)
    collect_less()
    while (job := receive(source)) is not None:
        if isinstance(job, Folio):
            continue  # for a part whose layout failed: nothing waits for it
        try:
            if isinstance(job, Job):
                css = sheets.get(job.css)
                if css is None:
                    sheets.clear()
                    css = sheets[job.css] = [pdf.stylesheet(text, url, job.roots, fonts)
                                             for text, url in job.css]
                send(sink, typeset(job, fonts, css, source, sink))
            else:  # anything else draws itself with the worker's fonts (the EPUB's cover)
                send(sink, Written(job.key, job.draw(fonts)))
        except BuildError as error:
            send(sink, Failed(job.key, list(error.problems)))
        except Exception:  # noqa: BLE001 - reported by the build, with the worker's trace
            send(sink, Failed(job.key, [], traceback.format_exc()))
        release_memory()


def collect_less() -> None:
    """Fewer runs of the cycle collector while a part is laid out and written.

    WeasyPrint makes millions of small objects; with Python's default thresholds the
    collector ran 1,450 times over the 264-page book, walking ever more live boxes: about
    2 s of its 13 s of CPU (measured with gc.callbacks), against 0.3 s with these. What
    the worker holds for good (modules, fonts, style sheets) is moved out of the
    collector's sight, and release_memory collects once after each part.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)


def release_memory() -> None:
    """Between parts, give the part's memory back to the system: a laid-out part is a
    web of boxes that only the cycle collector frees, and the C allocator keeps freed
    pages unless asked (glibc's malloc_trim). An idle worker then weighs about what it
    did before its first part, not what its largest part needed."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: the memory is reused by the next part all the same


def warm_up(fonts) -> None:
    """Lay out and write a line while waiting for the first part: text shaping,
    hyphenation patterns, font matching and subsetting load once per process, and it is
    better done now."""
    from weasyprint import HTML

    HTML(string='<p lang="en" style="hyphens: auto; text-align: justify">Warming up the '
                'typesetter before the first part arrives.</p>').render(
        font_config=fonts).write_pdf(pdf_variant="pdf/ua-1")


def typeset(job: Job, fonts, css, source, sink) -> Written:
    from press.pdf import mend, pagelist, relayout
    from press.pdf import weasy as pdf

    tries: list[list[str]] = []  # each layout's warnings: the last one's are reported

    def lay(html: str):
        tries.append([])
        laid = pdf.layout(html, Path(job.base), job.roots, tries[-1], fonts, css)
        if len(tries) == 1:  # what the parts after it may be written with meanwhile
            send(sink, Length(job.key, len(laid.pages) - job.more))
        return laid

    # A part with a word stranded mid-paragraph is laid out again, nudged (mend.py).
    document, _ = mend.laid_out(job.html, lay, resume=True)
    relayout.release(document)
    warnings = tries[-1]
    part = document.copy(document.pages[:-1] if job.more else document.pages)
    anchors = pdf.anchor_pages(part)
    marks, starts = pagelist.page_facts(part.pages)
    send(sink, Laid(job.key, len(part.pages), anchors, marks, warnings, starts))
    shown = 0  # the folio shift the document's pages show

    def write(shift: int) -> bytes | None:
        """The part's PDF with its folios shifted; None if the text itself shows them."""
        nonlocal shown
        if shift != shown:
            if not pdf.refolio(document, shift):
                return None
            shown = shift
        pdf.join_leaders(document)
        # fontTools stamps subset fonts with SOURCE_DATE_EPOCH, or with 'now': the worker
        # is a process of the build's own, and its clock is the book's date.
        os.environ["SOURCE_DATE_EPOCH"] = str(job.epoch)
        # A copy each time: a document keeps the glyphs it has drawn, for its fonts.
        return pdf.part_bytes(document.copy(part.pages), set(anchors))

    shift, ahead = job.shift, None
    if shift is None:
        shift, ahead = folio_shift(job, source, write)
        if shift is None:
            return Written(job.key, None, None)
    data = ahead[1] if ahead and ahead[0] == shift else write(shift)
    if data is None:
        # Page numbers in the text itself: laid out again from its real first folio.
        document, _ = mend.laid_out(pdf.starting_at(job.html, shift + 1), lay, resume=True)
        part = document.copy(document.pages[:-1] if job.more else document.pages)
        shown = shift
        data = write(shift)
    return Written(job.key, data, shift)


def folio_shift(job: Job, source, write) -> tuple[int | None, tuple | None]:
    """Wait for the build to say where the part falls (None: drop it); a provisional
    folio meanwhile has the part written with it. Returns the shift and what was written
    ahead: (its shift, the PDF), or None."""
    ahead = None
    while True:
        message = receive(source)
        if not isinstance(message, Folio) or message.key != job.key:
            raise RuntimeError(f"expected the folio of part {job.key[:12]}, got {message!r}")
        if message.final:
            return message.shift, ahead
        if message.shift is not None and (ahead is None or ahead[0] != message.shift):
            data = write(message.shift)
            ahead = None if data is None else (message.shift, data)


def main() -> None:
    # The protocol owns standard output: anything else printed goes to standard error.
    sink = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    try:
        serve(sys.stdin.buffer, sink)
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the build that wanted the part has gone


# --- the parent's side -------------------------------------------------------------------

class Worker:
    def __init__(self):
        package = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [package, *filter(None, [os.environ.get("PYTHONPATH")])])}
        self.process = subprocess.Popen([sys.executable, "-m", "press.pdf.workers"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        env=env)
        self.job: Job | None = None  # the job in hand, until it is written or failed
        self.told = False  # the job's folio shift has been sent (a Job with shift None)
        self.guessed: int | None = None  # the provisional shift sent for it, if any

    def give(self, job: Job) -> None:
        self.job, self.told, self.guessed = job, job.shift is not None, None
        send(self.process.stdin, job)

    def tell(self, shift: int | None, final: bool = True) -> None:
        """The folio shift of the part in hand, once (it is read after its layout); before
        it, a provisional one, again only when it changes."""
        if self.job is None or self.told or (not final and shift == self.guessed):
            return
        if final:
            self.told = True
        else:
            self.guessed = shift
        try:
            send(self.process.stdin, Folio(self.job.key, shift, final))
        except OSError:
            pass  # it has died: the build hears of it from its output (WorkerDied)

    def close(self) -> None:
        """Stop the worker: at once if it holds a job nobody waits for any more."""
        if self.job is not None:
            self.process.kill()
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.process.stdout.close()


class WorkerDied(RuntimeError):
    pass


class Typesetters:
    """A few workers and a queue of jobs; jobs go out in the order they are wanted."""

    def __init__(self, count: int | None = None):
        self.count = count or usable_cores()
        self.workers: list[Worker] = []
        self.queue: list[Job] = []
        atexit.register(self.stop)

    def start(self, count: int = 1) -> None:
        """Have `count` workers (at most one a core) running: started early, their imports
        and font loading overlap with the build's first stages."""
        self.workers = [w for w in self.workers if w.process.poll() is None]
        while len(self.workers) < min(max(1, count), self.count):
            self.workers.append(Worker())

    def want(self, jobs: list[Job], planned: set | None = None) -> None:
        """The jobs still to do, most urgent first; jobs no longer wanted are dropped
        unless a worker already has them. planned: the keys the book still has; a part
        outside them that waits for its folio is dropped (a contents or index made on
        numbers that changed)."""
        for worker in self.workers:
            if planned is not None and worker.job is not None \
                    and worker.job.key not in planned:
                worker.tell(None)
        busy = {w.job.key for w in self.workers if w.job}
        self.queue = [job for job in dict((j.key, j) for j in jobs).values()
                      if job.key not in busy]
        self._dispatch()

    def busy(self) -> bool:
        return any(w.job for w in self.workers)

    def folio(self, key: str, shift: int, final: bool = True) -> None:
        """Tell the worker laying out this part (if any) its folio shift (see Folio)."""
        for worker in self.workers:
            if worker.job is not None and worker.job.key == key:
                worker.tell(shift, final)

    def next(self):
        """Wait for the next message from any worker: a Length, Laid, Written or Failed."""
        if not self.busy():
            raise RuntimeError("no part is being typeset")
        with selectors.DefaultSelector() as selector:
            for worker in self.workers:
                if worker.job:
                    selector.register(worker.process.stdout, selectors.EVENT_READ, worker)
            key, _ = selector.select()[0]
        worker = key.data
        message = receive(worker.process.stdout.raw)
        if message is None:
            self.workers.remove(worker)
            worker.close()
            raise WorkerDied(f"a typesetting worker stopped while it had a part "
                             f"(exit code {worker.process.returncode})")
        if isinstance(message, (Written, Failed)):
            worker.job = None
            self._dispatch()
        return message

    def drain(self) -> None:
        """Let the workers finish what they hold, ignoring it (after a failure)."""
        self.queue = []
        for worker in self.workers:
            worker.tell(None)  # a part waiting for its folio is dropped
        while self.busy():
            try:
                self.next()
            except WorkerDied:
                pass

    def _dispatch(self) -> None:
        self.start()  # a worker that died is replaced
        for worker in self.workers:
            if worker.job is None and self.queue:
                worker.give(self.queue.pop(0))

    def shrink(self, count: int) -> None:
        """Stop idle workers beyond `count`."""
        idle = [w for w in self.workers if w.job is None]
        for worker in idle[:max(0, len(self.workers) - count)]:
            worker.close()
            self.workers.remove(worker)

    def close(self) -> None:
        for worker in self.workers:
            worker.close()
        self.workers = []

    def stop(self) -> None:
        """At exit: the workers hold nothing worth waiting for."""
        for worker in self.workers:
            worker.process.kill()
            worker.process.wait()
        self.workers = []


if __name__ == "__main__":
    # Run as `python -m press.pdf.workers`: use the module by its own name, so the messages'
    # classes are the ones the parent knows.
    from press.pdf.workers import main as serve_parts

    serve_parts()
