"""`invoke serve` in a real headless Chromium: the page loads, reloads itself, shows errors."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from press.live.loop import Outcome
from press.problems import Problem
from running import Running, tree
from test_serve_hostile import PLANTED  # the one planted page, shared with the server tests

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# No network on the test machines: keep Chromium from reaching out at all.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT = 30_000  # ms: generous for a loaded CI machine; a working loop takes well under a second


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; missing pieces fail the tests, loudly."""
    if not Path(CHROMIUM).is_file():
        pytest.fail("Chromium is not installed: the preview tests need a real browser. "
                    "Install it with `apt-get install chromium` (.ci/run does).", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: python -m pip install -e '.[dev]'",
                    pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


class Served:
    """`invoke serve` on a copy of the tiny book, output in a folder of its own."""

    def __init__(self, book, out: Path):
        self.book, self.out = book, out
        self.task = Running("serve", "--port", "0", "--manuscript", str(book.root),
                            "--out", str(out))
        self.url = self.task.wait_for(r"serving\s+(http://127\.0\.0\.1:\d+/)").group(1)


@pytest.fixture
def served(make_book, tmp_path):
    running = []

    def start(files=None) -> Served:
        running.append(Served(make_book(files), tmp_path / "out"))
        return running[-1]

    yield start
    for server in running:
        server.task.stop()


def body_has(page, text: str) -> None:
    page.wait_for_function("t => document.body.innerText.includes(t)", arg=text, timeout=WAIT)


def test_page_shows_the_book_in_its_fonts(served, page):
    server = served()
    page.goto(server.url)
    assert page.inner_text("h1") == "Tiny Book"
    page.click("text=Alpha: The First Chapter")
    assert page.url == server.url + "alpha.html"
    body_has(page, "hangs by the door")
    page.evaluate("document.fonts.ready")
    family = page.eval_on_selector("main .part > p", "p => getComputedStyle(p).fontFamily")
    assert family.startswith('"Source Serif Pro"')
    assert page.evaluate("document.fonts.check('16px \"Source Serif Pro\"')")
    loaded = page.evaluate("[...document.fonts].filter(f => f.status === 'loaded')"
                           ".map(f => f.family.replaceAll('\"', ''))")
    assert {"Source Serif Pro", "Source Sans Pro"} <= set(loaded)


def test_glossary_links_work_both_ways_in_the_browser(served, page):
    server = served()
    page.goto(server.url + "alpha.html")
    page.click("a.term >> text=lantern")
    assert page.url == server.url + "glossary.html#gl-lantern"
    entry = page.locator("#gl-lantern + dd")
    assert "A portable light" in entry.inner_text()
    entry.locator("text=Chapter 1").click()
    assert page.url.startswith(server.url + "alpha.html#t-lantern-")
    assert page.evaluate("location.hash.slice(1)") == page.eval_on_selector(
        ":target", "el => el.id")


def test_served_pages_get_the_live_script_but_the_files_do_not(served, page):
    server = served()
    page.goto(server.url + "alpha.html")
    assert page.locator('script[src="/__press/live.js"]').count() == 1
    on_disk = (server.out / "html" / "alpha.html").read_text(encoding="utf-8")
    assert "__press" not in on_disk and "<script" not in on_disk


def test_saved_edit_shows_without_a_manual_reload(served, page, browser):
    server = served()
    page.goto(server.url + "alpha.html")
    other = browser.new_page()
    other.goto(server.url + "preface.html")
    for tab in (page, other):  # forgotten by a reload: proves which tabs reloaded
        tab.evaluate("window.untouched = true")
        tab.wait_for_function("document.documentElement.dataset.pressGeneration", timeout=WAIT)
    server.book.replace("chapters/01-alpha.md", "hangs by the door", "hangs by the gate")
    body_has(page, "hangs by the gate")
    assert page.evaluate("window.untouched") is None  # the open page reloaded by itself
    # The preface did not change, so its tab heard of the rebuild but stayed as it was.
    generation = page.evaluate("Number(document.documentElement.dataset.pressGeneration)")
    other.wait_for_function("g => Number(document.documentElement.dataset.pressGeneration) >= g",
                            arg=generation, timeout=WAIT)
    assert other.evaluate("window.untouched") is True
    other.close()


def test_an_error_shows_in_the_page_and_terminal_and_a_fix_recovers(served, page):
    server = served()
    page.goto(server.url + "alpha.html")
    good = server.book.read("chapters/01-alpha.md")
    since = server.task.mark()
    server.book.write("chapters/01-alpha.md", good.replace("short-title: Alpha",
                                                            "short-title: A: b"))
    line = server.book.line_of("chapters/01-alpha.md", "short-title: A: b")
    where = f"manuscript/chapters/01-alpha.md:{line}: M003"
    overlay = page.locator("#press-problems")
    overlay.wait_for(timeout=WAIT)
    assert where in overlay.inner_text()
    server.task.wait_for(where, since=since)  # the terminal says the same
    assert server.task.alive()
    assert "hangs by the door" in page.inner_text("main")  # the last good page stays
    server.book.write("chapters/01-alpha.md", good.replace("hangs by the door",
                                                            "hangs by the gate"))
    body_has(page, "hangs by the gate")
    overlay.wait_for(state="detached", timeout=WAIT)


def test_the_error_panel_lists_problems_by_file_and_line(served, page):
    """Vetting finds the raw HTML before enrich finds the links; the panel reads in order."""
    server = served()
    page.goto(server.url + "alpha.html")
    server.book.replace("chapters/02-beta.md", "(#shared-name)", "(#shared-nam)")
    server.book.replace("chapters/01-alpha.md", "Alpha ends here.",
                        'Alpha ends here. <span onclick="x()">here</span>')
    server.book.replace("chapters/01-alpha.md", "(#some-heading-id)", "(#some-heading)")
    overlay = page.locator("#press-problems")
    overlay.wait_for(timeout=WAIT)
    page.wait_for_function("() => document.querySelector('#press-problems').innerText"
                           ".includes('02-beta.md')", timeout=WAIT)
    text = overlay.inner_text()
    places = re.findall(r"manuscript/(\S+?):(\d+): ([A-Z]\d{3})", text)
    assert [(f, int(n), c) for f, n, c in places] == [
        ("chapters/01-alpha.md", 10, "M016"), ("chapters/01-alpha.md", 18, "S002"),
        ("chapters/02-beta.md", 10, "M016")], text


def test_a_book_broken_from_the_start_appears_once_fixed(served, page):
    server = served({"book.yaml": (Path(__file__).parent / "fixtures" / "tiny" / "book.yaml")
                     .read_text(encoding="utf-8").replace("language: en", "language: [en")})
    page.goto(server.url)
    overlay = page.locator("#press-problems")
    overlay.wait_for(timeout=WAIT)
    assert "manuscript/book.yaml:" in overlay.inner_text()
    assert "M003" in overlay.inner_text()
    server.book.replace("book.yaml", "language: [en", "language: en")
    page.wait_for_selector("h1.book-title", timeout=WAIT)
    assert page.inner_text("h1") == "Tiny Book"
    assert page.locator("#press-problems").count() == 0


def test_server_never_writes_into_the_manuscript(served, page):
    server = served()
    expected = tree(server.book.root)
    page.goto(server.url + "alpha.html")
    good = server.book.read("chapters/01-alpha.md")
    for text in (good.replace("hangs by the door", "hangs by the gate"),
                 good.replace("short-title: Alpha", "short-title: A: b"), good):
        since = server.task.mark()
        server.book.write("chapters/01-alpha.md", text)
        server.task.wait_for(r"^(built|failed) ", since=since)
    page.goto(server.url + "glossary.html")
    server.task.stop()
    assert tree(server.book.root) == expected
    assert (server.out / "html" / "glossary.html").is_file()


@pytest.fixture
def preview(tmp_path):
    """The preview server in this process, over a small hand-made site."""
    from press.live.serve import State, start, stop

    site = tmp_path / "html"
    (site / "css").mkdir(parents=True)
    (site / "index.html").write_text("<!DOCTYPE html><html><body><p>Front</p></body></html>")
    (site / "css" / "screen.css").write_text("p { color: red; }")
    (tmp_path / "secret.txt").write_text("outside the site")
    server = start(0, site, State())
    yield server
    stop(server)


def get(server, path: str, headers=None):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def test_preview_server_serves_only_the_site(preview):
    status, headers, body = get(preview, "/")
    assert status == 200 and b"<p>Front</p>" in body
    assert b'<script src="/__press/live.js" data-page="index.html"' in body
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/css/../../secret.txt"):
        status, _, body = get(preview, path)
        assert status == 404 and b"outside the site" not in body
    assert preview.server_address[0] == "127.0.0.1"


def test_preview_server_revalidates_assets_and_never_caches_pages(preview):
    _, headers, _ = get(preview, "/index.html")
    assert headers["Cache-Control"] == "no-store"
    status, headers, body = get(preview, "/css/screen.css")
    assert status == 200 and body == b"p { color: red; }"
    tag = headers["ETag"]
    assert get(preview, "/css/screen.css", {"If-None-Match": tag})[0] == 304
    (preview.site / "css" / "screen.css").write_text("p { color: blue; }")
    status, headers, body = get(preview, "/css/screen.css", {"If-None-Match": tag})
    assert status == 200 and body == b"p { color: blue; }" and headers["ETag"] != tag


def test_missing_page_waits_for_the_build(preview):
    status, _, body = get(preview, "/chapter-to-come.html")
    assert status == 404
    assert b'data-page="chapter-to-come.html"' in body and b"has not been built" in body
    assert get(preview, "/fonts/none.ttf")[0] == 404


def test_name_in_the_injected_tag_is_escaped(preview):
    _, _, body = get(preview, '/x%22%3E%3Cimg%20src=y%3E.html')
    assert b'"><img' not in body and b"&quot;&gt;&lt;img" in body


# --- a hostile page in the browser ---------------------------------------------------------

def test_planted_script_frames_and_handlers_do_not_run_in_the_preview(preview, page):
    (preview.site / "planted.html").write_text(PLANTED)
    port = preview.server_address[1]
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text
            else None)
    page.goto(f"http://127.0.0.1:{port}/planted.html")
    page.wait_for_function("document.readyState === 'complete'", timeout=WAIT)
    assert page.inner_text("#text").startswith("A page some older tool")
    assert page.title() == "planted"  # neither the inline script nor onerror ran
    assert page.evaluate("document.getElementById('frame').contentDocument") is None or \
        "Front" not in page.evaluate(
            "document.getElementById('frame').contentDocument?.body?.innerText || ''")
    assert refused  # Chromium says what the policy blocked
    # The live-reload script itself still runs: a published problem shows in the panel.
    preview.state.publish(Outcome(problems=[Problem("manuscript/x.md", 2, "M022", "open tag")]))
    page.wait_for_selector("#press-problems", timeout=WAIT)
    assert "M022" in page.inner_text("#press-problems")


def test_a_payload_in_a_chapter_never_runs_in_the_preview(served, page):
    server = served({"chapters/01-alpha.md": "---\ntitle: Alpha\n---\n\nText.\n\n"
                     "<!---> <script>document.title='ran'</script> -->\n\n"
                     "<!--> <b onclick=\"document.title='ran'\">b</b> -->\n"})
    server.task.wait_for(r"S001")
    page.goto(server.url + "alpha.html")
    page.wait_for_function("document.readyState === 'complete'", timeout=WAIT)
    page.wait_for_selector("#press-problems", timeout=WAIT)
    assert page.title() != "ran"
    assert "S001" in page.inner_text("#press-problems")
    assert not Path(server.out / "html" / "alpha.html").exists() or \
        b"script" not in (server.out / "html" / "alpha.html").read_bytes()


def test_a_print_page_marker_between_paragraphs_leaves_the_indent(browser, tmp_path):
    """In the primer's EPUB the marker of print page 6 falls between two paragraphs; the
    second is indented as every paragraph after another is, in a real Chromium."""
    import zipfile

    from press.pipeline import PROJECT, build_once

    _, epub = build_once(PROJECT / "manuscript", tmp_path / "out", ("pdf", "epub"),
                         log=lambda *_: None)
    zipfile.ZipFile(epub).extractall(tmp_path / "epub")
    script = """() => [...document.querySelectorAll('[role="doc-pagebreak"]')]
        .filter(m => m.previousElementSibling?.localName === 'p'
                     && m.nextElementSibling?.localName === 'p')
        .map(m => getComputedStyle(m.nextElementSibling).textIndent)"""
    context = browser.new_context()
    try:
        page, found = context.new_page(), []
        for chapter in sorted((tmp_path / "epub" / "EPUB").glob("*.xhtml")):
            page.goto(chapter.as_uri())
            found += page.evaluate(script)
    finally:
        context.close()
    assert found  # the primer has one, at print page 6
    assert "0px" not in found, found
