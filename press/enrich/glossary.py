"""Stage 3b, enrich the glossary: find terms in the chapters, link them, lint the entries."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace

from lxml import html

from press.enrich.tree import IdRegistry, line_of, parse_fragment, serialise
from press.problems import Problem
from press.util.folio import folio
from press.util.memo import Memos
from press.util.weight import weight
from press.model import Book, GlossaryEntry, Part

# Never mark a term inside these: headings, links, code, and text the author opted out.
SKIP_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "a", "code", "pre", "script", "style"})


@dataclass(frozen=True)
class Use:
    """One occurrence of a term in the text: its anchor id and the part it is in.

    at: where the print edition has it without an element of its own (see place_uses):
    its block's key and the counted characters before it there; None: the print HTML
    keeps its element and id (a link, or a use in a footnote), and the id gives its page.
    """

    id: str
    part: Part
    linked: bool
    at: tuple[str, int] | None = None


@dataclass(frozen=True)
class SeeRef:
    entry: GlossaryEntry
    id: str


@dataclass(frozen=True)
class GlossaryItem:
    """One glossary entry as both outputs show it."""

    entry: GlossaryEntry
    id: str
    definition_html: str
    definition_xhtml: str
    see: tuple[SeeRef, ...] = ()
    uses: tuple[Use, ...] = ()
    pages: tuple = ()  # print back-references as page ranges, known once laid out

    def uses_by_part(self) -> list[tuple[Part, list[Use]]]:
        groups: dict[str, tuple[Part, list[Use]]] = {}
        for use in self.uses:
            groups.setdefault(use.part.slug, (use.part, []))[1].append(use)
        return list(groups.values())


def entry_id(entry: GlossaryEntry) -> str:
    return f"gl-{entry.slug}"


def forms(entry: GlossaryEntry) -> tuple[str, ...]:
    return (entry.term, *entry.variants)


def matcher(entries) -> tuple[re.Pattern | None, dict[str, GlossaryEntry]]:
    """One regex over every form, longest first, whole words, any case, any spacing."""
    by_form = {f.lower(): e for e in entries for f in forms(e)}
    if not by_form:
        return None, by_form
    ordered = sorted(by_form, key=len, reverse=True)
    alternatives = "|".join(r"\s+".join(map(re.escape, f.split())) for f in ordered)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.I), by_form


class Terms:
    """The glossary as the marker reads it: one pattern over every form, and lookups."""

    def __init__(self, entries):
        self.pattern, self.by_form = matcher(entries)
        self.by_term = {e.term.lower(): e for e in entries}


def terms_key(entries) -> tuple:
    """Everything about the glossary that decides how a chapter is marked."""
    return tuple((e.term, e.slug, e.variants) for e in entries)


class Marker:
    """Wraps term occurrences in one chapter; the first use of each term becomes a link.

    Each use gets a stand-in id, placeholder(n) for the chapter's n-th use: the book-wide
    ids are handed out afterwards in reading order (use_ids), so a chapter's marking
    never depends on the chapters before it and can be kept while they change.
    """

    def __init__(self, terms: Terms, path, placeholder, markdown: str = ""):
        self.terms, self.path, self.placeholder = terms, path, placeholder
        self.markdown = markdown  # the part's source, for the line of a key= (G002)
        self.uses: list[tuple[str, bool]] = []  # (entry slug, linked), in marking order
        self.problems: list[Problem] = []
        self.linked: set[str] = set()

    def mark(self, root) -> None:
        self._explicit(root)
        self._walk(root)
        for span in list(root.iter("span")):
            if "noterm" in span.get("class", "").split():
                span.drop_tag()

    def _explicit(self, root) -> None:
        """Author-marked terms: [allies]{.term key="strategic alliance"}."""
        for span in list(root.iter("span")):
            if "term" not in span.get("class", "").split():
                continue
            key = (span.get("data-key") or span.text_content()).strip()
            entry = self.terms.by_term.get(key.lower()) or self.terms.by_form.get(key.lower())
            if entry is None:
                guess = nearest(key, [e.term for e in self.terms.by_term.values()])
                self.problems.append(Problem(
                    self.path, key_line(self.markdown, key, line_of(span)), "G002",
                    f"glossary key '{key}' names no entry" + did_you_mean(guess),
                    "use the exact term of an entry in glossary.yaml, or add the entry"))
                span.drop_tag()
                continue
            inside_link = any(a.tag == "a" for a in span.iterancestors())
            new = self._wrap(entry, line_of(span), allow_link=not inside_link)
            new.text, new.tail = span.text, span.tail
            new.extend(list(span))
            span.getparent().replace(span, new)

    def _walk(self, el) -> None:
        if not isinstance(el.tag, str):
            return  # an HTML comment in the text: nothing to mark inside (its tail is)
        if el.tag in SKIP_TAGS or "noterm" in el.get("class", "").split() \
                or el.get("data-term"):
            return
        for child in list(el):
            self._walk(child)
            if child.tail:
                self._split(el, child, child.tail)
        if el.text:
            self._split(el, None, el.text)

    def _split(self, parent, after, text: str) -> None:
        """Replace a run of text with text and term elements, in place."""
        pieces, last = [], 0
        pattern = self.terms.pattern
        for match in pattern.finditer(text) if pattern else ():
            entry = self.terms.by_form[re.sub(r"\s+", " ", match.group(0).lower())]
            node = self._wrap(entry, line_of(parent))
            node.text = match.group(0)
            pieces.append((text[last:match.start()], node))
            last = match.end()
        if not pieces:
            return
        head = pieces[0][0]
        nodes = [node for _, node in pieces]
        for (_, node), (gap, _) in zip(pieces, pieces[1:] + [(text[last:], None)]):
            node.tail = gap
        if after is None:
            parent.text = head
            for i, node in enumerate(nodes):
                parent.insert(i, node)
        else:
            after.tail = head
            index = parent.index(after)
            for i, node in enumerate(nodes, 1):
                parent.insert(index + i, node)

    def _wrap(self, entry: GlossaryEntry, line, allow_link: bool = True):
        """A link for the first use in this part, a plain anchor for the others."""
        first = allow_link and entry.slug not in self.linked
        if first:
            self.linked.add(entry.slug)
        use_id = self.placeholder(len(self.uses))
        self.uses.append((entry.slug, first))
        if first:
            node = html.Element("a", {"class": "term", "href": f"#{entry_id(entry)}",
                                      "data-epub-type": "glossref", "role": "doc-glossref",
                                      "id": use_id})
        else:
            node = html.Element("span", {"class": "term-use", "id": use_id})
        node.set("data-term", entry.slug)
        if line:
            node.set("data-line", str(line))
        return node


def nearest(name: str, names) -> str | None:
    """The name most like a misspelt one, if any is close ('waypont' -> 'waypoint')."""
    names = list(names)
    folded = {n.casefold(): n for n in names}
    found = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=0.6)
    return folded[found[0]] if found else None


def did_you_mean(guess: str | None) -> str:
    return f" (did you mean '{guess}'?)" if guess else ""


def key_line(markdown: str, key: str, block_line: int | None) -> int | None:
    """The line of `key="..."` in the source, at or after its paragraph's first line: a
    paragraph can run over many lines, and the author looks for the key."""
    lines = markdown.split("\n")
    start = (block_line or 1) - 1
    written = re.compile(r"key\s*=\s*([\"']?)" + re.escape(key) + r"\1")
    for number in range(start, len(lines)):
        if written.search(lines[number]):
            return number + 1
    return block_line


def place_uses(root, is_use) -> dict[str, tuple[str, int]]:
    """Drop the elements of the term uses that are no link, from a print tree, and say
    where each was: its block's key and the counted characters (press.util.weight)
    before it in that block, as the laid-out pages count them (press.pdf.pagelist).

    Thousands of inline elements with ids cost WeasyPrint about 40% of its time on
    term-dense text; the page of a place is found from the page facts instead. A note's
    text is laid out at the foot of the page, outside its block's count: uses in notes
    keep their elements, as do uses outside any block.
    """
    places: dict[str, tuple[str, int]] = {}
    counts: dict[str, int] = {}
    dropped = []

    def walk(el, key):
        key = el.get("data-b") or key
        if is_use(el) and key is not None:
            places[el.get("id")] = (key, counts.get(key, 0))
            dropped.append(el)
        if el.text and key is not None:
            counts[key] = counts.get(key, 0) + weight(el.text)
        for child in el:
            if isinstance(child.tag, str) and "footnote" not in child.get("class", "").split():
                walk(child, key)
            if child.tail and key is not None:
                counts[key] = counts.get(key, 0) + weight(child.tail)

    for child in root:  # the root is the part's own wrapper: not in the print HTML
        if isinstance(child.tag, str):
            walk(child, None)
    for el in dropped:
        el.drop_tag()
    return places


def use_ids(registry: IdRegistry, marked) -> list[tuple[str, ...]]:
    """The book-wide id of every use, chapter by chapter in reading order.

    marked holds each chapter's uses as (entry slug, linked) in marking order. Ids are
    't-<entry>-<n>', n counting the entry's uses through the book, claimed from the
    registry that already holds every other id of the book.
    """
    counts: dict[str, int] = {}
    out = []
    for uses in marked:
        ids = []
        for slug, _ in uses:
            counts[slug] = counts.get(slug, 0) + 1
            ids.append(registry.claim(f"t-{slug}-{counts[slug]}", "t"))
        out.append(tuple(ids))
    return out


def lint_glossary(book: Book, uses: dict[str, list]) -> list[Problem]:
    """Every glossary problem at once: unused, duplicated, dangling or empty entries."""
    problems, seen, shared = [], {}, set()
    path = book.glossary_path
    known = {e.term.lower() for e in book.glossary}
    for entry in book.glossary:
        for form in forms(entry):
            other = seen.setdefault(form.lower(), entry)
            if other is not entry or forms(entry).count(form) > 1:
                shared |= {entry.slug, other.slug}
                where = f"also under '{other.term}', line {other.line}" if other is not entry \
                    else "twice in this entry"
                problems.append(Problem(path, entry.line, "G003",
                                        f"'{form}' of entry '{entry.term}' appears in more "
                                        f"than one place ({where})",
                                        "keep each term and variant in one entry only"))
        if not entry.definition.strip():
            problems.append(Problem(path, entry.line, "G005",
                                    f"entry '{entry.term}' has an empty definition",
                                    "write a definition under 'definition:'"))
        for target in entry.see:
            if target.lower() not in known:
                guess = nearest(target, [e.term for e in book.glossary if e is not entry])
                problems.append(Problem(path, entry.line, "G004",
                                        f"'see also' names a missing entry '{target}'"
                                        + did_you_mean(guess),
                                        "name an existing term exactly, or add that entry"))
    # A form two entries share is marked as one of them only: 'never used' would blame
    # the other for G003's fault.
    for entry in book.glossary:
        if not uses.get(entry.slug) and entry.slug not in shared:
            problems.append(Problem(path, entry.line, "G001",
                                    f"term '{entry.term}' is never used in the chapters",
                                    "use it in the text, add the form used as a variant, "
                                    "or remove the entry"))
    return problems


def glossary_items(entries, definitions_html: str, uses: dict,
                   memos: Memos | None = None) -> tuple[GlossaryItem, ...]:
    """Alphabetical items with their definitions split back out of the single Pandoc run
    (kept by the converted text in a warm process)."""
    ordered = sorted(entries, key=lambda e: e.term.lower())
    slugs = tuple(e.slug for e in ordered)
    texts = (memos or Memos())("glossary.definitions", 8).get(
        (definitions_html, slugs), lambda: definitions(definitions_html, slugs))
    by_term = {e.term.lower(): e for e in entries}
    items = []
    for entry, (definition_html, definition_xhtml) in zip(ordered, texts):
        see = tuple(SeeRef(by_term[s.lower()], entry_id(by_term[s.lower()]))
                    for s in entry.see if s.lower() in by_term)
        items.append(GlossaryItem(entry, entry_id(entry), definition_html, definition_xhtml,
                                  see, tuple(uses.get(entry.slug, ()))))
    return tuple(items)


def definitions(definitions_html: str, slugs) -> tuple[tuple[str, str], ...]:
    """(HTML, XHTML) of each entry's definition, in the order of slugs."""
    root = parse_fragment(definitions_html)
    blocks = {div.get("id"): div for div in root.iter("div") if div.get("id")}
    out = []
    for slug in slugs:
        block = blocks[f"def-{slug}"]
        xhtml = serialise(block, xml=True)  # first: the HTML serialisation drops data-line
        out.append((serialise(block, xml=False), xhtml))
    return tuple(out)


def page_ranges(pages: list[tuple[int, str, str]]) -> list[tuple[str, str, str | None, str | None]]:
    """[(number, label, target id)] -> ranges: '3, 7–9'; each end links to its page."""
    ranges, run = [], []
    for number, label, target in sorted(set(pages)):
        if run and number == run[-1][0]:
            continue
        if run and number != run[-1][0] + 1:
            ranges.append(run)
            run = []
        run.append((number, label, target))
    if run:
        ranges.append(run)
    return [(r[0][1], r[0][2], r[-1][1] if len(r) > 1 else None, r[-1][2] if len(r) > 1 else None)
            for r in ranges]


def with_pages(items, pages: dict[str, int], body_start: int,
               href=lambda name: f"#{name}") -> tuple[GlossaryItem, ...]:
    """Fill each item's print back-references from where its uses landed in the layout:
    (first folio, its link, last folio or None, its link or None) for each range, a link
    made of a use's id by href."""
    out = []
    for item in items:
        found = [(pages[u.id], folio(pages[u.id], body_start), u.id)
                 for u in item.uses if u.id in pages]
        ranges = tuple((start, href(first), end, end and href(last))
                       for start, first, end, last in page_ranges(found))
        out.append(replace(item, pages=ranges))
    return tuple(out)
