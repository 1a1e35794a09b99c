"""Lint, prose: checks on the words of each Markdown file, read by the same Pandoc as the build.

Pandoc parses each file with source positions, so "prose" means exactly what the build
prints as text: code, raw HTML, link targets, attributes, URLs in autolinks and the
(blanked) front matter are never looked at, and every finding has the file's real line.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from press.lint.regions import known_in_region
from press.source.convert import Pandoc
from press.problems import BuildError, Problem
from press.model import QUOTE_STYLES  # noqa: F401  (lint settings use them too)
from press.problems import PROSE_RULES as RULES
from press.util.memo import Memos

LINT_COMMENT = re.compile(r"^\s*<!--\s*lint:")  # the same test as press.source.sourcepos's
IGNORE = re.compile(r"^\s*<!--\s*lint:\s*ignore\s+([A-Za-z0-9,\s]+?)\s*-->\s*$")
WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
URL_LIKE = re.compile(r"://|^www\.|@|\.[a-z]{2,4}/", re.I)
TAB = 4  # Pandoc counts columns with tab stops every four characters
CURLY_DOUBLE = "“”"
# The sentences `invoke new-chapter` writes for the author to replace (press.tools uses
# them): left in, they would print in the book.
PLACEHOLDERS = ("Write the opening of the chapter here.", "Write the first section here.")
EMPHASIS = frozenset({"Emph", "Strong", "Underline", "Strikeout", "Superscript", "Subscript",
            "SmallCaps"})


@dataclass(frozen=True)
class Settings:
    """What the checks need to know about the book."""

    ignore: frozenset[str] = frozenset()
    quotes: str = "straight"
    language: str = "en"
    known: frozenset[str] = frozenset()  # case-folded words the dictionary may lack


@dataclass(frozen=True)
class Token:
    """A piece of inline text: where it is in the source and what Pandoc made of it."""

    kind: str  # "word" (Pandoc's Str), "space", "break", "mark" (a smart quote), "gap"
    text: str
    line: int = 0
    start: int = 0  # index into the source line, not Pandoc's tab-expanded column
    end: int = 0


@dataclass(frozen=True)
class Comment:
    """A lint comment: the lines it covers (its own and the next) and the codes it names."""

    line: int
    last: int
    codes: tuple[str, ...] | None  # None when the comment cannot be read


# ---------------------------------------------------------------- reading the source

def parse_positions(pos: str | None):
    """'5:1-5:6' (or several ranges) -> (line, col, end_line, end_col), or None."""
    ranges = re.findall(r"(\d+):(\d+)-(\d+):(\d+)", (pos or "").split("@")[-1])
    if not ranges:
        return None
    (l1, c1, _, _), (_, _, l2, c2) = ranges[0], ranges[-1]
    return int(l1), int(c1), int(l2), int(c2)


def index_of(line: str, column: int) -> int:
    """The index in a source line of Pandoc's 1-based column, which expands tabs."""
    col = 1
    for index, char in enumerate(line):
        if col >= column:
            return index
        col = (col - 1) // TAB * TAB + TAB + 1 if char == "\t" else col + 1
    return len(line)


class Reader:
    """Walks Pandoc's JSON AST into token streams (one per block of text) and lint comments."""

    def __init__(self, source: str):
        self.lines = source.split("\n")
        self.streams: list[list[Token]] = []
        self.comments: list[Comment] = []

    def token(self, kind: str, text: str, pos) -> Token:
        where = parse_positions(pos)
        if where is None or where[0] != where[2]:
            return Token(kind, text, where[0] if where else 0)
        line, col, _, end = where
        source = self.lines[line - 1] if line <= len(self.lines) else ""
        return Token(kind, text, line, index_of(source, col), index_of(source, end))

    def source(self, token: Token) -> str:
        return self.lines[token.line - 1][token.start:token.end] if token.line else ""

    def walk(self, node, pos=None) -> None:
        """Any part of the AST: blocks are handled by type, lists of inlines become streams."""
        if isinstance(node, list):
            if node and all(isinstance(e, dict) and e.get("t") in INLINES for e in node):
                self.stream(node)
            else:
                for item in node:
                    self.walk(item, pos)  # a wrapper Div's position reaches its one block
        elif isinstance(node, dict) and "t" in node:
            self.block(node, pos)

    def block(self, el: dict, pos) -> None:
        kind, content = el["t"], el.get("c")
        if kind == "Div":
            attrs = dict(content[0][2])
            self.walk(content[1], attrs.get("data-pos") if "wrapper" in attrs else None)
        elif kind in ("Para", "Plain"):
            self.stream(content)
        elif kind == "Header":
            self.stream(content[2])
        elif kind == "RawBlock":
            self.raw(content, pos)
        elif kind not in ("CodeBlock", "HorizontalRule"):
            self.walk(content)

    def stream(self, inlines: list) -> None:
        out: list[Token] = []
        self.streams.append(out)
        for el in inlines:
            self.inline(el, None, out)

    def inline(self, el: dict, pos, out: list[Token]) -> None:
        kind, content = el["t"], el.get("c")
        if kind == "Span":
            attrs = dict(content[0][2])
            inner = attrs.get("data-pos") if "wrapper" in attrs else None
            for child in content[1]:
                self.inline(child, inner, out)
        elif kind == "Str":
            out.append(self.token("word", content, pos))
        elif kind == "Space":
            out.append(self.token("space", " ", pos))
        elif kind in ("SoftBreak", "LineBreak"):
            out.append(Token("break", "\n"))
        elif kind in EMPHASIS:
            for child in content:
                self.inline(child, None, out)
        elif kind == "Quoted":
            self.quoted(content, pos, out)
        elif kind in ("Link", "Image") and not is_autolink(content):
            for child in content[1]:  # the link text or the alt text; never the target
                self.inline(child, None, out)
        elif kind == "Note":
            out.append(Token("gap", ""))
            self.walk(content)
        else:  # Code, Math, RawInline, Cite, autolinks: not prose
            if kind == "RawInline":
                self.raw(content, pos)
            out.append(Token("gap", ""))

    def quoted(self, content, pos, out: list[Token]) -> None:
        """A pair of quotes that smart quotes matched: a mark at each end, words between."""
        where = parse_positions(pos)
        opening = closing = Token("mark", "")
        if where:
            line, col, end_line, end_col = where
            opening = self.token("mark", "“", f"{line}:{col}-{line}:{col + 1}")
            closing = self.token("mark", "”", f"{end_line}:{end_col - 1}-{end_line}:{end_col}")
        out.append(opening)
        for child in content[1]:
            self.inline(child, None, out)
        out.append(closing)

    def raw(self, content, pos) -> None:
        fmt, text = content
        where = parse_positions(pos)
        if fmt != "html" or not LINT_COMMENT.match(text) or where is None:
            return
        last = where[0] + text.rstrip("\n").count("\n")
        match = IGNORE.match(text)
        codes = tuple(re.split(r"[\s,]+", match.group(1).upper().strip())) if match else None
        self.comments.append(Comment(where[0], last, codes))


INLINES = frozenset({"Str", "Space", "SoftBreak", "LineBreak", "Span", "Quoted", "Link", "Image",
           "Note", "Code", "Math", "RawInline", "Cite", *EMPHASIS})


def is_autolink(content) -> bool:
    """A link whose text is its own address (<https://...>) is a URL, not prose."""
    text = "".join(stringify(content[1]))
    target = content[2][0]
    return text in (target, target.removeprefix("mailto:"))


def stringify(inlines) -> list[str]:
    out = []
    for el in inlines:
        if el["t"] == "Str":
            out.append(el["c"])
        elif el["t"] == "Span":
            out += stringify(el["c"][1])
    return out


def read_source(markdown: str, tree: str) -> Reader:
    """The prose of a text from Pandoc's JSON tree of it (read in the build's dialect)."""
    ast = json.loads(tree)
    reader = Reader(markdown)
    reader.walk(ast["blocks"])
    return reader


# ---------------------------------------------------------------- the checks

def runs(stream: list[Token]):
    """Words as the reader sees them: runs of Str tokens with nothing between them.

    Yields (tokens, adjacent), adjacent being True when only spaces or line breaks
    separate the run from the one before it.
    """
    run: list[Token] = []
    adjacent, gap_since = False, False
    for token in stream + [Token("gap", "")]:
        if token.kind == "word":
            if not run:
                adjacent, gap_since = not gap_since, False
            run.append(token)
            continue
        if run:
            yield run, adjacent
            run = []
        if token.kind not in ("space", "break"):
            gap_since = True


def check_quotes(reader: Reader, settings: Settings, path) -> list[Problem]:
    problems = []
    for stream in reader.streams:
        for token in stream:
            if token.kind not in ("word", "mark"):
                continue
            source = reader.source(token)
            if settings.quotes == "typographic" and ('"' in source or "'" in source):
                char = '"' if '"' in source else "'"
                problems.append(Problem(
                    path, token.line, "P001", f"straight quote {char} in prose",
                    "this book's source uses typographic quotes: write ‘ ’ (and ’ for "
                    "apostrophes) or “ ”", RULES["P001"]))
            elif settings.quotes == "straight" and token.kind == "word" and '"' in source \
                    and any(c in token.text for c in CURLY_DOUBLE):
                problems.append(Problem(
                    path, token.line, "P002",
                    f"straight double quote without a partner: it will print as {token.text}",
                    "close or open the quotation, or type the mark you mean: “ ” for quotes, "
                    "″ for inches", RULES["P002"]))
    return problems


def check_spaces(reader: Reader, path) -> list[Problem]:
    """Two spaces between words; at a line end they are a hard break, which Pandoc parses apart."""
    problems = []
    for stream in reader.streams:
        for token in stream:
            source = reader.source(token)
            if token.kind == "space" and source and source != " ":
                problems.append(Problem(
                    path, token.line, "P003",
                    f"{len(source)} spaces between words" if "\t" not in source
                    else "a tab between words",
                    "keep one space (two spaces at the end of a line make a line break)",
                    RULES["P003"]))
    return problems


def check_repeats(reader: Reader, path) -> list[Problem]:
    """The same word twice in a row, in any case, also across a line break."""
    problems = []
    for stream in reader.streams:
        previous = None
        for run, adjacent in runs(stream):
            text = "".join(t.text for t in run)
            words = list(WORD.finditer(text))
            first = words[0] if words and words[0].start() == 0 else None
            if adjacent and previous and first and first.group().casefold() == previous:
                problems.append(Problem(path, run[0].line, "P004",
                                        f"repeated word '{first.group()}'",
                                        "delete one of them, or silence the line if both "
                                        "are meant (\"had had\")", RULES["P004"]))
            last = words[-1] if words and words[-1].end() == len(text) else None
            previous = last.group().casefold() if last else None
    return problems


def speller(language: str, memos: Memos):
    """The offline dictionary of pyspellchecker for a language, or None if it has none;
    loaded once for all the files (it takes a while)."""
    def load():
        from spellchecker import SpellChecker

        try:
            return SpellChecker(language=language.split("-")[0].lower(), distance=1)
        except ValueError:
            return None
    return memos("lint.spellers", 4).get(language, load)


def has_dictionary(language: str, memos: Memos | None = None) -> bool:
    return speller(language, memos or Memos()) is not None


def known(word: str, dictionary, words: frozenset[str], language: str = "") -> bool:
    """In the word list or the dictionary, as written, without a possessive, or part by
    part; in a British-spelling region, also as the British form of a dictionary word."""
    plain = word.replace("’", "'")
    forms = {plain, re.sub(r"'s$", "", plain, flags=re.I)}
    if any(f.casefold() in words or f in dictionary for f in forms):
        return True
    if any(known_in_region(f, language, dictionary) for f in forms):
        return True
    parts = plain.split("-")
    return len(parts) > 1 and all(len(p) < 2 or known(p, dictionary, words, language)
                                  for p in parts)


def check_spelling(reader: Reader, settings: Settings, path, memos: Memos) -> list[Problem]:
    dictionary = speller(settings.language, memos)
    if dictionary is None:
        return []
    problems = []
    for stream in reader.streams:
        for run, _ in runs(stream):
            text = "".join(t.text for t in run)
            if URL_LIKE.search(text):
                continue
            offsets = [0]
            for token in run:
                offsets.append(offsets[-1] + len(token.text))
            for match in WORD.finditer(text):
                word = match.group()
                if len(word) < 2 or known(word, dictionary, settings.known, settings.language):
                    continue
                token = run[max(i for i, o in enumerate(offsets[:-1]) if o <= match.start())]
                problems.append(Problem(path, token.line, "P005", f"unknown word '{word}'",
                                        suggestion(word, settings.language, memos),
                                        RULES["P005"]))
    return problems


def suggestion(word: str, language: str, memos: Memos) -> str:
    guess = memos("lint.suggestions", 4096).get(
        (word.lower(), language), lambda: speller(language, memos).correction(word.lower()))
    add = "otherwise add it to words.txt in the manuscript folder"
    return f"did you mean '{guess}'? {add}" if guess and guess != word.lower() else \
        f"check the spelling; {add}"


def check_placeholders(markdown: str, path) -> list[Problem]:
    """A sentence of new-chapter's scaffold, still waiting to be replaced."""
    return [Problem(path, number, "P008", f"placeholder text left in: '{sentence}'",
                    "replace it with the chapter's own text (invoke new-chapter or new-book "
                    "wrote it)",
                    RULES["P008"])
            for number, line in enumerate(markdown.split("\n"), 1)
            for sentence in PLACEHOLDERS if sentence in line]


# ---------------------------------------------------------------- silencing

def silence(problems: list[Problem], comments: list[Comment], settings: Settings,
            path) -> list[Problem]:
    """Drop what lint comments and book.yaml silence; report comments that are wrong or idle."""
    kept, used = [], set()
    for problem in problems:
        if problem.code in settings.ignore:
            continue
        cover = [c for c in comments if c.codes and problem.code in c.codes
                 and c.line <= problem.line <= c.last + 1]
        used.update((id(c), problem.code) for c in cover)
        if not cover:
            kept.append(problem)
    for comment in comments:
        bad = [code for code in comment.codes or () if code not in RULES]
        if comment.codes is None or bad:
            what = f"names no prose rule: {', '.join(bad)}" if bad else "cannot be read"
            kept.append(Problem(path, comment.line, "P007", f"lint comment {what}",
                                f"write <!-- lint: ignore P003 --> with codes "
                                f"{min(RULES)}-{max(RULES)}",
                                "error"))
            continue
        for code in comment.codes:
            if (id(comment), code) not in used and code not in settings.ignore:
                kept.append(Problem(path, comment.line, "P006",
                                    f"lint comment silences no {code} on this line or the next",
                                    "remove the comment, or move it next to the finding",
                                    RULES["P006"]))
    return [p for p in kept if p.code not in settings.ignore]


# ---------------------------------------------------------------- entry points

def check_text(markdown: str, path, settings: Settings, pandoc: Pandoc | None = None,
               memos: Memos | None = None) -> list[Problem]:
    """Every prose check on one Markdown text (front matter already blanked)."""
    tree = (pandoc or Pandoc()).texts([(markdown, str(path))], "read")[0]
    return check_tree(markdown, tree, path, settings, memos or Memos())


def check_tree(markdown: str, tree: str, path, settings: Settings,
               memos: Memos) -> list[Problem]:
    """Every prose check on one Markdown text, given Pandoc's tree of it."""
    reader = read_source(markdown, tree)
    found = (check_quotes(reader, settings, path) + check_spaces(reader, path)
             + check_repeats(reader, path) + check_spelling(reader, settings, path, memos)
             + check_placeholders(markdown, path))
    return silence(found, reader.comments, settings, path)


def check_sources(sources: list[tuple[Path, str]], settings: Settings,
                  pandoc: Pandoc | None = None, memos: Memos | None = None) -> list[Problem]:
    """Check several files, read by Pandoc side by side in the build's own lanes; a file
    Pandoc cannot read is a problem (M027), and the others are still checked."""
    pandoc, memos = pandoc or Pandoc(), memos or Memos()
    texts = [(markdown, str(path)) for path, markdown in sources]
    problems: list[Problem] = []
    try:
        trees = pandoc.texts(texts, "read")
    except BuildError as error:  # those that did read are in the cache now
        problems += error.problems
        failed = {str(p.path) for p in error.problems}
        sources = [s for s in sources if str(s[0]) not in failed]
        trees = pandoc.texts([(m, str(p)) for p, m in sources], "read")
    for (path, markdown), tree in zip(sources, trees):
        problems += check_tree(markdown, tree, path, settings, memos)
    return problems
