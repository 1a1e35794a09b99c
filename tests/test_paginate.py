"""The print edition typeset part by part in worker processes and bound into one PDF:
the same book as one long document, and a rebuild typesets only what an edit changed."""
from __future__ import annotations

import re
from io import BytesIO

import pikepdf
import pytest
from pypdf import PdfReader

from conftest import prepare
from press.pdf import weasy as pdf
from press.pdf.bind import LINK_PREFIX
from press.pdf.plan import Paginator
from press.pipeline import print_html


def lay_out(prepared, paginator):
    roots = [prepared.styles, prepared.book.root, *{f.path.parent for f in prepared.faces}]
    return paginator.layout(prepared, lambda segment, items: print_html(prepared, items, segment),
                            prepared.book.root, roots)


@pytest.fixture
def paginator():
    made = Paginator()
    yield made
    made.typesetters.close()


def texts(data: bytes) -> list[str]:
    # Each part's fonts map the hyphen glyph to the first hyphen character they met. A
    # leader drawn as one run of dots (weasy.join_leaders) reads with no space before its
    # first dot, where one dot a box reads with one: the same dots on paper.
    return [re.sub(r" (?=\. \.)", "", page.extract_text().replace("\u2010", "-"))
            for page in PdfReader(BytesIO(data)).pages]


def whole_book(prepared, printed) -> bytes:
    """The same book laid out as one document, its glossary given the page references the
    parts found: contents numbers come from target-counter, folios from the CSS alone."""
    roots = [prepared.styles, prepared.book.root, *{f.path.parent for f in prepared.faces}]
    whole = pdf.layout(print_html(prepared, printed.glossary), prepared.book.root, roots, [])
    assert pdf.anchor_pages(whole) == printed.anchors
    return whole.write_pdf()


def test_parts_typeset_apart_make_the_same_book_as_one_document(make_book, paginator):
    prepared = prepare(make_book().root)
    printed = lay_out(prepared, paginator)
    assert texts(printed.data) == texts(whole_book(prepared, printed))
    assert printed.pages == len(PdfReader(BytesIO(printed.data)).pages)


def test_links_between_parts_resolve_in_the_pdf(make_book, paginator):
    printed = lay_out(prepare(make_book().root), paginator)
    reader = PdfReader(BytesIO(printed.data))
    names = set(reader.named_destinations)
    assert {"gl-lantern", "alpha", "glossary"} <= names
    links = [a.get_object() for page in reader.pages for a in page.get("/Annots", [])]
    internal = [link for link in links if "/Dest" in link]
    assert internal and all(str(link["/Dest"]) in names for link in internal)
    assert not [link for link in links if LINK_PREFIX in str(link.get("/A", {}).get("/URI", ""))]
    # A link from a chapter to the glossary lands on the glossary's page.
    page = reader.get_destination_page_number(reader.named_destinations["gl-lantern"])
    assert page == printed.anchors["gl-lantern"]


def test_the_bound_book_has_one_structure_tree(make_book, paginator):
    """Every page and link annotation has its own key in one parent tree, and every
    structure element hangs from the one Document element."""
    printed = lay_out(prepare(make_book().root), paginator)
    book = pikepdf.open(BytesIO(printed.data))
    tree = book.Root.StructTreeRoot
    assert len(tree.K) == 1 and tree.K[0].S == "/Document"
    document = tree.K[0]
    nums = list(tree.ParentTree.Nums)
    keys = [int(k) for k in nums[::2]]
    assert len(keys) == len(set(keys)) and int(tree.ParentTreeNextKey) == max(keys) + 1
    values = dict(zip(keys, nums[1::2]))
    annotations = pages_marked = 0
    for page in book.pages:
        marked = values[int(page.obj.StructParents)]  # its marked content's elements
        assert all(element.Pg.objgen == page.obj.objgen for element in marked)
        pages_marked += bool(len(marked))
        for annotation in page.obj.get("/Annots", ()):
            element = values[int(annotation.StructParent)]
            assert any(kid.get("/Obj") is not None and kid.Obj.objgen == annotation.objgen
                       for kid in element.K if isinstance(kid, pikepdf.Dictionary))
            annotations += 1
    assert annotations > 0 and pages_marked >= len(book.pages) // 2
    assert all(child.P.objgen == document.objgen for child in document.K)
    assert str(book.Root.Lang) == "en-US" and book.Root.MarkInfo.Marked


def test_a_warm_rebuild_typesets_only_the_edited_chapter(make_book, paginator):
    book = make_book()
    lay_out(prepare(book.root), paginator)
    assert paginator.laid_out >= 4  # front, the chapters, glossary
    lay_out(prepare(book.root), paginator)
    assert paginator.laid_out == 0  # nothing changed: nothing typeset
    book.replace("chapters/02-beta.md", "\n\n[^1]:", " One more short sentence.\n\n[^1]:")
    printed = lay_out(prepare(book.root), paginator)
    assert paginator.laid_out == 1  # that chapter only: its page count did not change
    assert any("One more short sentence." in t for t in texts(printed.data))


def test_a_longer_chapter_moves_the_folios_after_it(make_book, paginator):
    book = make_book()
    lay_out(prepare(book.root), paginator)
    paragraph = "A sentence that only fills the page with words. " * 40
    book.replace("chapters/01-alpha.md", "\n\nAlpha ends here.",
                 f"\n\n{paragraph}\n\n{paragraph}\n\nAlpha ends here.")
    prepared = prepare(book.root)
    printed = lay_out(prepared, paginator)
    assert paginator.laid_out >= 3  # that chapter, the one after it, the glossary
    assert texts(printed.data) == texts(whole_book(prepared, printed))


def test_a_stale_record_of_the_last_build_still_makes_the_right_book(make_book, paginator):
    """Lengths and contents numbers that no longer hold (kept from a last build) change
    nothing: the chapters' folios follow their real lengths."""
    prepared = prepare(make_book().root)
    paginator.lengths = {c.part.slug: 10 for c in prepared.chapters}
    paginator.toc = {"alpha": "99"}
    printed = lay_out(prepared, paginator)
    assert texts(printed.data) == texts(whole_book(prepared, printed))


def test_parts_kept_on_the_shelf_serve_a_new_process(make_book, tmp_path, paginator):
    prepared = prepare(make_book().root)
    paginator.shelf = tmp_path / "print"
    first = lay_out(prepared, paginator).data
    paginator.save()
    later = Paginator()
    later.shelf = tmp_path / "print"
    try:
        again = lay_out(prepared, later)
        assert later.laid_out == 0
        assert again.data == first
    finally:
        later.typesetters.close()


def test_chapters_bound_while_an_edit_is_typeset_make_the_same_bytes(make_book, paginator):
    """A warm process binds the chapters already written while the edited one is typeset;
    the book is byte for byte the one a build that binds everything at the end makes."""
    book = make_book()
    lay_out(prepare(book.root), paginator)
    book.replace("chapters/02-beta.md", "\n\n[^1]:", " One more short sentence.\n\n[^1]:")
    prepared = prepare(book.root)
    early = lay_out(prepared, paginator)
    assert paginator.laid_out == 1
    assert paginator.bound_early == 1  # the first chapter, while the second was typeset
    at_end = Paginator(paginator.typesetters)
    at_end.bind_early = False
    assert lay_out(prepared, at_end).data == early.data
    assert at_end.bound_early == 0


def test_page_references_follow_the_pages_added():
    """press.pdf.weasy caches pydyf's page references by page count; it must stay exact."""
    import pydyf

    from press.pdf.weasy import install_fixes

    install_fixes()  # the cached property

    document = pydyf.PDF()
    for n in range(3):
        document.add_page(pydyf.Dictionary({"Type": "/Page"}))
        kids = document.pages["Kids"]
        assert document.page_references == tuple(f"{k} 0 R".encode() for k in kids[::3])
        assert len(document.page_references) == n + 1


def test_a_new_process_typesets_nothing_when_nothing_changed(make_book, tmp_path):
    """The shelf's keys do not depend on the process (hash seeds, set order)."""
    import os
    import subprocess
    import sys

    root, out = make_book().root, tmp_path / "out"
    script = ("import sys; from pathlib import Path; from press.pipeline import build_once; "
              "build_once(Path(sys.argv[1]), Path(sys.argv[2]), ('pdf',))")
    runs = []
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", script, str(root), str(out)],
                              capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        runs.append((done.stdout, (out / "tiny-book.pdf").read_bytes()))
    assert "0 parts typeset" not in runs[0][0]
    assert "0 parts typeset" in runs[1][0]
    assert runs[0][1] == runs[1][1]


def test_a_refused_fetch_in_a_worker_fails_the_build_with_its_code(tmp_path):
    """What WeasyPrint refuses inside a worker comes back as the build's own finding."""
    from press.pdf.workers import Failed, Job, Typesetters

    typesetters = Typesetters(1)
    try:
        html = '<p><img src="file:///etc/hostname" alt="x"></p>'
        typesetters.want([Job("k", html, str(tmp_path), (str(tmp_path),), (), False, 0)])
        messages = [typesetters.next()]
        while not isinstance(messages[-1], Failed):
            messages.append(typesetters.next())
        assert [p.code for p in messages[-1].problems] == ["W001"]
        assert not typesetters.busy()
    finally:
        typesetters.close()


def test_a_worker_that_dies_gives_a_clear_error_and_is_replaced(make_book, paginator,
                                                                monkeypatch):
    from press.problems import BuildError
    from press.pdf.workers import Worker

    prepared = prepare(make_book().root)
    real_give = Worker.give

    def give_then_die(worker, job):
        real_give(worker, job)
        worker.process.kill()

    monkeypatch.setattr(Worker, "give", give_then_die)
    with pytest.raises(BuildError) as failed:
        lay_out(prepared, paginator)
    assert [p.code for p in failed.value.problems] == ["W002"]
    assert "stopped" in str(failed.value.problems[0])
    monkeypatch.setattr(Worker, "give", real_give)
    assert lay_out(prepared, paginator).pages > 0  # a new worker takes over


def test_term_uses_without_elements_are_found_on_their_pages(make_book, paginator):
    """A use that is no link has no element in the print HTML; its page, found from where
    its block's text begins on each page, shows the term, and the PDF has a destination
    of its id on that page. Enough uses to fill pages, and hyphenated words before them."""
    filler = ("Notwithstanding considerable uncertainty, the waypoint marks the ridge line "
              "beyond the lantern. ") * 60
    book = make_book()
    book.replace("chapters/01-alpha.md", "\n\nAlpha ends here.", f"\n\n{filler}\n\nAlpha ends here.")
    prepared = prepare(book.root)
    html = print_html(prepared, prepared.glossary, None)
    assert 'class="term-use"' not in html
    printed = lay_out(prepared, paginator)
    reader = PdfReader(BytesIO(printed.data))
    pages = [" ".join(t.replace("-\n", "").split()).lower() for t in texts(printed.data)]
    dests = reader.named_destinations
    uses = [(item, use) for item in prepared.glossary for use in item.uses if use.at]
    assert len(uses) > 100 and len({printed.page_of(u.id) for _, u in uses}) >= 3
    for _, use in uses:
        assert reader.get_destination_page_number(dests[use.id]) == printed.page_of(use.id)
    # On each page of the chapter, as many uses of each term as the page shows (one
    # more where a use begins at the page's foot and ends overleaf).
    first, last = printed.anchors["alpha"], printed.anchors["beta"]
    for item in prepared.glossary:
        pattern = re.compile(r"\b" + r"\s+".join(item.entry.term.lower().split()) + r"s?\b")
        placed = [printed.page_of(u.id) for u in item.uses if u.part.slug == "alpha"]
        for page in range(first, last):
            shown = len(pattern.findall(pages[page]))
            assert shown <= placed.count(page) <= shown + 1, (item.entry.term, page)


def test_a_cold_layout_typesets_every_part_once(make_book, paginator):
    """The chapters are laid out side by side without knowing their first folios, so no
    part is laid out on a wrong guess and typeset again."""
    book = make_book()
    paragraph = "A sentence that only fills the page with words. " * 40
    book.replace("chapters/01-alpha.md", "\n\nAlpha ends here.",
                 f"\n\n{paragraph}\n\n{paragraph}\n\nAlpha ends here.")
    prepared = prepare(book.root)
    printed = lay_out(prepared, paginator)
    parts = 1 + sum(c.part.kind != "front" for c in prepared.chapters) + bool(prepared.glossary)
    assert paginator.laid_out == parts
    assert printed.anchors["beta"] > printed.anchors["alpha"] + 2  # alpha is long
    assert texts(printed.data) == texts(whole_book(prepared, printed))


def test_folios_shifted_after_layout_are_those_of_a_layout_begun_there(make_book, tmp_path):
    """press.pdf.weasy.refolio, in a real worker: a chapter laid out from folio 1 and
    shifted by 6, whether the shift came with the job or after its layout, is the same
    PDF, byte for byte, as the chapter laid out from folio 7; so is one written ahead on
    a provisional shift that proved right, or wrong (then shifted and written again)."""
    from press.pdf.plan import Segment
    from press.pdf.workers import Job, Laid, Length, Typesetters, Written

    prepared = prepare(make_book().root)
    beta = next(c for c in prepared.chapters if c.part.slug == "beta")
    roots = tuple(sorted({str(prepared.styles), str(prepared.book.root),
                          *(str(f.path.parent) for f in prepared.faces)}))

    def job(key, first, shift):
        html = print_html(prepared, prepared.glossary, Segment(False, (beta,), False, first, True))
        return Job(key, html, str(prepared.book.root), roots, (), True, 0, shift)

    typesetters = Typesetters(1)
    written, lengths = {}, {}
    guesses = {"told": None, "guessed": 6, "guessed wrong": 3}
    try:
        for made in (job("at-7", 7, 0), job("shifted", None, 6),
                     *(job(key, None, None) for key in guesses)):
            typesetters.want([made])
            while made.key not in written:
                message = typesetters.next()
                if isinstance(message, Length):
                    lengths[message.key] = message.pages
                    if guesses.get(message.key) is not None:
                        typesetters.folio(message.key, guesses[message.key], final=False)
                if isinstance(message, Laid) and message.key in guesses:
                    assert lengths[message.key] == message.pages  # no mend in this one
                    typesetters.folio(message.key, 6)
                if isinstance(message, Written):
                    written[message.key] = message
    finally:
        typesetters.close()
    assert {written[key].shift for key in ("shifted", *guesses)} == {6}
    assert len({written[key].data for key in ("at-7", "shifted", *guesses)}) == 1
    # Its pages carry folios 7, 8, ... (a blank page carries none).
    folios = [(n, page.split()[-1]) for n, page in enumerate(texts(written["told"].data))
              if page.strip()]
    assert folios and all(folio == str(7 + n) for n, folio in folios), folios


def test_a_part_waiting_for_its_folio_is_dropped_when_the_build_gives_up(make_book):
    """A worker holding a laid-out part whose folio never comes (the build failed) lets it
    go and serves the next part."""
    from press.pdf.workers import Job, Laid, Length, Typesetters, Written

    html = "<p>One short part.</p>"
    root = str(make_book().root)
    typesetters = Typesetters(1)
    try:
        typesetters.want([Job("waits", html, root, (root,), (), False, 0, None)])
        assert isinstance(typesetters.next(), Length)
        assert isinstance(typesetters.next(), Laid)
        typesetters.drain()
        assert not typesetters.busy()
        typesetters.want([Job("next", html, root, (root,), (), False, 0, 0)])
        messages = [typesetters.next(), typesetters.next(), typesetters.next()]
        assert isinstance(messages[-1], Written) and messages[-1].data.startswith(b"%PDF-")
    finally:
        typesetters.close()


def test_a_leader_drawn_as_one_run_shows_the_same_dots(make_book):
    """weasy.join_leaders: the contents' leaders, one text run each instead of one a dot,
    look the same on the page (rendered, compared pixel by pixel) and write far fewer
    text runs."""
    import pypdfium2

    from press.pdf.plan import Segment

    prepared = prepare(make_book().root)
    front = tuple(c for c in prepared.chapters if c.part.kind == "front")
    toc = {anchor: "7" for c in prepared.chapters if c.part.kind != "front"
           for anchor in (c.part.slug, *(h.id for h in c.headings))}
    toc["glossary"] = "21"
    html = print_html(prepared, prepared.glossary, Segment(True, front, False, None, True, toc))
    roots = [prepared.styles, prepared.book.root, *{f.path.parent for f in prepared.faces}]

    def written(join: bool) -> bytes:
        document = pdf.layout(html, prepared.book.root, roots, [])
        if join:
            pdf.join_leaders(document)
        return pdf.part_bytes(document, set(pdf.anchor_pages(document)))

    def runs(data: bytes) -> int:
        book = pikepdf.open(BytesIO(data))
        return sum(op in ("Tj", "TJ") for page in book.pages
                   for _, op in ((o.operands, str(o.operator))
                                 for o in pikepdf.parse_content_stream(page)))

    apart, joined = written(False), written(True)
    assert runs(joined) * 3 < runs(apart)
    for one, other in zip(pypdfium2.PdfDocument(apart), pypdfium2.PdfDocument(joined)):
        a = one.render(scale=2).to_pil().convert("L")
        b = other.render(scale=2).to_pil().convert("L")
        differing = sum(abs(x - y) > 64 for x, y in zip(a.tobytes(), b.tobytes()))
        assert differing <= a.width * a.height // 2000  # antialiasing at most


def test_a_book_with_glossary_and_index_comes_whole_from_the_shelf(tmp_path):
    """The index opens after the glossary and the contents name both: with every part on
    the shelf, a new process lays out nothing and binds the same book."""
    from bench.synth import Spec, synthesize

    root = synthesize(tmp_path / "manuscript", Spec(pages=10, chapters=2, terms=4)).root
    prepared = prepare(root)
    assert prepared.glossary and prepared.index
    first, later = Paginator(), Paginator()
    first.shelf = later.shelf = tmp_path / "print"
    try:
        made = lay_out(prepared, first)
        first.save()
        again = lay_out(prepared, later)
        assert later.laid_out == 0 and again.data == made.data
    finally:
        first.typesetters.close()
        later.typesetters.close()


def test_a_one_off_build_lets_idle_workers_go_before_binding(tmp_path):
    """An idle worker still holds its WeasyPrint and fonts (~80 MB): a one-off build keeps
    one (for the EPUB's cover) once every part is written; a warm process keeps all."""
    from press.pdf.workers import Typesetters
    from press.workspace import Workspace

    typesetters = Typesetters(2)
    try:
        typesetters.start(2)
        assert len(typesetters.workers) == 2
        typesetters.shrink(1)
        assert len(typesetters.workers) == 1 and typesetters.workers[0].process.poll() is None
    finally:
        typesetters.close()
    with Workspace(tmp_path / "a") as one_off, Workspace(tmp_path / "b", warm=True) as warm:
        assert one_off.printer.idle_workers == 1 and warm.printer.idle_workers is None


def test_page_numbers_in_the_text_itself_follow_the_shift(tmp_path):
    """A part whose text shows the page counter is not renumbered (only margin boxes can
    be) but laid out again from its first folio: the text says 7, not 1."""
    from press.pdf.workers import Job, Typesetters, Written

    html = ("<html><head><style>p::after { content: ' [page ' counter(page) ']'; }</style>"
            "</head><body><p>Where am I</p></body></html>")
    root = str(tmp_path)
    typesetters = Typesetters(1)
    try:
        typesetters.want([Job("counted", html, root, (root,), (), False, 0, 6)])
        while not isinstance(message := typesetters.next(), Written):
            pass
    finally:
        typesetters.close()
    assert "[page 7]" in texts(message.data)[0]
