"""Writing tools, import: Markdown read line by line (code fences, headings, ids, definitions)."""
from __future__ import annotations

import re
import unicodedata

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")  # any indent: fences in list items too
ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
ATTRS = re.compile(r"[ \t]*\{([^{}]*)\}[ \t]*$")
SETEXT_1 = re.compile(r"^ {0,3}=+[ \t]*$")
REF_DEF = re.compile(r"^ {0,3}\[((?:[^\[\]\\]|\\.)+)\]:[ \t]*(<[^>]*>|\S+)(.*)$")
NOTE_DEF = re.compile(r"^ {0,3}\[\^([^\]\s]+)\]:")
CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")


def code_lines(texts: list[str]) -> list[bool]:
    """For each line, whether it is inside a fenced code block (its fences included)."""
    inside, fence, flags = False, "", []
    for text in texts:
        match = FENCE.match(text)
        if not inside and match and not (match.group(2)[0] == "`" and "`" in match.group(3)):
            inside, fence = True, match.group(2)
            flags.append(True)
            continue
        if inside and match and match.group(2)[0] == fence[0] and \
                len(match.group(2)) >= len(fence) and not match.group(3).strip():
            inside = False
            flags.append(True)
            continue
        flags.append(inside)
    return flags


def mask_code(text: str) -> str:
    """The line with the inside of its code spans blanked, so links in code are not seen."""
    return CODE_SPAN.sub(lambda m: m.group(1) + "\0" * len(m.group(2)) + m.group(1), text)


def heading(text: str, next_text: str | None = None):
    """(level, content) of an ATX heading, or of a level-1 setext title; else None."""
    match = ATX.match(text)
    if match:
        return len(match.group(1)), (match.group(2) or "").strip()
    if next_text is not None and text.strip() and SETEXT_1.match(next_text) \
            and not text.startswith((" " * 4, "\t")):
        return 1, text.strip()
    return None


def split_attrs(content: str) -> tuple[str, str]:
    """A heading's text and its {attributes} (without braces, "" when it has none)."""
    match = ATTRS.search(content)
    if match and (match.group(1).strip().startswith(("#", ".", "-")) or "=" in match.group(1)):
        return content[: match.start()].rstrip(), match.group(1).strip()
    return content, ""


def attr_id(attrs: str) -> str:
    match = re.search(r"(?:^|\s)#([^\s}]+)", attrs)
    return match.group(1) if match else ""


def unnumbered(attrs: str) -> bool:
    return bool(re.search(r"(?:^|\s)(-|\.unnumbered)(?:\s|$)", attrs))


def plain(text: str) -> str:
    """A heading's words without inline markup, as the tools that make ids read them."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]*)\]\[[^\]]*\]", r"\1", text)
    text = re.sub(r"\[\^[^\]]*\]", "", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"(\*{1,3})(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    text = re.sub(r"(?<![\w])(_{1,3})(?=\S)(.+?)(?<=\S)\1(?![\w])", r"\2", text)
    text = re.sub(r"(`+)(.+?)\1", r"\2", text)
    text = re.sub(r"~~(.+?)~~", r"\1", text)
    return re.sub(r"\s+", " ", text.replace("\\", "")).strip()


def pandoc_id(text: str) -> str:
    """Pandoc's auto_identifiers: letters, digits, _-. kept, spaces to hyphens, lower case,
    nothing before the first letter; 'section' when nothing is left."""
    kept = "".join(c for c in plain(text) if c.isalnum() or c in "_-. " or c.isspace())
    kept = re.sub(r"\s+", "-", kept.strip()).lower()
    kept = re.sub(r"^[^a-z]+", "", kept)
    return kept or "section"


def mdbook_id(text: str) -> str:
    """mdBook's ids: lower case, letters, digits, _ and - kept, spaces to hyphens."""
    words = plain(text).lower()
    return "".join("-" if c.isspace() else c for c in words if c.isalnum() or c in "_-"
                   or c.isspace())


def unique(wanted: str, taken: set[str]) -> str:
    """wanted, or wanted-1, wanted-2 ... (as Pandoc and mdBook number a repeated id)."""
    name, n = wanted, 0
    while name in taken:
        n += 1
        name = f"{wanted}-{n}"
    taken.add(name)
    return name


def label(text: str) -> str:
    """A link label as Markdown matches it: case and runs of white space do not count."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().casefold()


def slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", plain(text)).encode("ascii", "ignore").decode()
    text = re.sub(r"['’]", "", text)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "part"
