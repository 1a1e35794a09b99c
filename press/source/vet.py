"""Stage 2b, screen: raw HTML is checked before anything uses it.

Pandoc passes raw HTML through as it is, and a browser-grade parser later repairs
whatever is broken without a word: an unclosed <div> swallows the chapter after it, an
unclosed comment hides it. A book must also never run code or make the build fetch a
file it does not own. So every converted fragment is read here, tag by tag, with the
Markdown line of each tag (from the position comments press.source.sourcepos leaves), and
anything broken or active stops the build before layout.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable

import tinycss2

from press.model import Book, Part
from press.problems import Problem, raise_if_any
from press.source.convert import END_MARKER, MARKER, Converted, definitions_source, pos_line
from press.util.memo import Memos

# Elements that never have a closing tag, and those whose closing tag HTML lets you omit.
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "param", "source", "track", "wbr", "keygen", "frame"})
OPTIONAL_END = frozenset({"p", "li", "dt", "dd", "rt", "rp", "optgroup", "option", "colgroup",
                "thead", "tbody", "tfoot", "tr", "td", "th"})
# What a book may not contain, with the reason given to the author.
ACTIVE = frozenset({"script", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet",
          "portal", "audio", "video", "source", "track"})
DOCUMENT_LEVEL = frozenset({"link", "meta", "base", "style"})
FORMS = frozenset({"form", "input", "button", "select", "textarea"})
URL_ATTRIBUTES = frozenset({"href", "xlink:href", "src", "action", "formaction", "data", "poster",
                  "background", "cite", "longdesc", "srcset", "lowsrc", "dynsrc", "ping"})
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")
# Attributes that make a renderer fetch a file, whatever element carries them.
FETCHING = frozenset({"srcset", "background", "poster", "lowsrc", "dynsrc"})
CSS_FETCHING = frozenset({"url", "src", "image", "image-set", "-webkit-image-set", "cross-fade",
                "element"})
VISIBLE = frozenset({"img", "svg", "math"})

# A raw HTML piece as press.source.sourcepos brackets it, and the complete markup it may hold.
# (Links and images have a start marker only, so a piece never runs past another marker.)
PIECE = re.compile(r"<!--pos (\S+)-->((?:(?!<!--pos ).)*?)<!--/pos-->", re.S)
MARKUP = re.compile(r"""
    <(script|style|textarea|title)\b[^>]*>.*?</\1\s*>     # raw-text elements, whole
  | <!--.*?-->                                            # a comment
  | </?[A-Za-z][A-Za-z0-9:-]*                             # a tag and its attributes
      (?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*\s*/?>
  | <![A-Za-z][^>]*> | <\?.*?\?> | <!\[CDATA\[.*?\]\]>   # declarations, PIs, CDATA
  | (?P<bad><[A-Za-z/!?])                                 # markup that never ends
""", re.S | re.X | re.I)

LineMap = Callable[[int], int]


def vet_book(book: Book, converted: Converted, memos: Memos | None = None) -> list[Problem]:
    """Check every part and the glossary's definitions; return what was found.

    Broken structure (M022, M023) stops the build at once: the parser downstream would
    repair it into a different tree, and every later message would be about that tree.
    Refused content is only reported: it is never laid out, and the other checks can
    still report everything else in the same run.
    """
    memos = memos or Memos()
    problems: list[Problem] = []
    for part in book.parts:
        found, visible = memos("vet.parts", 64, per_part=2).get(
            (converted.parts[part.slug], part.path),
            lambda: vet_part(converted.parts[part.slug], part.path))
        problems += found
        if not visible and not found:
            problems.append(Problem(part.path, _first_text_line(part), "M011",
                                    "the file has no text, only markup or comments",
                                    "write the text, or remove the file from book.yaml"))
    if book.glossary and converted.definitions:
        _, origins = definitions_source(book)
        problems += memos("vet.definitions", 8).get(
            (converted.definitions, book.glossary_path, origins),
            lambda: vet_definitions(converted.definitions, book.glossary_path, origins))
    if any(p.code in ("M022", "M023") for p in problems):
        raise_if_any(problems)
    return problems


def vet_part(fragment: str, path) -> tuple[tuple[Problem, ...], bool]:
    """screen() for a part (kept by the build: a warm rebuild reads only the parts that
    changed)."""
    found, visible = screen(fragment, path)
    return tuple(found), visible


def vet_definitions(fragment: str, path, origins: tuple[int, ...]) -> tuple[Problem, ...]:
    """screen() for the glossary's definitions, their lines mapped back to glossary.yaml."""
    return tuple(screen(fragment, path, lambda n: origins[max(1, min(n, len(origins))) - 1])[0])


def screen(fragment: str, path, line_at: LineMap = lambda n: n) -> tuple[list[Problem], bool]:
    """Problems in one converted fragment, and whether it shows anything at all.

    Each raw piece is first read on its own: a tag or comment that never ends would
    make the rest of the fragment unreadable, so then the tag-by-tag pass is skipped.
    """
    # A raw block follows its marker after a line break that is not part of it.
    problems = [p for m in PIECE.finditer(fragment)
                for p in unreadable(m.group(2).lstrip("\n"), pos_line(m.group(1)), path,
                                    line_at)]
    if problems:
        return problems, True
    stream = Stream(path, line_at)
    stream.feed(fragment)
    stream.close()
    return sorted(stream.problems, key=lambda p: p.line or 0), stream.visible


def unreadable(piece: str, first_line: int | None, path, line_at: LineMap) -> list[Problem]:
    """A raw piece whose tag or comment never ends: everything after it would vanish."""
    for found in MARKUP.finditer(piece):
        if found.group("bad"):
            line = line_at(first_line + piece[: found.start()].count("\n")) if first_line else None
            shown = piece[found.start():].split("\n")[0][:40]
            what = "comment" if shown.startswith("<!") else "tag"
            return [Problem(path, line, "M022", f"raw HTML {what} is not closed: {shown}",
                            "close it: '-->' ends a comment, '>' ends a tag, quotes come in "
                            "pairs; otherwise the text after it disappears")]
    return []


class Stream(HTMLParser):
    """Reads one fragment tag by tag, knowing the Markdown line of each tag."""

    def __init__(self, path, line_at: LineMap, svg: bool = False):
        super().__init__(convert_charrefs=True)
        self.path, self.line_at, self.svg = path, line_at, svg
        self.in_style = False  # inside an SVG file's own <style>, whose CSS is checked
        self.anchor: tuple[int | None, int] = (None, 1)  # (Markdown line, fragment line)
        self.pending: int | None = None  # a marker's line, for the markup right after it
        self.open: list[tuple[str, int | None]] = []
        self.problems: list[Problem] = []
        self.visible = False

    # --- where are we -------------------------------------------------------------------

    def line(self) -> int | None:
        """The Markdown line of the current tag: the last known line plus the lines since."""
        markdown, at = self.anchor
        return self.line_at(markdown + self.getpos()[0] - at) if markdown else None

    def _settle(self, pos: str | None = None) -> None:
        """Block positions name their own line; a marker overrides (it is more exact)."""
        if pos_line(pos):
            self.anchor = (pos_line(pos), self.getpos()[0])
        if self.pending is not None:
            self.anchor, self.pending = (self.pending, self.getpos()[0]), None

    def report(self, code: str, message: str, hint: str, line: int | None = None) -> None:
        self.problems.append(Problem(self.path, line or self.line(), code, message, hint))

    # --- parser events ------------------------------------------------------------------

    def handle_comment(self, data: str) -> None:
        found = MARKER.fullmatch(data)
        if found:
            self.pending = pos_line(found.group(1))
        elif data != END_MARKER:
            self._settle()

    def handle_data(self, data: str) -> None:
        if data.strip():
            self._settle()
            self.visible = True
        if self.in_style and css_fetches(data):
            self.report("S004", "<style> names a file to fetch (url() or the like)",
                        "draw it in the SVG itself, without references to other files")

    def handle_starttag(self, tag: str, attrs) -> None:
        self.check_tag(tag, attrs)
        if tag not in VOID:
            self.open.append((tag, self.line()))

    def handle_startendtag(self, tag: str, attrs) -> None:
        self.check_tag(tag, attrs)  # <br/>, or <circle .../> in SVG: nothing left open

    def handle_endtag(self, tag: str) -> None:
        self._settle()
        self.in_style = self.in_style and tag != "style"
        if tag in VOID:
            return
        names = [name for name, _ in self.open]
        if tag not in names:
            self.report("M023", f"closing tag </{tag}> has no opening tag",
                        f"remove it, or add <{tag}> where the element starts")
            return
        index = len(names) - 1 - names[::-1].index(tag)
        self.unclosed(self.open[index + 1:], f"before </{tag}>")
        del self.open[index:]

    def close(self) -> None:
        super().close()
        self.unclosed(self.open, "by the end of the file")
        self.open = []

    def unclosed(self, elements, where: str) -> None:
        for name, line in reversed(elements):
            if name not in OPTIONAL_END:
                self.report("M022", f"raw HTML tag <{name}> is not closed {where}",
                            f"add </{name}> where the element ends (in the same "
                            "paragraph for an inline tag such as <span>)", line)

    # --- what a book may contain --------------------------------------------------------

    def check_tag(self, tag: str, attrs) -> None:
        self._settle(dict(attrs).get("data-pos"))
        self.visible = self.visible or tag in VISIBLE
        if not self.refuse_element(tag):  # one problem per refused element is enough
            for name, value in attrs:
                self.check_attribute(tag, name, value or "")

    def refuse_element(self, tag: str) -> bool:
        if self.svg and tag == "style":
            self.in_style = True  # a drawing's own styles are part of it
            return False
        if tag in ACTIVE:
            self.report("S001", f"<{tag}> is not allowed: a book cannot run or embed "
                        "active content", "remove it; to show code, put it in a fenced "
                        "code block (```)")
        elif tag in DOCUMENT_LEVEL:
            self.report("S005", f"<{tag}> is not allowed in the text: it would change how "
                        "the whole document loads or looks", "remove it; styling belongs "
                        "in styles/css/")
        elif tag in FORMS:
            self.report("S006", f"<{tag}> is not allowed: a book has no forms",
                        "remove it, or describe the form in text or a table")
        else:
            return False
        return True

    def check_attribute(self, tag: str, name: str, value: str) -> None:
        if re.fullmatch(r"on[a-z]+", name):
            self.report("S002", f"event-handler attribute '{name}' on <{tag}> is not allowed",
                        "remove it: a book runs no scripts")
        elif name in URL_ATTRIBUTES and script_url(value) and (tag, name) != ("img", "src"):
            self.report("S003", f"{script_url(value)} URL in '{name}' on <{tag}> is not allowed",
                        "link to http(s), mailto, or a place in the book")
        elif fetches(tag, name, value):
            self.report("S004", f"'{name}' on <{tag}> would make the build fetch "
                        f"'{value[:60]}'", "put images in manuscript/images/ and insert "
                        "them with ![what it shows](images/file.png); styling belongs in "
                        "styles/css/")


def script_url(value: str) -> str | None:
    """The scheme of a URL that runs code or carries a document ('javascript:'), if any.

    Browsers ignore spaces and control characters inside a scheme, so this does too.
    """
    bare = re.sub(r"[\x00-\x20]", "", value).lower()
    return next((s[:-1] for s in SCRIPT_SCHEMES if bare.startswith(s)), None)


def fetches(tag: str, name: str, value: str) -> bool:
    """Would this attribute make WeasyPrint or a reading system load a file?

    An <img src> is left to the image check in enrich, which knows the manuscript folder
    and puts the image in the EPUB; nothing else may load a file.
    """
    if name in FETCHING:
        return True
    if name == "style":
        return css_fetches(value)
    if name in ("href", "xlink:href"):
        return tag not in ("a", "area") and not value.startswith("#")
    return name == "src" and tag != "img"


def css_fetches(css: str) -> bool:
    """Whether CSS text names a resource: url(...), image-set(...) and the like.

    The CSS tokenizer is the one WeasyPrint uses, so escapes such as 'u\\72l(' are read
    the way the renderer would read them.
    """
    def walk(tokens) -> bool:
        for token in tokens:
            if token.type == "url":
                return True
            if token.type == "function" and (token.lower_name in CSS_FETCHING
                                             or walk(token.arguments)):
                return True
            if token.type in ("() block", "[] block", "{} block") and walk(token.content):
                return True
        return False
    return walk(tinycss2.parse_component_value_list(css))


def screen_svg(source: Path, shown) -> list[Problem]:
    """An SVG image goes into both outputs as it is: the same rules apply inside it."""
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return [Problem(shown, 1, "M026", "SVG image cannot be read as UTF-8 text",
                        "save the SVG file as UTF-8")]
    problems = []
    if re.search(r"<!ENTITY", text, re.I):
        problems.append(Problem(shown, text[: text.upper().find("<!ENTITY")].count("\n") + 1,
                                "S004", "SVG image declares entities, which can name "
                                "other files", "remove the <!DOCTYPE ...> block"))
    stream = Stream(shown, lambda n: n, svg=True)
    stream.anchor = (1, 1)  # lines in the SVG file are its own lines
    stream.feed(text)
    stream.close()
    return problems + [p for p in stream.problems if p.code.startswith("S")]


def _first_text_line(part: Part) -> int:
    """Where the text should start: the first non-blank line after the front matter."""
    body = part.markdown
    return body[: len(body) - len(body.lstrip())].count("\n") + 1
