"""Stage 2b, after convert: Markdown written for another dialect, refused at its line.

The manuscript is read as CommonMark with Pandoc's extensions (press.source.convert.FORMAT).
Authors used to Pandoc's own Markdown or to LaTeX write things this reader takes for
something else, and without a word the book would print them wrong:

- a grid table (`+---+---+` borders) becomes one run-on paragraph;
- a simple or multiline table (a row of dashes under each column) becomes a rule and
  loose lines;
- a TeX environment (`\\begin{equation}` ... `\\end{equation}`) prints as its source;
- a raw block or span for another format (```` ```{=latex} ````, `` `x`{=tex} ``)
  is left out of every edition.

Each is found where Pandoc's output shows it was misread: the blocks' source positions
(data-pos) say which Markdown lines became a paragraph, a rule or code, so text that
only looks like one of these inside a code block is never reported.
"""
from __future__ import annotations

import re

from press.model import Book
from press.problems import Problem

GRID_BORDER = re.compile(r"^\s*\+(?:[-=:]+\+){1,}\s*$")
COLUMN_DASHES = re.compile(r"^\s*-{2,}(?:[ \t]+-{2,})+\s*$")
TEX_ENVIRONMENT = re.compile(r"^\s*\\begin\{([A-Za-z]+\*?)\}")
OTHER_RAW = re.compile(r"^\s*(`{3,}|~{3,})\s*\{=(?!html5?\})([A-Za-z0-9_-]+)\}|"
                       r"`[^`\n]+`\{=(?!html5?\})([A-Za-z0-9_-]+)\}")
# A block's positions in Pandoc's HTML: <p data-pos="17:1-22:1">, several ranges for code.
BLOCK = re.compile(r'<(p|hr|pre|div|li|h[1-6]|td|th|dt|dd)\b([^>]*?)\sdata-pos="([^"]+)"')
RANGE = re.compile(r"(\d+):(\d+)-(\d+):(\d+)")
HINT_TABLE = ("write it as a pipe table: | a | b | on each row, |---|---| under the header "
              "(this Markdown reads pipe tables only)")


def refusals(book: Book, fragments: dict[str, str]) -> list[Problem]:
    """Every misread construct in every part, each at its first Markdown line."""
    problems: list[Problem] = []
    for part in book.parts:
        if CANDIDATE.search(part.markdown):
            problems += part_refusals(part.path, part.markdown, fragments[part.slug])
    return problems


CANDIDATE = re.compile(r"^\s*\+[-=:]|^\s*--+[ \t]+--|\\begin\{|\{=", re.M)


def part_refusals(path, markdown: str, fragment: str) -> list[Problem]:
    lines = markdown.split("\n")
    prose, code = block_lines(fragment)
    found: list[Problem] = []
    reported: set[int] = set()

    def refuse(line: int, code_: str, message: str, hint: str) -> None:
        if line not in reported:
            reported.add(line)
            found.append(Problem(path, line, code_, message, hint))

    for number, text in enumerate(lines, 1):
        if number in code:
            continue
        paragraph = prose.get("p", set())
        if number in paragraph and GRID_BORDER.match(text):
            before = lines[number - 2].lstrip() if number > 1 else ""
            if not (number - 1 in paragraph and before.startswith(("|", "+"))):  # its top
                refuse(number, "M031", "a grid table, which this Markdown does not read: it "
                       "would print as one run-on paragraph", HINT_TABLE)
        elif number in prose.get("hr", set()) and COLUMN_DASHES.match(text):
            refuse(number - 1 if number > 1 and lines[number - 2].strip() else number, "M031",
                   "a simple or multiline table, which this Markdown does not read: it would "
                   "print as a rule and loose lines", HINT_TABLE)
        elif number in prose.get("p", set()) and TEX_ENVIRONMENT.match(text):
            env = TEX_ENVIRONMENT.match(text).group(1)
            refuse(number, "M032", f"raw TeX (\\begin{{{env}}}) is not typeset: it would "
                   "print as its source", "write the formula as $...$ or $$...$$, or show "
                   "the TeX as code in a ``` block")
        elif OTHER_RAW.search(text):
            match = OTHER_RAW.search(text)
            fmt = match.group(2) or match.group(3)
            refuse(number, "M032", f"a raw '{fmt}' block or span is left out of every "
                   "edition (only raw HTML is used)", "write it in Markdown or HTML, or show "
                   "it as code without the {=" + fmt + "} attribute")
    return found


def block_lines(fragment: str) -> tuple[dict[str, set[int]], set[int]]:
    """Which Markdown lines became which kind of block, and which are inside code."""
    prose: dict[str, set[int]] = {}
    code: set[int] = set()
    for tag, attributes, pos in BLOCK.findall(fragment):
        # A fenced code block is <div class="sourceCode"> or <pre>; other divs hold prose.
        is_code = tag == "pre" or (tag == "div" and 'class="sourceCode' in attributes)
        for first, _, last, column in RANGE.findall(pos):
            covered = range(int(first), int(last) + (1 if int(column) > 1 else 0))
            if is_code:
                code.update(covered)
            else:
                prose.setdefault(tag, set()).update(covered)
    return prose, code
