"""The benchmark's results: measures with their samples, the printed table, JSON, comparison."""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from press.util.write import atomic_write

SCHEMA = 1


@dataclass
class Measure:
    """One row of the table: every sample taken, and the target it must meet, if any."""

    key: str
    label: str
    unit: str  # "s", "MB", "pages", "ratio", "rate" (per second) or "count"
    samples: list[float] = field(default_factory=list)
    target: float | None = None  # the median must be at most this
    note: str | None = None  # why there are no samples, or what to read into them

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def passed(self) -> bool | None:
        if self.target is None or self.median is None:
            return None
        return self.median <= self.target

    def as_json(self) -> dict:
        return {"label": self.label, "unit": self.unit,
                "samples": [round(x, 4) for x in self.samples],
                "median": self.median, "min": min(self.samples, default=None),
                "max": max(self.samples, default=None),
                "target": None if self.target is None else {"max": self.target},
                "pass": self.passed, "note": self.note}


def number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("pages", "count"):
        return f"{value:g}"
    if unit == "rate":
        return f"{value:.1f}"
    return f"{value:.2f}" if unit in ("s", "ratio") and value < 100 else f"{value:.0f}"


def verdict(measure: Measure) -> str:
    if measure.target is None:
        return ""
    if measure.passed is None:
        return "n/a"
    return "pass" if measure.passed else "FAIL"


def table(measures: list[Measure]) -> str:
    """Plain text, aligned: measure, samples, median, min, max, target, verdict, note."""
    rows = [("measure", "n", "median", "min", "max", "target", "result", "")]
    for m in measures:
        label = f"{m.label} ({m.unit})" if m.unit in ("s", "MB") else m.label
        low, high = min(m.samples, default=None), max(m.samples, default=None)
        rows.append((label, str(len(m.samples)), number(m.median, m.unit),
                     number(low, m.unit), number(high, m.unit), target(m), verdict(m),
                     m.note or ""))
    return align(rows)


def target(m: Measure) -> str:
    return "" if m.target is None else f"<= {m.target:g}"


def align(rows: list[tuple[str, ...]]) -> str:
    """Text columns (the first and last) to the left, numbers to the right; a rule under
    the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), *(c.rjust(w) for c, w in
                                            zip(row[1:-1], widths[1:-1])), row[-1]]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("-" * max(len(line) for line in lines))
    return "\n".join(lines)


def write_results(results: dict, out: Path, stamp: str) -> Path:
    """results-<stamp>.json for the record, latest.json for the next comparison."""
    data = (json.dumps(results, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    path = out / f"results-{stamp}.json"
    atomic_write(path, data)
    atomic_write(out / "latest.json", data)
    return path


def compare(old: dict, new: dict) -> str:
    """Each measure's median before and after, and the change, as an aligned table."""
    def name(r):
        return f"{(r.get('commit') or '?')[:10]}{'+' if r.get('dirty') else ''}"

    rows = [("measure", name(old), name(new), "change", "result", "")]
    for key, after in new["measures"].items():
        before = old.get("measures", {}).get(key, {})
        a, b = before.get("median"), after.get("median")
        change = f"{(b - a) / a * 100:+.0f}%" if a and b is not None else ""
        result = {True: "pass", False: "FAIL", None: ""}[after.get("pass")]
        unit = after["unit"]
        label = f"{after['label']} ({unit})" if unit in ("s", "MB") else after["label"]
        rows.append((label, number(a, unit), number(b, unit), change, result, ""))
    notes = []
    if old.get("parameters") != new.get("parameters"):
        notes.append("note: the two runs used different parameters; compare with care")
    return "\n".join([align(rows), *notes])


def load(path: Path) -> dict:
    data = json.loads(Path(path).read_text("utf-8"))
    if data.get("schema") != SCHEMA or "measures" not in data:
        raise ValueError(f"{path} is not a benchmark result written by `invoke bench`")
    return data
