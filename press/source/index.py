"""Stage 1, load the index file: manuscript/index.yaml into validated IndexSettings.

index.yaml declares what the text cannot say at each mark: "see" and "see also"
cross-references, a heading's sort key, the forms found in the text by themselves.

    find: false                  # find every entry below in the text (default false)
    glossary: false              # the glossary's terms become index entries too
    entries:
      - term: summit
        variants: [summits]      # other forms found in the text
        see-also: [conference]
      - term: summit!regional    # a subentry: heading!subheading
      - term: meeting
        see: [summit]            # no pages of its own: "meeting. See summit"
      - term: St. Petersburg
        sort: Saint Petersburg   # sorted as if written so
        find: true               # found in the text, whatever the file's setting
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from press.model import Book, IndexSettings, IndexTerm
from press.problems import Problem, raise_if_any
from press.source.load import check_keys, key_lines, outside, parse_yaml, read_text
from press.util.memo import Memos
from press.util.paths import as_shown

FILE = "index.yaml"
FILE_KEYS = {"find": bool, "glossary": bool, "entries": list}
TERM_KEYS = {"term": str, "sort": str, "variants": list, "see": list, "see-also": list,
             "find": bool}


def with_index(book: Book, memos: Memos) -> Book:
    """The loaded book with its index.yaml read and checked (M and I codes at its lines)."""
    problems: list[Problem] = []
    index = load_index(book.root, book.root.parent.resolve(), problems, memos)
    raise_if_any(problems)
    return replace(book, index=index) if index != book.index else book


def load_index(manuscript: Path, project: Path, problems: list[Problem],
               memos: Memos) -> IndexSettings:
    """index.yaml when there is one (kept by its text in a warm process)."""
    path = manuscript / FILE
    if not path.exists() and not path.is_symlink():
        return IndexSettings()
    shown = as_shown(path, project)
    if not path.resolve().is_relative_to(manuscript):
        problems.append(outside(as_shown(path, project, follow=False), 1, FILE))
        return IndexSettings()
    text = read_text(path, shown, problems)
    if text is None:
        return IndexSettings(path=shown)
    settings, found = memos("load.index", 8).get((shown, text),
                                                 lambda: index_of_text(text, shown))
    problems += found
    return settings


def index_of_text(text: str, shown: Path) -> tuple[IndexSettings, tuple[Problem, ...]]:
    """The settings and entries of index.yaml's text, and what is wrong with them."""
    problems: list[Problem] = []
    data, node = parse_yaml(text, shown, problems)
    if data is None:
        return IndexSettings(path=shown), tuple(problems)
    if not isinstance(data, dict):
        problems.append(Problem(shown, 1, "M005", "index.yaml must be a mapping",
                                "write 'entries:' followed by '- term: ...' items"))
        return IndexSettings(path=shown), tuple(problems)
    check_keys(data, FILE_KEYS, (), shown, key_lines(node), 1, problems)
    entries = data.get("entries") or []
    items = next((v for k, v in node.value if k.value == "entries"), None)
    terms = []
    if isinstance(entries, list) and items is not None and hasattr(items, "value") \
            and isinstance(items.value, list):
        terms = [t for t in (_term(item, n, shown, problems)
                             for item, n in zip(entries, items.value)) if t]
    return IndexSettings(tuple(terms), shown, data.get("find") is True,
                         data.get("glossary") is True), tuple(problems)


def _term(item, node, shown: Path, problems: list[Problem]) -> IndexTerm | None:
    line = node.start_mark.line + 1
    if not isinstance(item, dict):
        problems.append(Problem(shown, line, "M005", "an index entry must be a mapping",
                                "write '- term: ...'"))
        return None
    check_keys(item, TERM_KEYS, ("term",), shown, key_lines(node), line, problems)
    term = item.get("term")
    if not isinstance(term, str):
        return None  # missing or not text: reported above
    if not term.strip() or any(not piece.strip() for piece in term.split("!")) \
            or term.count("!") > 1:
        problems.append(Problem(shown, line, "I006", f"index term '{term}' is empty, has an "
                                "empty level or more than two",
                                "write 'heading' or 'heading!subheading'"))
        return None

    def texts(key: str) -> tuple[str, ...]:
        value = item.get(key)
        return tuple(str(v) for v in value) if isinstance(value, list) else ()

    find = item.get("find")
    return IndexTerm(term.strip(), line, str(item.get("sort") or ""), texts("variants"),
                     texts("see"), texts("see-also"), find if isinstance(find, bool) else None)
