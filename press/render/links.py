"""Links in a book split into files (the EPUB, the screen edition): which file holds each id."""
from __future__ import annotations

import re

from press.util.memo import Memos

def retarget(xhtml: str, files_by_id: dict[str, str]) -> str:
    """Book-wide '#id' links become 'file.xhtml#id' once the book is split into files."""
    def swap(match):
        target = match.group(1)
        return f'href="{files_by_id.get(target, "")}#{target}"'
    return re.sub(r'href="#([^"]+)"', swap, xhtml)



def retarget_kept(xhtml: str, files_by_id: dict[str, str], memos: Memos) -> str:
    """retarget(), again only when the text or the files of the ids it links to changed."""
    targets = memos("links.targets", 64, per_part=3).get(
        xhtml, lambda: tuple(dict.fromkeys(re.findall(r'href="#([^"]+)"', xhtml))))
    key = (xhtml, tuple(files_by_id.get(t, "") for t in targets))
    return memos("links.retargeted", 64, per_part=3).get(
        key, lambda: retarget(xhtml, files_by_id))


def ids_in(xhtml: str, memos: Memos) -> tuple[str, ...]:
    """The ids a part's XHTML holds, in order (kept by text)."""
    return memos("links.ids", 64, per_part=3).get(
        xhtml, lambda: tuple(re.findall(r'\sid="([^"]+)"', xhtml)))



def files_by_id(chapters, glossary, furniture: dict, file_of, glossary_file: str,
                memos: Memos) -> dict:
    """Which file of a book split into files holds each id (EPUB, screen edition)."""
    files = dict(furniture)
    for chapter in chapters:
        name = file_of(chapter.part)
        files[chapter.part.slug] = name
        files.update((i, name) for i in ids_in(chapter.xhtml, memos))
    if glossary:
        files["glossary"] = glossary_file
        files.update((item.id, glossary_file) for item in glossary)
    return files

