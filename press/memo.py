"""Warm-process memory: results kept by everything that decides them, for the next build.

A process that stays up (invoke serve, invoke watch, the benchmark's edit loop) builds the
same book again and again with one part changed. Each stage that works part by part keeps
its results here, keyed by its whole input, so a rebuild redoes only what a change reaches.
Kept results are shared between builds and must never be changed by their users.
"""
from __future__ import annotations

from collections import OrderedDict


class Memo:
    """A bounded map from a key to a result; the least recently used go first."""

    def __init__(self, limit: int = 256):
        self.limit = limit
        self.kept: OrderedDict = OrderedDict()
        self.hits = self.misses = 0

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

    def clear(self) -> None:
        self.kept.clear()
