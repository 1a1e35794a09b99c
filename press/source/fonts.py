"""Fonts for both outputs: locate the pip-installed faces and subset them for the EPUB."""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from press.problems import BuildError, Problem, raise_if_any
from press.source.load import check_keys, key_lines, parse_yaml, read_text
from press.util.memo import Memos, keep_entry, unsealed
from press.util.paths import as_shown


@dataclass(frozen=True)
class FontFace:
    family: str
    weight: int
    style: str
    path: Path

    @property
    def name(self) -> str:
        return self.path.name


FAMILY_KEYS = {"family": str, "package": str, "faces": list}
FACE_KEYS = {"file": str, "weight": int, "style": str}
STYLES = ("normal", "italic")


def load_faces(styles: Path, memos: Memos | None = None) -> tuple[FontFace, ...]:
    """Read and validate styles/fonts.yaml and find each face inside its installed package;
    every problem at once, with its line."""
    spec = styles / "fonts.yaml"
    shown = as_shown(spec, styles.parent)
    problems: list[Problem] = []
    text = read_text(spec, shown, problems)
    raise_if_any(problems)
    families = (memos or Memos())("fonts.specs", 4).get(text, lambda: read_spec(text, shown))
    raise_if_any(list(families[1]))
    faces = []
    for family, line, family_faces in families[0]:
        try:
            base = resources.files(family["package"])
        except ModuleNotFoundError:
            problems.append(Problem(shown, line, "F001",
                                    f"font package '{family['package']}' is not installed",
                                    "run: python -m pip install -e '.[dev]'"))
            continue
        for face, face_line in family_faces:
            path = Path(str(base / face["file"]))
            if not path.is_file():
                problems.append(Problem(shown, face_line, "F002", f"font file missing: {path}",
                                        "reinstall the font package, or correct 'file:'"))
                continue
            faces.append(FontFace(family["family"], face["weight"], face["style"], path))
    raise_if_any(problems)
    return tuple(faces)


def read_spec(text: str, shown: Path):
    """fonts.yaml as (family, line, ((face, line), ...)) for each family, and its problems."""
    problems: list[Problem] = []
    data, node = parse_yaml(text, shown, problems)
    if data is None and not problems:
        problems.append(Problem(shown, 1, "F004", "fonts.yaml lists no font family",
                                "list each family with its package and faces"))
    if problems:
        return (), tuple(problems)
    if not isinstance(data, list):
        return (), (Problem(shown, 1, "F004", "fonts.yaml must be a list of font families",
                            "start each family with '- family: ...'"),)
    families = []
    for item, item_node in zip(data, node.value):
        line = item_node.start_mark.line + 1
        if not isinstance(item, dict):
            problems.append(Problem(shown, line, "F004", "a font family must be a mapping",
                                    "write '- family: ...' with 'package:' and 'faces:'"))
            continue
        check_keys(item, FAMILY_KEYS, tuple(FAMILY_KEYS), shown, key_lines(item_node), line,
                   problems)
        faces = [(face, face_node.start_mark.line + 1) for face, face_node in
                 zip(item.get("faces") or [], _items(item_node, "faces"))]
        for face, face_line in faces:
            _check_face(face, face_line, shown, problems)
        families.append((item, line, faces))
    if problems:
        return (), tuple(problems)
    return tuple((item, line, tuple(faces)) for item, line, faces in families), ()


def _items(node, key: str) -> list:
    """The YAML nodes of the items of a list under key (to give each its line)."""
    for k, v in node.value:
        if k.value == key and isinstance(v, yaml.SequenceNode):
            return v.value
    return []


def _check_face(face, line: int, shown: Path, problems: list[Problem]) -> None:
    if not isinstance(face, dict):
        problems.append(Problem(shown, line, "F004", "a face must be a mapping",
                                "write '{file: ..., weight: 400, style: normal}'"))
        return
    check_keys(face, FACE_KEYS, tuple(FACE_KEYS), shown, {}, line, problems)
    if isinstance(face.get("weight"), int) and not 100 <= face["weight"] <= 900:
        problems.append(Problem(shown, line, "F004", f"weight {face['weight']} is not 100-900",
                                "use a CSS weight: 400 regular, 700 bold"))
    if isinstance(face.get("style"), str) and face["style"] not in STYLES:
        problems.append(Problem(shown, line, "F004", f"style '{face['style']}' is not known",
                                "use 'normal' or 'italic'"))


# In each kept subset's key: bump when _subset changes what it keeps, so that a subset
# made by older rules is never shipped again (2: every feature and name, not all but the
# defaults).
SUBSET_RULES = 2


def subset_font(face: FontFace, text: str, cache: Path | None = None,
                memos: Memos | None = None) -> bytes:
    """Keep only the glyphs the book needs (plus ASCII); reuse an earlier identical subset
    (from this process, or from the cache folder, as <sha256 of font and text>.ttf)."""
    memos = memos or Memos()
    chars = "".join(sorted(set(text) | set(map(chr, range(32, 127)))))
    key = _font_digest(face.path, memos).copy()
    key.update(f"{SUBSET_RULES}\0{chars}".encode("utf-8", "surrogatepass"))
    name = f"{key.hexdigest()}.ttf"
    cached = cache / name if cache else None

    def make() -> bytes:
        kept = unsealed(cached, key.hexdigest()) if cached else None
        if kept is not None and _is_font(kept):
            return kept
        data = _subset(face, chars)
        if cached:  # sealed, atomic: a full disk never leaves a short subset to ship
            keep_entry(cached, key.hexdigest(), data)
        return data

    return memos("fonts.subsets", 32).get(name, make)


def _is_font(data: bytes) -> bool:
    """Whether bytes are a font program that fontTools reads through (a cache entry is
    checked again before it ships)."""
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(io.BytesIO(data), lazy=False)
        font["cmap"], font["glyf" if "glyf" in font else "CFF "]
        return True
    except Exception:  # noqa: BLE001 - hostile bytes: any fault reading them is no font
        return False


def _font_digest(path: Path, memos: Memos):
    """A sha256 fed with the font file's bytes, read again only when the file changed."""
    stat = path.stat()
    return memos("fonts.digests", 32).get((path, stat.st_mtime_ns, stat.st_size),
                                          lambda: hashlib.sha256(path.read_bytes()))


def _subset(face: FontFace, chars: str) -> bytes:
    """Subset with HarfBuzz, keeping every OpenType layout feature (ligatures, shaping) and
    every name record; milliseconds a face, and the same bytes for the same input."""
    import uharfbuzz as hb

    wanted = hb.SubsetInput()
    for char in chars:
        wanted.unicode_set.add(ord(char))
    # Each set starts as HarfBuzz's defaults (the common features, name IDs 0-6): inverted
    # as they are, it would keep everything but them (no Arabic joining, no family name).
    # Emptied, then inverted: all of them.
    for kept in (hb.SubsetInputSets.LAYOUT_FEATURE_TAG, hb.SubsetInputSets.NAME_ID):
        every = wanted.sets(kept)
        every.clear()
        every.invert()
    subset = hb.subset(hb.Face(hb.Blob.from_file_path(str(face.path))), wanted)
    if subset is None:
        raise BuildError([Problem(face.path, None, "F003", "HarfBuzz could not subset this font",
                                  "check the font file, or use another in styles/fonts.yaml")])
    return subset.blob.data
