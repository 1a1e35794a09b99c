"""Stage 3, enrich: pure passes over converted HTML: source lines, unique ids, links, images."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree, html
from PIL import Image as Pillow

from press.enrich import listings
from press.enrich import marks as index_marks
from press.enrich import notes
from press.source.convert import END_MARKER, MARKER, pos_line
from press.problems import Problem, raise_if_any
from press.model import Book, Heading, Part
from press.source.vet import parse_raw, prune, screen_svg, script_url

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


@dataclass(frozen=True)
class Image:
    """An image the book uses: where it is on disk and the name it has in the outputs."""

    source: Path
    name: str


def parse_fragment(fragment: str) -> html.HtmlElement:
    """Parse an HTML fragment into a <div> we own, and keep source lines as data-line."""
    root = parse_raw(fragment)
    prune(root)  # the screen refused it already; no output is ever written from it
    for el in root.iter():
        pos = el.attrib.pop("data-pos", None) if isinstance(el.tag, str) else None
        if pos_line(pos):
            el.set("data-line", str(pos_line(pos)))
    for comment in list(root.iter(etree.Comment)):
        _take_marker(comment)
    for instruction in list(root.iter(etree.ProcessingInstruction)):
        listings.drop_keeping_tail(instruction)  # `<?php ... ?>` and the like: never shown either
    listings.tidy(root)
    return root


def _take_marker(comment) -> None:
    """Give a position comment's line to the element right after it, then drop the comment.

    The comment's line is the more exact one: a link or image in a list item otherwise
    gets the whole item's line. The author's own comments go too: no edition shows them,
    and one holding `--` (valid HTML) is not allowed in XML, so the EPUB could not carry it.
    """
    found = MARKER.fullmatch(comment.text or "")
    after = comment.getnext()
    if found and after is not None and isinstance(after.tag, str) and \
            not (comment.tail or "").strip() and pos_line(found.group(1)):
        line = pos_line(found.group(1))
        after.set("data-line", str(line))
        # Inside a raw HTML block, each line of the fragment is a line of the Markdown.
        for el in after.iterdescendants():
            if isinstance(el.tag, str) and not el.get("data-line") and el.sourceline:
                el.set("data-line", str(line + el.sourceline - after.sourceline))
    listings.drop_keeping_tail(comment)



def line_of(el) -> int | None:
    """The Markdown line of an element: its own, or the nearest block around it."""
    while el is not None:
        if el.get("data-line"):
            return int(el.get("data-line"))
        el = el.getparent()
    return None


def serialise(root, xml: bool) -> str:
    """The children of root as HTML (print) or XHTML (EPUB) text.

    The XHTML keeps data-line: the EPUB stage turns it into a map from each output line
    to its Markdown line (for validators' findings), then removes it.
    """
    if not xml:
        for el in root.iter():
            if isinstance(el.tag, str):
                el.attrib.pop("data-line", None)
    out = "".join(etree.tostring(child, encoding=str, method="xml" if xml else "html")
                  for child in root)
    text = _escape(root.text or "") + out
    # lxml cannot name an attribute epub:type in an HTML tree; it travels as data-epub-type.
    # Rewrite it only inside tags: a '<' in text content is always escaped as &lt;.
    return re.sub(r'(<[a-z][^<>]*?) data-epub-type="', r'\1 epub:type="', text) if xml else text


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class IdRegistry:
    """Hands out ids unique across the whole book, so one print document can hold all parts."""

    def __init__(self, reserved=()):
        self.used: set[str] = set(reserved)

    def claim(self, wanted: str, prefix: str) -> str:
        candidate = wanted if wanted not in self.used else f"{prefix}-{wanted}"
        n = 2
        while candidate in self.used:
            candidate, n = f"{prefix}-{wanted}-{n}", n + 1
        self.used.add(candidate)
        return candidate


@dataclass(frozen=True)
class Scan:
    """What one converted part holds that the rest of the book depends on, read once.

    Every field is in document order and comes from the fragment alone: the ids its
    elements carry, its headings (level, index of the heading's id in ids or None, text,
    line), its links (href, line), its images (src, line, whether it has alt text) and
    its tables (whether each has header cells).
    """

    ids: tuple[str, ...]
    headings: tuple[tuple[int, int | None, str, int | None], ...]
    links: tuple[tuple[str, int | None], ...]
    images: tuple[tuple[str, int | None, bool], ...]
    tables: tuple[bool, ...] = ()
    # Index marks (press.enrich.marks): kind, key, index of its id in ids, line, whether
    # it sits in a heading or a link, whether it was found rather than marked.
    marks: tuple[tuple[str, str, int, int | None, str, bool], ...] = ()


def scan(root) -> Scan:
    """Read a parsed fragment's ids, headings, links and images; change nothing."""
    ids, headings, links, images, tables, marks = [], [], [], [], [], []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.get("id"):
            ids.append(el.get("id"))
        kind = index_marks.kind_of(el)
        if kind and el.get("id"):
            marks.append((kind, index_marks.key_of(el), len(ids) - 1, line_of(el),
                          index_marks.where(el), bool(el.get("data-found"))))
        if el.tag in HEADINGS:
            at = len(ids) - 1 if el.get("id") else None
            headings.append((int(el.tag[1]), at, el.text_content().strip(), line_of(el)))
        elif el.tag in ("a", "area"):
            links.append((el.get("href", ""), line_of(el)))
        elif el.tag == "img":
            images.append((el.get("src", ""), line_of(el), bool(el.get("alt", "").strip())))
        elif el.tag == "table":
            tables.append(next(el.iter("th"), None) is not None)
    return Scan(tuple(ids), tuple(headings), tuple(links), tuple(images), tuple(tables),
                tuple(marks))


def reserved_ids(book: Book) -> list[str]:
    """Ids the templates give to the book's own furniture, which headings must not take."""
    furniture = ["toc", "toc-title", "glossary", "glossary-title", "title-page", "copyright",
                 "cover", "landmarks", "landmarks-title", "footnotes", "page-list",
                 "page-list-title"]
    furniture += [f"{p.slug}-title" for p in book.parts]
    furniture += [f"gl-{e.slug}" for e in book.glossary]
    furniture += ["index", "index-title"]  # the back-of-book index (press.enrich.index)
    return [p.slug for p in book.parts] + furniture


def heading_problems(found: Scan, part: Part) -> list[Problem]:
    """A second title or a skipped heading level."""
    problems, previous = [], 1
    for level, _, _, line in found.headings:
        if level == 1:
            problems.append(Problem(part.path, line, "M013",
                                    "a second title in the chapter (level-1 heading)",
                                    "front matter's title: already names the chapter; use ## "
                                    "for sections, or drop title: to let this heading name it"))
        elif level > previous + 1:
            problems.append(Problem(part.path, line, "M014",
                                    f"heading level skips from {previous} to {level}",
                                    f"use {'#' * (previous + 1)} for this heading"))
        previous = level
    return problems


def headings_of(found: Scan, ids: tuple[str, ...]) -> tuple[Heading, ...]:
    """The part's section headings with their book-wide ids."""
    return tuple(Heading(level, ids[at] if at is not None else "", text)
                 for level, at, text, _ in found.headings)


def link_targets(found: Scan, part: Part, id_maps: dict[str, dict[str, str]],
                 files: dict[str, str], problems: list[Problem]) -> tuple[str | None, ...]:
    """Each link's new href, pointing at the book-wide id (None: left as it is).

    A link to nowhere is an error."""
    out = []
    for href, line in found.links:
        out.append(None)
        if re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I):
            # (javascript: and the like are refused by press.source.vet already, as S003)
            if not href.startswith(("http:", "https:", "mailto:")) and not script_url(href):
                problems.append(Problem(part.path, line, "M015",
                                        f"link scheme not allowed: {href}",
                                        "link to http(s), mailto, or a place in the book"))
            continue
        target, _, fragment = href.partition("#")
        slug = files.get(Path(target).name) if target else part.slug
        ids = id_maps.get(slug or "", {})
        if slug is None or (fragment and fragment not in ids):
            problems.append(Problem(part.path, line, "M016",
                                    f"broken cross-reference '{href}'"
                                    + _nearest_target(target, fragment, slug, ids, files),
                                    "link to a heading id in this chapter (#id) or in another "
                                    "file of the book (02-name.md#id)"))
            continue
        out[-1] = "#" + (ids[fragment] if fragment else slug)
    return tuple(out)


def _nearest_target(target: str, fragment: str, slug, ids: dict, files: dict) -> str:
    """' (did you mean ...?)' with the id or file most like a broken link's, or ''."""
    if slug is None:
        found = difflib.get_close_matches(Path(target).name, list(files), n=1, cutoff=0.6)
        return f" (did you mean '{found[0]}'?)" if found else " (no file of the book has " \
            "that name)"
    found = difflib.get_close_matches(fragment, [i for i in ids if i], n=1, cutoff=0.6)
    return f" (did you mean '#{found[0]}'?)" if found else ""


def check_images(found: Scan, part: Part, manuscript: Path,
                 problems: list[Problem]) -> tuple[tuple[str | None, ...], list[Image]]:
    """Check each image: alt text present, file inside the manuscript and existing.

    Returns the name each image has in the outputs (None: left as it is) and the images.
    The files are read on every build: an image can change while the Markdown does not.
    """
    names, images = [], []
    for src, line, alt in found.images:
        names.append(None)
        if not alt:
            problems.append(Problem(part.path, line, "M017", f"image '{src}' has no alt text",
                                    "describe the image: ![what it shows](images/file.png)"))
        path = (manuscript / src).resolve()
        if re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I) or not path.is_relative_to(manuscript):
            problems.append(Problem(part.path, line, "M018",
                                    f"image '{src}' is outside the manuscript folder",
                                    "put images in manuscript/images/ and use a relative path"))
        elif not path.is_file():
            problems.append(Problem(part.path, line, "M019", f"image '{src}' not found",
                                    "check the file name under manuscript/images/"))
        elif not image_problems(path, src, part, line, manuscript, problems):
            names[-1] = path.relative_to(manuscript).as_posix()  # distinct for distinct files
            images.append(Image(path, names[-1]))
    return tuple(names), images


# The Pillow format each raster type's file must hold; an SVG is text, read by press.source.vet.
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WEBP",
           ".svg": None}
MAX_PIXELS = 40_000_000  # 40 megapixels: a full-page photograph at 600 dpi and more


def image_problems(path: Path, src: str, part: Part, line, manuscript: Path,
                   problems: list[Problem]) -> bool:
    """An image both outputs can carry: readable, of a known type, holding that type.

    Found here, before layout: WeasyPrint would only warn, and the EPUB would carry a
    file no reading system can show.
    """
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        found = [Problem(part.path, line, "M026", f"image '{src}' is not a PNG, JPEG, GIF, "
                         "WebP or SVG file", "convert it to PNG or JPEG")]
    elif suffix == ".svg":
        # What is wrong with the file is told where it is used; what it holds, in the file.
        found = [Problem(part.path, line, p.code, f"image '{src}': {p.message}", p.hint)
                 if p.code == "M026" else p
                 for p in screen_svg(path, path.relative_to(manuscript.parent))]
    else:
        said = raster_problem(path, FORMATS[suffix])
        found = [Problem(part.path, line, "M001" if said.startswith("cannot be read") else
                         "M026", f"image '{src}' {said}", "re-export the image, or give the "
                         "file the extension of its real type")] if said else []
    problems += found
    return bool(found)


def raster_problem(path: Path, kind: str) -> str | None:
    """What is wrong with a raster image file, decoded in full: None if nothing.

    The size is read from the header before any pixel is decoded, so a decompression
    bomb (a small file that claims 20000 x 20000 pixels) is refused without decoding it.
    """
    try:
        with Pillow.open(path, formats=[kind]) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                return (f"is {width} x {height} pixels, more than {MAX_PIXELS // 1_000_000} "
                        "megapixels")
            image.load()
    except OSError as exc:
        if isinstance(exc, Pillow.UnidentifiedImageError):
            return f"does not hold {kind} data"  # (its message names the absolute path)
        if exc.strerror:
            return f"cannot be read: {exc.strerror}"
        return f"does not hold a whole {kind} image ({str(exc)[:80]})"
    except (ValueError, SyntaxError, Pillow.DecompressionBombError) as exc:
        return f"does not hold a whole {kind} image ({str(exc)[:80]})"
    return None


# Blocks that can hold text where a printed page may begin (see press/pagelist.py).
KEYED = frozenset({"p", "li", "dt", "dd", "blockquote", "pre", "figcaption", "td", "th", "caption",
         "div", "section", "aside", "figure", "header", "footer", *HEADINGS})


def key_blocks(root, prefix: str) -> None:
    """Give each text block a key both editions share: data-b="<part>.<n>"."""
    blocks = (el for el in root.iter() if isinstance(el.tag, str) and el.tag in KEYED)
    for n, el in enumerate(blocks):
        el.set("data-b", f"{prefix}.{n}")


# What a paragraph ending in a colon introduces, when it comes right after it.
INTRODUCED = frozenset({"pre", "table", "ol", "ul", "dl", "blockquote", "figure"})


def mark_lead_ins(root) -> None:
    """A paragraph that ends in a colon and is followed at once by the listing, table,
    list, quotation or figure it introduces gets class="lead-in", which keeps it on the
    page of what follows (break-after: avoid in print.css and epub.css): a reader should
    never turn the page after "as follows:" to find it."""
    for p in root.iter("p"):
        after = p.getnext()
        while after is not None and not isinstance(after.tag, str):  # a comment
            after = after.getnext()
        if after is None or not (after.tag in INTRODUCED or (
                after.tag == "div" and "sourceCode" in after.get("class", "").split())):
            continue
        if "".join(p.itertext()).rstrip().endswith(":"):
            p.set("class", " ".join(filter(None, (p.get("class"), "lead-in"))))


def apply(root, ids: tuple[str, ...], hrefs: tuple, names: tuple) -> None:
    """Give a part's tree what the rest of the book decided: its book-wide ids, its links'
    targets and its images' names (each in the order scan() found them; None: unchanged)."""
    elements = (el for el in root.iter() if isinstance(el.tag, str) and el.get("id"))
    for el, new in zip(elements, ids, strict=True):
        el.set("id", new)
    for a, href in zip(list(root.iter("a", "area")), hrefs, strict=True):
        if href is not None:
            a.set("href", href)
    for img, name in zip(list(root.iter("img")), names, strict=True):
        if name is not None:
            img.set("src", name)


def finish(root, slug: str, path: Path | str = "", for_print=None) -> tuple[str, str, str]:
    """Serialise an enriched tree three times: HTML for the screen edition, XHTML for the
    EPUB and HTML for print, the notes shaped for each (press.enrich.notes).

    for_print(tree), if given, changes the print edition's tree (its own copy) before it
    is serialised.
    """
    key_blocks(root, slug)  # before the notes move: every edition shares the keys
    mark_lead_ins(root)
    xhtml = serialise(notes.epub_notes(root), xml=True)  # keeps data-line: first
    raise_if_any(xml_problems(xhtml, path or slug))
    if not notes.has_notes(root) and for_print is None:
        text = serialise(root, xml=False)
        return text, xhtml, text
    printed_tree = notes.print_notes(root)  # a copy
    if for_print is not None:
        for_print(printed_tree)
    printed = serialise(printed_tree, xml=False)
    return serialise(root, xml=False), xhtml, printed

XHTML_WRAP = ('<div xmlns="http://www.w3.org/1999/xhtml" '
              'xmlns:epub="http://www.idpf.org/2007/ops">', "</div>")


def xml_problems(xhtml: str, path: Path | str) -> list[Problem]:
    """The part's XHTML read back as XML, once per changed part: whatever the HTML parser
    let through that XML forbids is refused here, at its Markdown line, instead of
    breaking the EPUB stage (or the EPUB) later."""
    try:
        etree.fromstring((XHTML_WRAP[0] + xhtml + XHTML_WRAP[1]).encode("utf-8"))
    except etree.XMLSyntaxError as error:
        lines = xhtml.split("\n")[:max(error.lineno, 1)]
        found = [m for line in lines for m in re.findall(r' data-line="(\d+)"', line)]
        said = re.sub(r", line \d+, column \d+$", "", error.msg)
        return [Problem(path, int(found[-1]) if found else None, "M030",
                        f"raw HTML here cannot be written as XHTML for the EPUB: {said}",
                        "write the raw HTML as XHTML: every attribute with a value, no "
                        "undeclared prefixes (x:y); or use Markdown instead")]
    return []
