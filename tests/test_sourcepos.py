"""Stage 2, convert: press.source.sourcepos trims Pandoc's JSON AST, keeping the lines that matter."""
from __future__ import annotations

import gc
import re

import pytest

from press.source import sourcepos
from press.source.convert import GcPause, markdown_to_html


def attr(*pairs, classes=(), ident=""):
    return [ident, list(classes), [list(p) for p in pairs]]


def wrapper(pos):
    return attr(("wrapper", "1"), ("data-pos", pos))


def word(text, pos="1:1-1:2"):
    """A word as +sourcepos gives it: in a wrapper span of its own."""
    return {"t": "Span", "c": [wrapper(pos), [{"t": "Str", "c": text}]]}


def raw_inline(text, pos="1:1-1:2"):
    return {"t": "Span", "c": [wrapper(pos), [{"t": "RawInline", "c": ["html", text]}]]}


def para(*inlines, pos="1:1-2:1"):
    return {"t": "Div", "c": [wrapper(pos), [{"t": "Para", "c": list(inlines)}]]}


def prepared(*blocks):
    return sourcepos.prepare({"pandoc-api-version": [1, 23, 1, 1], "meta": {},
                              "blocks": list(blocks)})["blocks"]


def inlines_of(blocks):
    """The inlines of the one paragraph in a block list (its wrapper div kept)."""
    [div] = blocks
    [paragraph] = div["c"][1]
    return paragraph["c"]


def raw(kind, text):
    return {"t": kind, "c": ["html", text]}


def test_wrapper_spans_give_way_to_their_words():
    blocks = prepared(para(word("Two"), {"t": "Span", "c": [wrapper("1:4-1:5"),
                                                             [{"t": "Space"}]]}, word("words")))
    assert inlines_of(blocks) == [{"t": "Str", "c": "Two"}, {"t": "Space"},
                                  {"t": "Str", "c": "words"}]


def test_block_positions_stay():
    blocks = prepared(para(word("x"), pos="3:1-4:1"),
                      {"t": "Header", "c": [2, attr(("data-pos", "5:1-6:1"), ident="h"),
                                            [word("Title")]]},
                      {"t": "Div", "c": [attr(("data-pos", "7:1-9:1"), classes=["note"]), []]})
    assert blocks[0]["c"][0] == wrapper("3:1-4:1")  # the writer moves it onto the <p>
    assert blocks[1]["c"][1] == attr(("data-pos", "5:1-6:1"), ident="h")
    assert blocks[1]["c"][2] == [{"t": "Str", "c": "Title"}]
    assert blocks[2]["c"][0] == attr(("data-pos", "7:1-9:1"), classes=["note"])


def test_marker_before_links_and_images_their_position_moved_out():
    link = {"t": "Link", "c": [attr(("data-pos", "2:5-2:20"), classes=["ext"]),
                               [word("here")], ["#there", ""]]}
    image = {"t": "Image", "c": [attr(("data-pos", "3:1-3:30")), [word("alt")],
                                 ["images/x.png", ""]]}
    inlines = inlines_of(prepared(para(link, image)))
    assert inlines == [
        raw("RawInline", "<!--pos 2:5-2:20-->"),
        {"t": "Link", "c": [attr(classes=["ext"]), [{"t": "Str", "c": "here"}],
                            ["#there", ""]]},
        raw("RawInline", "<!--pos 3:1-3:30-->"),
        {"t": "Image", "c": [attr(), [{"t": "Str", "c": "alt"}], ["images/x.png", ""]]}]


def test_link_without_position_gets_no_marker():
    link = {"t": "Link", "c": [attr(), [word("x")], ["#y", ""]]}
    [only] = inlines_of(prepared(para(link)))
    assert only["t"] == "Link"


def test_raw_inline_html_marked_before_and_after():
    inlines = inlines_of(prepared(para(raw_inline("<b>", "4:3-4:6"), word("x"),
                                       raw_inline("</b>", "4:7-4:11"))))
    assert inlines == [raw("RawInline", "<!--pos 4:3-4:6-->"), raw("RawInline", "<b>"),
                       raw("RawInline", "<!--/pos-->"), {"t": "Str", "c": "x"},
                       raw("RawInline", "<!--pos 4:7-4:11-->"), raw("RawInline", "</b>"),
                       raw("RawInline", "<!--/pos-->")]


def test_raw_block_html_marked_before_and_after():
    block = {"t": "Div", "c": [wrapper("5:1-8:1"), [raw("RawBlock", "<div>\nraw\n</div>\n")]]}
    assert prepared(block) == [raw("RawBlock", "<!--pos 5:1-8:1-->"),
                               raw("RawBlock", "<div>\nraw\n</div>\n"),
                               raw("RawBlock", "<!--/pos-->")]


def test_raw_pieces_of_other_formats_are_not_marked():
    latex = {"t": "Span", "c": [wrapper("1:1-1:9"), [{"t": "RawInline", "c": ["latex", "x"]}]]}
    assert inlines_of(prepared(para(latex))) == [{"t": "RawInline", "c": ["latex", "x"]}]


@pytest.mark.parametrize("comment", ["<!-- lint: ignore P003 -->", "<!--lint:P001-->",
                                     "  <!--\tlint: ignore P004, P005 -->"])
def test_lint_comments_vanish_inline_and_as_blocks(comment):
    inline = inlines_of(prepared(para(word("Text"), raw_inline(comment))))
    assert inline == [{"t": "Str", "c": "Text"}]  # no markers left around nothing
    block = {"t": "Div", "c": [wrapper("3:1-4:1"), [raw("RawBlock", comment + "\n")]]}
    assert prepared(block, para(word("After"))) == prepared(para(word("After")))


def test_other_comments_stay_marked():
    inline = inlines_of(prepared(para(raw_inline("<!-- note: lint: no -->", "1:6-1:29"))))
    assert inline[1] == raw("RawInline", "<!-- note: lint: no -->")
    assert inline[0] == raw("RawInline", "<!--pos 1:6-1:29-->")


def test_lint_comment_in_an_authors_div_leaves_the_div():
    div = {"t": "Div", "c": [attr(("data-pos", "1:1-4:1"), classes=["x"]),
                             [{"t": "Div", "c": [wrapper("2:1-3:1"),
                                                 [raw("RawBlock", "<!-- lint: a -->\n")]]}]]}
    assert prepared(div) == [{"t": "Div", "c": [attr(("data-pos", "1:1-4:1"), classes=["x"]),
                                                []]}]


def test_authors_spans_and_code_lose_only_their_position():
    term = {"t": "Span", "c": [attr(("data-pos", "1:1-1:30"), ("key", "strategic alliance"),
                                    classes=["term"]), [word("allies")]]}
    code = {"t": "Code", "c": [attr(("data-pos", "1:31-1:40"), classes=["k"]), "x = 1"]}
    inlines = inlines_of(prepared(para(term, code)))
    assert inlines == [
        {"t": "Span", "c": [attr(("key", "strategic alliance"), classes=["term"]),
                            [{"t": "Str", "c": "allies"}]]},
        {"t": "Code", "c": [attr(classes=["k"]), "x = 1"]}]


def test_notes_lists_and_table_cells_are_walked():
    note = {"t": "Note", "c": [para(word("noted"))]}
    items = {"t": "BulletList", "c": [[para(raw_inline("<i>", "2:3-2:6"))]]}
    cell = [attr(), {"t": "AlignDefault"}, 1, 1, [{"t": "Plain", "c": [word("cell")]}]]
    table = {"t": "Table", "c": [attr(), [None, []], [[{"t": "AlignDefault"},
                                                     {"t": "ColWidthDefault"}]],
                                 [attr(), []], [[attr(), 0, [], [[attr(), [cell]]]]],
                                 [attr(), []]]}
    blocks = prepared(para(note), items, table)
    [noted] = inlines_of(blocks[:1])[0]["c"]
    assert inlines_of([noted]) == [{"t": "Str", "c": "noted"}]
    assert blocks[1]["c"][0][0]["c"][1][0]["c"][0] == raw("RawInline", "<!--pos 2:3-2:6-->")
    plain = blocks[2]["c"][4][0][3][0][1][0][4][0]
    assert plain == {"t": "Plain", "c": [{"t": "Str", "c": "cell"}]}


def test_markdown_through_pandoc():
    fragment = markdown_to_html(
        "A [link](#a) and <b>x</b>. <!-- lint: ignore P003 -->\n\n<!-- lint: ignore P005 -->\n\n"
        "| col |\n|-----|\n| ![i](images/p.png) |\n")
    assert "lint" not in fragment and "wrapper" not in fragment
    assert '<p data-pos="1:1-2:1">A <!--pos 1:3-1:13--><a href="#a">link</a>' in fragment
    assert '<!--pos 1:18-1:21--><b><!--/pos-->x<!--pos 1:22-1:26--></b><!--/pos-->' in fragment
    assert '<!--pos 7:3-7:21--><img src="images/p.png" alt="i" />' in fragment
    assert re.search(r'<table data-pos="[^"]*\b5:1-8:1"', fragment)  # the table's lines


@pytest.mark.parametrize("enabled", [True, False])
def test_garbage_collector_put_back_as_it_was(enabled):
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    gc_paused = GcPause()  # one runner's
    try:
        with gc_paused():
            assert not gc.isenabled()
            with gc_paused():  # another thread's conversion, overlapping
                pass
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        markdown_to_html(f"Fresh text {enabled}.")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


ESCAPES = ('A "quoted" word, a back\\slash, a tab\there, émigré, 東京, an emoji 🙂,\n'
           'a hard break\\\nand `code`, $x^2$, <span>raw</span> <!-- lint: ignore P003 -->\n'
           '[a *link*](x.md "title") ![alt](p.png){#fig .wide}, [span]{.c data-pos="9"}.\n')


@pytest.mark.parametrize("book", ["constructs", "typeset", "code", "tiny"])
def test_words_unwrapped_in_the_text_give_the_tree_the_rules_give(book):
    """sourcepos.unwrap_words, run on Pandoc's JSON before it is parsed, leaves the tree
    prepare makes unchanged: on every part of the fixture books, built for every
    construct an author uses, and on a line of escapes and scripts."""
    import json
    from pathlib import Path

    from press.source.convert import PandocLane, as_pandoc_reads, lane_command

    root = Path(__file__).parent / "fixtures" / book
    texts = [p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.md"))] + [ESCAPES]
    assert len(texts) > 1
    with PandocLane(lane_command()) as lane:
        for text in texts:
            tree = lane.ask(b"read", as_pandoc_reads(text).encode("utf-8"))
            trimmed = sourcepos.unwrap_words(tree)
            assert len(trimmed) < len(tree)
            assert sourcepos.prepare(json.loads(trimmed)) == sourcepos.prepare(json.loads(tree))
