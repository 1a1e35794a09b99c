"""Problems found in a manuscript, each with a place, a stable code and a hint."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One finding: where it is, its stable code, what is wrong and what to do."""

    path: Path | str
    line: int | None
    code: str
    message: str
    hint: str = ""
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        text = f"{where}: {self.code} {self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text


class BuildError(Exception):
    """Raised with every problem found at once; the CLI turns it into an exit code."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def raise_if_any(problems: list[Problem]) -> None:
    """Stop the build when any problem is an error; warnings alone pass."""
    if any(p.severity == "error" for p in problems):
        raise BuildError(problems)


def unexpected(error: BaseException, where: Path | str = "press") -> Problem:
    """An error nobody foresaw, as one short coded problem instead of a traceback.

    Only the first line of its message is kept (an error can hold a whole chapter), cut
    to a readable length; the traceback itself is shown only when asked for.
    """
    lines = str(error).strip().splitlines()
    first = lines[0] if lines else ""
    said = first if len(first) <= 160 else first[:157] + "..."
    return Problem(where, None, "X001",
                   f"unexpected error: {type(error).__name__}" + (f": {said}" if said else ""),
                   "this is a fault in press, not in the manuscript; report it with "
                   "the traceback, which PRESS_TRACEBACK=1 shows")
