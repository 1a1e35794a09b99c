"""Stage 1, load: read book.yaml, chapter front matter and glossary.yaml into a validated Book."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from pathlib import Path

import yaml

from press.problems import BuildError, Problem, raise_if_any
from press.util.memo import Memos
from press.util.paths import as_shown
from press.model import (HIGHLIGHT_THEMES, QUOTE_STYLES, Book, GlossaryEntry, LintSettings,
                         Metadata, Original, Part)
from press.problems import PROSE_RULES as RULES

BOOK_KEYS = {
    "title": str, "creator": str, "language": str, "identifier": str, "date": str,
    "rights": str, "subtitle": str, "slug": str, "publisher": str, "edition": str,
    "description": str, "subjects": list, "trim": dict, "front": list, "chapters": list,
    "back": list, "lint": dict, "highlight": dict, "isbn": str, "toc-depth": int,
}
BOOK_REQUIRED = ("title", "creator", "language", "identifier", "date", "rights", "chapters")
LINT_KEYS = {"ignore": list, "quotes": str}
HIGHLIGHT_KEYS = {"theme": str}
PART_KEYS = {"title": str, "short-title": str}
ENTRY_KEYS = {"term": str, "variants": list, "definition": str, "see": list, "original": dict}
LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
LENGTH = re.compile(r"^\d{1,9}(\.\d{1,9})?(in|mm|cm|pt)$")
TRIM_INCHES = (2, 48)  # a miniature book to a broadsheet: beyond, a typo (or an attack)
RTL = ("ar", "fa", "he", "ur")
SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")  # whole (fullmatch), at most 100
# A character no text of a book holds: C0 and C1 controls but tab and line end, DEL,
# surrogates and noncharacters. Pandoc, lxml and the zip writer choke on them or drop them.
BAD_CHARACTER = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
                           "\ufffe\uffff]|[\U0001fffe-\U0001ffff]")
# The same written as a character reference (&#0; &#xD800;), which Pandoc would decode.
CHARACTER_REFERENCE = re.compile(r"&#(?:[xX]([0-9A-Fa-f]{1,8})|([0-9]{1,10}));")
NESTING = 32  # block quotes and lists inside each other: a book nests a few, never dozens
CONTAINERS = re.compile(r"(?:[ \t]*(?:>|[-+*]|\d{1,9}[.)])(?=[ \t]|$))+")
FENCE = re.compile(r"[ >]*(`{3,}|~{3,})")
RULE = re.compile(r"[ \t]*([-*_])([ \t]*\1){2,}[ \t]*")
PART_BYTES = 1 << 20  # a Markdown file of more is several chapters, slow to typeset whole
YAML_NODES = 200_000  # nodes of a YAML file once its aliases are expanded
YAML_DEPTH = 64  # nesting of YAML lists and mappings
FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(---|\.\.\.)[ \t]*(\n|\Z)", re.S)


def slugify(text: str) -> str:
    """A lower-case ASCII slug: 'Defense Summit' -> 'defense-summit'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def smarten(text: str) -> str:
    """Typographic quotes for titles, which do not pass through Pandoc's smart extension."""
    text = re.sub(r"(\w)'", "\\1\u2019", text)
    text = re.sub(r"'(?=\w)", "\u2018", text).replace("'", "\u2019")
    text = re.sub(r'"(?=\w)', "\u201c", text)
    return text.replace('"', "\u201d")


def read_text(path: Path, shown: Path, problems: list[Problem]) -> str | None:
    """Read a UTF-8 file, turning a missing or undecodable file into a problem."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        # A file-wide problem points at line 1, so editors can still jump to the file.
        problems.append(Problem(shown, 1, "M001", f"cannot read file: {exc.strerror}",
                                "check that the file exists and is readable"))
        return None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")  # a BOM is not text
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(shown, line, "M002", "file is not valid UTF-8",
                                "save the file with UTF-8 encoding"))
        return None
    text = text.replace("\r\n", "\n")  # Windows line ends: the same lines
    found = bad_character(text)
    if found is not None:
        problems.append(Problem(shown, text.count("\n", 0, found[0]) + 1, "M046",
                                f"the text holds the character {found[1]}, which no book "
                                "may hold", "delete it (it is a control character or a "
                                "noncharacter, often left by a copy and paste)"))
        return None
    return text


def bad_character(text: str) -> tuple[int, str] | None:
    """Where the first character no book may hold is, and its name (U+0000), if any:
    raw, or as a character reference."""
    raw = BAD_CHARACTER.search(text)
    if raw is not None:
        return raw.start(), f"U+{ord(raw.group()):04X}"
    for ref in CHARACTER_REFERENCE.finditer(text):
        point = int(ref.group(1), 16) if ref.group(1) else int(ref.group(2))
        if point > 0x10FFFF or BAD_CHARACTER.fullmatch(chr(point)):
            return ref.start(), f"{ref.group()} (U+{point:04X})"
    return None


# libyaml's parser when PyYAML was built with it (the wheels are): same results and marks,
# several times faster on a book of many chapters.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str, shown: Path, problems: list[Problem], first_line: int = 1):
    """Parse YAML, returning (data, node) so keys can be traced to their lines."""
    def fail(code, message, hint, mark):
        line = mark.line + first_line if mark else first_line
        problems.append(Problem(shown, line, code, message, hint))
        return None, None

    try:
        node = yaml.compose(text, Loader=LOADER)
    except yaml.YAMLError as exc:
        what, hint, mark = yaml_syntax(exc, text)
        return fail("M003", f"invalid YAML: {what}", hint, mark)
    too_big = _oversized(node)
    if too_big is not None:
        return fail("M049", f"the YAML {too_big}", "write the values out plainly: no "
                    "aliases of aliases, no lists nested dozens deep", None)
    bad = _bad_scalar(node)
    if bad is not None:
        return fail("M046", f"a value holds the character {bad[1]}, which no book may hold",
                    "delete it (a YAML escape such as \\0 or \\x07 writes one)", bad[0])
    twice = _duplicate_key(node)
    if twice is not None:
        return fail("M024", f"key '{twice.value}' is given twice",
                    "keep one of the two: YAML would silently drop the first", twice.start_mark)
    try:
        return yaml.load(text, Loader=LOADER), node
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        # A value such as the date 2026-13-45 is valid syntax but no value.
        at = _failing_scalar(node)
        mark = getattr(exc, "problem_mark", None) or (at.start_mark if at else None)
        what = (f"invalid YAML value '{at.value}': {exc}" if at else
                f"invalid YAML: {getattr(exc, 'problem', None) or exc}")
        return fail("M003", what,
                    "quote it to keep it as text, or correct it (dates are YYYY-MM-DD)", mark)


# What PyYAML's scanner says, and what an author most likely did: (message, hint).
OPENINGS = {
    "quoted scalar": ("a quote opened here is never closed",
                      "close the quote on the same line, or quote the whole value"),
    "flow sequence": ("a list opened with [ here is never closed",
                      "close the list with ], and separate its items with commas"),
    "flow mapping": ("a mapping opened with { here is never closed",
                     "close it with }, and separate its keys with commas"),
}


def yaml_syntax(exc: yaml.YAMLError, text: str):
    """A YAML syntax error as an author can act on it: (message, hint, mark).

    An unclosed construct is reported where it opened (PyYAML notices only at the end of
    the text); a character that cannot start a token is named (a tab, most often).
    """
    problem = getattr(exc, "problem", None) or str(exc)
    mark = getattr(exc, "problem_mark", None)
    context, opened = getattr(exc, "context", None) or "", getattr(exc, "context_mark", None)
    for construct, (message, hint) in OPENINGS.items():
        if construct in context and opened is not None:
            return message, hint, opened
    if "cannot start any token" in problem and mark is not None:
        char = _char_at(text, mark)
        if char == "\t":
            return ("a tab character, which YAML does not allow for indentation",
                    "indent with spaces only (two per level)", mark)
        if char:
            return (f"the character {char!r} cannot start a value",
                    f"quote the value that starts with {char!r}", mark)
    if "mapping values are not allowed" in problem:
        return ("a second ': ' on one line",
                "quote a value that holds ': ', as in title: \"Alpha: the first\"", mark)
    if "expected <block end>" in problem or "expected ':'" in problem:
        return (problem, "check the indentation: keys of one mapping start in the same "
                "column, list items under a key are indented under it", mark)
    return problem, "fix the YAML syntax (indentation, colons, quotes)", mark


def _char_at(text: str, mark) -> str:
    lines = text.split("\n")
    line = lines[mark.line] if mark.line < len(lines) else ""
    return line[mark.column] if mark.column < len(line) else ""


def _children(node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _nodes(node):
    """Every node of a composed YAML document once, depth first. An alias is the node it
    names, so a node reached twice is walked once (an alias bomb stays linear)."""
    seen: set[int] = set()
    stack = [node] if node is not None else []
    while stack:
        found = stack.pop()
        if id(found) in seen:
            continue
        seen.add(id(found))
        yield found
        stack.extend(reversed(_children(found)))


def _oversized(node) -> str | None:
    """Why a composed document is too big to take as values, if it is: its aliases expand
    to more than YAML_NODES nodes (a billion laughs), or it nests deeper than YAML_DEPTH."""
    if node is None:
        return None
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    stack, open_ = [(node, False)], set()
    while stack:  # after the children, the parent: each node once (a postorder)
        found, ready = stack.pop()
        if id(found) in sizes:
            continue
        kids = _children(found)
        if not ready:
            if id(found) in open_:
                return "holds itself through an alias"
            open_.add(id(found))
            stack.append((found, True))
            stack.extend((k, False) for k in kids if id(k) not in sizes)
            continue
        sizes[id(found)] = 1 + sum(sizes[id(k)] for k in kids)
        depths[id(found)] = 1 + max((depths[id(k)] for k in kids), default=0)
    if sizes[id(node)] > YAML_NODES:
        return f"expands to {sizes[id(node)]:,} values through its aliases (at most " \
               f"{YAML_NODES:,})"
    if depths[id(node)] > YAML_DEPTH:
        return f"nests {depths[id(node)]} levels deep (at most {YAML_DEPTH})"
    return None


def _bad_scalar(node):
    """The mark and name of the first character no book may hold in a YAML value."""
    for scalar in (n for n in _nodes(node) if isinstance(n, yaml.ScalarNode)):
        found = bad_character(scalar.value)
        if found is not None:
            return scalar.start_mark, found[1]
    return None


def _failing_scalar(node):
    """The first scalar that cannot be turned into a value, if the fault is in one."""
    loader = yaml.SafeLoader("")
    for scalar in (n for n in _nodes(node) if isinstance(n, yaml.ScalarNode)):
        try:
            loader.construct_object(scalar, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError):
            return scalar
    return None


def _duplicate_key(node):
    """The second of two equal keys in any mapping: YAML keeps the last without a word."""
    for mapping in (n for n in _nodes(node) if isinstance(n, yaml.MappingNode)):
        seen = set()
        for key, _ in mapping.value:
            if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                if key.value in seen:
                    return key
                seen.add(key.value)
    return None


def key_lines(node, first_line: int = 1) -> dict[str, int]:
    """Map each top-level key of a YAML mapping node to its line number."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + first_line for k, _ in node.value}


# How each type of value is written, for a value of the wrong type: (what, hint).
FORMS = {
    str: ("text", "write {key}: followed by the text on the same line (quote it if it "
                  "holds ': ' or starts with a quote)"),
    list: ("a list", "write a list: {key}: [first, second], or one '- item' a line "
                     "indented under {key}:"),
    dict: ("a mapping", "write the keys indented under {key}: (see the README)"),
    int: ("a whole number", "write a number without quotes, such as {key}: 2"),
    bool: ("true or false", "write {key}: true or {key}: false"),
}


def check_keys(data: dict, schema: dict, required, shown: Path, lines: dict, line0: int,
               problems: list[Problem]) -> None:
    """Report unknown keys, missing required keys and values of the wrong type."""
    for key, value in data.items():
        line = lines.get(str(key), line0)
        if key not in schema:
            known = ", ".join(sorted(schema))
            problems.append(Problem(shown, line, "M004", f"unknown key '{key}'",
                                    f"use one of: {known}"))
        elif schema[key] is str and isinstance(value, bool):
            problems.append(Problem(shown, line, "M005",
                                    f"'{key}' was read as {str(value).lower()}, not as text",
                                    f"quote the value: {key}: \"...\""))
        elif schema[key] is str and isinstance(value, (int, float, date, datetime)):
            data[key] = value.isoformat() if isinstance(value, (date, datetime)) else str(value)
        elif not isinstance(value, schema[key]):
            problems.append(Problem(shown, line, "M005",
                                    f"'{key}' must be {FORMS[schema[key]][0]}",
                                    FORMS[schema[key]][1].format(key=key)))
    for key in required:
        if key not in data:
            problems.append(Problem(shown, line0, "M006", f"missing required key '{key}'",
                                    f"add '{key}:' to {shown.name}"))


def load_book(manuscript: Path, project: Path | None = None, memos: Memos | None = None) -> Book:
    """Read and validate the whole manuscript; raise BuildError listing every problem.

    memos: what a warm process keeps (a part's front matter is parsed again only when its
    text changed); without it nothing is kept.
    """
    memos = memos or Memos()
    manuscript = manuscript.resolve()
    project = (project or manuscript.parent).resolve()
    problems: list[Problem] = []
    config_path = manuscript / "book.yaml"
    shown = as_shown(config_path, project)
    if not (real_path(config_path) or project).is_relative_to(manuscript):
        raise_if_any([outside(as_shown(config_path, project, follow=False), 1, "book.yaml")])
    text = read_text(config_path, shown, problems)
    data, node = parse_yaml(text, shown, problems) if text is not None else (None, None)
    if text is not None and data is not None and not isinstance(data, dict):
        problems.append(Problem(shown, 1, "M005", "book.yaml must be a mapping of keys",
                                "write 'title: ...', 'chapters: [...]' and so on"))
    raise_if_any(problems)
    if data is None:
        raise_if_any([Problem(shown, 1, "M006", "book.yaml is empty", "add the book's metadata")])
    lines = key_lines(node)
    check_keys(data, BOOK_KEYS, BOOK_REQUIRED, shown, lines, 1, problems)
    if any(p.code in ("M005", "M006") for p in problems):
        raise_if_any(problems)  # without the required keys, nothing further can be checked
    meta = _metadata(data, shown, lines, problems)
    lint = lint_settings(data.get("lint") or {}, _value_node(node, "lint"), shown, problems)
    _folded_items(data, node, shown, problems)
    real: dict[Path, Path] = {}  # each listed file's resolved path, resolved once
    parts = _parts(data, manuscript, project, shown, lines, problems, real, memos)
    glossary, gpath = _glossary(manuscript, project, problems, memos)
    _unlisted_files(manuscript, data, project, problems, real)
    back = [str(x) for x in data.get("back", ["glossary"])]
    book = Book(manuscript, meta, tuple(parts), tuple(glossary), gpath, "glossary" in back,
                lint, back_index="index" in back)
    _raise_if_any(problems, book, gpath)
    return book


# Problems that leave the book whole: a glossary entry's key or value (the entry is kept
# without it), a chapter's unknown front-matter key. Lint goes on with such a book.
LOCAL_FAULTS = frozenset({"M004", "M005", "M006", "M007"})


def _raise_if_any(problems: list[Problem], book: Book, gpath) -> None:
    """Raise when any problem is an error, with the book when only local faults keep it
    from being built (so lint can still run the glossary's and the text's checks)."""
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        whole = all(p.code in LOCAL_FAULTS and (p.path == gpath or p.code == "M004")
                    and Path(p.path).name != "book.yaml" and not _whole_glossary(p, gpath)
                    for p in errors)
        raise BuildError(problems, partial=book if whole else None)


def _folded_items(data: dict, node, shown: Path, problems: list[Problem]) -> None:
    """A list item indented one space too far is folded into the item above it:
    '- a.md' then '   - b.md' reads as the one file 'a.md - b.md'. Report the line that was
    folded and list the files as meant, so nothing else reports a knock-on error."""
    for key in ("front", "chapters", "back"):
        items = _value_node(node, key)
        if not isinstance(data.get(key), list) or not isinstance(items, yaml.SequenceNode):
            continue
        fixed = []
        for value, item in zip(data[key], items.value):
            pieces = str(value).split(" - ") if isinstance(item, yaml.ScalarNode) \
                and not item.style and item.end_mark.line > item.start_mark.line else []
            if len(pieces) < 2:
                fixed.append(value)
                continue
            problems.append(Problem(shown, item.start_mark.line + 2, "M033",
                                    f"this line is indented under the previous item of "
                                    f"'{key}', so YAML reads '{value}' as one file name",
                                    "start each '- ' of the list in the same column"))
            fixed += pieces
        data[key] = fixed


def _whole_glossary(problem: Problem, gpath) -> bool:
    """A glossary.yaml that is not a list at all: none of its entries was kept."""
    return problem.path == gpath and problem.code == "M005" and problem.line == 1


def _value_node(node, key: str):
    """The YAML node of one top-level key's value, for the lines of what is inside it."""
    if isinstance(node, yaml.MappingNode):
        return next((v for k, v in node.value if k.value == key), None)
    return None


def lint_settings(value, node, shown: Path, problems: list[Problem]) -> LintSettings:
    """book.yaml's `lint:` mapping: which prose rules are off, and the source's quote style."""
    if not isinstance(value, dict):
        return LintSettings()  # check_keys has reported the wrong type
    lines = key_lines(node)
    line0 = node.start_mark.line + 1 if node is not None else None
    for key in value:
        if key not in LINT_KEYS:
            problems.append(Problem(shown, lines.get(str(key), line0), "M004",
                                    f"unknown key 'lint.{key}'", "use 'ignore' and 'quotes'"))
    quotes = value.get("quotes", "straight")
    if quotes not in QUOTE_STYLES:
        problems.append(Problem(shown, lines.get("quotes", line0), "M005",
                                f"lint.quotes is '{quotes}'",
                                "write 'straight' or 'typographic' (the quotes the Markdown "
                                "is typed with)"))
    ignore = value.get("ignore", [])
    if not isinstance(ignore, list):
        problems.append(Problem(shown, lines.get("ignore", line0), "M005",
                                "lint.ignore must be a list", "write ignore: [P003]"))
        ignore = []
    items = _value_node(node, "ignore")
    item_lines = [n.start_mark.line + 1 for n in getattr(items, "value", [])]
    for code, line in zip(ignore, item_lines + [lines.get("ignore")] * len(ignore)):
        if str(code).upper() not in RULES:
            problems.append(Problem(shown, line, "P007",
                                    f"lint.ignore names '{code}', which is not a prose rule",
                                    f"use codes {min(RULES)}-{max(RULES)} (README, Lint)"))
    return LintSettings(tuple(str(c).upper() for c in ignore if str(c).upper() in RULES),
                        quotes if quotes in QUOTE_STYLES else "straight")


def _metadata(data: dict, shown: Path, lines: dict, problems: list[Problem]) -> Metadata:
    lang = data["language"]
    if not LANG_TAG.match(lang):
        problems.append(Problem(shown, lines.get("language"), "M007",
                                f"'{lang}' is not a valid language tag",
                                "use a BCP 47 tag such as 'en' or 'en-GB'"))
    try:
        datetime.fromisoformat(str(data["date"])[:10])
    except ValueError:
        problems.append(Problem(shown, lines.get("date"), "M020",
                                f"date '{data['date']}' is not a date",
                                "write the publication date as YYYY-MM-DD"))
    slug = data.get("slug") or slugify(data["title"])[:100]
    if not SLUG.fullmatch(slug):
        problems.append(Problem(shown, lines.get("slug"), "M025",
                                f"slug '{slug}' cannot be a file name",
                                "use letters, digits and hyphens only (at most 100), such "
                                "as 'my-book'"))
    trim = data.get("trim", {})
    for key in set(trim) - {"width", "height"}:
        problems.append(Problem(shown, lines.get("trim"), "M004", f"unknown key 'trim.{key}'",
                                "use 'width' and 'height'"))
    for key in ("width", "height"):
        if key in trim and not LENGTH.match(str(trim[key])):
            problems.append(Problem(shown, lines.get("trim"), "M008",
                                    f"trim {key} '{trim[key]}' is not a length",
                                    "write a number with a unit: 6in, 152mm, 15.2cm or 432pt"))
        elif key in trim and not TRIM_INCHES[0] <= inches(str(trim[key])) <= TRIM_INCHES[1]:
            problems.append(Problem(shown, lines.get("trim"), "M008",
                                    f"trim {key} '{trim[key]}' is no page size",
                                    f"a page is {TRIM_INCHES[0]:g}in to {TRIM_INCHES[1]:g}in "
                                    "(51 to 1219 mm) each way"))
    isbn = _isbn(data.get("isbn"), shown, lines, problems)
    depth = _toc_depth(data.get("toc-depth", 2), shown, lines, problems)
    return Metadata(
        title=data["title"], creator=data["creator"], language=lang,
        identifier=data["identifier"], date=data["date"], rights=data["rights"],
        slug=slug, subtitle=data.get("subtitle", ""),
        publisher=data.get("publisher", ""), edition=data.get("edition", ""),
        description=str(data.get("description", "")).strip(),
        subjects=tuple(str(s) for s in data.get("subjects", [])),
        trim_width=str(trim.get("width", "6in")), trim_height=str(trim.get("height", "9in")),
        highlight=highlight_theme(data.get("highlight"), lines, shown, problems),
        isbn=isbn, toc_depth=depth)


def inches(length: str) -> float:
    """A length as LENGTH reads it, in inches."""
    number, unit = LENGTH.match(length).group(0, 2)
    return float(number[: -len(unit)]) / {"in": 1, "mm": 25.4, "cm": 2.54, "pt": 72}[unit]


def _isbn(value, shown: Path, lines: dict, problems: list[Problem]) -> str:
    """book.yaml's isbn, hyphenated as given; an ISBN-13 whose check digit holds."""
    if value is None:
        return ""
    value = str(value).strip()
    digits = re.sub(r"[- ]", "", value)
    if not re.fullmatch(r"97[89]\d{10}", digits):
        problems.append(Problem(shown, lines.get("isbn"), "M028",
                                f"isbn '{value}' is not an ISBN-13",
                                "write the 13 digits, starting 978 or 979, hyphens allowed"))
    elif isbn_check_digit(digits[:12]) != int(digits[12]):
        problems.append(Problem(shown, lines.get("isbn"), "M028",
                                f"isbn '{value}' has a wrong check digit (the last digit "
                                f"would be {isbn_check_digit(digits[:12])})",
                                "copy the ISBN again from the agency's record"))
    return value


def isbn_check_digit(first12: str) -> int:
    """ISBN-13's check digit: the digits weighted 1, 3, 1, 3, ..., summed, to a multiple of 10."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def _toc_depth(value, shown: Path, lines: dict, problems: list[Problem]) -> int:
    """book.yaml's toc-depth: which heading levels the contents lists (1: chapters only)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
        problems.append(Problem(shown, lines.get("toc-depth"), "M029",
                                f"toc-depth is '{value}'",
                                "write 1 (chapters only), 2 (and their sections), 3 or 4"))
        return 2
    return value


def highlight_theme(value, lines: dict, shown: Path, problems: list[Problem]) -> str:
    """book.yaml's `highlight: {theme: NAME}`: the colours of code listings, one of
    HIGHLIGHT_THEMES (their rules are in styles/css/highlight.css)."""
    if not isinstance(value, dict):
        return HIGHLIGHT_THEMES[0]  # absent, or a wrong type check_keys has reported
    line = lines.get("highlight")
    for key in value:
        if key not in HIGHLIGHT_KEYS:
            problems.append(Problem(shown, line, "M004", f"unknown key 'highlight.{key}'",
                                    "use 'theme'"))
    theme = value.get("theme", HIGHLIGHT_THEMES[0])
    if theme not in HIGHLIGHT_THEMES:
        problems.append(Problem(shown, line, "M005", f"highlight.theme is '{theme}'",
                                "write one of: " + ", ".join(HIGHLIGHT_THEMES)))
        return HIGHLIGHT_THEMES[0]
    return theme


def _parts(data, manuscript, project, shown, lines, problems, real, memos) -> list[Part]:
    parts: list[Part] = []
    paths: set[Path] = set()
    slugs: set[str] = set()
    number = 0
    for kind, key in (("front", "front"), ("chapter", "chapters"), ("back", "back")):
        for entry in data.get(key, []):
            if kind == "back" and entry in ("glossary", "index"):
                continue
            path = manuscript / str(entry)
            real[path] = resolved = real_path(path)
            why = unusable_name(str(entry)) or (resolved is None and "its links loop")
            if why:
                problems.append(Problem(shown, lines.get(key), "S021", f"'{entry}' under "
                                        f"'{key}' cannot be a path: {why}",
                                        "name a file inside the manuscript folder, each part "
                                        "of the path at most 255 bytes, with no NUL"))
                continue
            if not resolved.is_relative_to(manuscript):
                problems.append(outside(shown, lines.get(key), f"'{entry}' under '{key}'"))
                continue
            if path.exists() and not path.is_file():
                problems.append(Problem(shown, lines.get(key), "M001",
                                        f"'{entry}' is listed under '{key}' but is a folder, "
                                        "not a file", "list the Markdown file itself"))
                continue
            if not path.is_file():
                problems.append(Problem(shown, lines.get(key), "M009",
                                        f"'{entry}' is listed under '{key}' but does not exist",
                                        "create the file or remove it from the list"))
                continue
            shown_path = as_shown(path, project, real=real[path])
            if shown_path in paths or _part_slug(path) in slugs:
                problems.append(Problem(shown, lines.get(key), "M021",
                                        f"'{entry}' is listed twice or shares its name with "
                                        "another part", "give every file a distinct name"))
                continue
            number += kind == "chapter"
            part = _read_part(path, shown_path, kind, number if kind == "chapter" else None,
                              problems, memos)
            if part:
                parts.append(part)
                paths.add(part.path)
                slugs.add(part.slug)
    return parts


def real_path(path: Path) -> Path | None:
    """The path with its links followed; None when it cannot be (a loop of links, a name
    too long or holding NUL)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return None


def unusable_name(name: str) -> str:
    """Why a listed name cannot name a file ('' when it can)."""
    if "\0" in name:
        return "it holds NUL"
    if len(name.encode("utf-8", "surrogatepass")) > 4000 or any(
            len(piece.encode("utf-8", "surrogatepass")) > 255 for piece in name.split("/")):
        return "the name is too long"
    return ""


def _part_slug(path: Path) -> str:
    return slugify(re.sub(r"^\d+[-_]", "", path.stem))


def _read_part(path: Path, shown: Path, kind: str, number, problems, memos) -> Part | None:
    """Read one Markdown file; its front matter is read again only when the text changed."""
    text = read_text(path, shown, problems)
    if text is not None and len(text) > PART_BYTES:
        problems.append(Problem(shown, 1, "M048", f"the file holds {len(text):,} characters"
                                f" (at most {PART_BYTES:,} in one file)",
                                "split it into chapters of their own"))
        return None
    if text is None:
        return None
    # The same Part object while its file, place, kind and text are unchanged (later
    # stages key their own results on it).
    part, found = memos("load.parts", 64, per_part=2).get((path, shown, kind, number, text),
                            lambda: _parse_part(path, shown, kind, number, text))
    problems += found
    return part


def _parse_part(path: Path, shown: Path, kind: str, number, text: str):
    """One part from its text, with what is wrong with it; blank the front matter in place."""
    problems: list[Problem] = []
    part = _part_of_text(path, shown, kind, number, text, problems)
    return part, tuple(problems)


def _part_of_text(path: Path, shown: Path, kind: str, number, text: str, problems):
    """The Part a file's text makes, or None when it cannot make one (problems say why)."""
    if not text.strip():
        problems.append(Problem(shown, 1, "M011", "the file is empty",
                                "write the chapter, starting with '# Title', or remove it "
                                "from book.yaml"))
        return None
    match = FRONT_MATTER.match(text)
    if not match and re.match(r"---[ \t]*\n(?!\s*\n)", text):
        problems.append(Problem(shown, 1, "M003", "front matter opened here is never closed",
                                "end it with a line of three hyphens, ---, before the text"))
        return None
    meta = _front_matter(match, shown, problems) if match else {}
    if meta is None:
        return None
    head = text[: match.end()] if match else ""
    blanked = "\n" * head.count("\n") + text[len(head):]
    if "title" not in meta:
        blanked, meta = _title_from_heading(blanked, meta)
    if "title" not in meta:
        problems.append(Problem(shown, 1, "M010", "the file has no title",
                                "start it with a level-1 heading, '# Title', or with front "
                                "matter: ---, 'title: ...', ---"))
        return None
    if not blanked.strip():
        problems.append(Problem(shown, head.count("\n") or 1, "M011",
                                "the file has no text after its title",
                                "write the chapter, or remove it from book.yaml"))
    deep = too_deep(blanked)
    if deep is not None:
        problems.append(Problem(shown, deep[0], "M045", f"block quotes and lists nest {deep[1]}"
                                f" deep here (at most {NESTING})", "nest fewer: a reader "
                                "cannot follow dozens of levels, and the typesetter stops"))
        return None
    title = smarten(str(meta["title"]))
    short = smarten(str(meta.get("short-title") or title))
    return Part(kind, shown, _part_slug(path), title, short, blanked, number)


def _front_matter(match, shown: Path, problems) -> dict | None:
    """A part's front matter as a checked mapping; None when it cannot be one."""
    meta, node = parse_yaml(match.group(1), shown, problems, first_line=2)
    if not isinstance(meta, dict):
        if node is not None or meta is None and match.group(1).strip() == "":
            problems.append(Problem(shown, 2, "M005", "front matter must be a mapping",
                                    "write 'title: ...'"))
        return None
    check_keys(meta, PART_KEYS, (), shown, key_lines(node, 2), 1, problems)
    return meta if isinstance(meta.get("title", ""), str) else None


# A leading ATX level-1 heading, '# Title' or '# Title {#id .class}', as Quarto, mkdocs
# and mdBook read a chapter's title; the closing #s and attributes are not part of it.
LEADING_TITLE = re.compile(r"[ ]{0,3}#[ \t]+(.+?)(?:[ \t]+#+)?(?:[ \t]*\{[^}]*\})?[ \t]*")


SETEXT_RULE = re.compile(r"[ ]{0,3}=+[ \t]*")


def _title_from_heading(body: str, meta: dict) -> tuple[str, dict]:
    """(body, meta) with the body's leading '# Title' (or 'Title' underlined with =====)
    taken as the title: the heading's lines are blanked so every other line keeps its
    number."""
    lines = body.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return body, meta
    heading = LEADING_TITLE.fullmatch(lines[first])
    if heading is not None:
        title, used = heading.group(1), 1
    elif first + 1 < len(lines) and SETEXT_RULE.fullmatch(lines[first + 1]):
        title, used = re.sub(r"[ \t]*\{[^}]*\}[ \t]*$", "", lines[first].strip()), 2
    else:
        return body, meta
    lines[first:first + used] = [""] * used
    return "\n".join(lines), {**meta, "title": plain_title(title)}


def plain_title(markdown: str) -> str:
    """A heading's text as a title is kept: without emphasis marks, code ticks or link
    targets ('The *Ummah* and [Us](x.md)' -> 'The Ummah and Us')."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"(\*{1,3}|_{1,3})(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    return text.replace("`", "").strip()


def too_deep(text: str) -> tuple[int, int] | None:
    """The first line, and its depth, where block quotes and lists nest beyond NESTING:
    each '>' or list marker that opens the line is a level, and so is each two spaces of
    indent before a list marker. Code blocks and rules (* * *) are no nesting."""
    fence = None
    for number, line in enumerate(text.split("\n"), 1):
        opened = FENCE.match(line)
        if opened and (fence is None or opened.group(1).startswith(fence)):
            fence = opened.group(1) if fence is None else None
            continue
        prefix = None if fence or RULE.fullmatch(line) else CONTAINERS.match(line.expandtabs(4))
        if prefix is None:
            continue
        markers = prefix.group()
        depth = len(re.findall(r">|[-+*]|\d+[.)]", markers))
        depth += (len(markers) - len(markers.lstrip(" "))) // 2
        if depth > NESTING:
            return number, depth
    return None


def _glossary(manuscript: Path, project: Path, problems, memos):
    path = manuscript / "glossary.yaml"
    if not path.exists() and not path.is_symlink():
        return [], None
    shown = as_shown(path, project)
    if not (real_path(path) or manuscript.parent).is_relative_to(manuscript):
        problems.append(outside(as_shown(path, project, follow=False), 1, "glossary.yaml"))
        return [], None
    text = read_text(path, shown, problems)
    if text is None:
        return [], shown
    entries, found = memos("load.glossary", 8).get((shown, text),
                                                   lambda: _glossary_of_text(text, shown))
    problems += found
    return list(entries), shown


def _glossary_of_text(text: str, shown: Path):
    """The entries of glossary.yaml's text, and what is wrong with them."""
    problems: list[Problem] = []
    data, node = parse_yaml(text, shown, problems)
    if data is None:
        return (), tuple(problems)
    if not isinstance(data, list):
        problems.append(Problem(shown, 1, "M005", "glossary.yaml must be a list of entries",
                                "start each entry with '- term: ...'"))
        return (), tuple(problems)
    entries = tuple(e for e in (_entry(item, n, shown, problems)
                                for item, n in zip(data, node.value)) if e)
    problems += _same_terms(entries, shown)
    return entries, tuple(problems)


def _entry(item, node, shown: Path, problems) -> GlossaryEntry | None:
    line = node.start_mark.line + 1
    if not isinstance(item, dict):
        problems.append(Problem(shown, line, "M005", "a glossary entry must be a mapping",
                                "write '- term: ...' with 'definition: ...'"))
        return None
    lines = key_lines(node)
    if "definition" in item and item["definition"] is None:
        item["definition"] = ""  # an empty 'definition:' is G005's, with the term named
    check_keys(item, ENTRY_KEYS, ("term", "definition"), shown, lines, line, problems)
    if not isinstance(item.get("term"), str):
        return None  # missing or not text: reported above
    original = item.get("original")
    if isinstance(original, dict):
        original = _original(original, shown, lines.get("original", line), problems)
    else:
        original = None  # absent, or not a mapping (reported above)
    definition = item.get("definition")
    return GlossaryEntry(
        term=item["term"], slug=slugify(item["term"]), line=line,
        definition=definition.strip() if isinstance(definition, str) else "",
        variants=_strings(item.get("variants")), see=_strings(item.get("see")),
        original=original)


def _strings(value) -> tuple[str, ...]:
    """A list of names, or none when the value is not a list (check_keys reported it)."""
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _same_terms(entries, shown: Path) -> list[Problem]:
    """A term with no letter or digit, or two that make one id, would give the glossary
    an empty or a doubled anchor (and swap their definitions)."""
    problems, first = [], {}
    for entry in entries:
        if not re.search(r"\w", entry.term):
            problems.append(Problem(shown, entry.line, "M047", f"the term '{entry.term}' "
                                    "has no letter or digit", "write the term"))
        elif entry.slug in first:
            problems.append(Problem(shown, entry.line, "M047", f"the term '{entry.term}' "
                                    f"makes the same id ('{entry.slug}') as "
                                    f"'{first[entry.slug].term}' on line "
                                    f"{first[entry.slug].line}", "merge the two entries, or "
                                    "make one a variant of the other"))
        else:
            first[entry.slug] = entry
    return problems


def _original(data: dict, shown: Path, line: int, problems) -> Original:
    """A term in its original script: its text, language tag and direction."""
    for key in set(data) - {"text", "lang", "dir"}:
        problems.append(Problem(shown, line, "M004", f"unknown key 'original.{key}'",
                                "use 'text', 'lang' and 'dir'"))
    lang = str(data.get("lang", ""))
    if "lang" not in data:
        problems.append(Problem(shown, line, "M006", "missing required key 'original.lang'",
                                "add the language of the original, such as 'lang: ar'"))
    elif not LANG_TAG.match(lang):
        problems.append(Problem(shown, line, "M007", f"'{lang}' is not a valid language tag",
                                "use a BCP 47 tag such as 'ar' or 'fa'"))
    direction = str(data.get("dir", "rtl" if lang.split("-")[0] in RTL else "ltr"))
    if direction not in ("ltr", "rtl"):
        problems.append(Problem(shown, line, "M005", f"'original.dir' is '{direction}'",
                                "write 'rtl' (right to left) or 'ltr'"))
    return Original(str(data.get("text", "")), lang, direction)


def outside(shown: Path, line, what: str) -> Problem:
    """A path that leads out of the manuscript folder: the build reads nothing there."""
    return Problem(shown, line, "S007", f"{what} leads outside the manuscript folder",
                   "keep every file of the book inside the manuscript folder, with a "
                   "relative path and no link leading out")


def _unlisted_files(manuscript: Path, data: dict, project: Path, problems, real) -> None:
    """A Markdown file that book.yaml does not list would silently vanish from the book."""
    def resolved(path: Path) -> Path:
        return real.get(path) or real_path(path) or path

    listed = {resolved(manuscript / str(e))
              for key in ("front", "chapters", "back") for e in data.get(key, [])}
    for folder, key in (("front", "front"), ("chapters", "chapters"), ("back", "back")):
        for path in sorted((manuscript / folder).glob("*.md")):
            if resolved(path) not in listed:
                problems.append(Problem(as_shown(path, project), 1, "M012",
                                        f"{'chapter ' if key == 'chapters' else ''}file is "
                                        "not listed in book.yaml",
                                        f"add it under '{key}:' in book.yaml, or move it out "
                                        f"of {folder}/"))
