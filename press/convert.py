"""Stage 2, convert: Pandoc turns each part's Markdown into an HTML fragment."""
from __future__ import annotations

import gc
import hashlib
import json
import re
import subprocess
import sys
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pypandoc

from . import sourcepos
from .errors import BuildError, Problem
from .model import Book
from .write import atomic_write

# CommonMark with Pandoc's extensions: attributes, spans, divs, footnotes, pipe tables,
# smart quotes; +sourcepos keeps each block's Markdown line for later messages.
FORMAT = "commonmark_x+sourcepos"
# Pandoc reads the Markdown to its JSON AST, press.sourcepos trims it, Pandoc writes HTML.
READ_ARGS = ["-f", FORMAT, "-t", "json"]
WRITE_ARGS = ["-f", "json", "-t", "html", "--wrap=none"]
# The rules that decide the HTML besides Pandoc: the source of the module that runs.
RULES_DIGEST = hashlib.sha256(Path(sourcepos.__file__).read_bytes()).hexdigest()
# press.sourcepos puts <!--pos L:C-L:C--> before each link, image and raw HTML piece, and
# <!--/pos--> after each raw piece: their Markdown lines, which no attribute can carry.
MARKER = re.compile(r"pos (\S+)")
END_MARKER = "/pos"


def pos_line(pos: str | None) -> int | None:
    """The first line of a Pandoc source position: '12:1-13:1', 'f.md@12:1-13:1' -> 12."""
    match = re.match(r"(\d+):", (pos or "").split("@")[-1])
    return int(match.group(1)) if match else None


class ConversionCache:
    """Pandoc's output remembered by a hash of everything that decides it.

    The key covers the Markdown text, the Pandoc version, the rules of press.sourcepos
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

    def key(self, markdown: str) -> str:
        parts = [markdown, pypandoc.get_pandoc_version(), RULES_DIGEST,
                 str(sourcepos.VERSION), *READ_ARGS, "|", *WRITE_ARGS]
        return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, key: str) -> str | None:
        with self.lock:
            self.touched.add(key)
            found = self.memory.get(key)
            for folder in (self.folder, self.shelf):
                if found is None and folder and (folder / f"{key}.html").is_file():
                    found = (folder / f"{key}.html").read_text(encoding="utf-8")
            if found is not None:
                self.hits += 1
                self._keep(key, found)
            return found

    def put(self, key: str, fragment: str) -> None:
        with self.lock:
            self.runs += 1
            self._keep(key, fragment)
            if self.folder:
                atomic_write(self.folder / f"{key}.html", fragment.encode("utf-8"))

    def save(self, folder: Path) -> None:
        """Put the conversions the last build used on the shelf, for the next process."""
        with self.lock:
            for key in self.touched & self.memory.keys():
                if not (folder / f"{key}.html").is_file():
                    atomic_write(folder / f"{key}.html", self.memory[key].encode("utf-8"))
            self.touched.clear()

    def _keep(self, key: str, fragment: str) -> None:
        self.memory[key] = fragment
        self.memory.move_to_end(key)
        while len(self.memory) > self.limit:
            self.memory.popitem(last=False)


CACHE = ConversionCache()


def markdown_to_html(markdown: str, where: str = "<text>") -> str:
    """Markdown text to an HTML fragment with data-pos on blocks, converted once per text."""
    key = CACHE.key(markdown)
    fragment = CACHE.get(key)
    if fragment is None:
        fragment = run_pandoc(markdown, where)
        CACHE.put(key, fragment)
    return fragment


def run_pandoc(markdown: str, where: str) -> str:
    """Markdown to JSON, trimmed by press.sourcepos, to HTML: two Pandoc processes."""
    tree = pandoc(READ_ARGS, markdown.encode("utf-8"), where)
    with gc_paused():
        prepared = json.dumps(sourcepos.prepare(json.loads(tree)), ensure_ascii=False,
                              separators=(",", ":")).encode("utf-8")
    return pandoc(WRITE_ARGS, prepared, where).decode("utf-8", errors="replace")


def pandoc(args: list[str], data: bytes, where: str) -> bytes:
    """One Pandoc process, stdin to stdout; a failure names the file it was converting."""
    done = subprocess.run([pypandoc.get_pandoc_path(), *args], input=data,
                          capture_output=True, check=False)
    message = done.stderr.decode("utf-8", errors="replace").strip()
    if done.returncode != 0:
        raise BuildError([Problem(where, None, "M027",
                                  f"Pandoc failed (exit {done.returncode}): {message}",
                                  "check the Markdown near the reported position")])
    if message:
        print(message, file=sys.stderr)  # Pandoc's own warnings, as it prints them
    return done.stdout


# Parsing a part's AST makes hundreds of thousands of lists and dicts, none in a cycle:
# the cyclic garbage collector would walk the growing heap again and again (most of the
# time json.loads takes), for nothing. So it is paused while any thread parses or walks
# an AST, and put back as it was when the last one is done.
_gc_lock = threading.Lock()
_gc_users = 0
_gc_was_enabled = False


@contextmanager
def gc_paused():
    global _gc_users, _gc_was_enabled
    with _gc_lock:
        if _gc_users == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0 and _gc_was_enabled:
                gc.enable()


def convert_book(book: Book) -> dict[str, str]:
    """Convert every part, Pandoc processes running side by side; slug -> HTML fragment."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        fragments = pool.map(lambda p: markdown_to_html(p.markdown, str(p.path)), book.parts)
        return dict(zip((p.slug for p in book.parts), fragments))


def convert_definitions(book: Book) -> dict[str, str]:
    """Convert all glossary definitions in one Pandoc run; term slug -> HTML fragment."""
    if not book.glossary:
        return {}
    source, _ = definitions_source(book)
    return {"__all__": markdown_to_html(source, str(book.glossary_path))}


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
