"""Lint: every check on a manuscript at once, from book.yaml to the last word; writes nothing."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


from press import pipeline
from press.lint import prose
from press.model import Book
from press.problems import BuildError, Problem, in_order
from press.source.load import (FRONT_MATTER, lint_settings, load_book, parse_yaml,
                               read_text, real_path, unusable_name)
from press.util.paths import as_shown
from press.workspace import Workspace

WORD_LIST = "words.txt"


@dataclass(frozen=True)
class Report:
    """What `invoke lint` prints: every finding in file and line order."""

    problems: tuple[Problem, ...]
    files: int  # Markdown files whose prose was read
    spelling: bool  # False when pyspellchecker has no dictionary for the book's language

    @property
    def errors(self) -> int:
        return sum(p.severity == "error" for p in self.problems)

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors


def lint_manuscript(manuscript: Path, styles: Path, ws: Workspace | None = None) -> Report:
    """Load, convert and enrich (M and G codes) and read the prose (P codes), all reported.

    When book.yaml or a file cannot be loaded, the later stages cannot run, but the prose
    of every Markdown file that can be read is still checked. Pandoc runs in the
    workspace's lanes, for the prose and the build alike; nothing is written.
    """
    ws = ws or Workspace(None)
    manuscript = Path(manuscript).resolve()
    problems: list[Problem] = []
    loaded = True
    try:
        book = load_book(manuscript, memos=ws.memos)
    except BuildError as error:
        problems += error.problems
        book, loaded = error.partial, False
    sources, settings = book_sources(book, problems) if book else loose_sources(manuscript)
    problems += prose.check_sources(sources, settings, ws.pandoc, ws.memos)
    if book is not None:
        try:
            problems += pipeline.prepare(ws, manuscript, styles, log=lambda *_: None,
                                         book=book).warnings
        except BuildError as error:
            problems += held_back(error.problems, loaded)
    return Report(tuple(in_order(problems)), len(sources),
                  prose.has_dictionary(settings.language, ws.memos))


def held_back(problems: list[Problem], loaded: bool) -> list[Problem]:
    """The later stages' findings, less those a glossary with faults would make up: with
    an entry's variants unread, 'never used' (G001) may be untrue."""
    return problems if loaded else [p for p in problems if p.code != "G001"]


def format_problem(problem: Problem) -> str:
    """file:line: CODE severity: message, then the hint on its own line."""
    where = f"{problem.path}:{problem.line}" if problem.line else f"{problem.path}"
    text = f"{where}: {problem.code} {problem.severity}: {problem.message}"
    return f"{text}\n    hint: {problem.hint}" if problem.hint else text


def book_sources(book: Book, problems: list[Problem]):
    """The parts of a loaded book and the settings its book.yaml and glossary give."""
    names = [book.meta.title, book.meta.subtitle, book.meta.creator, book.meta.publisher]
    names += [form for e in book.glossary for form in (e.term, *e.variants)]
    words = word_list(book.root, book.root.parent, problems) | words_in(names)
    settings = prose.Settings(frozenset(book.lint.ignore), book.lint.quotes,
                              book.meta.language, frozenset(words))
    return [(p.path, p.markdown) for p in book.parts], settings


def loose_sources(manuscript: Path):
    """When the book does not load: every listed (or found) Markdown file that can be read.

    The settings come from whatever parts of book.yaml and glossary.yaml parse; the
    problems they have are already reported by the load stage.
    """
    project, scratch = manuscript.parent, []
    data = _yaml(manuscript / "book.yaml", manuscript)
    data = data if isinstance(data, dict) else {}
    listed = [manuscript / piece for key in ("front", "chapters", "back")
              for e in (data.get(key) or []) if isinstance(data.get(key), list)
              for piece in str(e).split(" - ")]  # an item folded into the one above (M033)
    # Only what the build may read: no absolute path, ../ or link that leads out.
    paths = [p for p in listed if p.suffix == ".md" and readable_inside(p, manuscript)] or \
        [p for p in sorted(manuscript.glob("*/*.md")) if readable_inside(p, manuscript)]
    sources = []
    for path in paths:
        text = read_text(path, as_shown(path, project), scratch)
        if text is not None:
            sources.append((as_shown(path, project), blank_front_matter(text)))
    lint = lint_settings(data.get("lint") or {}, None, Path("book.yaml"), scratch)
    names = [str(data.get(k, "")) for k in ("title", "subtitle", "creator", "publisher")]
    names += glossary_names(manuscript / "glossary.yaml", manuscript)
    words = word_list(manuscript, project, scratch) | words_in(names)
    return sources, prose.Settings(frozenset(lint.ignore), lint.quotes,
                                   str(data.get("language") or "en"), frozenset(words))


TERM_LINE = re.compile(r"^[\s-]*(?:term|variants)\s*:(.*)$", re.M)


def glossary_names(path: Path, manuscript: Path) -> list[str]:
    """The terms and variants of glossary.yaml, known words to the speller. When the
    file is not valid YAML, its term: and variants: lines are read as text: the glossary
    failing to load must not make every term an unknown word."""
    if not readable_inside(path, manuscript):
        return []
    entries = _yaml(path, manuscript)
    if isinstance(entries, list):
        return [str(f) for e in entries if isinstance(e, dict)
                for f in [e.get("term", "")] + list(e.get("variants") or [])]
    try:
        return TERM_LINE.findall(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return []


def blank_front_matter(text: str) -> str:
    """Front matter turned into empty lines, as load does, so line numbers stay true."""
    match = FRONT_MATTER.match(text)
    return "\n" * text[: match.end()].count("\n") + text[match.end():] if match else text


def readable_inside(path: Path, manuscript: Path) -> bool:
    """A file the build may read: a plain name (no NUL, not too long) that, links followed,
    is a file inside the manuscript folder."""
    if unusable_name(str(path)):
        return False
    real = real_path(path)
    return real is not None and real.is_relative_to(manuscript.resolve()) and real.is_file()


def _yaml(path: Path, manuscript: Path):
    """What parses of a YAML file inside the manuscript (an alias bomb, bad characters and
    the like give nothing: load has reported them)."""
    if not readable_inside(path, manuscript):
        return None
    text = read_text(path, path, [])
    return None if text is None else parse_yaml(text, path, [])[0]


def word_list(manuscript: Path, project: Path, problems: list[Problem]) -> set[str]:
    """manuscript/words.txt: one word a line, '#' starts a comment; case is ignored."""
    path = manuscript / WORD_LIST
    if not readable_inside(path, manuscript):
        return set()
    text = read_text(path, as_shown(path, project), problems)
    return {w.casefold() for line in (text or "").splitlines()
            for w in line.split("#", 1)[0].split()}


def words_in(texts) -> set[str]:
    """The words of names and terms, which the dictionary need not know."""
    return {w.casefold() for text in texts for w in re.findall(r"[^\W\d_]+", str(text))}
