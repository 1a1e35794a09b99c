"""Stage 2b, screen: raw HTML is balanced and passive; the PDF renderer reads only our files."""
from __future__ import annotations

from pathlib import Path

import re
import pytest

from conftest import codes, only, prepare, prepare_problems, shown_name
from press.pdf import weasy as pdf
from press.source.convert import markdown_to_html
from press.problems import BuildError
from press.source.vet import css_fetches, screen, screen_svg, script_url


def problems_in(markdown: str):
    """Screen one Markdown text through the real Pandoc conversion."""
    return screen(markdown_to_html(markdown), "c.md")[0]


def where(problems) -> list[tuple[int, str]]:
    return [(p.line, p.code) for p in problems]


# --- raw HTML that is fine ---------------------------------------------------------------

@pytest.mark.parametrize("markdown", [
    "A <b>bold</b> and <span class=\"k\">kept</span> word.",
    "<div class=\"aside\">\n\nMarkdown *inside* a raw div.\n\n</div>",
    "<details>\n<summary>More</summary>\n\nHidden text.\n\n</details>",
    "Line<br>break, <br/> and <img src=\"images/a.png\" alt=\"a\"> void elements.",
    "<ul><li>one<li>two</ul>\n\n<table><tr><td>a<td>b</table>",  # optional end tags
    "<svg width=\"4\" height=\"4\"><use href=\"#dot\"/><circle r=\"2\"/></svg>",
    "<a href=\"https://example.org\" title=\"javascript: the good parts\">a site</a>",
    "<span style=\"color: #333; font-variant: small-caps\">styled</span> text.",
    "<!-- a note that is closed --> and text.",
    "Code shows tags: `<script>` and\n\n```\n<div> never closed\n```",
])
def test_passive_balanced_html_passes(markdown):
    assert problems_in(markdown) == []


# --- raw HTML that is not closed ---------------------------------------------------------

def test_unclosed_span_reported_at_its_own_line_of_a_long_paragraph():
    problems = problems_in("One\ntwo\nthree <span>four\nfive.")
    assert where(problems) == [(3, "M022")]
    assert "<span>" in problems[0].message and "</p>" in problems[0].message


def test_span_closed_in_the_next_paragraph_is_two_problems():
    problems = problems_in("A <span>open.\n\nClosed</span> here.")
    assert where(problems) == [(1, "M022"), (3, "M023")]


def test_unclosed_block_tags_point_at_their_lines():
    markdown = "Intro.\n\n<div>\n<section>\n\nText.\n\n</div>\n"
    assert where(problems_in(markdown)) == [(4, "M022")]  # <section> ends with </div>
    assert where(problems_in("Intro.\n\n<div>\n\nText.\n")) == [(3, "M022")]


def test_misnested_inline_tags():
    assert where(problems_in("A <b><i>both</b></i> word.")) == [(1, "M022"), (1, "M023")]


@pytest.mark.parametrize(("markdown", "line"), [
    ("Text.\n\n<!-- a comment\n\nthat swallows this paragraph\n", 3),
    ("Text.\n\n<div title=\"never closed>\n\nMore text.\n", 3),
    ("Text.\n\n<div>\nfine\n<p class='x'\n</div>\n", 5),
])
def test_markup_that_never_ends(markdown, line):
    problems = problems_in(markdown)
    assert where(problems) == [(line, "M022")]
    assert "not closed" in problems[0].message


# --- active content ----------------------------------------------------------------------

@pytest.mark.parametrize(("markdown", "code"), [
    ("<script>alert(1)</script>", "S001"),
    ("<noscript>x</noscript>", "S001"),
    ("<iframe src=\"https://example.org\"></iframe>", "S001"),
    ("<object data=\"images/a.svg\"></object>", "S001"),
    ("<embed src=\"images/a.svg\">", "S001"),
    ("<video src=\"clip.mp4\"></video>", "S001"),
    ("<svg><script>alert(1)</script></svg>", "S001"),
    ("<p onclick=\"alert(1)\">x</p>", "S002"),
    ("An <img src=\"images/a.png\" alt=\"a\" onerror=\"alert(1)\"> image.", "S002"),
    ("<svg onload=\"alert(1)\"></svg>", "S002"),
    ("[click](javascript:alert(1))", "S003"),
    ("<a href=\" JaVa&#x09;ScRipt:alert(1)\">x</a>", "S003"),
    ("<a href=\"vbscript:msgbox\">x</a>", "S003"),
    ("<a href=\"data:text/html,<script>alert(1)</script>\">x</a>", "S003"),
    ("<img src=\"images/a.png\" alt=\"a\" srcset=\"http://example.org/a.png 2x\">", "S004"),
    ("<span style=\"background: url(file:///etc/passwd)\">x</span>", "S004"),
    ("<span style=\"background: u\\72l(http://example.org/x.png)\">x</span>", "S004"),
    ("<span style=\"background-image: image-set('a.png' 1x)\">x</span>", "S004"),
    ("<svg><image href=\"file:///etc/passwd\"/></svg>", "S004"),
    ("<svg><use xlink:href=\"http://example.org/a.svg#x\"/></svg>", "S004"),
    ("<table background=\"http://example.org/bg.png\"><tr><td>x</td></tr></table>", "S004"),
    ("[x]{style=\"background: url(http://example.org/x.png)\"}", "S004"),
    ("<link rel=\"stylesheet\" href=\"http://example.org/a.css\">", "S005"),
    ("<meta http-equiv=\"refresh\" content=\"0; url=http://example.org\">", "S005"),
    ("<base href=\"http://example.org/\">", "S005"),
    ("<style>p { color: red }</style>", "S005"),
    ("<form><input name=\"q\"><button>Go</button></form>", "S006"),
    ("<textarea>x</textarea>", "S006"),
])
def test_active_content_refused(markdown, code):
    problems = problems_in("Intro.\n\n" + markdown + "\n")
    assert {p.code for p in problems} == {code}, problems
    assert all(p.line == 3 and p.hint for p in problems)


def test_refused_element_reported_once_not_per_attribute():
    problems = problems_in('<iframe src="javascript:x" onload="y" style="background:url(z)">'
                           "</iframe>\n")
    assert where(problems) == [(1, "S001")]


def test_line_of_a_tag_deep_in_a_raw_block():
    markdown = "Intro.\n\n<div>\n<p>one</p>\n<p>two</p>\n<p onclick=\"x\">three</p>\n</div>\n"
    assert where(problems_in(markdown)) == [(6, "S002")]


@pytest.mark.parametrize(("value", "scheme"), [
    ("javascript:alert(1)", "javascript"), ("  JAVASCRIPT:x", "javascript"),
    ("java\tscript:x", "javascript"), ("java\nscript:x", "javascript"),
    ("vbscript:x", "vbscript"), ("data:text/html,x", "data"),
    ("https://example.org/javascript:x", None), ("#javascript", None), ("notes.md", None),
])
def test_script_url(value, scheme):
    assert script_url(value) == scheme


@pytest.mark.parametrize(("css", "fetches"), [
    ("color: red; font-weight: bold", False), ("background: var(--paper)", False),
    ("content: attr(title)", False), ("background: url(a.png)", True),
    ("background: URL( 'a.png' )", True), ("background: \\75 rl(a.png)", True),
    ("background: image-set('a.png' 1x)", True), ("list-style: src(a.png)", True),
    ("background: linear-gradient(red, url(a.png))", True),
])
def test_css_fetches(css, fetches):
    assert css_fetches(css) is fetches


# --- through the pipeline ----------------------------------------------------------------

def test_problems_of_every_part_reported_together(make_book):
    copy = make_book()
    copy.append("chapters/01-alpha.md", "\n<script>x</script>\n")
    copy.append("chapters/02-beta.md", "\nAn <em>open\n")
    problems = prepare_problems(copy.root)
    assert codes(problems) == {"S001", "M022"}
    assert shown_name(only(problems, "S001")).endswith("chapters/01-alpha.md")
    assert only(problems, "S001").line == copy.line_of("chapters/01-alpha.md", "<script>")
    assert shown_name(only(problems, "M022")).endswith("chapters/02-beta.md")
    assert only(problems, "M022").line == copy.line_of("chapters/02-beta.md", "<em>open")


def test_refused_content_and_other_problems_reported_in_one_run(make_book):
    copy = make_book()
    copy.append("chapters/02-beta.md", "\nRun [this](javascript:alert(1)) or see "
                "[nothing](#no-such-id).\n\n<p>\n<img src=\"file:///etc/passwd\" alt=\"x\">\n</p>\n")
    problems = prepare_problems(copy.root)
    assert codes(problems) == {"S003", "M016", "M018"}  # no M015 on top of the S003
    assert only(problems, "M018").line == copy.line_of("chapters/02-beta.md", "file:///etc")


def test_definition_problems_point_at_their_glossary_entry(make_book):
    copy = make_book()
    copy.replace("glossary.yaml", "    A point on a route where the direction changes.\n",
                 "    A point on a route where the <b>direction changes.\n")
    problem = only(prepare_problems(copy.root), "M022")
    assert shown_name(problem).endswith("glossary.yaml")
    assert problem.line == copy.line_of("glossary.yaml", "- term: waypoint")


def test_position_and_author_comments_never_reach_the_outputs(make_book):
    copy = make_book()
    copy.append("chapters/01-alpha.md", "\nA <b>raw</b> tag, a [link](#some-heading-id) and "
                "<!-- the author's note -- with dashes -->.\n\n<div class=\"aside\">\nAside.\n</div>\n"
                "\n<!--\nA block comment -- also with dashes.\n-->\n\n<?php echo 1; ?>\n")
    prepared = prepare(copy.root)
    alpha = {c.part.slug: c for c in prepared.chapters}["alpha"]
    for text in (alpha.html, alpha.xhtml):
        text = re.sub(r' data-(?:line|b)="[^"]*"', "", text)  # the build's own, removed later
        assert "<!--pos" not in text and "<!--/pos" not in text
        assert "<b>raw</b>" in text and '<div class="aside"' in text
        # The author's own comments are dropped too: one with `--` is not allowed in XML.
        assert "<!--" not in text and "author's note" not in text and "<?" not in text
        assert "with dashes" not in text


def test_exact_lines_for_links_and_images_in_list_items(make_book):
    copy = make_book()
    copy.append("chapters/02-beta.md", "\n- one\n- two, see\n  [nowhere](#no-such-id)\n"
                "- ![](images/missing.png)\n")
    problems = prepare_problems(copy.root)
    assert only(problems, "M016").line == copy.line_of("chapters/02-beta.md", "#no-such-id")
    assert only(problems, "M017").line == copy.line_of("chapters/02-beta.md", "missing.png")


def test_svg_image_screened_with_its_own_lines(tmp_path):
    svg = tmp_path / "d.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg">\n<style>rect { fill: red }'
                   '</style>\n<rect onclick="x" width="1" height="1"/>\n'
                   '<image href="http://example.org/a.png"/>\n</svg>\n')
    assert where(screen_svg(svg, "images/d.svg")) == [(3, "S002"), (4, "S004")]
    svg.write_text('<?xml version="1.0"?>\n<!DOCTYPE svg [\n<!ENTITY x SYSTEM '
                   '"file:///etc/passwd">\n]>\n<svg><text>&x;</text></svg>\n')
    assert where(screen_svg(svg, "images/d.svg")) == [(3, "S004")]


# --- the PDF renderer's own fence ---------------------------------------------------------

@pytest.mark.parametrize("html", [
    '<p><img src="file:///etc/passwd" alt="x"></p>',
    '<p><img src="../../../../../../etc/passwd" alt="x"></p>',
    '<p><img src="http://example.invalid/a.png" alt="x"></p>',
    '<p style="background: url(file:///etc/passwd)">x</p>',
    '<link rel="stylesheet" href="http://example.invalid/a.css"><p>x</p>',
    '<style>@import url("file:///etc/passwd");</style><p>x</p>',
])
def test_weasyprint_fetcher_refuses_anything_outside(html, tmp_path):
    """A second line of defence, for HTML that reached layout without being screened."""
    with pytest.raises(BuildError) as caught:
        pdf.layout(html, tmp_path, [tmp_path], [])
    assert [p.code for p in caught.value.problems] == ["W001"]
    assert "refused to fetch" in caught.value.problems[0].message


@pytest.mark.weasyprint_warnings  # the refused image is said, and the test's HTML has no lang
def test_fetch_refused_inside_an_svg_still_fails_the_build(tmp_path):
    # WeasyPrint fetches an inline SVG's images only while writing, and swallows errors.
    document = pdf.layout('<svg width="9" height="9"><image href="file:///etc/passwd" '
                          'width="9" height="9"/></svg>', tmp_path, [tmp_path], [])
    with pytest.raises(BuildError) as caught:
        pdf.pdf_bytes(document, "urn:x")
    assert [p.code for p in caught.value.problems] == ["W001"]
    assert "file:///etc/passwd" in caught.value.problems[0].message


@pytest.mark.weasyprint_warnings  # the test's own HTML has no lang
def test_weasyprint_reads_files_inside_the_roots(tmp_path):
    png = Path(__file__).parent / "fixtures" / "pixel.png"
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "p.png").write_bytes(png.read_bytes())
    document = pdf.layout('<p><img src="images/p.png" alt="x"></p>', tmp_path, [tmp_path], [])
    assert pdf.pdf_bytes(document, "urn:x").startswith(b"%PDF")
