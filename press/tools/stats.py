"""Writing tools, stats: words, reading time and printed pages of each part, from a real layout."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import html

from press.pipeline import layout_print, prepare
from press.workspace import Workspace

# Average silent reading speed of adults for English non-fiction (Brysbaert 2019, 238 wpm).
WORDS_PER_MINUTE = 238
WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "td", "th", "div",
          "blockquote", "figcaption", "section", "aside", "pre")
NOT_READ = ("doc-noteref", "doc-backlink")  # footnote numbers and their return arrows


@dataclass(frozen=True)
class Row:
    """One stretch of the printed book: a part, the glossary, or the pages before them."""

    name: str
    words: int | None  # None for the title pages and contents: press writes them
    first_page: int  # 1-based sheet side in the PDF, not the printed folio
    pages: int  # up to the next row's first page, so a blank verso before it counts here

    @property
    def minutes(self) -> int:
        return math.ceil((self.words or 0) / WORDS_PER_MINUTE)


@dataclass(frozen=True)
class Stats:
    rows: tuple[Row, ...]
    pages: int  # the PDF's page count

    @property
    def words(self) -> int:
        return sum(r.words or 0 for r in self.rows)

    @property
    def minutes(self) -> int:
        return math.ceil(self.words / WORDS_PER_MINUTE)


def count_words(fragment: str) -> int:
    """Words of converted HTML as a reader meets them: text only, no markup or YAML."""
    if not fragment.strip():
        return 0
    root = html.fragment_fromstring(fragment, create_parent="div")
    for mark in [el for el in root.iter("a") if el.get("role") in NOT_READ]:
        mark.drop_tree()  # drop_tree keeps the tail: the words after the mark
    for block in root.iter(*BLOCKS):
        block.tail = "\n" + (block.tail or "")  # text_content() would glue blocks together
    return len(WORD.findall(root.text_content()))


def book_stats(ws: Workspace, manuscript: Path, styles: Path) -> Stats:
    """Lay the print edition out as `invoke pdf` does and measure each part on it."""
    prepared = prepare(ws, manuscript, styles, log=lambda *_: None)
    printed = layout_print(ws, prepared)
    anchors = printed.anchors
    spans = [("Title pages and contents", None, 0)]
    spans += [(c.part.title, count_words(c.html), anchors[c.part.slug])
              for c in prepared.chapters]
    if prepared.glossary:
        words = sum(count_words(f"<p>{g.entry.term}</p>{g.definition_html}")
                    for g in prepared.glossary)
        spans.append(("Glossary", words, anchors["glossary"]))
    if prepared.index and "index" in anchors:
        terms = [e.term for g in prepared.index for top in g.entries
                 for e in (top, *top.subentries)]
        spans.append(("Index", count_words("<p>" + " ".join(terms) + "</p>"), anchors["index"]))
    ends = [start for _, _, start in spans[1:]] + [printed.pages]
    rows = tuple(Row(name, words, start + 1, end - start)
                 for (name, words, start), end in zip(spans, ends))
    return Stats(rows, printed.pages)


def duration(minutes: int) -> str:
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def table(stats: Stats) -> str:
    """The stats as a plain-text table, one row a part and a total."""
    width = max(len(r.name) for r in stats.rows) if stats.rows else 5
    width = min(max(width, 5), 60)
    head = f"{'part':<{width}}  {'words':>7}  {'reading':>9}  {'first':>5}  {'pages':>5}"
    lines = [head, "-" * len(head)]
    for r in stats.rows:
        name = r.name if len(r.name) <= width else r.name[: width - 1] + "…"
        words, minutes = (r.words, duration(r.minutes)) if r.words is not None else ("–", "–")
        lines.append(f"{name:<{width}}  {words:>7}  {minutes:>9}  "
                     f"{r.first_page:>5}  {r.pages:>5}")
    lines.append("-" * len(head))
    lines.append(f"{'total':<{width}}  {stats.words:>7}  {duration(stats.minutes):>9}  "
                 f"{'':>5}  {stats.pages:>5}")
    lines.append(f"reading time at {WORDS_PER_MINUTE} words a minute; pages are PDF pages, "
                 "each part counted up to the next one, blank versos included; the title "
                 "pages and contents are made by press, so their words are not counted")
    return "\n".join(lines)
