"""Lint, new-chapter and the live loop against hostile books, through the real `invoke`:
lint reads only what a build may read, new-chapter writes only inside the manuscript,
and the watch sees every change to every listed file."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile

from conftest import PROJECT
from running import Running, tree


def invoke(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=PROJECT,
                          capture_output=True, text=True, timeout=300)


def test_lint_of_a_broken_book_reads_nothing_outside(make_book, tmp_path):
    book = make_book()
    secret = tmp_path / "secret.md"
    secret.write_text("Zorblaxian quuxingtonly flibbertigibbetous\n")
    os.symlink(secret, book.path("chapters/03-link.md"))
    book.replace("book.yaml", "  - chapters/02-beta.md\n", "  - chapters/02-beta.md\n"
                 f"  - chapters/03-link.md\n  - {secret}\n  - ../../secret.md\n")
    result = invoke("lint", "--manuscript", str(book.root))
    said = result.stdout + result.stderr
    assert result.returncode == 1 and "S007" in said
    assert "Zorblaxian" not in said and "quuxingtonly" not in said, said
    assert "Traceback" not in said


def test_new_chapter_never_writes_through_a_linked_chapters_folder(make_book, tmp_path):
    book = make_book()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.rename(book.path("chapters"), book.path("text"))
    book.write("book.yaml", book.read("book.yaml").replace("chapters/0", "text/0"))
    os.symlink(elsewhere, book.path("chapters"))
    before = tree(book.root)
    result = invoke("new-chapter", "--title", "Gamma", "--manuscript", str(book.root))
    assert result.returncode == 1
    assert "manuscript/chapters: S007 " in result.stderr, result.stderr
    assert list(elsewhere.iterdir()) == [] and tree(book.root) == before


def test_new_chapter_with_a_300_character_title(make_book):
    book = make_book()
    title = " ".join(["Word"] * 60)
    result = invoke("new-chapter", "--title", title, "--manuscript", str(book.root))
    assert result.returncode == 0, result.stderr
    made = [p.name for p in book.path("chapters").iterdir() if p.name.startswith("03-")]
    assert len(made) == 1 and len(made[0]) <= 70
    assert f'title: "{title}"' in book.read(f"chapters/{made[0]}")


def test_new_chapter_refuses_a_title_with_an_escape_sequence(make_book):
    book = make_book()
    before = tree(book.root)
    result = invoke("new-chapter", "--title", "Red\x1b[31m", "--manuscript", str(book.root))
    assert result.returncode == 1 and " M046 " in result.stderr, result.stderr
    assert "\x1b" not in result.stderr and tree(book.root) == before


def epub_text(path, name) -> str:
    with zipfile.ZipFile(path) as epub:
        return epub.read(f"EPUB/{name}.xhtml").decode("utf-8")


def test_watch_sees_copies_with_old_times_and_listed_files_in_hidden_folders(make_book,
                                                                            tmp_path):
    book = make_book()
    book.write(".drafts/03-gamma.md", "---\ntitle: Gamma\n---\n\nThe gamma text is here.\n")
    book.replace("book.yaml", "  - chapters/02-beta.md\n",
                 "  - chapters/02-beta.md\n  - .drafts/03-gamma.md\n")
    out = tmp_path / "out"
    epub = out / "tiny-book.epub"
    task = Running("watch", "--manuscript", str(book.root), "--out", str(out))
    try:
        task.wait_for(r"^watching ", timeout=120)
        assert "hangs by the door" in epub_text(epub, "alpha")

        # cp -p: the same size and the old time stamp (door -> gate: as many letters)
        alpha = book.path("chapters/01-alpha.md")
        stamp = alpha.stat()
        copy = tmp_path / "copy.md"
        copy.write_text(alpha.read_text().replace("hangs by the door", "hangs by the gate"))
        os.utime(copy, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
        assert copy.stat().st_size == stamp.st_size
        since = task.mark()
        subprocess.run(["cp", "-p", str(copy), str(alpha)], check=True)
        assert alpha.stat().st_mtime_ns == stamp.st_mtime_ns
        task.wait_for(r"^built .*tiny-book\.epub", since=since, timeout=120)
        assert "hangs by the gate" in epub_text(epub, "alpha")

        since = task.mark()
        book.write(".drafts/03-gamma.md", "---\ntitle: Gamma\n---\n\nThe delta text now.\n")
        task.wait_for(r"^built .*tiny-book\.epub", since=since, timeout=120)
        assert "The delta text now." in epub_text(epub, "gamma")
    finally:
        task.stop()


def test_print_layout_renders_each_part_once(tmp_path, monkeypatch):
    """A book of many chapters: each chapter's print document is rendered once a build
    (or a few times, when a guessed length moved its first folio), not once for every
    message from a worker, which made the layout quadratic in the chapters."""
    from press import pipeline

    root = tmp_path / "manuscript"
    (root / "chapters").mkdir(parents=True)
    listed = []
    for n in range(1, 41):
        name = f"chapters/{n:02d}-part-{n}.md"
        (root / name).write_text(f"---\ntitle: Part {n}\n---\n\nThe text of part {n}.\n")
        listed.append(f"  - {name}\n")
    (root / "book.yaml").write_text(
        "title: Many Parts\ncreator: Fixture Press\nlanguage: en\n"
        "identifier: urn:uuid:0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a02\ndate: 2026-01-01\n"
        "rights: Fixture Press\nchapters:\n" + "".join(listed) + "back: []\n")
    calls = []
    real = pipeline.print_html

    def counted(p, items, segment=None, renderer=None):
        calls.append(segment)
        return real(p, items, segment, renderer)

    monkeypatch.setattr(pipeline, "print_html", counted)
    pipeline.build_once(root, tmp_path / "out", ("pdf",), log=lambda *_: None)
    assert (tmp_path / "out" / "many-parts.pdf").is_file()
    assert len(calls) <= 2 * 40 + 4, f"{len(calls)} renders for 40 chapters"
