"""How many processes a build may run side by side (Pandoc lanes, typesetting workers)."""
from __future__ import annotations

import os


def usable_cores(most: int = 4) -> int:
    """The cores this process may run on (its affinity, not the machine's count), at most
    `most`: how many Pandoc lanes and typesetting workers a build starts."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count() or 1
    return max(1, min(most, cores))
