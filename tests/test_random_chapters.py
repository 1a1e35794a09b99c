"""Random chapters, Markdown mixed with raw HTML (allowed, refused and broken), built with
the real `invoke epub`: each build either succeeds with an EPUB that EPUBCheck finds no
error in, or fails with coded problems at file:line; never a traceback, an E001 (a fault
in press) or a hang (the command has a time limit).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import PROJECT, TINY
from press.check.validators import run_epubcheck
from press.problems import CODES

pytestmark = pytest.mark.e2e

PIXEL = Path(__file__).parent / "fixtures" / "pixel.png"
TAGS = ["b", "i", "em", "span", "div", "p", "a", "sup", "code", "ul", "li", "table", "tr",
        "td", "svg", "circle", "math", "mi", "details", "summary", "blockquote",
        "script", "iframe", "style", "font", "object", "embed", "form", "input", "animate",
        "x-widget", "foreignObject", "area", "map", "noscript", "template"]
ATTRIBUTES = ["class", "id", "style", "href", "src", "onclick", "onload1", "title", "data-x",
              "xlink:href", "ping", "alt", "width", "xmlns:q", "q:href", "attributeName",
              "to", "srcset", "lang"]
VALUES = ["javascript:alert(1)", "https://example.org/", "#some-heading-id", "color: red",
          "background: url(http://e.org/x.png)", "content: attr(x)", "images/pixel.png",
          "file:///etc/passwd", "href", "x", "", "u/**/rl(x)", " java\tscript:1", "50%"]
# Pieces that tokenizers disagree about, or that end or open something by surprise.
SHARDS = ["<!--", "-->", "<!--->", "<!-->", "--!>", "<![CDATA[", "]]>", "<?php x ?>",
          "<", ">", "&", "&amp;", "&lt;script&gt;", "</div>", "</span>", "<br>", "<hr/>",
          "`<script>`", "*", "_", "[", "](", ")", "\\", '"', "'"]
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,.;:!?'\"-*_", min_size=1, max_size=30)


def attributes() -> st.SearchStrategy[str]:
    pair = st.tuples(st.sampled_from(ATTRIBUTES), st.sampled_from(VALUES))
    return st.lists(pair, max_size=3).map(
        lambda pairs: "".join(f' {name}="{value}"' for name, value in pairs))


def element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(TAGS), attributes(), children).map(
        lambda t: f"<{t[0]}{t[1]}>{t[2]}</{t[0]}>")


HTML = st.recursive(st.one_of(WORDS, st.sampled_from(SHARDS)),
                    lambda inner: st.one_of(element(inner),
                                            st.lists(inner, max_size=3).map("".join)),
                    max_leaves=8)
BLOCKS = st.one_of(
    WORDS.map(lambda w: w.strip() or "word"),
    HTML,
    WORDS.map(lambda w: f"## {w.strip() or 'Heading'}"),
    st.lists(WORDS, min_size=1, max_size=3).map(lambda items: "\n".join(f"- {i}" for i in items)),
    WORDS.map(lambda w: f"> {w}"),
    HTML.map(lambda h: f"```\n{h}\n```"),
    st.just("![A pixel](images/pixel.png)"),
    st.just("[back](#some-heading-id)"),
)
CHAPTERS = st.lists(BLOCKS, min_size=1, max_size=6).map("\n\n".join)
PROBLEM = re.compile(r"^(\S[^\n]*?)(?::(\d+))?: ([A-Z]\d{3}) ", re.M)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=CHAPTERS)
def test_a_random_chapter_builds_cleanly_or_fails_with_coded_problems(body):
    with tempfile.TemporaryDirectory(prefix="press-random-") as tmp:
        manuscript = Path(tmp) / "manuscript"
        shutil.copytree(TINY, manuscript)
        (manuscript / "images").mkdir(exist_ok=True)
        shutil.copy(PIXEL, manuscript / "images" / "pixel.png")
        chapter = manuscript / "chapters" / "02-beta.md"
        head = chapter.read_text(encoding="utf-8").split("\n---\n", 1)[0] + "\n---\n\n"
        chapter.write_text(head + body + "\n", encoding="utf-8")
        result = subprocess.run([sys.executable, "-m", "invoke", "epub", "--manuscript",
                                 str(manuscript), "--out", str(Path(tmp) / "out")],
                                cwd=PROJECT, capture_output=True, text=True, timeout=180)
        said = result.stdout + result.stderr
        assert "Traceback" not in said, said
        event("built" if result.returncode == 0 else "refused")
        if result.returncode == 0:
            report = run_epubcheck(Path(tmp) / "out" / "tiny-book.epub")
            assert report.errors == (), (body, report.errors)
            return
        assert result.returncode == 1, said
        found = PROBLEM.findall(result.stderr)
        assert found, said
        for path, line, code in found:
            assert code in CODES and code != "E001", said
            if path.endswith(".md"):
                assert line, f"no line for {path}: {said}"
