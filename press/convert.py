"""Stage 2, convert: Pandoc turns each part's Markdown into an HTML fragment."""
from __future__ import annotations

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


def markdown_to_html(markdown: str, where: str = "<text>") -> str:
    """One Pandoc run: Markdown text to an HTML fragment with data-pos on blocks."""
    try:
        return pypandoc.convert_text(markdown, "html", format=FORMAT, extra_args=ARGS)
    except RuntimeError as exc:
        raise BuildError([Problem(where, None, "M022", f"Pandoc failed: {exc}",
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
    # Each definition goes into a fenced div named after its entry so one run suffices.
    source = "\n\n".join(f"::: {{#def-{e.slug}}}\n{e.definition}\n:::" for e in book.glossary)
    return {"__all__": markdown_to_html(source, str(book.glossary_path))}
