"""Stage 5a, typeset: lay a part out again from the page where a nudge changed it, and
only until its pages fall as before.

Keeping a hyphenated word whole (press.pdf.mend) changes one paragraph. Laying the whole
part out again for it cost as much as its first layout: on a book of two long chapters,
each 110 pages, that doubled the print build. WeasyPrint paginates page by page from a
record of where each page begins (its page maker), and it already re-makes only the
pages whose beginning changed when a page-based counter does. This module uses that:
- the word is kept whole in the part's box tree itself, not its HTML, so the tree before
  the paragraph is the same and every page before the paragraph's first is kept;
- pages are made again from there; a later page that begins where it began before,
  with the same counters and notes carried over, and holds no changed paragraph, is
  kept as it was (it begins at the same place in the same tree). So the pages between
  two changed paragraphs far apart are kept once they fall as before: on a 111-page
  chapter with changes on pp. 6, 15, 49 and 63, a mend took 2.3 s instead of 4.2 s;
- then WeasyPrint's own last steps (running heads, folios, bookmarks) run as usual.

WeasyPrint is reached through three of its functions, wrapped in the typesetting workers
(install): the wrappers record what a page's layout starts from (the notes waiting and
carried over) and the pages before their margin boxes, and can resume a pagination. A
part that uses page-based counters in its text (the contents' target-counter), running
elements, or floats broken across pages is laid out whole instead (resumable).
"""
from __future__ import annotations

import re


def install() -> None:
    """Wrap WeasyPrint's pagination in this process (the typesetting workers); once."""
    import weasyprint.layout as layout
    import weasyprint.layout.page as page

    if getattr(layout.make_all_pages, "press_fix", False):
        return
    layout.make_all_pages = _paginating(layout.make_all_pages)
    layout.initialize_page_maker = _initializing(layout.initialize_page_maker)
    page.remake_page = _remaking(page.remake_page)


def _initializing(initialize):
    def initialize_page_maker(context, root_box):
        if getattr(context, "press_resume", None) is None:  # a resumed one keeps its own
            initialize(context, root_box)
    initialize_page_maker.press_fix = True
    return initialize_page_maker


def _remaking(remake):
    def remake_page(index, context, root_box, html):
        # What the page starts from besides its page maker entry: the notes.
        context.__dict__.setdefault("press_starts", {})[index] = _notes(context)
        return remake(index, context, root_box, html)
    remake_page.press_fix = True
    return remake_page


def _paginating(make_all_pages):
    def paginate(context, root_box, html, pages):
        resume = context.__dict__.pop("press_resume", None)
        made = list(make_all_pages(context, root_box, html, pages) if resume is None
                    else _resumed(context, root_box, html, *resume))
        # The pages as made, before the last steps add margin boxes: what a later
        # resumed pagination keeps.
        context.press_made = [(p, list(p.children), list(p.children[0].children))
                              for p in made]
        return made
    paginate.press_fix = True
    return paginate


def _notes(context) -> tuple:
    return (list(context.footnotes), list(context.reported_footnotes),
            dict(context.broken_out_of_flow))


def _same_notes(a: tuple, b: tuple) -> bool:
    return all(len(x) == len(y) and all(p is q for p, q in zip(x, y)) for x, y in
               ((a[0], b[0]), (a[1], b[1]))) and not a[2] and not b[2]


def _resumed(context, root_box, html, first: int, paths: list):
    """make_all_pages, from page `first` of the last pagination, keeping its other pages
    wherever they still begin at the same place."""
    from weasyprint.layout.page import remake_page

    made, starts = context.press_made, dict(context.press_starts)
    for page, children, root_children in made:  # as they were before the last steps
        page.children, page.children[0].children = list(children), list(root_children)
    context.string_set.clear()
    context.footnotes, context.reported_footnotes, context.broken_out_of_flow = (
        list(starts[first][0]), list(starts[first][1]), dict(starts[first][2]))
    yield from (page for page, _, _ in made[:first])
    index, remade = first, True
    while True:
        state = context.page_maker[index][-1]
        if remade or index >= len(made) or state["content_changed"]:
            # As make_all_pages does: the page is made now, nothing is pending for it.
            state.update(content_changed=False, pages_wanted=False, anchors=[],
                         content_lookups=[])
            page, resume_at = remake_page(index, context, root_box, html)
            after = starts.get(index + 1)
            if index + 1 < len(context.page_maker) and (
                    after is None or not _same_notes(_notes(context), after)):
                context.page_maker[index + 1][-1]["content_changed"] = True
        else:  # kept: the notes carried over are those it passed on before
            page, resume_at = made[index][0], context.page_maker[index + 1][0]
            if starts.get(index + 1) is not None:
                _restore_notes(context, starts[index + 1])
        if index + 1 < len(context.page_maker):
            following = context.page_maker[index + 1][-1]
            # The next page, if it begins where it began before, is kept unless it
            # held a changed paragraph: it ended where the page after it began.
            if not following["content_changed"]:
                end = context.page_maker[index + 2][0] \
                    if index + 2 < len(context.page_maker) else None
                following["content_changed"] = any(
                    not _past(resume_at, path) and not _before(end, path) for path in paths)
            remade = following["content_changed"]
        yield page
        index += 1
        if resume_at is None and not context.reported_footnotes:
            del context.page_maker[index + 1:]
            context.broken_out_of_flow.clear()
            context.reported_footnotes.clear()
            return


def _restore_notes(context, start: tuple) -> None:
    context.footnotes, context.reported_footnotes, context.broken_out_of_flow = (
        list(start[0]), list(start[1]), dict(start[2]))


def _past(skip, path: list) -> bool:
    """Whether a place to resume at (a WeasyPrint skip stack: {child index: the skip
    stack inside that child}, None for a child's start) lies after the whole box at this
    child-index path from the root. Where that is unclear (several children at one
    level), it is taken as not past: the page is made again."""
    for step in path:
        if not isinstance(skip, dict) or len(skip) != 1:
            return False
        (index, inner), = skip.items()
        if index != step:
            return index > step
        skip = inner
    return False  # at the box's start or inside it


def _before(skip, path: list) -> bool:
    """Whether a place to resume at (as in _past; None: the end) lies before the box at
    this path, or at its start: a page ending there holds none of it. Where that is
    unclear, it is taken as not before: the page is made again."""
    for step in path:
        if not isinstance(skip, dict) or len(skip) != 1:
            return False
        (index, inner), = skip.items()
        if index != step:
            return index < step
        if inner is None:
            return True  # at the start of the box or of one that holds it
        skip = inner
    return False  # inside it


def resumable(document) -> bool:
    """Whether this laid-out document can be paginated again from a page."""
    html = getattr(document, "_html", None)
    context = getattr(html, "press_context", None)
    return (context is not None and hasattr(context, "press_made")
            and not context.target_collector.counter_lookup_items
            and not any(context.running_elements.values())
            and all(not start[2] for start in context.press_starts.values()))


def keep_whole(document, key: str, word: str):
    """Keep `word` from hyphenating everywhere in the paragraph data-b="key" of the box
    tree (as mend.keep_whole does in HTML). Returns the paragraph's child-index path from
    the root, or None if no such paragraph or word is found."""
    root = document._html.press_root
    found = _find(root, key, [])
    if found is None:
        return None
    paragraph, path = found
    pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)")
    return path if _split_words(paragraph, pattern) else None


def _find(box, key: str, path: list):
    element = getattr(box, "element", None)
    if element is not None and getattr(box, "element_tag", "") == "p" \
            and element.get("data-b") == key:
        return box, path
    for n, child in enumerate(getattr(box, "children", ())):
        found = _find(child, key, [*path, n])
        if found is not None:
            return found
    return None


def _split_words(box, pattern) -> bool:
    """Split every text box under `box` around the word, the word's own box set with
    hyphens: manual. Returns whether any was found."""
    from weasyprint.formatting_structure.boxes import TextBox

    changed, children = False, []
    for child in box.children:
        if isinstance(child, TextBox) and pattern.search(child.text):
            children += _pieces(child, pattern)
            changed = True
        else:
            if hasattr(child, "children") and not isinstance(child, TextBox):
                changed |= _split_words(child, pattern)
            children.append(child)
    if changed:
        box.children = children
    return changed


def _pieces(text_box, pattern) -> list:
    whole = text_box.style.copy()
    whole["hyphens"] = "manual"
    pieces, at = [], 0
    for match in pattern.finditer(text_box.text):
        if match.start() > at:
            pieces.append(text_box.copy_with_text(text_box.text[at:match.start()]))
        word = text_box.copy_with_text(match.group())
        word.style = whole
        pieces.append(word)
        at = match.end()
    if at < len(text_box.text):
        pieces.append(text_box.copy_with_text(text_box.text[at:]))
    return pieces


def release(document) -> None:
    """Let go of what only a resumed pagination needs (the box tree as built, the pages
    before their margin boxes), once the part is mended: its memory goes back before
    the part is written. The layout context stays (refolio uses it)."""
    html = getattr(document, "_html", None)
    context = getattr(html, "press_context", None)
    if context is not None:
        html.press_root = None
        context.__dict__.pop("press_made", None)
        context.__dict__.pop("press_starts", None)


def relayout(document, first: int, paths: list) -> None:
    """Paginate the document again from page `first` (see the module's description), and
    replace its pages."""
    from weasyprint.document import Page
    from weasyprint.layout import layout_document

    html = document._html
    context = html.press_context
    context.press_resume = (first, paths)
    document.pages = [Page(box) for box in layout_document(html, html.press_root, context)]
