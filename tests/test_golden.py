"""Golden files: the tiny book's key outputs, byte for byte, as reviewed.

A change to any of them fails here until it is looked at and accepted with
`invoke golden --update` (which rewrites tests/golden/ and nothing else).
"""
from __future__ import annotations

import os
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import PROJECT, TINY, prepare, quiet
from press.pdf.plan import Segment
from press.pipeline import build_once, print_html

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("PRESS_GOLDEN_UPDATE") == "1"


def portable(text: str) -> str:
    """Paths of this checkout and of the installed packages (the fonts) written as the same
    words on every machine."""
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    for path, word in ((site, "SITE"), (PROJECT, "PROJECT")):
        text = text.replace(path.as_uri(), f"file://{word}").replace(str(path), word)
    return text


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("golden")
    saved = os.environ.pop("SOURCE_DATE_EPOCH", None)  # the book's own date
    try:
        (epub,) = build_once(TINY, out, ("epub",), log=quiet)
    finally:
        if saved is not None:
            os.environ["SOURCE_DATE_EPOCH"] = saved
    with zipfile.ZipFile(epub) as archive:
        made = {name: archive.read(f"EPUB/{name}").decode("utf-8")
                for name in ("package.opf", "nav.xhtml", "alpha.xhtml")}
    prepared = prepare(TINY)
    alpha = next(c for c in prepared.chapters if c.part.slug == "alpha")
    segment = Segment(front=False, parts=(alpha,), glossary=False, first_folio=1, more=True)
    made["print-alpha.html"] = print_html(prepared, prepared.glossary, segment)
    return {name: portable(text) for name, text in made.items()}


@pytest.mark.parametrize("name", ["package.opf", "nav.xhtml", "alpha.xhtml",
                                  "print-alpha.html"])
def test_output_matches_its_golden_file(outputs, name):
    golden = GOLDEN / name
    if UPDATE:
        golden.write_text(outputs[name], encoding="utf-8")
    assert golden.is_file(), f"no golden file {name}: run invoke golden --update"
    assert outputs[name] == golden.read_text(encoding="utf-8"), (
        f"{name} changed: look at the difference, then accept it with invoke golden --update")
