"""Glossary stage: matching rules, explicit marking, suppression and lint codes."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from press.problems import BuildError
from press.enrich.glossary import page_ranges
from press.pipeline import PROJECT, prepare
from press.workspace import Workspace

BOOK = """title: Glossary Test
creator: Fixture Press
language: en
identifier: urn:uuid:00000000-0000-4000-8000-000000000001
date: 2026-01-01
rights: Test only.
chapters: [chapters/01-one.md{more}]
"""
GLOSSARY = """- term: defense
  definition: Protection.
- term: defense diplomacy
  definition: Peaceful use of defense resources.
- term: defense summit diplomacy
  definition: Diplomacy at summits.
- term: strategic alliance
  variants: [strategic alliances]
  definition: A long-term partnership.
"""


def write_book(tmp_path: Path, chapter: str, glossary: str = GLOSSARY, second: str | None = None):
    root = tmp_path / "manuscript"
    (root / "chapters").mkdir(parents=True)
    more = ", chapters/02-two.md" if second else ""
    (root / "book.yaml").write_text(BOOK.format(more=more), encoding="utf-8")
    (root / "chapters" / "01-one.md").write_text(f"---\ntitle: One\n---\n\n{chapter}\n",
                                                  encoding="utf-8")
    if second:
        (root / "chapters" / "02-two.md").write_text(f"---\ntitle: Two\n---\n\n{second}\n",
                                                      encoding="utf-8")
    (root / "glossary.yaml").write_text(glossary, encoding="utf-8")
    return root


def html_of(tmp_path, chapter, **kw):
    prepared = prepare(Workspace(None), write_book(tmp_path, chapter, **kw), PROJECT / "styles", log=lambda *a: None)
    return prepared


def links(html: str) -> list[tuple[str, str]]:
    """(glossary id, linked text) for each term link."""
    return re.findall(r'<a class="term" href="#gl-([^"]+)"[^>]*>([^<]+)</a>', html)


USE_ALL = "Defense. Defense diplomacy. Defense summit diplomacy. A strategic alliance."


def test_longest_match_wins(tmp_path):
    p = html_of(tmp_path, "Defense Summit Diplomacy matters. " + USE_ALL)
    first = links(p.chapters[0].html)[0]
    assert first == ("defense-summit-diplomacy", "Defense Summit Diplomacy")


def test_case_insensitive_whole_words_and_variants(tmp_path):
    p = html_of(tmp_path, "DEFENSE diplomacy and strategic alliances; defenseless is no use. "
                          + USE_ALL)
    found = links(p.chapters[0].html)
    assert ("defense-diplomacy", "DEFENSE diplomacy") in found
    assert ("strategic-alliance", "strategic alliances") in found
    assert "defenseless" in p.chapters[0].html and 'id="t-defense-' in p.chapters[0].html
    assert not re.search(r">defense</a>less", p.chapters[0].html)


def test_only_first_occurrence_per_chapter_links_but_every_use_is_recorded(tmp_path):
    p = html_of(tmp_path, USE_ALL + " Defense again, and defense.",
                second="Defense in the second chapter.")
    one, two = p.chapters[0].html, p.chapters[1].html
    assert [k for k, _ in links(one)].count("defense") == 1
    assert [k for k, _ in links(two)].count("defense") == 1
    item = next(i for i in p.glossary if i.entry.term == "defense")
    assert len(item.uses) == 4
    assert [u.linked for u in item.uses] == [True, False, False, True]
    assert [part.slug for part, _ in item.uses_by_part()] == ["one", "two"]


def test_never_inside_headings_links_or_code(tmp_path):
    chapter = ("## Defense diplomacy heading\n\n"
               "[defense diplomacy](https://example.org) and `defense` code.\n\n" + USE_ALL)
    html = html_of(tmp_path, chapter).chapters[0].html
    heading = re.search(r"<h2[^>]*>(.*?)</h2>", html).group(1)
    assert "term" not in heading
    assert '<a href="https://example.org">defense diplomacy</a>' in html
    assert "<code>defense</code>" in html
    assert "<a" not in re.search(r'<a href="https://example.org">(.*?)</a>', html).group(1)


def test_noterm_suppresses_one_occurrence(tmp_path):
    html = html_of(tmp_path, "[Defense]{.noterm} first. " + USE_ALL).chapters[0].html
    html = re.sub(r' data-b="[^"]*"', "", html)
    assert html.startswith("<p>Defense first.") or "<p>Defense first." in html
    assert links(html)[0] == ("defense", "Defense")  # the later one links instead


def test_explicit_key_marks_any_words(tmp_path):
    html = html_of(tmp_path, '[our allies]{.term key="strategic alliance"} help. '
                   + USE_ALL).chapters[0].html
    assert ("strategic-alliance", "our allies") in links(html)


def test_explicit_marking_inside_a_link_never_nests_links(tmp_path):
    html = html_of(tmp_path, '[the [allies]{.term key="strategic alliance"}](https://example.org) '
                   + USE_ALL).chapters[0].html
    inner = re.search(r'<a href="https://example.org">(.*?)</a>', html).group(1)
    assert "<a" not in inner and 'class="term-use"' in inner


def codes(error: BuildError) -> list[tuple[str, str, int | None]]:
    return [(p.code, str(p.path), p.line) for p in error.problems]


def test_lint_reports_every_glossary_problem_at_once(tmp_path):
    glossary = GLOSSARY + """- term: unused thing
  definition: Never in the text.
- term: twin
  variants: [defense]
  definition: Duplicates a term.
  see: [no such entry]
- term: empty one
  definition: ""
"""
    chapter = '[x]{.term key="missing key"} twin, empty one. ' + USE_ALL
    with pytest.raises(BuildError) as caught:
        html_of(tmp_path, chapter, glossary=glossary)
    found = codes(caught.value)
    assert ("G001", "manuscript/glossary.yaml", 10) in found      # unused thing
    assert ("G002", "manuscript/chapters/01-one.md", 5) in found   # bad key, Markdown line
    assert ("G003", "manuscript/glossary.yaml", 12) in found      # 'defense' twice
    assert ("G004", "manuscript/glossary.yaml", 12) in found      # see-also to nowhere
    assert ("G005", "manuscript/glossary.yaml", 16) in found      # empty definition
    assert "manuscript/glossary.yaml:12: G003" in str(caught.value)


def test_page_ranges_collapse_and_deduplicate():
    pages = [(4, "1", "a"), (4, "1", "b"), (6, "3", "c"), (7, "4", "d"), (8, "5", "e"),
             (11, "8", "f")]
    assert page_ranges(pages) == [("1", "a", None, None), ("3", "c", "5", "e"),
                                  ("8", "f", None, None)]


def test_print_uses_lose_their_elements_but_keep_their_places():
    """A use's place is its block's key and the characters before it there, white space
    and hyphens not counted; a use inside a note (laid out at the page foot) keeps its
    element."""
    from lxml import html as lxml_html

    from press.enrich.glossary import place_uses

    root = lxml_html.fragment_fromstring(
        '<div><p data-b="c.1">A well-known <em>long</em> road and <span class="term-use" '
        'id="t-a-1">ridge line</span>, then<span class="footnote">a note with '
        '<span class="term-use" id="t-a-2">ridge line</span></span> the '
        '<span class="term-use" id="t-a-3">lantern</span>.</p></div>')
    places = place_uses(root, lambda el: el.get("class") == "term-use")
    assert places == {"t-a-1": ("c.1", len("Awellknownlongroadand")),
                      "t-a-3": ("c.1", len("Awellknownlongroadandridgeline,thenthe"))}
    kept = [el.get("id") for el in root.iter("span") if el.get("class") == "term-use"]
    assert kept == ["t-a-2"] and "ridge line, then" in root.text_content()
