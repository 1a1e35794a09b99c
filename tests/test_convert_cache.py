"""Stage 2, convert: Pandoc's output is cached by content, so a warm process converts a part once."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from press.source import convert
from press.source.convert import ConversionCache, Pandoc, convert_texts, part_texts
from press.source.load import load_book


PANDOC: list[Pandoc] = []  # the runner of the running test (the cache fixture's)


def convert_parts(book):
    """The parts alone (not the glossary's definitions), slug -> HTML, as the build gets them."""
    return dict(zip((p.slug for p in book.parts), convert_texts(part_texts(book), PANDOC[-1])))


def markdown_to_html(markdown: str, where: str = "<text>") -> str:
    return convert.markdown_to_html(markdown, where, PANDOC[-1])


@pytest.fixture
def cache() -> ConversionCache:
    """A runner with a fresh, empty cache, so counts start at zero."""
    PANDOC.append(Pandoc(ConversionCache()))
    yield PANDOC[-1].cache
    PANDOC.clear()


def test_unchanged_part_is_not_converted_again(make_book, cache):
    book = make_book()
    first = convert_parts(load_book(book.root))
    assert cache.runs == 3 and cache.hits == 0  # preface, alpha, beta: one Pandoc run each
    again = convert_parts(load_book(book.root))
    assert cache.runs == 3 and cache.hits == 3
    assert again == first


def test_changed_part_is_converted_again_and_only_it(make_book, cache):
    book = make_book()
    convert_parts(load_book(book.root))
    book.replace("chapters/02-beta.md", "The ridge lines fade.", "The ridge lines glow.")
    fragments = convert_parts(load_book(book.root))
    assert cache.runs == 4  # beta alone went through Pandoc again
    assert cache.hits == 2
    assert "The ridge lines glow." in fragments["beta"]
    assert "fade" not in fragments["beta"]


def test_changing_back_reuses_the_first_conversion(make_book, cache):
    book = make_book()
    original = book.read("chapters/01-alpha.md")
    convert_parts(load_book(book.root))
    book.replace("chapters/01-alpha.md", "Alpha ends here.", "Alpha ends there.")
    convert_parts(load_book(book.root))
    book.write("chapters/01-alpha.md", original)
    convert_parts(load_book(book.root))
    assert cache.runs == 4  # the restored text was already known


def test_key_covers_options_and_rules(monkeypatch, cache):
    markdown_to_html("Some *text*.")
    monkeypatch.setattr(convert, "FORMAT", convert.FORMAT + "-smart")
    markdown_to_html("Some *text*.")
    assert cache.runs == 2  # another Markdown dialect, another conversion
    monkeypatch.setattr(convert, "DRIVER", convert.DRIVER + "-- edited\n")
    markdown_to_html("Some *text*.")
    assert cache.runs == 3
    monkeypatch.setattr(convert, "RULES_DIGEST", "0" * 64)  # press.source.sourcepos edited
    markdown_to_html("Some *text*.")
    assert cache.runs == 4
    monkeypatch.setattr(convert.sourcepos, "VERSION", convert.sourcepos.VERSION + 1)
    markdown_to_html("Some *text*.")
    assert cache.runs == 5  # changed rules are never served stale output


def test_rules_digest_is_the_running_module():
    source = Path(convert.sourcepos.__file__).read_bytes()
    assert convert.RULES_DIGEST == hashlib.sha256(source).hexdigest()


def test_pandoc_version_is_part_of_the_key(monkeypatch, cache):
    before = cache.key("text")
    monkeypatch.setattr(convert.pypandoc, "get_pandoc_version", lambda: "0.0-other")
    assert cache.key("text") != before


def test_disk_cache_survives_the_process(tmp_path, monkeypatch, cache):
    cache.folder = tmp_path / "pandoc"
    fragment = markdown_to_html("A paragraph for the disk cache.")
    assert len(list(cache.folder.glob("*.html"))) == 1
    later = ConversionCache()  # as a new process would start
    later.folder = cache.folder
    PANDOC.append(Pandoc(later))
    assert markdown_to_html("A paragraph for the disk cache.") == fragment
    assert (later.runs, later.hits) == (0, 1)


def test_memory_is_bounded(cache):
    cache.limit = 2
    for n in range(3):
        markdown_to_html(f"Paragraph {n}.")
    assert len(cache.memory) == 2
    markdown_to_html("Paragraph 0.")  # the oldest was dropped, so Pandoc runs again
    assert cache.runs == 4


def test_failed_conversion_is_not_cached(cache, monkeypatch):
    monkeypatch.setattr(convert, "FORMAT", convert.FORMAT + "+no_such_extension")
    with pytest.raises(convert.BuildError) as failed:
        markdown_to_html("text", "chapters/01-x.md")
    [problem] = failed.value.problems
    assert (problem.code, str(problem.path)) == ("M027", "chapters/01-x.md")
    assert "no_such_extension" in problem.message  # Pandoc's own words
    assert cache.memory == {} and cache.runs == 0
