"""Stage 2, convert: Pandoc turns each part's Markdown into an HTML fragment."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pypandoc

from .errors import BuildError, Problem
from .model import Book

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


def markdown_to_html(markdown: str, where: str = "<text>") -> str:
    """One Pandoc run: Markdown text to an HTML fragment with data-pos on blocks."""
    try:
        return pypandoc.convert_text(markdown, "html", format=FORMAT, extra_args=ARGS)
    except RuntimeError as exc:
        raise BuildError([Problem(where, None, "P001", f"Pandoc failed: {exc}",
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
