"""Fonts for both outputs: locate the pip-installed faces and subset them for the EPUB."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from press.problems import BuildError, Problem
from press.util.memo import Memo


@dataclass(frozen=True)
class FontFace:
    family: str
    weight: int
    style: str
    path: Path

    @property
    def name(self) -> str:
        return self.path.name


# fonts.yaml as read by earlier builds in this process, by its text (never changed after).
SPECS = Memo(limit=4)
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_faces(styles: Path) -> tuple[FontFace, ...]:
    """Read styles/fonts.yaml and find each face inside its installed package."""
    spec = styles / "fonts.yaml"
    faces = []
    text = spec.read_text(encoding="utf-8")
    for family in SPECS.get(text, lambda: yaml.load(text, Loader=LOADER)):
        try:
            base = resources.files(family["package"])
        except ModuleNotFoundError:
            raise BuildError([Problem(spec, None, "F001",
                                      f"font package '{family['package']}' is not installed",
                                      "run: python -m pip install -e '.[dev]'")]) from None
        for face in family["faces"]:
            path = Path(str(base / face["file"]))
            if not path.is_file():
                raise BuildError([Problem(spec, None, "F002", f"font file missing: {path}",
                                          "reinstall the font package")])
            faces.append(FontFace(family["family"], int(face["weight"]), face["style"], path))
    return tuple(faces)


def subset_font(face: FontFace, text: str, cache: Path | None = None) -> bytes:
    """Keep only the glyphs the book needs (plus ASCII); reuse an earlier identical subset
    (from this process, or from the cache folder)."""
    chars = "".join(sorted(set(text) | set(map(chr, range(32, 127)))))
    key = _font_digest(face.path).copy()
    key.update(chars.encode("utf-8", "surrogatepass"))
    name = f"{face.path.stem}-{key.hexdigest()[:16]}.ttf"
    cached = cache / name if cache else None

    def make() -> bytes:
        return cached.read_bytes() if cached and cached.is_file() else _subset(face, chars)

    data = SUBSETS.get(name, make)
    if cached and not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(data)
    return data


# Subsets made or read by earlier builds in this process, by file name (font and digest).
SUBSETS = Memo(limit=32)
_DIGESTS: dict = {}  # font path -> ((mtime, size), sha256 of its bytes so far)


def _font_digest(path: Path):
    """A sha256 fed with the font file's bytes, read again only when the file changed."""
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    kept = _DIGESTS.get(path)
    if kept is None or kept[0] != stamp:
        kept = _DIGESTS[path] = (stamp, hashlib.sha256(path.read_bytes()))
    return kept[1]


def _subset(face: FontFace, chars: str) -> bytes:
    """Subset with HarfBuzz, keeping every OpenType layout feature (ligatures, shaping) and
    every name record; milliseconds a face, and the same bytes for the same input."""
    import uharfbuzz as hb

    wanted = hb.SubsetInput()
    for char in chars:
        wanted.unicode_set.add(ord(char))
    wanted.sets(hb.SubsetInputSets.LAYOUT_FEATURE_TAG).invert()  # all of them
    wanted.sets(hb.SubsetInputSets.NAME_ID).invert()
    subset = hb.subset(hb.Face(hb.Blob.from_file_path(str(face.path))), wanted)
    if subset is None:
        raise BuildError([Problem(face.path, None, "F003", "HarfBuzz could not subset this font",
                                  "check the font file, or use another in styles/fonts.yaml")])
    return subset.blob.data
