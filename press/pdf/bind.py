"""Bind the print edition: the parts' PDFs, each laid out and written on its own, become
one PDF, as if the book had been written as one document.

WeasyPrint writes each part as a tagged PDF (PDF/UA-1). Binding keeps everything a
reader, a screen reader or a printer relies on:
- the pages, in order, each with its fonts and resources;
- one structure tree: the parts' top-level elements in reading order under a single
  Document element, and one parent tree whose keys are renumbered part by part;
- the named destinations of every part, and the links between parts: a part's link to
  an anchor in another part is written with a placeholder address (LINK_PREFIX + id),
  and becomes an ordinary link to that named destination here;
- destinations for places that have no element of their own in the print HTML (a term
  use, see press.enrich.glossary.place_uses): named as the use's id, at its page's top;
- one outline (bookmarks): the parts' top-level entries, one after another;
- the first part's catalog: language, title shown in the window, XMP metadata;
- page labels, so viewers show the printed folio: roman in the front matter, arabic
  from the first chapter (given as the index of its first page).

Each part subsets its fonts on its own and names every subset with the same tag, which
the PDF specification forbids across one file (a tag names one font program). Binding
renames each subset after a hash of its program, and lets parts whose subsets came out
identical share one copy.
"""
from __future__ import annotations

import hashlib
import warnings
from io import BytesIO

import pikepdf
from pikepdf import Array, Dictionary, Name, String

# A link from one part to an anchor in another is written as a link to this address;
# the bound book turns it into a link to the named destination.
LINK_PREFIX = "press-part-link:"


class BindError(RuntimeError):
    """A part's link names an anchor that no part of the book has."""


def bind(parts: list[bytes], body_start: int | None = None,
         places: dict[str, int] | None = None, started: tuple | None = None) -> bytes:
    """One PDF from the parts' PDFs, in order (see the module's description).

    body_start is the index of the page where arabic folios begin (None: no labels);
    places names the page index of each destination no part has an anchor for; started
    is a binding already begun and how many parts after the first it holds.
    """
    binding, added = started or (Binding(), 0)
    for data in parts[1 + added:]:
        binding.add(data)
    binding.put_first(parts[0])
    return binding.finish(body_start, places)


class Binding:
    """The book being bound, a part at a time, so that the build can bind the chapters
    already written while others are still being typeset. The parts after the first go
    in with add, in order; the first, the front matter (typeset last, as its contents
    need every other part's folios), with put_first. The catalog, document information
    and metadata are the first part's.

    Whatever order the parts arrive in, they are added in this one order, so the bound
    book's bytes never depend on which worker finished first."""

    def __init__(self):
        self.book = None
        self.programs: dict[bytes, tuple[object, str]] = {}  # font digest -> (stream, tag)
        self.taken: dict[str, bytes] = {}  # subset tag -> font digest
        self.links: set[str] = set()  # anchors that links from part to part point to

    def _start(self, part) -> None:
        self.book = book = part
        self.tree = book.Root.StructTreeRoot
        self.document = self.tree.K[0]
        self.nums = list(self.tree.ParentTree.Nums)
        self.next_key = _next_key(self.nums)
        self.dests = _dests(book.Root)
        self.outline = _outline_root(book)
        self._settle(book.pages)

    def add(self, data: bytes) -> None:
        """The next part's pages after those bound so far, with all they bring."""
        part = pikepdf.open(BytesIO(data))
        if self.book is None:
            self._start(part)
            return
        theirs, pages = self._take(part, len(self.book.pages))
        for child in theirs.StructTreeRoot.K[0].K:
            child.P = self.document
            self.document.K.append(child)
        if "/Outlines" in theirs and "/First" in theirs.Outlines:
            _append_outline(self.outline, theirs.Outlines)
        self._settle(pages)

    def put_first(self, data: bytes) -> None:
        """The first part, before every page bound so far; its catalog becomes the book's."""
        if self.book is None:
            self.add(data)
            return
        part = pikepdf.open(BytesIO(data))
        theirs, pages = self._take(part, 0)
        children = list(theirs.StructTreeRoot.K[0].K)
        for child in children:
            child.P = self.document
        self.document.K = Array([*children, *self.document.K])
        if "/Outlines" in theirs and "/First" in theirs.Outlines:
            _prepend_outline(self.outline, theirs.Outlines)
        root = self.book.Root
        for key in ("/Lang", "/Metadata", "/ViewerPreferences", "/MarkInfo"):
            if key in theirs:
                root[key] = theirs[key]
            elif key in root:
                del root[key]
        if "/Info" in part.trailer:
            self.book.trailer.Info = self.book.copy_foreign(part.trailer.Info)
        self._settle(pages)

    def _take(self, part, at: int):
        """A part's pages put in at page index `at`, its keys renumbered after the book's;
        returns its catalog, copied, and its pages as they are in the book."""
        # qpdf keeps what it needs of a part's input to copy its streams at saving, so
        # the part's parsed objects may go once added (about 50 MB for 42 parts).
        book, shift = self.book, self.next_key
        count = len(part.pages)
        with warnings.catch_warnings():
            # pikepdf warns that named destinations are not copied with pages: they are,
            # below, with the rest of what binding keeps.
            warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
            if at == len(book.pages):
                book.pages.extend(part.pages)  # copied with everything they use
            else:
                for i, page in enumerate(part.pages):
                    book.pages.insert(at + i, page)
        pages = [book.pages[i] for i in range(at, at + count)]
        for page in pages:
            _shift_keys(page.obj, shift)
        # Their catalog, copied in one go: what the pages use is already here and is
        # shared, not copied twice; the rest (their page tree) is left unused.
        theirs = book.copy_foreign(part.Root)
        their_nums = list(theirs.StructTreeRoot.ParentTree.Nums)
        for key, value in zip(their_nums[::2], their_nums[1::2]):
            self.nums += [int(key) + shift, value]
        self.next_key = shift + _next_key(their_nums)
        for name, dest in _dests(theirs).items():
            self.dests.setdefault(name, dest)
        return theirs, pages

    def _settle(self, pages) -> None:
        """What a part's own pages need once in the book: their subset fonts named after
        their programs, their links to other parts made internal links."""
        retag_subsets(self.book, _page_fonts(pages), self.programs, self.taken)
        self.links |= _resolve_part_links(pages)

    def place(self, places: dict[str, int]) -> None:
        """A destination at the top of its page for each place not already named."""
        for name, index in sorted(places.items()):
            if name not in self.dests:
                page = self.book.pages[index].obj
                top = page.MediaBox[3]
                self.dests[name] = self.book.make_indirect(
                    Array([page, Name.XYZ, 0, top, 0]))

    def finish(self, body_start: int | None = None,
               places: dict[str, int] | None = None) -> bytes:
        self.place(places or {})
        missing = sorted(self.links - self.dests.keys())
        if missing:
            raise BindError(f"a link points to #{missing[0]}, which no part of the book has")
        book, root = self.book, self.book.Root
        if body_start is not None:
            root.PageLabels = page_labels(len(book.pages), body_start)
        pairs = sorted(zip(self.nums[::2], self.nums[1::2]), key=lambda pair: int(pair[0]))
        self.tree.ParentTree = book.make_indirect(
            Dictionary(Nums=Array([item for pair in pairs for item in pair])))
        self.tree.ParentTreeNextKey = self.next_key
        names = Array()
        for name in sorted(self.dests):
            names.append(String(name))
            names.append(self.dests[name])
        if "/Names" not in root:
            root.Names = Dictionary()
        root.Names.Dests = book.make_indirect(Dictionary(Names=names))
        if "/First" in self.outline:
            root.Outlines = self.outline
        elif "/Outlines" in root:
            del root.Outlines
        out = BytesIO()
        book.save(out, deterministic_id=True,
                  object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return out.getvalue()


def _next_key(nums: list) -> int:
    return max((int(k) for k in nums[::2]), default=-1) + 1


def _shift_keys(page, shift: int) -> None:
    """Move a page's keys into the parent tree (its own, and its annotations') by shift."""
    if "/StructParents" in page:
        page.StructParents = int(page.StructParents) + shift
    for annotation in page.get("/Annots", ()):
        if "/StructParent" in annotation:
            annotation.StructParent = int(annotation.StructParent) + shift


def _dests(root) -> dict[str, object]:
    """The named destinations of a catalog's flat name tree (as WeasyPrint writes it)."""
    if "/Names" not in root or "/Dests" not in root.Names:
        return {}
    flat = list(root.Names.Dests.get("/Names", ()))
    return {str(name): dest for name, dest in zip(flat[::2], flat[1::2])}


def _outline_root(book):
    if "/Outlines" in book.Root:
        return book.Root.Outlines
    return book.make_indirect(Dictionary(Type=Name.Outlines, Count=0))


def _append_outline(outline, theirs) -> None:
    """Put another outline's top-level entries after this one's, children and all."""
    entry = theirs.First
    while True:
        entry.Parent = outline
        if "/Last" in outline:
            entry.Prev = outline.Last
            outline.Last.Next = entry
        else:
            outline.First = entry
        outline.Last = entry
        if "/Next" not in entry:
            break
        entry = entry.Next
    outline.Count = int(outline.get("/Count", 0)) + int(theirs.get("/Count", 0))


def _prepend_outline(outline, theirs) -> None:
    """Put another outline's top-level entries before this one's, children and all."""
    first = outline.get("/First")
    entry = theirs.First
    outline.First = entry
    while True:
        entry.Parent = outline
        if "/Next" not in entry:
            break
        entry = entry.Next
    if first is None:
        outline.Last = entry
    else:
        entry.Next, first.Prev = first, entry
    outline.Count = int(outline.get("/Count", 0)) + int(theirs.get("/Count", 0))


def _resolve_part_links(pages) -> set[str]:
    """Links written as placeholders for another part's anchor become internal links,
    exactly as WeasyPrint writes them within one document; returns the anchors named
    (each must be some part's: finish checks)."""
    named = set()
    for page in pages:
        for annotation in page.obj.get("/Annots", ()):
            action = annotation.get("/A")
            if action is None or str(action.get("/S")) != "/URI":
                continue
            uri = str(action.URI)
            if not uri.startswith(LINK_PREFIX):
                continue
            anchor = uri[len(LINK_PREFIX):]
            named.add(anchor)
            del annotation.A
            annotation.Dest = String(anchor)
            annotation.Contents = String(anchor)
    return named


def page_labels(pages: int, body_start: int) -> Dictionary:
    """The /PageLabels number tree: lowercase roman from the first page, decimal from 1
    at body_start (as print.css numbers pages; see press.util.folio)."""
    nums = Array()
    if body_start > 0:
        nums.extend([0, Dictionary(S=Name.r)])
    if body_start < pages:
        nums.extend([body_start, Dictionary(S=Name.D, St=1)])
    return Dictionary(Nums=nums)


_FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")


def retag_subsets(book, fonts=None, programs: dict | None = None,
                  taken: dict | None = None) -> None:
    """Give every distinct subset font program a tag of its own, derived from its bytes;
    subsets whose programs are identical share one stream (and so one tag).

    fonts: the font dictionaries to rename (default: every subset font in the file);
    programs and taken carry what earlier calls named, for a book renamed part by part."""
    programs = {} if programs is None else programs  # digest -> (stream, tag)
    taken = {} if taken is None else taken  # tag -> digest
    for font in _subset_fonts(book) if fonts is None else fonts:
        descriptor = _descriptor(font)
        key = next((k for k in _FONT_FILES if k in descriptor), None)
        if key is None:
            continue  # not embedded: nothing to name (the checks report it)
        digest = hashlib.sha256(descriptor[key].read_bytes()).digest()
        if digest not in programs:
            programs[digest] = (descriptor[key], _free_tag(digest, taken))
        stream, tag = programs[digest]
        descriptor[key] = stream
        name = Name("/" + tag + "+" + str(font.BaseFont).split("+", 1)[1])
        font.BaseFont = descriptor.FontName = name
        for descendant in font.get("/DescendantFonts", ()):
            descendant.BaseFont = name


def _subset_fonts(book):
    """Every font dictionary whose name carries a subset tag (top-level fonts only: a
    composite font's descendant is renamed with it)."""
    for obj in book.objects:
        if _is_subset_font(obj):
            yield obj


def _page_fonts(pages):
    """The subset fonts the pages draw with: in their resources, and in those of the
    forms and patterns they use (a walk of a few hundred objects, where the whole file
    has a hundred thousand)."""
    seen: set = set()
    fonts: dict = {}

    def visit(resources) -> None:
        if not isinstance(resources, Dictionary):
            return
        for font in resources.get("/Font", Dictionary()).values():
            if _is_subset_font(font):
                fonts.setdefault(font.objgen, font)
        for kind in ("/XObject", "/Pattern"):
            for inner in resources.get(kind, Dictionary()).values():
                if inner.objgen not in seen:
                    seen.add(inner.objgen)
                    visit(inner.get("/Resources"))

    for page in pages:
        visit(page.obj.get("/Resources"))
        for annotation in page.obj.get("/Annots", ()):
            for form in annotation.get("/AP", Dictionary()).values():
                if isinstance(form, pikepdf.Stream) and form.objgen not in seen:
                    seen.add(form.objgen)
                    visit(form.get("/Resources"))
    return list(fonts.values())


def _is_subset_font(obj) -> bool:
    return isinstance(obj, Dictionary) and obj.get("/Type") == Name.Font \
        and obj.get("/Subtype") != Name.CIDFontType2 \
        and obj.get("/Subtype") != Name.CIDFontType0 \
        and "+" in str(obj.get("/BaseFont", ""))


def _descriptor(font):
    if "/DescendantFonts" in font:
        return font.DescendantFonts[0].FontDescriptor
    return font.FontDescriptor


def _free_tag(digest: bytes, taken: dict[str, bytes]) -> str:
    """Six capital letters from the digest; on the rare clash, from a digest of it."""
    while True:
        tag = "".join(chr(ord("A") + b % 26) for b in digest[:6])
        if taken.setdefault(tag, digest) == digest:
            return tag
        digest = hashlib.sha256(digest).digest()
