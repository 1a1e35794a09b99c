"""Lay out the print edition part by part, on several cores, and keep the parts.

Every part of the book opens on a right-hand page, so the book is laid out as a run of
separate documents (the front matter, each chapter, the glossary), each typeset and
written as its own PDF by a worker process (press.pdf.workers), then bound into one PDF
(press.pdf.bind). Each document ends with an empty right-hand page that is not kept:
WeasyPrint then adds the blank left-hand page a part needs before the next one opens,
exactly as in one long document.

What a part needs from the others: its folios, and for the contents, the glossary and
the index the pages of what they point to. So:
- every chapter is laid out at once, side by side, from the first moment: its layout
  depends on nothing before it. Its folios do, and they are set after layout, when the
  lengths of the parts before it are known (press.pdf.weasy.refolio renumbers the laid
  pages, the same bytes as a layout begun on that folio); the worker waits for them;
- the glossary and the index are typeset once the chapters are laid out, with their page
  references known, side by side; the index's folios wait for the glossary's length;
- the contents are typeset once their numbers are known: after the chapters, and after
  the glossary when an index follows it. When the glossary's or index's references
  point into the front matter, the front matter goes first on a guessed contents, and
  again if the guess was wrong;
- a part whose HTML is unchanged is never typeset twice: parts are kept by a hash of
  their HTML, style sheets and WeasyPrint version, in memory and in build/.cache/print,
  with the folio shift they were written with. Editing a paragraph typesets that chapter
  alone, unless its length changes (then the parts after it are written again).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from markupsafe import Markup

from press.problems import BuildError, Problem
from press.enrich.glossary import with_pages
from press.enrich import index as book_index
from press.pdf.bind import LINK_PREFIX, Binding, bind
from press.pdf.pagelist import page_of_place
from press.pdf.workers import Failed, Job, Laid, Length, Typesetters, WorkerDied, Written
from press.util.memo import keep_entry, unsealed

# The code that decides what a typeset part holds, besides its HTML: a change to it
# makes every kept part stale.
PART_CODE = ("workers.py", "weasy.py", "pagelist.py", "mend.py", "relayout.py")


@dataclass(frozen=True)
class Segment:
    """What one document of the print edition holds."""

    front: bool = True  # half-title, title page, copyright and contents
    parts: tuple = ()  # the chapters (and front or back parts) it holds
    glossary: bool = True
    first_folio: int | None = None  # the page counter on its first page; None: as the CSS says
    more: bool = False  # another document follows: end on the page where it opens
    toc: dict = field(default_factory=dict)  # anchor id -> printed folio, for the contents
    shared_css: bool = False  # the style sheets come parsed, once for all documents
    index: tuple = ()  # the back-of-book index with its pages, in the document that holds it

    def page_of(self, anchor: str) -> Markup:
        """The contents entry's page number when another document holds its target."""
        return Markup(f' data-page="{self.toc[anchor]}"') if anchor in self.toc else Markup("")


@dataclass
class Part:
    """A typeset part: what its layout told, and its PDF once written."""

    laid: Laid
    data: bytes | None = None
    shift: int | None = None  # what was added to its folios as laid out, in `data`
    fresh: bool = True  # typeset by this process, not on the shelf yet


@dataclass
class Printed:
    """The bound print edition and what the book needs to know about its pages."""

    data: bytes
    pages: int
    anchors: dict[str, int]  # id -> 0-based page index in the book
    marks: list  # per page: (block key, offset) where its text begins, or None
    body_start: int  # index of the page where arabic folios begin
    warnings: list[str]
    glossary: tuple = ()  # the glossary items, with their print page references
    index: tuple = ()  # the index's groups, with their print pages
    places: dict = field(default_factory=dict)  # term use id -> page index, for uses
    # the print HTML has no element for (press.enrich.glossary.place_uses)

    def page_of(self, anchor: str) -> int | None:
        """The 0-based page index in the book on which an id lands (None: no such id),
        whether the print HTML has an element with that id or only its place."""
        found = self.anchors.get(anchor)
        return self.places.get(anchor) if found is None else found


class Paginator:
    """Typesets a book's print edition; remembers the parts of the last build."""

    def __init__(self, typesetters: Typesetters | None = None):
        self.typesetters = typesetters or Typesetters()
        self.parts: dict[str, Part] = {}  # the last build's parts, by key
        self.lengths: dict[str, int] = {}  # part slug -> pages, in the last build
        self.toc: dict = {}  # the last build's contents numbers
        self.shelf: Path | None = None  # build/.cache/print: parts kept between processes
        self.laid_out = 0  # parts actually laid out by the last call (for tests, bench)
        self.bound_early = 0  # chapters the last call bound while typesetting (for tests)
        # Workers kept once every part is written (None: all). A one-off build keeps one,
        # for the EPUB's cover: an idle worker still holds ~80 MB while the book is bound.
        self.idle_workers: int | None = None
        # Whether chapters are bound while the rest is typeset: an edit is bound in a
        # fraction of the time. A one-off build binds at the end: its peak memory would
        # otherwise be the binding's (~40 MB for 40 chapters) on top of busy workers'.
        self.bind_early = True
        self._bound: tuple[tuple, bytes] | None = None

    def layout(self, p, render, base, roots, css=(), epoch: int = 0) -> Printed:
        """Typeset and bind the whole print edition.

        render(segment, glossary_items) gives a document's HTML; css is the style sheets'
        (text, base URL), parsed once in each worker.
        """
        self.laid_out = 0
        self._recall()
        # A second worker pays for itself from two chapters on: the next chapter is laid
        # out while the one before it is written (a third of WeasyPrint's time).
        self.typesetters.start(sum(c.part.kind != "front" for c in p.chapters))
        run = _Run(self, p, render, base, roots, tuple(css), epoch)
        try:
            printed = run.run()
        except BaseException:
            self.typesetters.drain()
            raise
        self.parts = {key: run.have[key] for key in run.used}
        self.bound_early = len(run.bound)
        self.lengths, self.toc = run.lengths(), run.toc
        return printed

    def save(self) -> None:
        """Put the last build's parts on the shelf for the next process; drop older ones."""
        if self.shelf is None:
            return
        try:
            self.shelf.mkdir(parents=True, exist_ok=True)
        except OSError:
            return  # a cache that cannot be kept only makes the next build slower
        for key, part in self.parts.items():
            if part.fresh and part.data is not None:
                laid = part.laid
                # Sealed (memo.py); the PDF by its folio shift too, the one the facts name.
                keep_entry(self.shelf / f"{key}.pdf", f"{key}@{part.shift}", part.data)
                keep_entry(self.shelf / f"{key}.json", key, json.dumps({
                    "pages": laid.pages, "anchors": laid.anchors, "marks": laid.marks,
                    "warnings": laid.warnings, "starts": laid.starts,
                    "shift": part.shift}).encode("utf-8"))
                part.fresh = False
        for old in self.shelf.iterdir():
            if old.suffix in (".pdf", ".json") and old.stem not in self.parts \
                    and old.name != "last.json":
                old.unlink(missing_ok=True)
        keep_entry(self.shelf / "last.json", "last", json.dumps(
            {"lengths": self.lengths, "toc": self.toc}, sort_keys=True).encode("utf-8"))

    def shelved(self, key: str) -> Part | None:
        if self.shelf is None:
            return None
        saved = shelved_facts(unsealed(self.shelf / f"{key}.json", key))
        if saved is None:
            return None
        data = unsealed(self.shelf / f"{key}.pdf", f"{key}@{saved['shift']}")
        if data is None or not passive_pdf(data):
            return None  # unsound, or not what a typesetter writes: typeset it again
        marks = [tuple(m) if m else None for m in saved["marks"]]
        starts = {k: [tuple(s) for s in v] for k, v in saved["starts"].items()}
        return Part(Laid(key, saved["pages"], saved["anchors"], marks, saved["warnings"],
                         starts), data, saved["shift"], fresh=False)

    def _recall(self) -> None:
        """In a new process, the last build's lengths and contents numbers, from the shelf."""
        if self.lengths or self.shelf is None:
            return
        try:
            saved = json.loads(unsealed(self.shelf / "last.json", "last") or b"")
            lengths, toc = dict(saved["lengths"]), dict(saved["toc"])
        except (ValueError, KeyError, TypeError):
            return
        if all(type(k) is str and type(v) is int for k, v in lengths.items()):
            self.lengths, self.toc = lengths, toc

    def bind(self, keys: tuple, parts: list[bytes], body_start: int,
             places: dict[str, int], started: tuple | None = None) -> bytes:
        """The parts bound into one PDF, the front matter first (press.pdf.bind); started
        is a binding the run began while typesetting, and how many parts it holds."""
        known = (keys, tuple(sorted(places.items())))
        if self._bound is None or self._bound[0] != known:
            self._bound = (known, bind(parts, body_start, places, started))
        return self._bound[1]

    def last_bound(self) -> tuple:
        """The keys of the parts the last binding was made of, in order."""
        return self._bound[0][0] if self._bound else ()


def shelved_facts(data: bytes | None) -> dict | None:
    """A shelved part's layout facts, if they have the types a typesetter gives them."""
    try:
        saved = json.loads(data or b"")
        ok = (type(saved["pages"]) is int and saved["pages"] > 0
              and isinstance(saved["anchors"], dict)
              and all(type(k) is str and type(v) is int for k, v in saved["anchors"].items())
              and isinstance(saved["marks"], list)
              and all(m is None or isinstance(m, list) for m in saved["marks"])
              and isinstance(saved["warnings"], list)
              and all(type(w) is str for w in saved["warnings"])
              and type(saved["shift"]) is int
              and isinstance(saved["starts"], dict)
              and all(type(k) is str and isinstance(v, list)
                      and all(isinstance(s, list) and all(type(n) is int for n in s) for s in v)
                      for k, v in saved["starts"].items()))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return saved if ok else None


# What WeasyPrint never writes into a part, and a PDF reader would act on.
ACTIVE_PDF = re.compile(rb"/(?:JavaScript|JS|OpenAction|AA|Launch|SubmitForm|ImportData|"
                        rb"RichMedia|EmbeddedFiles?|GoToR|XFA)\b")


STREAM = re.compile(rb"stream\r?\n.*?endstream", re.S)


def passive_pdf(data: bytes) -> bool:
    """Whether a shelved part is a PDF with no action or embedded file in it."""
    if not (data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]):
        return False
    # Names in dictionaries only: a compressed stream's bytes can spell anything.
    return ACTIVE_PDF.search(STREAM.sub(b"", data)) is None


class _Run:
    """One layout of the book: plans the jobs, sends them out, gathers the parts."""

    def __init__(self, paginator: Paginator, p, render, base, roots, css, epoch):
        self.pg, self.p, self.render = paginator, p, render
        self.base, self.css, self.epoch = str(base), css, epoch
        self.roots = tuple(sorted(set(map(str, roots))))  # in a set's order, keys would vary
        self.have: dict[str, Part] = {}  # parts typeset or recalled in this run
        self.front_parts = tuple(c for c in p.chapters if c.part.kind == "front")
        self.body = [c for c in p.chapters if c.part.kind != "front"]
        # Whether the glossary's or the index's page references point into the front
        # matter: then they wait for its layout, and it is laid out again if the contents'
        # guessed numbers prove wrong. Most books have none there.
        self.refs_in_front = any(
            use.part.kind == "front" for item in p.glossary for use in item.uses) or any(
            loc.part.kind == "front" for group in p.index for entry in group.entries
            for e in (entry, *entry.subentries) for loc in e.locators)
        self.toc = dict(paginator.toc)
        self.used: list[str] = []
        self.slugs: dict[str, str] = {}  # key -> the slug of the part it typesets
        self.jobs_html: dict[str, str] = {}  # key -> a chapter's HTML, for length guesses
        self.shifts: dict[str, int] = {}  # key -> the folio shift its part is wanted with
        self.glossary_job: Job | None = None  # the glossary's job in the latest plan
        self.references: dict[tuple, tuple] = {}  # laid parts -> glossary items, index
        # Each document is rendered (and hashed) once per run, not once per message from
        # a worker: with many chapters that made a layout quadratic in their number.
        self.made_jobs: dict[tuple, Job] = {}
        self.not_shelved: set[str] = set()
        self.first_lengths: dict[str, int] = {}  # key -> pages at first layout (Length)
        # The chapters bound while the rest is typeset (Paginator.bind_early), each once
        # those before it are written: unless they are the last binding's, which may
        # serve again as it is.
        self.body_keys: list[str] = []
        self.binding: Binding | None = None
        self.bound: list[str] = []  # chapters in self.binding, in order
        self.head = hashlib.sha256("\0".join(
            [_code_version(), _weasyprint_version(), self.base, *self.roots, str(epoch),
             *(t for pair in css for t in pair)]).encode("utf-8", "surrogatepass"))

    def job(self, segment: Segment, items=None, memo: tuple | None = None) -> Job:
        """A document's job; memo, when given, names it for this run (see made_jobs)."""
        if memo is not None and memo in self.made_jobs:
            return self.made_jobs[memo]
        made = self._job(segment, items)
        if memo is not None:
            self.made_jobs[memo] = made
        return made

    def _job(self, segment: Segment, items=None) -> Job:
        # No first folio in the HTML: the worker shifts the folios after layout.
        segment = replace(segment, shared_css=bool(self.css), first_folio=None)
        html = self.render(segment, self.p.glossary if items is None else items)
        digest = self.head.copy()
        digest.update(html.encode("utf-8", "surrogatepass"))
        return Job(digest.hexdigest(), html, self.base, self.roots, self.css, segment.more,
                   self.epoch)

    def known(self, key: str) -> Part | None:
        part = self.have.get(key) or self.pg.parts.get(key)
        if part is None and key not in self.not_shelved:  # the shelf is read once a key
            part = self.pg.shelved(key)
            self.not_shelved.add(key)
        if part is not None:
            self.have[key] = part
        return part

    def want(self, job: Job, first: int | None, wanted: list[Job]):
        """Ask for a part written with its first folio `first` (0: as its CSS says, None:
        not known yet); returns its layout facts once it is laid out, or None."""
        shift = None if first is None else max(first - 1, 0)
        if shift is not None:
            self.shifts[job.key] = shift
            self.pg.typesetters.folio(job.key, shift)  # to a worker that waits for it
        part = self.known(job.key)
        if part is None or (part.data is not None and shift is not None
                            and part.shift != shift):
            wanted.append(replace(job, shift=shift))  # (a busy key is not sent twice)
        return part.laid if part is not None else None

    def written(self, key: str) -> bool:
        part = self.have.get(key)
        return part is not None and part.data is not None and key in self.shifts \
            and part.shift == self.shifts[key]

    def per_page(self) -> float | None:
        """Characters of HTML per printed page, in the chapters laid out so far."""
        laid = [(len(self.jobs_html[k]), part.laid.pages) for k, part in self.have.items()
                if k in self.jobs_html and part.laid.pages]
        if not laid:
            return None
        return sum(size for size, _ in laid) / sum(pages for _, pages in laid)

    def estimate(self, html: str) -> int | None:
        """A part's length from its text, at the chapters' text per page (even)."""
        per_page = self.per_page()
        if per_page is None:
            return None
        pages = max(1, round(len(html) / per_page))
        return pages + pages % 2

    def run(self) -> Printed:
        while (plan := self.plan()) is None:
            self.bind_written()
            self.wait()
        order, items, index, body_start = plan
        if self.pg.idle_workers is not None:
            self.pg.typesetters.shrink(self.pg.idle_workers)
        self.used = order
        parts = [self.have[key] for key in order]
        anchors = self.anchors(order)
        marks = [mark for part in parts for mark in part.laid.marks]
        # Every use keeps its named destination, as when it had an element of its own.
        places = self.places(order)
        started = (self.binding, len(self.bound)) \
            if self.binding and order[1:1 + len(self.bound)] == self.bound else None
        data = self.pg.bind(tuple(order), [part.data for part in parts], body_start, places,
                            started)
        return Printed(data, len(marks), anchors, marks, body_start,
                       [w for part in parts for w in part.laid.warnings], items, index,
                       places)

    def bind_written(self) -> None:
        """Bind the chapters written so far that follow those already bound."""
        last = self.pg.last_bound()
        if not self.pg.bind_early or not self.body_keys \
                or tuple(self.body_keys) == last[1:1 + len(self.body_keys)]:
            return
        for key in self.body_keys[len(self.bound):]:
            if not self.written(key):
                return
            if self.binding is None:
                self.binding = Binding()
            self.binding.add(self.have[key].data)
            self.bound.append(key)

    def plan(self):
        """Send out what can be typeset now; once every part is written, return the parts
        in order, the glossary items, the index and where the body begins; until then None.

        The chapters go out at once and side by side: their layout depends on nothing
        before them. The glossary and the index need the chapters' pages; the contents,
        in the front matter, need the chapters' and the back matter's first folios.
        """
        has_glossary = bool(self.p.glossary)
        wanted: list[Job] = []
        body, folio_next = self.plan_chapters(has_glossary, wanted)
        self.body_keys = body
        front = back = None
        if folio_next is not None:  # every chapter laid out
            # The front matter's contents need the glossary's length; the back matter
            # needs the front matter first only when it points into it.
            if self.refs_in_front:
                front = self.plan_front(body, folio_next, has_glossary, wanted)
                back = self.plan_back(body, folio_next, front, has_glossary, wanted)
            else:
                back = self.plan_back(body, folio_next, None, has_glossary, wanted)
                front = self.plan_front(body, folio_next, has_glossary, wanted)
        planned = {*body, *(back[0] if back else ()), *([front] if front else ())}
        self.pg.typesetters.want(wanted, planned)
        if back is None or front is None:
            return None
        order = [front, *body, *back[0]]
        if not all(self.written(key) for key in order):
            return None
        return order, back[1], back[2], self.have[front].laid.pages

    def plan_chapters(self, has_glossary: bool, wanted: list[Job]):
        """Each chapter's job, all wanted at once; its first folio is known once the
        chapters before it are laid out. Returns the chapters' keys and the folio after
        the last one (None until every chapter is laid out)."""
        body: list[str] = []
        folio_next: int | None = 1
        guess_next: int | None = 1  # from the lengths at first layout, while unknown
        for n, chapter in enumerate(self.body):
            more = n + 1 < len(self.body) or has_glossary or bool(self.p.index)
            job = self.job(Segment(False, (chapter,), False, None, more),
                           memo=("chapter", n, more))
            self.jobs_html[job.key], self.slugs[job.key] = job.html, chapter.part.slug
            body.append(job.key)
            first = None if folio_next is None else (0 if n == 0 else folio_next)
            laid = self.want(job, first, wanted)
            if first is None and guess_next is not None:
                self.pg.typesetters.folio(job.key, guess_next - 1, final=False)
            folio_next = None if laid is None or folio_next is None else \
                folio_next + laid.pages
            length = laid.pages if laid is not None else self.first_lengths.get(job.key)
            guess_next = None if length is None or guess_next is None else \
                guess_next + length
        return body, folio_next

    def back_base(self, body: list[str], front: str | None):
        """The parts the glossary's and index's page references are counted in, and the
        index of the first chapter page among them; None until they are laid out."""
        if not self.refs_in_front:
            return body, 0
        if front is None or front not in self.have:
            return None
        return [front, *body], self.have[front].laid.pages

    def plan_back(self, body, folio_next: int, front: str | None, has_glossary: bool,
                  wanted: list[Job]):
        """The glossary's and the index's jobs, on the chapters' pages: (their keys, the
        glossary items, the index), or None while the front matter they need is not laid
        out."""
        base = self.back_base(body, front)
        if base is None:
            return None
        order, body_start = base
        laid = (tuple(order), body_start)  # what the references' pages follow from
        if laid not in self.references:
            self.references[laid] = (
                self.glossary_pages(order, body_start) if has_glossary else (),
                book_index.with_pages(self.p.index, self.anchors(order), body_start)
                if self.p.index else ())
        items, index = self.references[laid]
        keys = []
        if has_glossary:
            folio = folio_next if self.body else 0
            glossary = self.job(Segment(False, (), True, None, bool(self.p.index)), items,
                                memo=("glossary", laid))
            self.slugs[glossary.key], self.glossary_job = "glossary", glossary
            self.want(glossary, folio, wanted)
            keys.append(glossary.key)
        if self.p.index:
            # Its first folio follows the glossary's length, known once that is laid out:
            # the index is laid out meanwhile on another core, its folios shifted after.
            job = self.job(Segment(False, (), False, None, False, index=index), items,
                           memo=("index", laid))
            self.slugs[job.key] = "index"
            first = self.index_folio(folio_next, has_glossary, guess=False)
            self.want(job, first if first is None or self.body or has_glossary else 0,
                      wanted)
            keys.append(job.key)
        return keys, items, index

    def plan_front(self, body, folio_next: int, has_glossary: bool, wanted: list[Job]):
        """The front matter's job, its contents numbered from the chapters' layout, or None
        until those numbers are known: when the index follows the glossary, its folio
        waits for the glossary's length, unless the glossary's or index's references
        need the front matter first (then it is typeset on a guess, again if wrong)."""
        exact = self.index_folio(folio_next, has_glossary, guess=False)
        index_folio = exact if exact is not None or not self.refs_in_front else \
            self.index_folio(folio_next, has_glossary, guess=True)
        if self.p.index and index_folio is None:
            return None
        self.toc = self.contents(body, folio_next if has_glossary else None, index_folio)
        more = bool(self.body or has_glossary or self.p.index)
        front = self.job(Segment(True, self.front_parts, False, None, more, self.toc),
                         memo=("front", tuple(sorted(self.toc.items()))))
        self.slugs[front.key] = "front"
        self.want(front, 0, wanted)
        return front.key

    def index_folio(self, folio_next: int, has_glossary: bool, guess: bool):
        """The folio the index opens on: after the glossary, whose length is known once it
        is laid out; with guess, until then the last build's or one from its text."""
        if not self.p.index:
            return None
        if not has_glossary:
            return folio_next
        job = self.glossary_job
        if job is not None and job.key in self.have:
            return folio_next + self.have[job.key].laid.pages
        if not guess:
            return None
        last = self.pg.lengths.get("glossary") or (job and self.estimate(job.html)) or 2
        return folio_next + last

    def contents(self, body: list[str], glossary_folio: int | None,
                 index_folio: int | None = None) -> dict[str, str]:
        """The contents' page numbers, from the chapters' layout."""
        pages = self.anchors(body)  # indexes from the first chapter's first page
        toc = {anchor: str(pages[anchor] + 1) for anchor in self.toc_targets()
               if anchor in pages}
        if glossary_folio is not None:
            toc["glossary"] = str(glossary_folio)
        if index_folio is not None:
            toc["index"] = str(index_folio)
        return toc

    def anchors(self, order: list[str]) -> dict[str, int]:
        found, offset = {}, 0
        for key in order:
            laid = self.have[key].laid
            for anchor, index in laid.anchors.items():
                found.setdefault(anchor, offset + index)
            offset += laid.pages
        return found

    def places(self, order: list[str]) -> dict[str, int]:
        """The book page of each term use the print HTML has no element for (Use.at),
        from the blocks' page starts (press.pdf.pagelist.page_facts)."""
        blocks, offset = {}, 0
        for key in order:
            laid = self.have[key].laid
            for block, starts in laid.starts.items():
                blocks.setdefault(block, (offset, starts))
            offset += laid.pages
        found = {}
        for item in self.p.glossary:
            for use in item.uses:
                if use.at is not None and use.at[0] in blocks:
                    part_offset, starts = blocks[use.at[0]]
                    page = page_of_place(starts, use.at[1])
                    if page is not None:
                        found[use.id] = part_offset + page
        return found

    def glossary_pages(self, order: list[str], body_start: int):
        """The glossary items with their page references. A reference to a use without an
        element links to its page: the binding makes a destination of that name there."""
        places = self.places(order)
        pages = {**self.anchors(order), **places}
        return with_pages(self.p.glossary, pages, body_start,
                          lambda name: (LINK_PREFIX if name in places else "#") + name)

    def toc_targets(self) -> list[str]:
        """The anchors the contents gives page numbers for, outside the front matter."""
        targets = []
        for chapter in self.body:
            targets.append(chapter.part.slug)
            targets += [h.id for h in chapter.headings]
        return targets

    def wait(self) -> None:
        try:
            message = self.pg.typesetters.next()
        except WorkerDied as died:
            raise BuildError([Problem("print document", None, "W002", str(died),
                                      "build again; if it happens again, look for a "
                                      "message from the worker above (out of memory?)")])
        if isinstance(message, Length):
            self.first_lengths[message.key] = message.pages
        elif isinstance(message, Laid):
            self.pg.laid_out += 1
            self.have.setdefault(message.key, Part(message))
        elif isinstance(message, Written):
            part = self.have.get(message.key)
            if part is not None and message.data is not None:
                part.data, part.shift, part.fresh = message.data, message.shift, True
        elif isinstance(message, Failed):
            if message.problems:
                raise BuildError(message.problems)
            raise RuntimeError(f"typesetting a part failed:\n{message.trace}")

    def lengths(self) -> dict[str, int]:
        return {self.slugs[key]: self.have[key].laid.pages for key in self.used
                if key in self.slugs}


def _code_version() -> str:
    here = Path(__file__).parent
    return hashlib.sha256(b"".join((here / name).read_bytes() for name in PART_CODE)).hexdigest()


def _weasyprint_version() -> str:
    from importlib.metadata import version

    return version("weasyprint")
