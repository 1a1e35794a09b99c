"""Hostile output folders and caches, through the real `invoke`: a build never writes into
the manuscript or over the system, reports file-system faults with a code, keeps the old
outputs when it cannot write them all, removes only what it wrote, and uses no cache
entry that is not what it claims to be."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from conftest import PROJECT
from test_bad_input import good_outputs, tree  # noqa: F401 - a fixture


def run(task: str, manuscript: Path, out: Path | str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", task, "--manuscript",
                           str(manuscript), "--out", str(out)], cwd=PROJECT,
                          capture_output=True, text=True, timeout=300)


def refused(result, code: str) -> None:
    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert "Traceback" not in said and "E001" not in said, said
    assert f": {code} " in result.stderr, result.stderr


def test_root_as_output_folder_is_refused(make_book):
    """Asked of the check itself: a regression run through invoke would write into /."""
    from press.pipeline import refuse_output_inside
    from press.problems import BuildError

    with pytest.raises(BuildError) as refusal:
        refuse_output_inside(make_book().root, Path("/"))
    assert [p.code for p in refusal.value.problems] == ["S020"]


def test_home_folder_as_output_folder_is_refused(make_book, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    result = subprocess.run([sys.executable, "-m", "invoke", "html", "--manuscript",
                             str(make_book().root), "--out", str(home)], cwd=PROJECT,
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "HOME": str(home)})
    refused(result, "S020")
    assert list(home.iterdir()) == []


def test_output_folder_holding_the_manuscript_is_refused(make_book, tmp_path):
    book = make_book()
    site = tmp_path / "site"
    shutil.copytree(book.root, site / "html")  # invoke html --manuscript site/html --out site
    before = tree(site / "html")
    refused(run("html", site / "html", site), "S020")
    assert tree(site / "html") == before


def test_html_folder_linked_into_the_manuscript_is_refused(make_book, tmp_path):
    book = make_book()
    before = tree(book.root)
    (tmp_path / "out").mkdir()
    os.symlink(book.root, tmp_path / "out" / "html")
    refused(run("html", book.root, tmp_path / "out"), "S020")
    assert tree(book.root) == before


def test_output_folder_that_is_a_file_or_under_one(make_book, tmp_path):
    book = make_book()
    (tmp_path / "a-file").write_text("not a folder")
    refused(run("epub", book.root, tmp_path / "a-file"), "F005")
    refused(run("epub", book.root, tmp_path / "a-file" / "under"), "F005")
    assert (tmp_path / "a-file").read_text() == "not a folder"


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of 4 MB of its own (the tests run as root, as CI does)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_read_only_output_folder_is_a_coded_problem(make_book, small_disk):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    refused(run("epub", make_book().root, small_disk / "out"), "F005")


def test_full_disk_keeps_the_old_pdf_and_epub(make_book, small_disk):
    book = make_book()
    out = small_disk / "out"
    assert run("build", book.root, out).returncode == 0
    old = tree(out)
    book.append("chapters/02-beta.md", "\nA new paragraph, so every output changes.\n")
    free = shutil.disk_usage(small_disk).free
    (small_disk / "filler").write_bytes(b"\0" * max(free - 60_000, 0))  # room for a PDF, not both
    result = run("build", book.root, out)
    refused(result, "F006")
    assert tree(out) == old  # both old outputs, and no temporary file left beside them


def test_html_build_removes_only_what_it_wrote(make_book, tmp_path):
    book = make_book()
    out = tmp_path / "out"
    (out / "html").mkdir(parents=True)
    (out / "html" / "my-notes.html").write_text("my own notes")
    assert run("html", book.root, out).returncode == 0
    book.remove("front/preface.md")
    book.replace("book.yaml", "front:\n  - front/preface.md\n", "")
    assert run("html", book.root, out).returncode == 0
    assert (out / "html" / "my-notes.html").read_text() == "my own notes"
    assert not (out / "html" / "preface.html").exists()


def fresh(good_outputs: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(good_outputs, out, symlinks=True)
    return out


def test_planted_pdf_part_with_javascript_is_not_bound(make_book, good_outputs, tmp_path):
    """A part's PDF replaced by one whose pages run a script when opened."""
    import pikepdf

    out = fresh(good_outputs, tmp_path)
    for part in (out / ".cache" / "print").glob("*.pdf"):
        data = part.read_bytes()
        data = data[data.index(b"%PDF-"):]  # the part itself, without press's seal line
        with pikepdf.open(io.BytesIO(data)) as pdf:
            script = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
            for page in pdf.pages:
                page.obj.AA = pikepdf.Dictionary(O=script)
            pdf.save(part)
    assert run("build", make_book().root, out).returncode == 0
    with pikepdf.open(out / "tiny-book.pdf") as bound:
        assert not any("/AA" in page.obj for page in bound.pages)
    assert b"app.alert" not in (out / "tiny-book.pdf").read_bytes()


def test_planted_or_truncated_font_subsets_are_not_shipped(make_book, good_outputs, tmp_path):
    out = fresh(good_outputs, tmp_path)
    subsets = sorted((out / ".cache" / "fonts").glob("*.ttf"))
    assert subsets
    subsets[0].write_bytes(b"planted bytes, not a font")
    for subset in subsets[1:]:
        subset.write_bytes(subset.read_bytes()[: subset.stat().st_size // 2])  # a full disk
    assert run("epub", make_book().root, out).returncode == 0
    with zipfile.ZipFile(out / "tiny-book.epub") as epub:
        fonts = [epub.read(n) for n in epub.namelist() if n.startswith("EPUB/fonts/")]
    assert fonts
    for data in fonts:
        assert b"planted" not in data
        TTFont(io.BytesIO(data), lazy=False)["glyf"]  # a whole font program


def test_bogus_page_list_is_not_used_by_an_epub_build(make_book, good_outputs, tmp_path):
    out = fresh(good_outputs, tmp_path)
    for pages in (out / ".cache" / "pages").glob("*.json"):
        pages.write_text('[["planted-folio", null, 0]]')
    assert run("epub", make_book().root, out).returncode == 0
    with zipfile.ZipFile(out / "tiny-book.epub") as epub:
        assert "planted-folio" not in epub.read("EPUB/nav.xhtml").decode()


def test_links_and_folders_planted_in_the_pandoc_cache_are_not_read(make_book, good_outputs,
                                                                    tmp_path):
    out = fresh(good_outputs, tmp_path)
    secret = tmp_path / "secret.html"
    secret.write_text("<p>OUTSIDE SECRET</p>")
    entries = sorted((out / ".cache" / "pandoc").glob("*.html"))
    assert entries
    for n, entry in enumerate(entries):
        entry.unlink()
        if n % 3 == 0:
            os.symlink(secret, entry)
        elif n % 3 == 1:
            entry.mkdir()
        else:
            entry.write_bytes(b"\xff\xfe not UTF-8")
    assert run("epub", make_book().root, out).returncode == 0
    with zipfile.ZipFile(out / "tiny-book.epub") as epub:
        text = b"".join(epub.read(n) for n in epub.namelist())
    assert b"OUTSIDE SECRET" not in text and b"not UTF-8" not in text
