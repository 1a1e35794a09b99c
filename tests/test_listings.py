"""Code listings: long print lines broken with a mark, the highlighter's markup tidied,
misread Markdown dialects refused at their line, the highlight theme from book.yaml."""
from __future__ import annotations

import re

import pytest
from lxml import html

from press.enrich.listings import MARK, breaks, columns, continuation_indent, wrap_code
from press.enrich.tree import parse_fragment, scan
from press.problems import BuildError
from press.source.convert import markdown_to_html
from press.source.dialect import part_refusals
from press.source.load import load_book


def unmarked(text: str) -> str:
    """A listing's text with the continuation marks taken out again."""
    return re.sub(r"\n *" + re.escape(MARK), "", text)


@pytest.mark.parametrize("line", [
    "x" * 200,
    "def f(" + ", ".join(f"argument_{n}" for n in range(30)) + "):",
    "    " + "word " * 60,
    " " * 90 + "deeply_indented_call()",
    "short",
])
def test_breaks_keep_every_piece_within_the_width_and_lose_nothing(line):
    width = 60
    cuts = breaks(line, width)
    pieces = [line[a:b] for a, b in zip([0, *cuts], [*cuts, len(line)])]
    assert "".join(pieces) == line
    assert len(pieces[0]) <= width
    indent = continuation_indent(line, width)
    assert all(len(piece) + indent <= width for piece in pieces[1:])
    assert all(piece for piece in pieces)


def test_columns_follow_the_trim_width():
    assert 60 <= columns("6in") <= 66
    assert columns("7.5in") > columns("6in") > columns("5in")
    assert columns("152mm") == columns("152mm")  # units read, not guessed


def test_wrap_code_marks_each_break_and_keeps_the_text():
    fragment = markdown_to_html("```python\nvalue = compute(" + ", ".join(
        f'"item number {n}"' for n in range(20)) + ")\nshort = 1\n```\n")
    root = parse_fragment(fragment)
    before = root.xpath("string(.//pre)")
    printed = wrap_code(html.tostring(root, encoding=str), "6in")
    pre = html.fragment_fromstring(printed, create_parent="div").xpath(".//pre")[0]
    marks = pre.xpath(".//span[@class='wrap-mark']")
    assert len(marks) >= 2 and all(m.get("aria-hidden") == "true" for m in marks)
    assert unmarked(pre.text_content()) == before
    assert all(len(line) <= columns("6in") for line in pre.text_content().split("\n"))
    assert pre.xpath(".//span[@class='st']")  # the highlighting survives the breaks


def test_a_listing_in_a_list_item_gets_a_narrower_measure():
    line = "a " * 60
    top = wrap_code(f"<pre><code>{line}</code></pre>", "6in")
    nested = wrap_code(f"<ul><li><pre><code>{line}</code></pre></li></ul>", "6in")
    width = max(len(x) for x in html.fromstring(nested).text_content().split("\n"))
    assert width < max(len(x) for x in html.fromstring(top).text_content().split("\n"))


def test_text_without_listings_is_returned_untouched():
    text = '<p data-b="x.1">No code <code>here</code>.</p>\n'
    assert wrap_code(text, "6in") is text


def test_the_highlighters_line_ids_and_empty_anchors_are_dropped():
    root = parse_fragment(markdown_to_html("```c\nint a;\nint b;\n```\n"))
    assert not root.xpath(".//pre//a") and not root.xpath(".//pre//span[@id]")
    assert root.xpath(".//span[@class='dt']")  # token classes stay
    assert all(not i.startswith("cb1-") for i in scan(root).ids)


GRID = "+---+---+\n| a | b |\n+===+===+\n| 1 | 2 |\n+---+---+\n"
SIMPLE = "  Right     Left\n-------     ------\n     12     x\n"


@pytest.mark.parametrize("markdown, code, line", [
    (f"Text.\n\n{GRID}", "M031", 3),
    (f"Text.\n\n{SIMPLE}", "M031", 3),
    ("Text.\n\n\\begin{equation}\nE = mc^2\n\\end{equation}\n", "M032", 3),
    ("Text.\n\n```{=latex}\n\\newpage\n```\n", "M032", 3),
    ("Inline `\\relax`{=tex} here.\n", "M032", 1),
    (f"::: aside\n{GRID}:::\n", "M031", 2),
])
def test_misread_markdown_is_refused_at_its_line(markdown, code, line):
    found = part_refusals("f.md", markdown, markdown_to_html(markdown))
    assert [(p.code, p.line) for p in found] == [(code, line)]
    assert found[0].hint


@pytest.mark.parametrize("markdown", [
    f"```\n{GRID}```\n",
    f"```text\n{SIMPLE}\\begin{{x}}\n```\n",
    "    +---+---+\n    | a | b |\n",
    "A sentence -- with dashes -- and a pipe | table-less.\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n",
])
def test_the_same_text_in_code_or_valid_markdown_is_not_refused(markdown):
    assert part_refusals("f.md", markdown, markdown_to_html(markdown)) == []


def test_highlight_theme_is_read_and_checked(make_book):
    book = make_book()
    book.append("book.yaml", "highlight: {theme: greyscale}\n")
    assert load_book(book.root).meta.highlight == "greyscale"
    bad = make_book()
    bad.append("book.yaml", "highlight: {theme: neon, size: 3}\n")
    with pytest.raises(BuildError) as failed:
        load_book(bad.root)
    codes = sorted(p.code for p in failed.value.problems)
    assert codes == ["M004", "M005"]
    assert all(p.line == bad.line_of("book.yaml", "highlight:") for p in failed.value.problems)
