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
from typing import Callable, Iterator

import tinycss2
from lxml import etree, html

from press.model import Book, Part
from press.problems import Problem, raise_if_any
from press.source import allow
from press.source.allow import MAX_DEPTH
from press.source.convert import END_MARKER, MARKER, Converted, definitions_source, pos_line
from press.util.memo import Memos

# Elements that never have a closing tag, and those whose closing tag HTML lets you omit.
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "param", "source", "track", "wbr", "keygen", "frame"})
OPTIONAL_END = frozenset({"p", "li", "dt", "dd", "rt", "rp", "optgroup", "option", "colgroup",
                "thead", "tbody", "tfoot", "tr", "td", "th"})
# Named refusals (each with its own code and reason); everything else not allowed is S009.
ACTIVE = frozenset({"script", "noscript", "iframe", "frame", "frameset", "object", "embed",
                    "applet", "portal", "audio", "video", "source", "track", "picture",
                    "foreignobject", "template", "slot", "canvas",
                    "noembed", "noframes", "xmp", "plaintext", "listing", "annotation-xml"})
DOCUMENT_LEVEL = frozenset({"link", "meta", "base", "style", "title", "head", "body", "html"})
FORMS = frozenset({"form", "input", "button", "select", "textarea", "option", "optgroup",
                   "fieldset", "legend", "label", "output", "datalist", "keygen", "dialog"})
URL_ATTRIBUTES = allow.LINKING | allow.FETCHING | {"src"}
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")
VISIBLE = frozenset({"img", "svg", "math"})
SVG_NS, XLINK_NS, XML_NS = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink",
                            "http://www.w3.org/XML/1998/namespace")
FOREIGN_NS = frozenset({"http://www.w3.org/1999/xhtml", "http://www.w3.org/1998/Math/MathML",
                        "http://www.w3.org/2001/xml-events", XLINK_NS})

# A raw HTML piece as press.source.sourcepos brackets it, and the complete markup it may hold.
# (Links and images have a start marker only, so a piece never runs past another marker.)
PIECE = re.compile(r"<!--pos (\S+)-->((?:(?!<!--pos ).)*?)<!--/pos-->", re.S)
MARKUP = re.compile(r"""
    <(script|style|textarea|title)\b[^>]*>.*?</\1\s*>     # raw-text elements, whole
  | <!--(?:-?>|.*?--!?>)                                   # a comment, as HTML5 ends it
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
    problems = stream.problems
    if not stream.deep:  # (a tree cut short at the parser's own depth limit says nothing)
        problems += [Problem(path, line_at(line) if line else None, code, message, hint)
                     for _, line, code, message, hint in refusals(parse_raw(fragment))]
    return sorted(problems, key=lambda p: p.line or 0), stream.visible


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

    def __init__(self, path, line_at: LineMap):
        super().__init__(convert_charrefs=True)
        self.path, self.line_at = path, line_at
        self.deep = False  # nested beyond MAX_DEPTH: reported once
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

    def handle_starttag(self, tag: str, attrs) -> None:
        self.check_tag(tag, attrs)
        if tag not in VOID:
            self.open.append((tag, self.line()))
        if len(self.open) > MAX_DEPTH and not self.deep:
            self.deep = True  # the parsers downstream drop or crash on what lies deeper
            self.report("S011", f"elements are nested more than {MAX_DEPTH} deep here",
                        "nest fewer elements (block quotes, lists, <div>s) inside each other")

    def handle_startendtag(self, tag: str, attrs) -> None:
        self.check_tag(tag, attrs)  # <br/>, or <circle .../> in SVG: nothing left open

    def handle_endtag(self, tag: str) -> None:
        self._settle()
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

    def check_tag(self, tag: str, attrs) -> None:
        self._settle(dict(attrs).get("data-pos"))
        self.visible = self.visible or tag in VISIBLE


def script_url(value: str) -> str | None:
    """The scheme of a URL that runs code or carries a document ('javascript:'), if any.

    Browsers ignore spaces and control characters inside a scheme, so this does too.
    """
    bare = re.sub(r"[\x00-\x20]", "", value).lower()
    return next((s[:-1] for s in SCRIPT_SCHEMES if bare.startswith(s)), None)


# --- the allow-list, over the tree every output is written from ------------------------

Refusal = tuple  # (element, Markdown line or None, code, message, hint)


def parse_raw(fragment: str):
    """A fragment parsed as the enrich stage parses it, by libxml2's HTML parser, which
    tokenizes as HTML5 does (where comments and CDATA end, as browsers see it). The
    outputs are written from this tree, so what is checked here is what they carry."""
    return html.fragment_fromstring(fragment or "", create_parent="div")


def refusals(root) -> Iterator[Refusal]:
    """Everything in a parsed fragment that the allow-list does not allow, in order."""
    anchor, pending = (None, 0), None
    for el in root.iter():
        if el.tag is etree.Comment:
            found = MARKER.fullmatch(el.text or "")
            pending = pos_line(found.group(1)) if found else pending
            continue
        if not isinstance(el.tag, str) or el is root:
            continue
        here = el.sourceline or anchor[1]
        if pos_line(el.get("data-pos")):
            anchor = (pos_line(el.get("data-pos")), here)
        if pending is not None:
            anchor, pending = (pending, here), None
        line = anchor[0] + here - anchor[1] if anchor[0] else None
        for code, message, hint in element_refusals(el):
            yield el, line, code, message, hint


def context(el) -> str:
    """Which vocabulary an element of the HTML tree belongs to: html, svg or math."""
    for up in el.iterancestors():
        if up.tag in ("svg", "math"):
            return up.tag
    return el.tag if el.tag in ("svg", "math") else "html"


def element_refusals(el) -> list[tuple[str, str, str]]:
    """The problems with one element of the HTML tree: its name, else its attributes."""
    tag, where = el.tag.lower(), context(el)
    named = refused_element(tag, where)
    if named:
        return [named]
    return [found for name, value in el.attrib.items()
            if (found := refused_attribute(tag, name.lower(), value or "", where))]


def refused_element(tag: str, where: str = "html") -> tuple[str, str, str] | None:
    if tag in ACTIVE:
        return ("S001", f"<{tag}> is not allowed: a book cannot run or embed active content",
                "remove it; to show code, put it in a fenced code block (```)")
    if tag in DOCUMENT_LEVEL:
        return ("S005", f"<{tag}> is not allowed in the text: it would change how the whole "
                "document loads or looks", "remove it; styling belongs in styles/css/")
    if tag in FORMS:
        return ("S006", f"<{tag}> is not allowed: a book has no forms",
                "remove it, or describe the form in text or a table")
    if tag in allow.ANIMATIONS:
        return ("S012", f"SVG animation <{tag}> is not allowed: it can change links and "
                "styles after they were checked", "draw the figure without animation")
    allowed = {"html": allow.HTML_ELEMENTS | {"svg", "math"}, "svg": allow.SVG_ELEMENTS,
               "math": allow.MATHML_ELEMENTS}[where]
    if tag not in allowed:
        return ("S009", f"<{tag}> is not an element a book may hold",
                "use Markdown, or a <div> or <span> with a class styled in styles/css/")
    return None


def allowed_attribute(tag: str, name: str, where: str) -> bool:
    if name in allow.GLOBAL_ATTRIBUTES or re.fullmatch(r"(data|aria)-[a-z0-9_.-]+", name):
        return True
    if where == "svg":
        return name in allow.SVG_ATTRIBUTES
    if where == "math":
        return name in allow.MATHML_ATTRIBUTES or (tag == "math" and name == "xmlns")
    return name in allow.HTML_ATTRIBUTES.get(tag, ()) or (
        tag in ("svg", "math") and name in ("xmlns", "width", "height", "viewbox"))


def refused_attribute(tag: str, name: str, value: str,
                      where: str = "html") -> tuple[str, str, str] | None:
    """Why an attribute is refused, if it is: handlers, script URLs, fetches, the rest."""
    if name.startswith("on"):
        return ("S002", f"event-handler attribute '{name}' on <{tag}> is not allowed",
                "remove it: a book runs no scripts")
    if name in URL_ATTRIBUTES and script_url(value) and (tag, name) != ("img", "src"):
        return ("S003", f"{script_url(value)} URL in '{name}' on <{tag}> is not allowed",
                "link to http(s), mailto, or a place in the book")
    if fetches(tag, name, value, where):
        return ("S004", f"'{name}' on <{tag}> would make the build fetch '{value[:60]}'",
                "put images in manuscript/images/ and insert them with "
                "![what it shows](images/file.png); styling belongs in styles/css/")
    if not allowed_attribute(tag, name, where):
        return ("S010", f"attribute '{name}' on <{tag}> is not allowed",
                "remove it; classes (class=\"...\") styled in styles/css/ are allowed")
    if name == "style":
        return css_refusal(value)
    if name in allow.LINKING and not (where == "html" and tag in ("a", "area")):
        return link_refusal(tag, name, value)  # (an HTML link's scheme is M015, in enrich)
    return None


def fetches(tag: str, name: str, value: str, where: str = "html") -> bool:
    """Would this attribute make WeasyPrint or a reading system load a file?

    An <img src> is left to the image check in enrich, which knows the manuscript folder
    and puts the image in the EPUB; nothing else may load a file.
    """
    if name in allow.FETCHING and not (tag == "data" and name == "value"):
        return True
    if name == "style":
        return css_fetches(value)
    if name in ("href", "xlink:href"):
        return tag not in ("a", "area") and not value.startswith("#")
    if where == "svg" and "url(" in value.replace(" ", "").lower():
        return css_fetches(f"x: {value}") and not re.fullmatch(r"\s*url\(\s*#[^)]*\)\s*",
                                                                 value)
    return name == "src" and tag != "img"


def link_refusal(tag: str, name: str, value: str) -> tuple[str, str, str] | None:
    if re.match(r"^[a-z][a-z0-9+.-]*:", value.strip(), re.I) and \
            not value.strip().lower().startswith(allow.LINK_SCHEMES):
        return ("M015", f"link scheme not allowed in '{name}' on <{tag}>: {value[:60]}",
                "link to http(s), mailto, or a place in the book")
    return None


def css_refusal(css: str) -> tuple[str, str, str] | None:
    """A style attribute's declarations, each property and function allow-listed.

    The CSS tokenizer is the one WeasyPrint uses: comments and escapes are read the way
    the renderer reads them, so 'u/**/rl(' or 'u\\72l(' hides nothing.
    """
    for item in tinycss2.parse_blocks_contents(css, skip_comments=True, skip_whitespace=True):
        if item.type != "declaration":
            return ("S013", "style attribute holds something that is not a declaration",
                    "write only 'property: value' pairs, or use a class")
        if item.lower_name not in allow.CSS_PROPERTIES:
            return ("S013", f"CSS property '{item.name}' is not allowed in a style attribute",
                    "use a class styled in styles/css/")
        bad = css_function_refusal(item.value)
        if bad:
            return bad
    return None


def css_function_refusal(tokens) -> tuple[str, str, str] | None:
    for token in tokens:
        if token.type == "url" or (token.type == "function"
                                   and token.lower_name in allow.CSS_FETCHING):
            return ("S004", "style attribute names a file to fetch (url() or the like)",
                    "put images in manuscript/images/; styling belongs in styles/css/")
        if token.type == "function" and token.lower_name not in allow.CSS_FUNCTIONS:
            return ("S013", f"CSS function '{token.name}()' is not allowed in a style "
                    "attribute", "use plain values, or a class styled in styles/css/")
        inner = getattr(token, "arguments", None) or getattr(token, "content", None)
        if token.type in ("function", "() block", "[] block", "{} block") and inner:
            bad = css_function_refusal(inner)
            if bad:
                return bad
    return None


def prune(root) -> None:
    """Take out of a parsed fragment everything the allow-list refuses.

    The screen has refused it already and the build stops; this is the second fence:
    whatever path a fragment takes, no output is written from a tree that holds it.
    """
    for el, _, code, _, _ in list(refusals(root)):
        if el.getparent() is None:
            continue
        if code in ("S001", "S005", "S006", "S009", "S012"):
            el.drop_tree()
        else:
            for name, value in list(el.attrib.items()):
                if refused_attribute(el.tag.lower(), name.lower(), value or "", context(el)):
                    del el.attrib[name]


def css_fetches(css: str) -> bool:
    """Whether CSS text names a resource: url(...), image-set(...) and the like.

    The CSS tokenizer is the one WeasyPrint uses, so escapes such as 'u\\72l(' are read
    the way the renderer would read them.
    """
    def walk(tokens) -> bool:
        for token in tokens:
            if token.type == "url":
                return True
            if token.type == "function" and (token.lower_name in allow.CSS_FETCHING
                                             or walk(token.arguments)):
                return True
            if token.type in ("() block", "[] block", "{} block") and walk(token.content):
                return True
        return False
    return walk(tinycss2.parse_component_value_list(css))


# --- SVG image files ----------------------------------------------------------------------

def screen_svg(source: Path, shown) -> list[Problem]:
    """An SVG image goes into both outputs as it is: it must be well-formed XML whose
    every element and attribute the SVG allow-list allows."""
    try:
        data = source.read_bytes()
        data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return [Problem(shown, 1, "M026", "SVG image cannot be read as UTF-8 text",
                        "save the SVG file as UTF-8")]
    text = data.decode("utf-8")
    if re.search(r"<!ENTITY", text, re.I):
        return [Problem(shown, text[: text.upper().find("<!ENTITY")].count("\n") + 1,
                        "S004", "SVG image declares entities, which can name other files",
                        "remove the <!DOCTYPE ...> block")]
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_blank_text=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        return [Problem(shown, error.lineno or 1, "M026", "SVG image is not well-formed "
                        f"XML: {error.msg}", "re-export the drawing as plain SVG")]
    if root.tag != f"{{{SVG_NS}}}svg":
        return [Problem(shown, root.sourceline or 1, "M026", "SVG image has no <svg> root "
                        "in the SVG namespace", "re-export the drawing as plain SVG")]
    return [Problem(shown, line, code, message, hint)
            for line, code, message, hint in svg_refusals(root)]


def svg_refusals(root) -> Iterator[tuple[int, str, str, str]]:
    """(line, code, message, hint) for each refused node, those around the root included
    (a processing instruction before <svg> is where a style sheet would be named)."""
    around = [*reversed(list(root.itersiblings(preceding=True))), *root.itersiblings()]
    for node in [*around, *root.iter()]:
        line = node.sourceline or 1
        if node.tag is etree.PI:
            yield (line, "S014", "SVG image holds a processing instruction "
                   f"<?{node.target} ...?>, which can load a style sheet",
                   "remove it; draw the styles into the SVG")
            continue
        if not isinstance(node.tag, str):
            continue
        qname = etree.QName(node)
        if qname.namespace != SVG_NS:
            if qname.namespace in FOREIGN_NS or qname.namespace is None:
                yield (line, "S009", f"SVG image holds <{qname.localname}> from another "
                       "vocabulary", "draw with SVG elements only")
            continue  # an editor's own metadata (Inkscape's, say): renderers ignore it
        yield from svg_element_refusals(node, qname.localname.lower(), line)


def svg_element_refusals(node, tag: str, line: int):
    if tag == "style":
        found = stylesheet_refusal(node.text or "")
        if found:
            yield (line, *found)
        return
    named = refused_element(tag, "svg")
    if named:
        yield (line, *named)
        return
    for key, value in node.attrib.items():
        qname = etree.QName(key)
        if qname.namespace in (None, SVG_NS):
            name = qname.localname.lower()
        elif qname.namespace in (XLINK_NS, XML_NS):
            name = ("xlink:" if qname.namespace == XLINK_NS else "xml:") + qname.localname
        else:
            name = f"{{{qname.namespace}}}" + qname.localname
            if qname.namespace not in FOREIGN_NS:
                continue  # an editor's own attribute, which renderers ignore
        found = refused_attribute(tag, name, value or "", "svg")
        if found:
            yield (line, *found)


def stylesheet_refusal(css: str) -> tuple[str, str, str] | None:
    """An SVG file's own <style>: rules only, nothing that loads (no @import, no url())."""
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type == "at-rule":
            return ("S004", f"<style> holds @{rule.at_keyword}, which can load a file",
                    "draw it in the SVG itself, without references to other files")
        if rule.type == "error":
            return ("S013", f"<style> cannot be read as CSS: {rule.message}",
                    "fix the style sheet, or set the styles as attributes")
    if css_fetches(css):
        return ("S004", "<style> names a file to fetch (url() or the like)",
                "draw it in the SVG itself, without references to other files")
    return None


def _first_text_line(part: Part) -> int:
    """Where the text should start: the first non-blank line after the front matter."""
    body = part.markdown
    return body[: len(body) - len(body.lstrip())].count("\n") + 1
