"""Writing tools, import: a source file read into lines that remember where they came from.

mdBook's {{#include}} and {{#rustdoc_include}} (whole file, a line range or an anchor) and
Quarto's {{< include >}} are put in place here, from files inside the source only; a
YAML front matter block is taken apart; an R Markdown or Quarto chunk header
(```{r label}) becomes a plain fence with its language: kept as code, never run.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from press.problems import Problem
from press.tools.importer.model import Doc, Entry, Line, Report

MDBOOK_INCLUDE = re.compile(r"(\\?)\{\{#(include|rustdoc_include)[ \t]+([^}\s]+)[ \t]*\}\}")
QUARTO_INCLUDE = re.compile(r"\{\{<[ \t]*include[ \t]+([^>\s]+)[ \t]*>\}\}")
CHUNK = re.compile(r"^(\s*)(`{3,})[ \t]*\{([A-Za-z][\w-]*)(?:[ \t,]+([^}]*))?\}[ \t]*$")
FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
ANCHOR = re.compile(r"ANCHOR(?:_END)?:\s*([\w-]+)")
CARRIED = frozenset({"title", "subtitle", "author", "authors", "lang", "language", "date",
                     "description", "abstract", "publisher", "rights", "copyright"})
DEPTH = 10  # includes within includes, as deep as mdBook goes


class Reader:
    """Reads the source's files for one import; errors stop it, the rest goes in the report."""

    def __init__(self, root: Path, kind: str, report: Report):
        self.root = root.resolve()
        self.kind = kind
        self.report = report
        self.errors: list[Problem] = []

    def shown(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.parent).as_posix()
        except ValueError:
            return str(path)

    def text(self, path: Path, where: str = "", line: int | None = None) -> str | None:
        """A file's text; a missing or undecodable file is an error (R001 or R010)."""
        try:
            return path.read_bytes().decode("utf-8").removeprefix("\ufeff").replace("\r\n", "\n")
        except OSError as exc:
            self.errors.append(Problem(where or self.shown(path), line, "R010" if where else
                                       "R001", f"cannot read {self.shown(path)}: {exc.strerror}",
                                       "check that the file exists and is readable"))
        except UnicodeDecodeError:
            self.errors.append(Problem(self.shown(path), 1, "R001", "the file is not UTF-8",
                                       "save it as UTF-8 and import again"))
        return None

    def doc(self, entry: Entry, scope: str, where: str = "", line: int | None = None) -> Doc | None:
        text = self.text(entry.path, where, line)
        if text is None:
            return None
        shown = self.shown(entry.path)
        meta, skip = front_matter(text)
        self.unread_keys(meta, shown)
        lines = [Line(t, shown, n) for n, t in enumerate(text.split("\n"), 1)][skip:]
        if lines and lines[-1].text == "" and text.endswith("\n"):
            lines.pop()
        if self.kind in ("mdbook", "quarto"):
            lines = self.included(lines, entry.path, 0)
        lines = [self.chunk(line) for line in lines]
        return Doc(entry, lines, meta if isinstance(meta, dict) else {}, scope)

    def unread_keys(self, meta, shown: str) -> None:
        """Front matter keys that say how another tool renders the book (a bibliography,
        output formats) have no place in press: named, so the author can decide."""
        unread = sorted(str(k) for k in (meta or {}) if str(k) not in CARRIED)
        if unread:
            self.report.note(shown, 2, "R018", "front matter not carried over: "
                             + ", ".join(unread), "press has no such setting; keep what "
                             "matters in the text or in book.yaml")

    def chunk(self, line: Line) -> Line:
        match = CHUNK.match(line.text)
        if not match:
            return line
        options = (match.group(4) or "").strip()
        said = f" ({options})" if options else ""
        self.report.note(line.path, line.number, "R016",
                         f"a {{{match.group(3)}}} code chunk{said} is kept as code and not run: "
                         "its output is not in the book",
                         "paste the output (a table, a figure as an image) into the text if "
                         "the book needs it")
        return Line(f"{match.group(1)}{match.group(2)}{match.group(3)}", line.path, line.number)

    def included(self, lines: list[Line], path: Path, depth: int) -> list[Line]:
        out: list[Line] = []
        for line in lines:
            out += self.expand(line, path, depth)
        return out

    def expand(self, line: Line, path: Path, depth: int) -> list[Line]:
        """The line, with each include in it replaced by the lines it names."""
        pattern = MDBOOK_INCLUDE if self.kind == "mdbook" else QUARTO_INCLUDE
        match = pattern.search(line.text)
        if not match:
            return [line]
        before, after = line.text[: match.start()], line.text[match.end():]
        if self.kind == "mdbook" and match.group(1):  # \{{#include}}: the text itself
            rest = self.expand(Line(after, line.path, line.number), path, depth)
            return [Line(before + match.group(0)[1:] + rest[0].text, line.path, line.number)] \
                + rest[1:]
        spec = match.group(3) if self.kind == "mdbook" else match.group(1)
        got = self.resolve(spec, line, path, depth)
        if got is None:
            rest = self.expand(Line(after, line.path, line.number), path, depth)
            return [Line(before + match.group(0) + rest[0].text, line.path, line.number)] \
                + rest[1:]
        self.report.includes += 1
        got = got or [Line("", line.path, line.number)]
        tail = self.expand(Line(got[-1].text + after, got[-1].path, got[-1].number), path, depth)
        first = Line(before + got[0].text, got[0].path, got[0].number)
        if len(got) == 1:
            return [Line(before + tail[0].text, got[0].path, got[0].number)] + tail[1:]
        return [first] + got[1:-1] + tail

    def resolve(self, spec: str, line: Line, path: Path, depth: int) -> list[Line] | None:
        """The lines an include names, or None (reported) when it cannot be resolved."""
        name, _, select = spec.partition(":")
        target = (path.parent / name).resolve()
        if not target.is_relative_to(self.root):
            self.errors.append(Problem(line.path, line.number, "R005",
                                       f"the include '{spec}' leads outside the source "
                                       f"({self.shown(self.root)}/)",
                                       "copy the file into the book's folder and include it "
                                       "from there"))
            return None
        if not target.is_file() or depth >= DEPTH:
            why = "is not a file" if depth < DEPTH else f"is nested more than {DEPTH} deep"
            self.report.note(line.path, line.number, "R006", f"the include '{spec}' {why}",
                             "fix the path, or paste the text in its place")
            return None
        text = self.text(target)
        if text is None:
            return None
        shown = self.shown(target)
        lines = [Line(t, shown, n) for n, t in enumerate(text.split("\n"), 1)]
        if text.endswith("\n"):
            lines.pop()
        chosen = select_lines(lines, select)
        if chosen is None:
            self.report.note(line.path, line.number, "R006",
                             f"the include '{spec}' names lines or an anchor that "
                             f"{shown} does not have", "fix the range or the anchor name")
            return None
        if target.suffix.lower() in (".md", ".qmd", ".rmd", ".markdown"):
            return self.included(chosen, target, depth + 1)
        return chosen


def select_lines(lines: list[Line], select: str) -> list[Line] | None:
    """mdBook's selection: '' all, 'N' line N, 'N:M', ':M', 'N:' a range, 'name' an anchor."""
    if select == "":
        return lines
    bounds = select.split(":")
    if all(re.fullmatch(r"\d*", b) for b in bounds) and len(bounds) <= 2:
        start = int(bounds[0]) if bounds[0] else 1
        end = (int(bounds[1]) if bounds[1] else len(lines)) if len(bounds) == 2 else start
        if start < 1 or start > len(lines) or end < start:
            return None
        return lines[start - 1: end]
    return anchored(lines, select)


def anchored(lines: list[Line], name: str) -> list[Line] | None:
    """The lines between ANCHOR: name and ANCHOR_END: name, without any anchor lines."""
    start = next((i for i, l in enumerate(lines)
                  if re.search(rf"ANCHOR:\s*{re.escape(name)}\b", l.text)), None)
    if start is None:
        return None
    end = next((i for i, l in enumerate(lines[start + 1:], start + 1)
                if re.search(rf"ANCHOR_END:\s*{re.escape(name)}\b", l.text)), len(lines))
    return [l for l in lines[start + 1: end] if not ANCHOR.search(l.text)]


def front_matter(text: str) -> tuple[dict | None, int]:
    """A leading YAML block's data and how many lines it takes (0 when there is none)."""
    match = FRONT.match(text)
    if not match:
        return None, 0
    try:
        data = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError:
        return None, 0  # not YAML after all: left in the text
    return (data if isinstance(data, dict) else {}), match.group(0).count("\n") + \
        (0 if match.group(0).endswith("\n") else 1)
