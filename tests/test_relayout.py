"""Laying a part out again from the page a mend changes (press.pdf.relayout): the pages
are those a whole new pagination of the same tree makes, byte for byte, and the pages
before the change are kept, not made again."""
from __future__ import annotations

import pytest

from bench.synth import Spec, synthesize
from conftest import STYLES, prepare
from press.pdf import mend, relayout
from press.pdf import weasy as pdf
from press.pdf.plan import Segment
from press.pipeline import print_html


@pytest.fixture(scope="module")
def chapter(tmp_path_factory):
    """A 29-page chapter of the synthetic book (notes, tables, glossary links) in which
    two words are hyphenated across a page turn, on its 5th and 27th pages."""
    pdf.install_fixes()  # as in a typesetting worker: pagination that can be resumed
    root = tmp_path_factory.mktemp("relayout") / "manuscript"
    synthesize(root, Spec(pages=40, chapters=1, terms=8, seed=2))
    prepared = prepare(root)
    body = next(c for c in prepared.chapters if c.part.kind != "front")
    html = mend.forestall(print_html(prepared, prepared.glossary,
                                     Segment(False, (body,), False, None, True)))
    roots = [STYLES, root, *{f.path.parent for f in prepared.faces}]
    return html, lambda text: pdf.layout(text, root, roots, [])


def written(document) -> bytes:
    """The part's PDF as a worker writes it (links to other parts set aside)."""
    return pdf.part_bytes(document, set(pdf.anchor_pages(document)))


def whole_again(document) -> None:
    """Paginate the document's (changed) tree again from its first page, as WeasyPrint
    does on its own: the reference a resumed pagination must equal."""
    from weasyprint.document import Page
    from weasyprint.layout import layout_document

    html = document._html
    context = html.press_context
    first = context.press_starts[0]
    context.footnotes, context.reported_footnotes = list(first[0]), list(first[1])
    context.string_set.clear()
    document.pages = [Page(box) for box in layout_document(html, html.press_root, context)]


def test_a_resumed_pagination_is_a_whole_new_one(chapter):
    html, lay = chapter
    document = lay(html)
    faults = mend.find(document.pages)
    assert sorted(f.kind for f in faults) == ["turn", "turn"]
    assert relayout.resumable(document)
    _, applied = mend.nudged(html, faults, set())
    first, last = min(f.first for f, _, _ in applied), max(f.page for f, _, _ in applied)
    before = [page._page_box for page in document.pages]
    assert first > 0 and mend.relaid(document, applied)
    after = [page._page_box for page in document.pages]
    assert after[:first] == before[:first]  # not made again
    # Between the two changes the pages fall as before (each word stays on its line
    # count): they are kept too, where a pagination that ran on to the last change
    # made all of them again.
    between = range(first + 2, last)
    assert len(between) > 10 and all(after[n] is before[n] for n in between)
    # Both words kept whole (keeping one may hyphenate another: mend's next round).
    words = {f.word for f in faults}
    assert not words & {f.word for f in mend.find(document.pages)}
    resumed = written(document)

    reference = lay(html)
    paths = [relayout.keep_whole(reference, f.key, word) for f, _, word in applied]
    assert None not in paths
    whole_again(reference)
    assert written(reference) == resumed


def test_mend_resumes_instead_of_laying_the_part_out_again(chapter):
    html, lay = chapter
    layouts = []

    def counting(text):
        layouts.append(text)
        return lay(text)

    document, left = mend.laid_out(html, counting, resume=True)
    assert left == [] and len(layouts) == 1
    again, left_again = mend.laid_out(html, counting)  # the HTML way: more layouts
    assert left_again == [] and len(layouts) > 2
    assert len(document.pages) == len(again.pages)


def test_a_later_page_is_never_kept_before_the_last_change():
    """A place to resume at counts as past a changed paragraph only when it lies after
    all of it, never at its start or inside it."""
    path = [0, 3, 2]
    assert relayout._past({0: {4: None}}, path)
    assert relayout._past({0: {3: {5: {0: 12}}}}, path)
    assert not relayout._past({0: {3: {2: None}}}, path)  # at its start
    assert not relayout._past({0: {3: {2: {1: 40}}}}, path)  # inside it
    assert not relayout._past({0: {2: {9: None}}}, path)  # before it
    assert not relayout._past({0: {3: None}}, path)  # at an ancestor's start
    assert not relayout._past({0: {3: {1: None, 4: None}}}, path)  # unclear: not past


def test_a_page_ending_at_a_changed_paragraph_holds_none_of_it():
    """Where a kept page may end: before a changed paragraph or at its start, never
    inside it or after it (then the page is made again)."""
    path = [0, 3, 2]
    assert relayout._before({0: {2: {9: None}}}, path)  # in an earlier sibling's box
    assert relayout._before({0: {3: {2: None}}}, path)  # at its start
    assert relayout._before({0: {3: None}}, path)  # at the start of a box holding it
    assert not relayout._before({0: {3: {2: {1: 40}}}}, path)  # inside it
    assert not relayout._before({0: {4: None}}, path)  # after it
    assert not relayout._before(None, path)  # the part's end
    assert not relayout._before({0: {3: {1: None, 4: None}}}, path)  # unclear
