"""Writing tools, stats: word counts of the converted text and pages of the real print layout."""
from __future__ import annotations

import math
import subprocess
import sys

import pytest
from pypdf import PdfReader

from conftest import PROJECT, STYLES, TINY, quiet
from press.pipeline import build_once
from press.tools.stats import WORDS_PER_MINUTE, book_stats, count_words
from press.workspace import Workspace


@pytest.fixture(scope="module")
def tiny_stats():
    with Workspace(None) as ws:
        return book_stats(ws, TINY, STYLES)


@pytest.fixture(scope="module")
def tiny_pdf(tmp_path_factory):
    return PdfReader(build_once(TINY, tmp_path_factory.mktemp("pdf"), ("pdf",), log=quiet)[0])


def test_words_are_the_converted_text_not_yaml_markup_or_footnote_marks():
    assert count_words('<p>One <em>two</em> <a href="#x">three</a>.</p>') == 3
    assert count_words("<p>It’s a well-known 2026 fact.</p>") == 5
    assert count_words('<p>Curly.<a role="doc-noteref" href="#fn1"><sup>1</sup></a> Next</p>'
                       '<p>Note.<a role="doc-backlink" href="#r">↩︎</a></p>') == 3
    assert count_words("") == 0


def test_each_chapter_of_the_tiny_book_counted_by_hand(tiny_stats):
    words = {r.name: r.words for r in tiny_stats.rows}
    # Alpha: 33 words of text and headings, 4 of footnote; the title (YAML) is not counted.
    assert words["Alpha: The First Chapter"] == 37
    assert words["Beta, the Second"] == 27
    assert words["Preface"] == 8
    assert words["Title pages and contents"] is None  # made by press: not counted


def test_totals_are_sums_and_pages_are_the_pdf_pages(tiny_stats, tiny_pdf):
    rows = tiny_stats.rows
    assert tiny_stats.words == sum(r.words or 0 for r in rows)
    assert tiny_stats.minutes == math.ceil(tiny_stats.words / WORDS_PER_MINUTE)
    assert sum(r.pages for r in rows) == tiny_stats.pages == len(tiny_pdf.pages)
    for row, following in zip(rows, rows[1:]):
        assert row.first_page + row.pages == following.first_page


def test_each_part_starts_on_the_pdf_page_that_shows_its_title(tiny_stats, tiny_pdf):
    for row in tiny_stats.rows[1:]:
        text = tiny_pdf.pages[row.first_page - 1].extract_text()
        assert row.name in text, (row, text[:80])
        before = tiny_pdf.pages[row.first_page - 2].extract_text()
        assert row.name not in before.splitlines()[:3]


def test_primer_stats_are_close_to_the_seed_documents():
    """The chapters are the seeds' text: their counts agree within a few words."""
    with Workspace(None) as ws:
        stats = book_stats(ws, PROJECT / "manuscript", STYLES)
    seeds = PROJECT.parent / "shared" / "seeds"
    chapters = [r for r in stats.rows if r.name.startswith("Defense")]
    for row, seed in zip(chapters, ("defense-diplomacy.md", "defense-summit-diplomacy.md")):
        body = (seeds / seed).read_text(encoding="utf-8").split("\n", 1)[1]  # no title line
        assert abs(row.words - len(body.split())) <= 0.03 * row.words, (row, len(body.split()))
        assert row.pages >= 2  # a chapter opens on a recto: its pages come in pairs or more
    glossary, index = stats.rows[-2:]
    assert glossary.name == "Glossary" and glossary.words > 500
    assert index.name == "Index" and index.pages >= 1


def test_invoke_stats_prints_a_table_with_a_total():
    result = subprocess.run([sys.executable, "-m", "invoke", "stats", "--manuscript", str(TINY)],
                            cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["part", "words", "reading", "first", "pages"]
    total = next(line for line in lines if line.startswith("total")).split()
    assert total[1] == "101" and total[-1] == "13"
    assert f"{WORDS_PER_MINUTE} words a minute" in result.stdout
