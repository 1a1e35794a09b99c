"""Writing tools, new chapter: a chapter file from a title, listed in book.yaml where it belongs.

book.yaml is edited as text: one line (or one flow item) is inserted and every other byte,
comments and layout included, stays as it was. The result is read back and compared with
what was meant before anything is written.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from press.lint.prose import PLACEHOLDERS
from press.problems import BuildError, Problem
from press.util.paths import as_shown
from press.source.load import bad_character, load_book, outside, real_path, slugify
from press.util.write import atomic_write

BODY = f"""\
{PLACEHOLDERS[0]} Its title comes from the front matter above;
sections start at level 2.

## First section

{PLACEHOLDERS[1]}
"""


@dataclass(frozen=True)
class NewChapter:
    path: Path  # the chapter file that was created
    entry: str  # its line in book.yaml's chapters list
    position: int  # 1-based, in reading order
    count: int  # chapters in the book now


def new_chapter(manuscript: Path, title: str, position: int | str | None = None) -> NewChapter:
    """Create chapters/NN-slug.md and list it; refuse (BuildError) without changing anything.

    NN is the chapter's position when it is made, zero-padded like its neighbours. Other
    chapters keep their file names, so links to them (02-name.md#id) stay valid, and
    book.yaml alone says the reading order.
    """
    manuscript = Path(manuscript).resolve()
    book = load_book(manuscript)  # a broken book is not edited: its problems are raised
    config = manuscript / "book.yaml"
    shown = as_shown(config, manuscript.parent)
    text = config.read_bytes().decode("utf-8")  # not read_text: keep \r\n line ends
    listed = [str(e) for e in yaml.safe_load(text)["chapters"]]
    position = len(listed) + 1 if position is None else _number(position, shown)
    entry = _entry(manuscript, title, position, listed, book, shown)
    updated = insert_chapter(text, position - 1, entry, shown)
    _write_new(manuscript / entry, chapter_text(title), manuscript.parent)
    try:
        mode = config.stat().st_mode
        atomic_write(config, updated.encode("utf-8"))
        os.chmod(config, mode)
    except OSError:
        (manuscript / entry).unlink()
        raise
    return NewChapter(manuscript / entry, entry, position, len(listed) + 1)


def _entry(manuscript, title, position, listed, book, shown) -> str:
    """The new file's path in the manuscript, after every reason to refuse is ruled out."""
    # "It's" -> its, not it-s; a long title gives a file name of its first words
    slug = slugify(re.sub(r"['’]", "", title))[:60].rstrip("-") or "x"
    numbers = [re.match(r"\d+", Path(e).name) for e in listed]
    width = max([2] + [len(m.group()) for m in numbers if m])
    entry = f"chapters/{position:0{width}d}-{slug}.md"
    problems = []
    if not re.search(r"\w", title):
        problems.append(Problem(shown, None, "N005", "the title has no letters or digits",
                                'give the chapter a title: invoke new-chapter "Its Title"'))
    elif bad_character(title) is not None:
        problems.append(Problem(shown, None, "M046", f"the title holds the character "
                                f"{bad_character(title)[1]}, which no book may hold",
                                "type the title again without it"))
    elif not (real_path(manuscript / entry) or Path("/")).is_relative_to(manuscript):
        problems.append(outside(as_shown(manuscript / "chapters", manuscript.parent,
                                         follow=False), None, "the chapters/ folder"))
    elif (manuscript / entry).exists():
        problems.append(Problem(as_shown(manuscript / entry, manuscript.parent), None, "N001",
                                "the file already exists", "choose another title or position"))
    elif slug in {p.slug for p in book.parts}:
        other = next(p.path.name for p in book.parts if p.slug == slug)
        problems.append(Problem(shown, None, "N002",
                                f"a part of the book is already named '{slug}' ({other})",
                                "choose another title (two parts with one name would clash "
                                "in links and ids, M021)"))
    if not 1 <= position <= len(listed) + 1:
        problems.append(Problem(shown, None, "N003",
                                f"position {position} is not between 1 and {len(listed) + 1}",
                                f"the book has {len(listed)} chapters; leave --position out "
                                "to add the chapter at the end"))
    if problems:
        raise BuildError(problems)
    return entry


def chapter_text(title: str) -> str:
    """Front matter with the title (a YAML double-quoted string), then a first section."""
    return f"---\ntitle: {json.dumps(title.strip(), ensure_ascii=False)}\n---\n\n{BODY}"


def insert_chapter(text: str, index: int, entry: str, shown) -> str:
    """book.yaml's text with entry inserted at index of its chapters list, nothing else moved."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    chapters = next((v for k, v in node.value if k.value == "chapters"), None)
    items = chapters.value if isinstance(chapters, yaml.SequenceNode) else None
    updated = None
    if items is not None and chapters.flow_style:
        updated = _insert_flow(text, chapters, index, entry)
    elif items:
        updated = _insert_block(text, items, index, entry)
    data, expected = yaml.safe_load(text), yaml.safe_load(text)
    expected["chapters"] = list(data["chapters"])
    expected["chapters"].insert(index, entry)
    if updated is None or yaml.safe_load(updated) != expected:
        line = chapters.start_mark.line + 1 if chapters is not None else None
        raise BuildError([Problem(shown, line, "N004",
                                  "cannot add the chapter to this 'chapters:' list",
                                  f"list '{entry}' under 'chapters:' by hand")])
    return updated


def _insert_block(text: str, items, index: int, entry: str) -> str:
    """A new '  - entry' line, indented like its neighbour, before or after it."""
    newline = "\r\n" if "\r\n" in text else "\n"
    neighbour = items[min(index, len(items) - 1)]
    start = text.rfind("\n", 0, neighbour.start_mark.index) + 1
    dash = re.match(r"[ \t]*-[ \t]+", text[start:neighbour.start_mark.index])
    if dash is None:
        return None
    line = dash.group() + entry
    if index < len(items):
        return text[:start] + line + newline + text[start:]
    end = text.find("\n", items[-1].end_mark.index)
    if end == -1:
        return text + newline + line
    return text[:end + 1] + line + newline + text[end + 1:]


def _insert_flow(text: str, chapters, index: int, entry: str) -> str:
    """[a, b] -> [a, new, b], or [new] in an empty list."""
    items = chapters.value
    if not items:
        at = chapters.start_mark.index + 1
        return text[:at] + entry + text[at:]
    if index < len(items):
        at = items[index].start_mark.index
        return text[:at] + entry + ", " + text[at:]
    at = items[-1].end_mark.index
    return text[:at] + ", " + entry + text[at:]


def _number(position: int | str, shown) -> int:
    try:
        return int(position)
    except ValueError:
        raise BuildError([Problem(shown, None, "N003", f"position '{position}' is not a number",
                                  "give the chapter's place as 1, 2, 3 ...")]) from None


def _write_new(path: Path, text: str, project: Path) -> None:
    """Create the file, never overwriting one that appeared in the meantime."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except FileExistsError:
        raise BuildError([Problem(as_shown(path, project), None, "N001", "the file already exists",
                                  "choose another title or position")]) from None
