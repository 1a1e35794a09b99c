"""Warm-process memory: results kept by everything that decides them, for the next build.

A process that stays up (invoke serve, invoke watch, the benchmark's edit loop) builds the
same book again and again with one part changed. Each stage that works part by part keeps
its results here, keyed by its whole input, so a rebuild redoes only what a change reaches.
Kept results are shared between builds and must never be changed by their users.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
from collections import OrderedDict
from pathlib import Path, PurePath

from press.util.write import atomic_write


class Memo:
    """A bounded map from a key to a result; the least recently used go first.

    A memo that holds something of every part is sized to the book (fit): its limit is
    base + per_part for each part, room for this build's results and the last ones.
    """

    def __init__(self, limit: int = 256, per_part: int = 0):
        self.base, self.per_part, self.limit = limit, per_part, limit
        self.kept: OrderedDict = OrderedDict()
        self.hits = self.misses = 0

    def fit(self, parts: int) -> None:
        """Size this memo to a book of this many parts."""
        self.limit = self.base + self.per_part * parts
        while len(self.kept) > self.limit:
            self.kept.popitem(last=False)

    def get(self, key, make):
        """The result kept for key, or make() kept as it."""
        try:
            found = self.kept[key]
        except KeyError:
            self.misses += 1
            found = self.kept[key] = make()
            while len(self.kept) > self.limit:
                self.kept.popitem(last=False)
        else:
            self.hits += 1
            self.kept.move_to_end(key)
        return found

    def peek(self, key, default=None):
        """The result kept for key, without counting or reordering."""
        return self.kept.get(key, default)

    def put(self, key, value) -> None:
        """Keep value for key, replacing what was kept."""
        self.kept[key] = value
        self.kept.move_to_end(key)
        while len(self.kept) > self.limit:
            self.kept.popitem(last=False)

    def clear(self) -> None:
        self.kept.clear()


class Memos:
    """The memo partitions of one warm process, by name ("stage.what").

    Whoever keeps a process warm (a build, the live loop, the benchmark's edit loop) makes
    one and hands it to the stages; a stage asks for its partitions by name and gets the
    same one on every build. A new Memos keeps nothing: a one-off call remembers nothing.
    """

    def __init__(self):
        self._memos: dict[str, Memo] = {}
        self.parts = 0
        self.fingerprints = FingerprintStore()

    def __call__(self, name: str, limit: int = 256, per_part: int = 0) -> Memo:
        memo = self._memos.get(name)
        if memo is None:
            memo = self._memos[name] = Memo(limit, per_part)
            memo.fit(self.parts)
        return memo

    def fit(self, parts: int) -> None:
        """Size every partition to a book of this many parts (room for this build's
        results and the last ones)."""
        self.parts = parts
        for memo in self._memos.values():
            memo.fit(parts)

    def names(self) -> list[str]:
        return sorted(self._memos)


class FingerprintStore:
    """What Fingerprints remember across builds: tokens of values that cannot change, and
    the fields of each dataclass."""

    LIMIT = 16384

    def __init__(self):
        # (id, reveal) -> (value, token), least recently used first; the values are kept
        # alive, so an id cannot be another object's while it is here.
        self.kept: OrderedDict = OrderedDict()
        self.fields: dict = {}


class Unprintable(TypeError):
    """A value whose content a fingerprint cannot vouch for."""


class Fingerprints:
    """Digests of values by their content, the same in every process.

    Everything a template can reach from a value is in its digest: the fields of frozen
    dataclasses, the items of tuples, lists and dicts (in order), text, numbers, paths;
    except a field declared with metadata {"templates": False} (no template shows it),
    unless its name is in reveal. Values that cannot change (text, paths, tuples and
    frozen dataclasses with nothing changeable inside) are remembered by identity across
    builds, as long as the object lives; lists and dicts once per instance (a build
    makes its own).
    """

    LONG = 256  # texts longer than this are digested rather than spelled out

    def __init__(self, reveal: frozenset[str] = frozenset(),
                 store: FingerprintStore | None = None):
        self.reveal = reveal
        self.store = store or FingerprintStore()
        self._seen: dict[int, tuple[object, bytes]] = {}

    def of(self, value) -> bytes:
        """A token for value: equal tokens mean equal content, whatever the objects."""
        return self._of(value)[0]

    def _of(self, value) -> tuple[bytes, bool]:
        """The token, and whether the value can never change."""
        kind = type(value)
        if (kind is str or kind is bytes) and len(value) <= self.LONG:
            return (b"s" if kind is str else b"b") + (
                value.encode("utf-8", "surrogatepass") if kind is str else value), True
        if value is None or kind is bool or kind is int or kind is float:
            return f"p{kind.__name__}:{value!r}".encode(), True
        key = (id(value), self.reveal)
        kept = self.store.kept.get(key)
        if kept is not None and kept[0] is value:
            self.store.kept.move_to_end(key)
            return kept[1], True
        seen = self._seen.get(id(value))
        if seen is not None and seen[0] is value:
            return seen[1], False
        token, fixed = self._digest(value, kind)
        if fixed:
            self.store.kept[key] = (value, token)
            while len(self.store.kept) > self.store.LIMIT:
                self.store.kept.popitem(last=False)
        else:
            self._seen[id(value)] = (value, token)
        return token, fixed

    def _digest(self, value, kind) -> tuple[bytes, bool]:
        h = hashlib.blake2b(digest_size=16)
        fixed = True

        def feed(item) -> None:
            nonlocal fixed
            token, item_fixed = self._of(item)
            fixed = fixed and item_fixed
            h.update(len(token).to_bytes(4, "little") + token)

        if kind is str or kind is bytes:
            h.update(b"text:" if kind is str else b"bytes:")
            h.update(value.encode("utf-8", "surrogatepass") if kind is str else value)
        elif isinstance(value, str):  # Markup and other str subclasses: escaped differently
            h.update(f"{kind.__module__}.{kind.__qualname__}:".encode())
            feed(str(value))
        elif isinstance(value, PurePath):
            h.update(b"path:" + str(value).encode("utf-8", "surrogatepass"))
        elif kind is tuple or kind is list:
            h.update(b"seq:")
            for item in value:
                feed(item)
            fixed = fixed and kind is tuple
        elif kind is dict:
            h.update(b"map:")
            for k, v in value.items():  # order counts: a template iterates in this order
                feed(k)
                feed(v)
            fixed = False
        else:
            h.update(f"{kind.__module__}.{kind.__qualname__}:".encode())
            for name, hidden in self.store.fields.get(kind) or self._field_names(kind):
                if not hidden or name in self.reveal:
                    feed(getattr(value, name))
        return b"#" + h.digest(), fixed

    def _field_names(self, kind) -> tuple[tuple[str, bool], ...]:
        """The fields of a frozen dataclass, and whether templates never show each."""
        if not (dataclasses.is_dataclass(kind) and kind.__dataclass_params__.frozen):
            raise Unprintable(f"no fingerprint for {kind.__name__}")
        names = self.store.fields[kind] = tuple((f.name, f.metadata.get("templates") is False)
                                           for f in dataclasses.fields(kind))
        return names


# --- entries of the cache on disk (OUT/.cache/<stage>/) -----------------------------------
# Every entry is sealed: a first line names the key it was made for and the sha256 of what
# follows. An entry is used only when it is a plain file (not a link, not a folder, in a
# stage folder that is no link), made for this key, and whole: a truncated write (a full
# disk), a copy from another key, bytes edited or planted by hand are all ignored, and the
# stage makes the result again.
SEAL = b"press-cache-1 "
ENTRY_BYTES = 256 << 20  # no entry of a book is larger; a bigger file is not read


def sealed(key: str, data: bytes) -> bytes:
    """An entry's bytes on disk: the seal line, then the data."""
    return b"%s%s %s\n%s" % (SEAL, key.encode("ascii"),
                             hashlib.sha256(data).hexdigest().encode("ascii"), data)


def unsealed(path: PurePath, key: str) -> bytes | None:
    """The data of a cache entry if it is a sound one made for key; None otherwise."""
    raw = read_plain(path)
    if raw is None or not raw.startswith(SEAL):
        return None
    head, _, data = raw.partition(b"\n")
    said = head[len(SEAL):].split(b" ")
    if len(said) != 2 or said[0] != key.encode("ascii", "replace") or \
            said[1] != hashlib.sha256(data).hexdigest().encode("ascii"):
        return None
    return data


def read_plain(path: PurePath) -> bytes | None:
    """A regular file's bytes, reached through no link in the cache; None otherwise."""
    folder = os.path.dirname(path)
    if os.path.islink(folder) or os.path.islink(os.path.dirname(folder)):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except (OSError, ValueError):
        return None
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode) or found.st_size > ENTRY_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def keep_entry(path: PurePath, key: str, data: bytes) -> bool:
    """Seal and write an entry, atomically; a cache that cannot be written (a full disk,
    a link planted for its folder) is only a slower next build, never a failed one."""
    folder = Path(os.path.dirname(path))
    if folder.is_symlink() or folder.parent.is_symlink():
        return False
    try:
        atomic_write(Path(path), sealed(key, data), sync=False)  # the seal finds a short one
    except OSError:
        return False
    return True
