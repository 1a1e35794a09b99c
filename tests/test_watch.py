"""`invoke watch`: a warm process that rebuilds the PDF and the EPUB after every save."""
from __future__ import annotations

import zipfile

from pypdf import PdfReader

from running import Running, tree


def epub_text(path) -> str:
    with zipfile.ZipFile(path) as book:
        return book.read("EPUB/alpha.xhtml").decode("utf-8")


def pdf_text(path) -> str:
    return " ".join(page.extract_text() for page in PdfReader(path).pages)


def test_watch_rebuilds_both_formats_and_survives_errors(make_book, tmp_path):
    book = make_book()
    out = tmp_path / "out"
    pdf, epub = out / "tiny-book.pdf", out / "tiny-book.epub"
    original = tree(book.root)
    task = Running("watch", "--manuscript", str(book.root), "--out", str(out))
    try:
        task.wait_for(r"^watching ", timeout=120)
        assert "hangs by the door" in epub_text(epub) and "hangs by the door" in pdf_text(pdf)

        since = task.mark()
        good = book.read("chapters/01-alpha.md")
        book.write("chapters/01-alpha.md", good.replace("hangs by the door", "hangs by the gate"))
        task.wait_for(r"^built .*tiny-book\.pdf, tiny-book\.epub", since=since, timeout=120)
        assert "hangs by the gate" in epub_text(epub)
        assert "hangs by the gate" in pdf_text(pdf)

        since = task.mark()
        book.write("chapters/01-alpha.md", good.replace("short-title: Alpha", "short-title: A: b"))
        line = book.line_of("chapters/01-alpha.md", "short-title: A: b")
        task.wait_for(rf"manuscript/chapters/01-alpha\.md:{line}: M003 ", since=since)
        task.wait_for(r"^failed ", since=since)
        assert task.alive()
        assert "hangs by the gate" in epub_text(epub)  # the last good book stays

        since = task.mark()
        book.write("chapters/01-alpha.md", good.replace("hangs by the door", "hangs by a nail"))
        task.wait_for(r"^built ", since=since, timeout=120)
        assert "hangs by a nail" in epub_text(epub) and "hangs by a nail" in pdf_text(pdf)

        since = task.mark()
        book.write("chapters/01-alpha.md", good)
        task.wait_for(r"^built ", since=since, timeout=120)
    finally:
        task.stop()
    assert tree(book.root) == original  # only the test's own edits, now undone
