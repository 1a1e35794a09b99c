"""Writing tools, new book: a minimal manuscript folder that builds, with its own identifier.

A second book made by copying manuscript/ keeps the first one's identifier, and an EPUB
reader or a shop takes two books with one identifier for one. This writes book.yaml
(a fresh urn:uuid, today's date), one chapter and an empty glossary; the result is
loaded back before it is reported, and nothing is written into a folder that holds files.
"""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from press.lint.prose import PLACEHOLDERS
from press.problems import BuildError, Problem
from press.source.load import LANG_TAG, load_book, slugify
from press.util.write import atomic_write

CHAPTER = "chapters/01-introduction.md"
GLOSSARY = """\
# The glossary: one entry a term, for example
#
# - term: strategic alliance
#   variants: [strategic alliances]
#   definition: >-
#     A long-term partnership between countries based on shared interests.
#
# An empty list is a book without a glossary.
[]
"""


@dataclass(frozen=True)
class NewBook:
    root: Path  # the manuscript folder that was made
    files: tuple[str, ...]  # what was written in it, relative to it
    identifier: str


def new_book(folder: Path, title: str, creator: str = "", language: str = "en") -> NewBook:
    """Write book.yaml, one chapter and glossary.yaml into folder; refuse (BuildError)
    without writing anything when the folder holds files or the title has no letters."""
    folder = Path(folder).absolute()
    _refusals(folder, title, language)
    identifier = f"urn:uuid:{uuid.uuid4()}"
    files = {"book.yaml": book_yaml(title, creator.strip() or "Anonymous", language,
                                    identifier, datetime.now(timezone.utc).date().isoformat()),
             CHAPTER: chapter_text(),
             "glossary.yaml": GLOSSARY}
    for name, text in files.items():
        atomic_write(folder / name, text.encode("utf-8"))
    load_book(folder)  # what was written must load: a fault here is press's own
    return NewBook(folder, tuple(files), identifier)


def _refusals(folder: Path, title: str, language: str) -> None:
    problems = []
    if not re.search(r"\w", title):
        problems.append(Problem(folder, None, "N005", "the title has no letters or digits",
                                'give the book a title: invoke new-book FOLDER "Its Title"'))
    if not LANG_TAG.match(language):
        problems.append(Problem(folder, None, "M007", f"'{language}' is not a valid language tag",
                                "use a BCP 47 tag such as 'en', 'en-GB' or 'fr'"))
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        problems.append(Problem(folder, None, "M034",
                                "the folder for the new book is a file or already holds files",
                                "name a new folder, or an empty one: nothing was written"))
    if problems:
        raise BuildError(problems)


def book_yaml(title: str, creator: str, language: str, identifier: str, today: str) -> str:
    """The metadata a book needs, each value a YAML double-quoted string (JSON is YAML)."""
    def quoted(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    return (f"# The book's metadata and reading order; see the README, 'Editing the book'.\n"
            f"title: {quoted(title.strip())}\n"
            f"slug: {slugify(title)}\n"
            f"creator: {quoted(creator)}\n"
            f"language: {language}\n"
            f"identifier: {identifier}  # unique to this book: never copy it to another\n"
            f"date: {today}\n"
            f"rights: {quoted(f'© {today[:4]} {creator}. All rights reserved.')}\n"
            f"chapters:\n"
            f"  - {CHAPTER}\n"
            f"back:\n"
            f"  - glossary\n")


def chapter_text() -> str:
    """The first chapter: its title as a level-1 heading, then text to replace."""
    return (f"# Introduction\n\n{PLACEHOLDERS[0]} Sections start at level 2.\n\n"
            f"## First section\n\n{PLACEHOLDERS[1]}\n")
