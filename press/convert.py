"""Stage 2, convert: Pandoc turns each part's Markdown into an HTML fragment."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pypandoc

from .errors import BuildError, Problem
from .model import Book
from .write import atomic_write

# CommonMark with Pandoc's extensions: attributes, spans, divs, footnotes, pipe tables,
# smart quotes; +sourcepos keeps each block's Markdown line for later messages.
FORMAT = "commonmark_x+sourcepos"
FILTER = Path(__file__).with_name("sourcepos.lua")
ARGS = ["--wrap=none", f"--lua-filter={FILTER}"]
# The Lua filter puts <!--pos L:C-L:C--> before each link, image and raw HTML piece, and
# <!--/pos--> after each raw piece: their Markdown lines, which no attribute can carry.
MARKER = re.compile(r"pos (\S+)")
END_MARKER = "/pos"


def pos_line(pos: str | None) -> int | None:
    """The first line of a Pandoc source position: '12:1-13:1', 'f.md@12:1-13:1' -> 12."""
    match = re.match(r"(\d+):", (pos or "").split("@")[-1])
    return int(match.group(1)) if match else None


class ConversionCache:
    """Pandoc's output remembered by a hash of everything that decides it.

    The key covers the Markdown text, the Pandoc version, the Lua filter's text and the
    options, so a warm process (serve, watch) never converts an unchanged part twice,
    and a changed filter or Pandoc upgrade can never serve stale HTML. With a folder,
    results also survive the process (build/.cache/pandoc). A one-off build reads the
    folder as a shelf and puts its results there only once it has succeeded (save).
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
        parts = [markdown, pypandoc.get_pandoc_version(), FILTER.read_text(encoding="utf-8"),
                 FORMAT, *ARGS]
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
    """One Pandoc run; a failure names the file it was converting."""
    try:
        return pypandoc.convert_text(markdown, "html", format=FORMAT, extra_args=ARGS)
    except RuntimeError as exc:
        raise BuildError([Problem(where, None, "M027", f"Pandoc failed: {exc}",
                                  "check the Markdown near the reported position")]) from exc


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
