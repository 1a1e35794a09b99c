"""Stage 2, convert: Pandoc turns each part's Markdown into an HTML fragment."""
from __future__ import annotations

import gc
import hashlib
import json
import re
import subprocess
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pypandoc

from press.source import sourcepos
from press.source.dialect import CANDIDATE
from press.problems import BuildError, Problem
from press.model import Book
from press.util.cores import usable_cores
from press.util.memo import keep_entry, unsealed

# CommonMark with Pandoc's extensions: attributes, spans, divs, footnotes, pipe tables,
# smart quotes; +implicit_figures makes an image alone in its paragraph a figure captioned
# by its alt text, as Pandoc's own Markdown does; +sourcepos keeps each block's Markdown
# line for later messages.
FORMAT = "commonmark_x+implicit_figures+sourcepos"
# The same reader without source positions, for a book's parts when nothing needs a line
# (see needs_positions): Pandoc reads and writes a chapter in half the time, and the
# tree never crosses into Python.
PLAIN = "commonmark_x+implicit_figures"
# Pandoc reads the Markdown to its JSON AST, press.source.sourcepos trims it, Pandoc writes HTML
# from it, as `pandoc -f FORMAT -t json` and `pandoc -f json -t html --wrap=none` would;
# job "plain" is `pandoc -f PLAIN -t html --wrap=none` in one step.
# A Pandoc process is cheap to start, but each one pays again for first touching its
# 64 MB heap (~40 ms of CPU), more than converting a chapter takes: so a few processes
# (lanes) each convert text after text, driven by this script. Its answers are
# "ok SIZE" or "error SIZE", a newline, then SIZE bytes: the output or Pandoc's message.
DRIVER = """
local function convert(job, text)
  if job == 'read' then
    return pandoc.write(pandoc.read(text, FORMAT), 'json')
  end
  local doc = job == 'plain' and pandoc.read(text, PLAIN) or pandoc.read(text, 'json')
  local html = pandoc.write(doc, 'html', {wrap_text = 'none'})
  -- as the pandoc command ends a fragment: with a newline unless it has one
  return html:sub(-1) == '\\n' and html or html .. '\\n'
end
for header in io.lines() do
  local job, size = header:match('^(%a+) (%d+)$')
  local ok, out = pcall(convert, job, io.read(tonumber(size)) or '')
  out = ok and out or tostring(out)
  io.write(ok and 'ok ' or 'error ', #out, '\\n', out)
  io.stdout:flush()
end
"""
# The rules that decide the HTML besides Pandoc: the source of the module that runs.
RULES_DIGEST = hashlib.sha256(Path(sourcepos.__file__).read_bytes()).hexdigest()
# press.source.sourcepos puts <!--pos L:C-L:C--> before each link, image and raw HTML piece, and
# <!--/pos--> after each raw piece: their Markdown lines, which no attribute can carry.
MARKER = re.compile(r"pos (\S+)")
END_MARKER = "/pos"


# What in a text needs its source positions even when nothing is wrong: raw HTML, lint
# comments among it (press.source.vet and sourcepos work on the marked pieces), and what
# press.source.dialect looks for (it tells prose from code by the blocks' lines).
RAW_HTML = re.compile(r"<[A-Za-z!?/]")
# Pandoc hides a figure's caption from assistive technology when it repeats the image's
# alt text; read with positions, the image is not alone in its figure and it does not.
# Both readings must give one HTML.
HIDDEN_CAPTION = '<figcaption aria-hidden="true">'


def needs_positions(markdown: str) -> bool:
    """Whether a text must be read with source positions whatever happens (see RAW_HTML).
    Any other text is read without them, and again with them only if a build finds
    something to report in the book (press.pipeline.prepare)."""
    return RAW_HTML.search(markdown) is not None or CANDIDATE.search(markdown) is not None


def pos_line(pos: str | None) -> int | None:
    """The first line of a Pandoc source position: '12:1-13:1', 'f.md@12:1-13:1' -> 12."""
    match = re.match(r"(\d+):", (pos or "").split("@")[-1])
    return int(match.group(1)) if match else None


class ConversionCache:
    """Pandoc's output remembered by a hash of everything that decides it.

    The key covers the Markdown text, the Pandoc version, the rules of press.source.sourcepos
    (its source and version) and the options, so a warm process (serve, watch) never
    converts an unchanged part twice, and changed rules or a Pandoc upgrade can never
    serve stale HTML. With a folder, results also survive the process
    (build/.cache/pandoc). A one-off build reads the folder as a shelf and puts its
    results there only once it has succeeded (save).
    """

    def __init__(self, limit: int = 512):
        self.limit = limit
        self.folder: Path | None = None
        self.shelf: Path | None = None  # read from, written only by save()
        self.touched: set[str] = set()
        self.memory: OrderedDict[str, str] = OrderedDict()
        self.hits = 0
        self.runs = 0  # Pandoc processes actually started
        self.lock = threading.Lock()

    def key(self, markdown: str, job: str = "html") -> str:
        parts = [markdown, pypandoc.get_pandoc_version(), RULES_DIGEST,
                 str(sourcepos.VERSION), FORMAT, HIDDEN_CAPTION, DRIVER] + \
            ([job] if job != "html" else [])
        return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, key: str) -> str | None:
        with self.lock:
            self.touched.add(key)
            found = self.memory.get(key)
            for folder in (self.folder, self.shelf):
                if found is None and folder:
                    found = _fragment(unsealed(folder / f"{key}.html", key))
            if found is not None:
                self.hits += 1
                self._keep(key, found)
            return found

    def put(self, key: str, fragment: str) -> None:
        with self.lock:
            self.runs += 1
            self._keep(key, fragment)
            if self.folder:
                keep_entry(self.folder / f"{key}.html", key, fragment.encode("utf-8"))

    def save(self, folder: Path) -> None:
        """Put the conversions the last build used on the shelf, for the next process."""
        with self.lock:
            for key in self.touched & self.memory.keys():
                if unsealed(folder / f"{key}.html", key) is None:
                    keep_entry(folder / f"{key}.html", key, self.memory[key].encode("utf-8"))
            self.touched.clear()

    def _keep(self, key: str, fragment: str) -> None:
        self.memory[key] = fragment
        self.memory.move_to_end(key)
        while len(self.memory) > self.limit:
            self.memory.popitem(last=False)


def _fragment(data: bytes | None) -> str | None:
    """A cached fragment's text; None when there is none, or it is not UTF-8."""
    try:
        return None if data is None else data.decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class Converted:
    """A book's parts as HTML fragments, and its glossary's definitions in one fragment."""

    parts: dict[str, str]  # part slug -> fragment
    definitions: str  # "" when the book has no glossary
    plain: int = 0  # how many texts were read without source positions


class Pandoc:
    """The one Pandoc runner, for the build and for lint: a few lanes of long-lived Pandoc
    processes, and the cache of what they made (kept by whoever keeps the runner)."""

    def __init__(self, cache: ConversionCache | None = None, lanes: int | None = None):
        self.cache = cache or ConversionCache()
        # One lane a core: while one lane's Python trims a tree, the other lanes' Pandoc
        # works; a lane more would only add a heap to fill (on 2 cores: 2 lanes beat 3).
        self.lanes = lanes or usable_cores()
        self.gc_paused = GcPause()

    def texts(self, texts: list[tuple[str, str]], job: str | list[str] = "html") -> list[str]:
        """HTML fragments of (Markdown, file) pairs (job "html"; "plain": without source
        positions), or Pandoc's own JSON tree of each (job "read", for lint): from the
        cache, or converted together. job: one for all, or one a text."""
        cache = self.cache
        jobs = [job] * len(texts) if isinstance(job, str) else job
        keys = [cache.key(markdown, kind) for (markdown, _), kind in zip(texts, jobs)]
        found = {key: cache.get(key) for key in dict.fromkeys(keys)}
        missing = {key: (*text, kind) for key, text, kind in zip(keys, texts, jobs)
                   if found[key] is None}
        if missing:
            made = run_pandoc(list(missing.values()), self.lanes, gc_paused=self.gc_paused)
            for key, fragment in zip(missing, made):
                if not isinstance(fragment, Problem):
                    cache.put(key, fragment)
                found[key] = fragment
        failed = [f for f in found.values() if isinstance(f, Problem)]
        if failed:  # every failure at once; what did convert is kept for the next try
            raise BuildError(failed)
        return [found[key] for key in keys]

    def book(self, book: Book, positions: bool = True) -> Converted:
        """Every part and the glossary definitions in one batch, so that no Pandoc lane
        waits for another. positions False: a text that does not need them is read
        without them (needs_positions)."""
        texts = part_texts(book) + definition_texts(book)
        jobs = ["html" if positions or needs_positions(markdown) else "plain"
                for markdown, _ in texts]
        fragments = self.texts(texts, jobs)
        parts = dict(zip((p.slug for p in book.parts), fragments))
        return Converted(parts, fragments[-1] if book.glossary else "", jobs.count("plain"))


def markdown_to_html(markdown: str, where: str = "<text>", pandoc: Pandoc | None = None) -> str:
    """Markdown text to an HTML fragment with data-pos on blocks."""
    return (pandoc or Pandoc()).texts([(markdown, where)])[0]


def convert_texts(texts: list[tuple[str, str]], pandoc: Pandoc | None = None) -> list[str]:
    """HTML fragments of (Markdown, file) pairs (see Pandoc.texts)."""
    return (pandoc or Pandoc()).texts(texts)


def run_pandoc(texts: list[tuple[str, ...]], lanes: int = 1,
               job: str = "html", gc_paused: GcPause | None = None) -> list[str | Problem]:
    """Convert texts in a few Pandoc lanes side by side, biggest first; a text Pandoc
    cannot read gives a Problem naming its file (M027) in its place. Each text is
    (Markdown, file) or (Markdown, file, job): its own job, else `job` (see Pandoc.texts)."""
    waiting = sorted(range(len(texts)), key=lambda i: len(texts[i][0]))
    results: dict[int, str | Problem] = {}
    lock = threading.Lock()
    command = lane_command()

    def lane() -> None:
        with PandocLane(command, gc_paused or GcPause()) as pandoc:
            while True:
                with lock:
                    if not waiting:
                        return
                    i = waiting.pop()
                markdown, where, *own = texts[i]
                results[i] = getattr(pandoc, JOBS[own[0] if own else job])(markdown, where)

    lanes = min(lanes, len(texts))
    with ThreadPoolExecutor(max_workers=max(lanes, 1)) as pool:
        for running in [pool.submit(lane) for _ in range(lanes)]:
            running.result()
    return [results[i] for i in range(len(texts))]


# Each job's method of PandocLane.
JOBS = {"html": "convert", "plain": "plain", "read": "read"}


def lane_command() -> list[str]:
    """Pandoc running the driver script; FORMAT and PLAIN in it become quoted strings."""
    driver = DRIVER.replace("FORMAT", repr(FORMAT)).replace("PLAIN", repr(PLAIN))
    return [pypandoc.get_pandoc_path(), *RTS, "lua", "-e", driver]


# Pandoc's binary asks its Haskell runtime for a 64 MB heap to start with (-H64m), which
# a lane soon doubles; a smaller one keeps two lanes at about 150 MB instead of 250 MB,
# at the same speed (measured on the synthetic 264-page book).
RTS = ("+RTS", "-H8m", "-RTS")


class PandocLane:
    """One Pandoc process converting text after text: Markdown to JSON, trimmed here,
    JSON to HTML. It is started on first use, and again after a crash."""

    def __init__(self, command: list[str], gc_paused: GcPause | None = None):
        self.command, self.gc_paused = command, gc_paused or GcPause()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> PandocLane:
        return self

    def __exit__(self, failure, *_) -> None:
        if self.process:
            if failure:
                self.process.kill()  # it may be waiting to write an answer nobody reads
            self.process.stdin.close()  # the driver's loop ends, and the process with it
            self.process.wait()
            self.process.stdout.close()

    def convert(self, markdown: str, where: str) -> str | Problem:
        try:
            tree = self.ask(b"read", as_pandoc_reads(markdown).encode("utf-8"))
            with self.gc_paused():
                prepared = json.dumps(sourcepos.prepare(json.loads(sourcepos.unwrap_words(tree))),
                                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            return self.ask(b"write", prepared).decode("utf-8", errors="replace")
        except PandocError as exc:
            return unreadable(where, exc)

    def plain(self, markdown: str, where: str) -> str | Problem:
        """The HTML of a text read without source positions, in one step."""
        try:
            html = self.ask(b"plain", as_pandoc_reads(markdown).encode("utf-8"))
            return html.decode("utf-8", errors="replace").replace(HIDDEN_CAPTION,
                                                                   "<figcaption>")
        except PandocError as exc:
            return unreadable(where, exc)

    def read(self, markdown: str, where: str) -> str | Problem:
        """Pandoc's JSON tree of the text, untrimmed (what lint reads)."""
        try:
            return self.ask(b"read", as_pandoc_reads(markdown).encode("utf-8")).decode("utf-8")
        except PandocError as exc:
            return unreadable(where, exc)

    def ask(self, job: bytes, data: bytes) -> bytes:
        if self.process is None:
            self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE)
        try:
            self.process.stdin.write(b"%s %d\n%s" % (job, len(data), data))
            self.process.stdin.flush()
            status, size = self.process.stdout.readline().split()
            answer = self.process.stdout.read(int(size))
            if len(answer) != int(size):
                raise ValueError("a short answer")
        except (OSError, ValueError):
            code, self.process = self.process.wait(), None
            raise PandocError(f"it stopped (exit status {code})") from None
        if status != b"ok":
            raise PandocError(answer.decode("utf-8", errors="replace"))
        return answer


class PandocError(Exception):
    """Pandoc could not convert a text; the message is its own."""


def unreadable(where: str, exc: PandocError) -> Problem:
    return Problem(where, None, "M027", f"Pandoc failed: {exc}",
                   "check the Markdown near the reported position")


def as_pandoc_reads(markdown: str) -> str:
    """The text as the pandoc command hands it to its reader (pandoc.read takes it as it
    is): without a byte-order mark or carriage returns, tabs expanded to the default
    4-column stops, each line ended, and one more newline after the whole (positions at
    the end of the text depend on it)."""
    lines = markdown.removeprefix("\ufeff").replace("\r", "").split("\n")
    if lines[-1] == "":
        lines.pop()
    return "".join(line.expandtabs(4) + "\n" for line in lines) + "\n"


class GcPause:
    """Parsing a part's AST makes hundreds of thousands of lists and dicts, none in a
    cycle: the cyclic garbage collector would walk the growing heap again and again (most
    of the time json.loads takes), for nothing. So it is paused while any of the runner's
    lanes parses or walks an AST, and put back as it was when the last one is done. This
    is the one process-wide setting the pipeline makes, for milliseconds at a time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users = 0
        self.was_enabled = False

    @contextmanager
    def __call__(self):
        with self.lock:
            if self.users == 0:
                self.was_enabled = gc.isenabled()
                gc.disable()
            self.users += 1
        try:
            yield
        finally:
            with self.lock:
                self.users -= 1
                if self.users == 0 and self.was_enabled:
                    gc.enable()


def part_texts(book: Book) -> list[tuple[str, str]]:
    return [(p.markdown, str(p.path)) for p in book.parts]


def definition_texts(book: Book) -> list[tuple[str, str]]:
    return [(definitions_source(book)[0], str(book.glossary_path))] if book.glossary else []


def definitions_source(book: Book) -> tuple[str, tuple[int, ...]]:
    """All definitions as one Markdown text, and the glossary.yaml line of each of its lines.

    Each definition goes into a fenced div named after its entry so one run suffices;
    the line map lets a problem found in the converted text point back at its entry.
    """
    lines: list[str] = []
    origins: list[int] = []
    for entry in book.glossary:
        block = [f"::: {{#def-{entry.slug}}}", *entry.definition.split("\n"), ":::", ""]
        lines += block
        origins += [entry.line] * len(block)
    return "\n".join(lines), tuple(origins)
