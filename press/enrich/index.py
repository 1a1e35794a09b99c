"""Stage 3c, enrich the index: gather the marks into entries, sort them, lint them, and
give them their print pages once the book is laid out.

Marks come from the parts' scans (press.enrich.marks), each with its book-wide id; what
the text cannot say (see, see also, sort keys) comes from index.yaml. Every edition shows
the same entries; only the locators' labels differ: print pages in the PDF (and in the
EPUB when the print layout is known), chapters otherwise.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from press.enrich.marks import Finder
from press.model import Book, IndexTerm, Part
from press.problems import Problem, severity
from press.util.folio import folio
from press.util.memo import Memos


@dataclass(frozen=True)
class Mark:
    """One index mark in the text, with its book-wide id."""

    kind: str  # "index", "index-start" or "index-end"
    key: str  # "summit" or "summit!regional"
    id: str
    part: Part
    line: int | None
    where: str = ""  # "heading" or "link" when it sits inside one
    found: bool = False  # wrapped by the finder, not by the author


@dataclass(frozen=True)
class Locator:
    """A place an entry points to: one mark, or a passage from a start to an end mark."""

    id: str
    part: Part
    end: str = ""  # the end mark's id for a passage


@dataclass(frozen=True)
class XRef:
    label: str  # "summit" or "summit: regional"
    id: str


@dataclass(frozen=True)
class IndexEntry:
    """A heading (or subheading) as every edition shows it."""

    term: str  # its text at its own level
    key: str  # the full key, "summit!regional"
    id: str
    locators: tuple[Locator, ...] = ()
    subentries: tuple["IndexEntry", ...] = ()
    see: tuple[XRef, ...] = ()
    see_also: tuple[XRef, ...] = ()
    # (start label, start id, end label or None, end id or None): print pages collapsed
    # into ranges, known once the book is laid out (also the EPUB's, when known).
    pages: tuple = ()

    def by_part(self) -> list[tuple[Part, list[Locator]]]:
        """The locators chapter by chapter, for an edition without print pages."""
        groups: dict[str, tuple[Part, list[Locator]]] = {}
        for loc in self.locators:
            groups.setdefault(loc.part.slug, (loc.part, []))[1].append(loc)
        return list(groups.values())


@dataclass(frozen=True)
class IndexGroup:
    """The entries under one letter (or under "Numbers and symbols")."""

    letter: str
    id: str
    entries: tuple[IndexEntry, ...] = field(default_factory=tuple)


def finder_of(book: Book, memos: Memos) -> Finder | None:
    """The forms to find in the text, each with the heading it marks, or None."""
    settings, forms = book.index, {}
    if settings.glossary:
        for entry in book.glossary:
            for form in (entry.term, *entry.variants):
                forms[" ".join(form.lower().split())] = entry.term
    for term in settings.terms:
        if (settings.find if term.find is None else term.find) and not term.see:
            for form in term.variants or (term.term.split("!")[-1],):
                forms[" ".join(form.lower().split())] = term.term
    if not forms:
        return None
    return memos("index.finder", 4).get(tuple(sorted(forms.items())), lambda: Finder(forms))


def sort_key(text: str, language: str = "en") -> tuple:
    """How a heading sorts: letters without accents or case, numbers by value, 'St.' as
    'Saint' in English, leading quotes and punctuation ignored."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    if language.lower().startswith("en"):
        plain = re.sub(r"^st\.?\s+", "saint ", plain)
    plain = re.sub(r"^[^\w]+", "", plain)
    plain = re.sub(r"\d+", lambda m: m.group(0).zfill(12), plain)
    words = re.sub(r"[^\w\s]", "", plain)
    return (0 if words[:1].isdigit() or not words[:1].isalpha() else 1, words, text)


def letter_of(key: tuple) -> str:
    return "Numbers and symbols" if key[0] == 0 else key[1][:1].upper()


def slug_of(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def collect(book: Book, marks) -> tuple[dict, list[Problem]]:
    """key -> its locators, in reading order; passages paired start to end by key.

    Keys are made consistent: a key differing only in case from a declared term, or from
    one marked before it, is counted under that one (warned about when undeclared).
    """
    problems: list[Problem] = []
    declared = {t.term.casefold(): t.term for t in book.index.terms}
    declared.update({e.term.casefold(): e.term for e in book.glossary} if book.index.glossary
                    else {})
    seen: dict[str, tuple[str, Mark]] = {}
    found: dict[str, list[Locator]] = {}
    open_: dict[str, list[Mark]] = {}
    for mark in marks:
        levels = mark.key.split("!")
        if not mark.key.strip() or any(not level for level in levels) or len(levels) > 2:
            problems.append(_problem(mark.part.path, mark.line, "I006",
                                    f"index key '{mark.key}' is empty, has an empty level "
                                    "or more than two", "give the words, or "
                                    "key=\"heading\" or key=\"heading!subheading\""))
            continue
        if mark.where:
            problems.append(_problem(mark.part.path, mark.line, "I004",
                                    f"index mark '{mark.key}' inside a {mark.where}",
                                    f"put the mark in the text just after the {mark.where}"))
        key = declared.get(mark.key.casefold())
        if key is None:
            first, at = seen.setdefault(mark.key.casefold(), (mark.key, mark))
            if first != mark.key:
                problems.append(_problem(mark.part.path, mark.line, "I003",
                                        f"index heading '{mark.key}' differs only in case "
                                        f"from '{first}' ({at.part.path}:{at.line})",
                                        "write the heading the same way everywhere"))
            key = first
        _place(mark, key, found, open_, problems)
    for key, starts in open_.items():
        for mark in starts:
            problems.append(_problem(mark.part.path, mark.line, "I005",
                                    f"index passage '{key}' starts here and never ends",
                                    f"close it with []{{.index-end key=\"{key}\"}}"))
    return found, problems


def _place(mark: Mark, key: str, found: dict, open_: dict, problems: list[Problem]) -> None:
    if mark.kind == "index":
        found.setdefault(key, []).append(Locator(mark.id, mark.part))
    elif mark.kind == "index-start":
        open_.setdefault(key, []).append(mark)
        found.setdefault(key, [])
    elif open_.get(key):
        start = open_[key].pop()
        found[key].append(Locator(start.id, start.part, mark.id))
    else:
        problems.append(_problem(mark.part.path, mark.line, "I005",
                                f"index passage '{key}' ends here but never started",
                                f"open it earlier with []{{.index-start key=\"{key}\"}}"))


def build_index(book: Book, marks) -> tuple[tuple[IndexGroup, ...], list[Problem]]:
    """The index's letter groups and what is wrong with its marks and file."""
    found, problems = collect(book, marks)
    terms = {t.term: t for t in book.index.terms}
    keys = set(found) | set(terms)
    keys |= {k.split("!")[0] for k in keys}  # a subentry's heading is an entry too
    problems += lint_index(book, marks, found, keys)
    lang = book.meta.language
    by_top: dict[str, list[str]] = {}
    for key in keys:
        by_top.setdefault(key.split("!")[0], []).append(key)
    ordered = sorted(by_top, key=lambda k: sort_key(_sort_text(k, terms), lang))
    groups: dict[str, list[IndexEntry]] = {}
    for top in ordered:
        subs = sorted((k for k in by_top[top] if k != top),
                      key=lambda k: sort_key(_sort_text(k, terms).split("!")[-1], lang))
        entry = _entry(top, found, terms, keys, tuple(_entry(k, found, terms, keys)
                                                      for k in subs))
        groups.setdefault(letter_of(sort_key(_sort_text(top, terms), lang)), []).append(entry)
    return tuple(IndexGroup(letter, f"ix-g-{slug_of(letter)}", tuple(entries))
                 for letter, entries in groups.items()), problems


def _sort_text(key: str, terms: dict) -> str:
    term = terms.get(key)
    return term.sort if term and term.sort else key


def _entry(key: str, found: dict, terms: dict, keys: set, subentries=()) -> IndexEntry:
    term = terms.get(key) or IndexTerm(key, 0)
    # Cross-references in alphabetical order, as the Chicago Manual orders them.
    refs = tuple(tuple(XRef(t.replace("!", ": "), entry_id(t))
                       for t in sorted(targets, key=lambda t: sort_key(_sort_text(t, terms)))
                       if t in keys)
                 for targets in (term.see, term.see_also))
    return IndexEntry(key.split("!")[-1], key, entry_id(key), tuple(found.get(key, ())),
                      subentries, *refs)


def entry_id(key: str) -> str:
    return "ix-e-" + "--".join(slug_of(level) for level in key.split("!"))


def lint_index(book: Book, marks, found: dict, keys: set) -> list[Problem]:
    """Marked once (often a typo), cross-references to nowhere, declared but never used."""
    problems: list[Problem] = []
    path = book.index.path
    declared: dict[str, IndexTerm] = {}
    for term in book.index.terms:
        if term.term in declared:
            problems.append(_problem(path, term.line, "I008",
                                    f"index term '{term.term}' is declared twice (also line "
                                    f"{declared[term.term].line})", "keep one entry"))
        declared.setdefault(term.term, term)
        for target in (*term.see, *term.see_also):
            if target not in keys:
                problems.append(_problem(path, term.line, "I002",
                                        f"'{term.term}' refers to '{target}', which is not an "
                                        "index entry", "name an entry exactly (heading!sub "
                                        "for a subentry), or mark or declare that entry"))
        if not term.see and not found.get(term.term) and \
                not any(k.startswith(term.term + "!") for k in found):
            problems.append(_problem(path, term.line, "I007",
                                    f"index term '{term.term}' is never marked or found in "
                                    "the text", "mark it ([words]{.index}), add 'find: true', "
                                    "or remove the entry"))
    by_key: dict[str, list[Mark]] = {}
    for mark in marks:
        by_key.setdefault(mark.key, []).append(mark)
    for key, placed in by_key.items():
        if len(placed) == 1 and not placed[0].found and key not in declared \
                and placed[0].kind == "index" and key in found:
            mark = placed[0]
            problems.append(_problem(mark.part.path, mark.line, "I001",
                                    f"index heading '{key}' is marked only once",
                                    "check its spelling against the other marks, or declare "
                                    "it in index.yaml if once is right"))
    return problems


def page_runs(pages) -> tuple:
    """[(page, label, id or None)] -> ranges of consecutive pages, each end with an id."""
    best: dict[int, tuple[str, str | None]] = {}
    for number, label, target in pages:
        if number not in best or (best[number][1] is None and target):
            best[number] = (label, target)
    runs, run = [], []
    for number in sorted(best):
        if run and number != run[-1][0] + 1:
            runs.append(run)
            run = []
        run.append((number, *best[number]))
    if run:
        runs.append(run)
    return tuple((r[0][1], r[0][2], r[-1][1] if len(r) > 1 else None,
                  r[-1][2] if len(r) > 1 else None) for r in runs)


def located(entry: IndexEntry, pages: dict[str, int], body_start: int) -> IndexEntry:
    """One entry with its print pages: every marked page, passages in full."""
    found = []
    for loc in entry.locators:
        if loc.id not in pages:
            continue
        first = pages[loc.id]
        last = pages.get(loc.end, first) if loc.end else first
        found.append((first, folio(first, body_start), loc.id))
        found += [(n, folio(n, body_start), None) for n in range(first + 1, last)]
        if last > first:
            found.append((last, folio(last, body_start), loc.end))
    return replace(entry, pages=page_runs(found),
                   subentries=tuple(located(s, pages, body_start) for s in entry.subentries))


def with_pages(groups, pages: dict[str, int], body_start: int) -> tuple[IndexGroup, ...]:
    """The index with every entry's print pages, from where its marks landed."""
    return tuple(replace(g, entries=tuple(located(e, pages, body_start) for e in g.entries))
                 for g in groups)


def locator_pages(groups, pages: dict[str, int], body_start: int) -> dict[str, list]:
    """What an EPUB built later needs to label its locators: each mark's page index."""
    ids = {loc_id for g in groups for e in g.entries for entry in (e, *e.subentries)
           for loc in entry.locators for loc_id in (loc.id, loc.end) if loc_id}
    return {i: pages[i] for i in sorted(ids) if i in pages}


def counts(groups) -> tuple[int, int]:
    """(entries, locators) of the index, subentries included."""
    entries = [x for g in groups for e in g.entries for x in (e, *e.subentries)]
    return len(entries), sum(len(e.locators) for e in entries)


def _problem(path, line, code: str, message: str, hint: str) -> Problem:
    return Problem(path, line, code, message, hint, severity(code))
