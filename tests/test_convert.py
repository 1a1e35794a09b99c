"""Stage 2, convert: Pandoc turns Markdown into HTML fragments that remember their lines."""
from __future__ import annotations

import re

import pytest
from lxml import html

from press.convert import convert_book, convert_definitions, markdown_to_html
from press.load import load_book

SOURCE = """\


Opening paragraph with "double" and 'single' quotes, and it's here.

## A Section {#a-section}

A paragraph with <b>x</b> and <span class="k">raw</span> inline HTML,
a [link](#a-section), *emphasis* and `code`.

### A Subsection

- first item
- second item
"""


@pytest.fixture(scope="module")
def fragment() -> str:
    return markdown_to_html(SOURCE)


def blocks(fragment: str) -> dict[str, str]:
    """tag -> data-pos of the first such element."""
    root = html.fragment_fromstring(fragment, create_parent="div")
    found = {}
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("data-pos"):
            found.setdefault(el.tag, el.get("data-pos"))
    return found


def start_line(pos: str) -> int:
    return int(pos.split("@")[-1].split(":")[0])


def test_blocks_keep_their_markdown_line(fragment):
    lines = SOURCE.splitlines()
    where = {tag: start_line(pos) for tag, pos in blocks(fragment).items()}
    assert lines[where["h2"] - 1].startswith("## A Section")
    assert lines[where["h3"] - 1].startswith("### A Subsection")
    assert lines[where["p"] - 1].startswith("Opening paragraph")
    assert lines[where["ul"] - 1].startswith("- first item")
    assert (where["p"], where["h2"], where["h3"]) == (3, 5, 10)


def test_each_paragraph_has_its_own_line(fragment):
    root = html.fragment_fromstring(fragment, create_parent="div")
    paragraph_lines = [start_line(p.get("data-pos")) for p in root.iter("p")]
    assert paragraph_lines == [3, 7]


def test_no_wrapper_spans(fragment):
    assert "wrapper" not in fragment
    root = html.fragment_fromstring(fragment, create_parent="div")
    # Words are not split into per-word spans: the only span is the author's own.
    assert [s.get("class") for s in root.iter("span")] == ["k"]
    assert "Opening paragraph with" in fragment


def test_inline_elements_in_paragraphs_carry_no_position(fragment):
    root = html.fragment_fromstring(fragment, create_parent="div")
    paragraph = list(root.iter("p"))[1]
    inline = [el for el in paragraph.iter() if el is not paragraph]
    assert {el.tag for el in inline} >= {"a", "b", "em", "code", "span"}
    assert all(el.get("data-pos") is None for el in inline)


def test_raw_inline_html_survives_intact(fragment):
    bare = re.sub(r"<!--/?pos[^>]*-->", "", fragment)  # the position comments aside
    assert "<b>x</b>" in bare
    assert '<span class="k">raw</span>' in bare


def test_raw_html_links_and_images_marked_with_their_lines():
    source = "Text over\ntwo <b>lines</b> and\n![alt](images/x.png) here.\n\n<div>\nraw\n</div>\n"
    fragment = markdown_to_html(source)
    assert re.findall(r"<!--pos (\d+):[^>]*-->\s*(<[a-z]+)", fragment) == [
        ("2", "<b"), ("3", "<img"), ("5", "<div")]  # '</b>' is marked too, as line 2
    assert fragment.count("<!--/pos-->") == 3  # after each raw piece: <b>, </b>, the block


def test_smart_quotes(fragment):
    assert "\u201cdouble\u201d" in fragment
    assert "\u2018single\u2019" in fragment
    assert "it\u2019s" in fragment
    assert '"double"' not in fragment


def test_explicit_heading_id_kept(fragment):
    assert re.search(r'<h2[^>]*\bid="a-section"', fragment)
    assert 'href="#a-section"' in fragment


def test_convert_book_keys_fragments_by_slug(tiny):
    book = load_book(tiny)
    fragments = convert_book(book)
    assert list(fragments) == ["preface", "alpha", "beta"]
    assert "Some Heading" in fragments["alpha"]
    # Lines are true lines of the chapter file, front matter included.
    alpha = html.fragment_fromstring(fragments["alpha"], create_parent="div")
    h2 = next(alpha.iter("h2"))
    source = (tiny / "chapters" / "01-alpha.md").read_text(encoding="utf-8").splitlines()
    assert source[start_line(h2.get("data-pos")) - 1].startswith("## Some Heading")


def test_glossary_definitions_in_one_run(tiny):
    book = load_book(tiny)
    converted = convert_definitions(book)
    root = html.fragment_fromstring(converted["__all__"], create_parent="div")
    ids = [d.get("id") for d in root.iter("div") if d.get("id")]
    assert ids == ["def-lantern", "def-ridge-line", "def-waypoint"]
    assert "<em>case</em>" in converted["__all__"]
