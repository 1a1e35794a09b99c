"""The package's shape, checked statically: stages import one way, no module keeps state,
and every problem code is registered and documented."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import PROJECT
from press.problems import CODES

PACKAGE = PROJECT / "press"
# The stages in pipeline order: a module may import from its own stage and from those
# before it, never from a later one. pipeline and workspace chain and keep them all.
ORDER = ["util", "problems", "model", "source", "enrich", "render", "pdf", "epub", "site",
         "check", "workspace", "pipeline", "lint", "tools", "live"]
# Calls whose result cannot change, allowed as module-level values.
PURE_CALLS = {"re.compile", "frozenset", "tuple", "struct.Struct", "MappingProxyType",
              "Path", "hashlib.sha256", "secrets.token_hex", "getattr", "str", "int",
              "TypeVar", "range", "dict", "hexdigest"}
MUTATORS = {"append", "extend", "update", "add", "setdefault", "pop", "popitem", "clear",
            "remove", "insert", "discard", "move_to_end", "sort"}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(PROJECT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path, known) -> set[str]:
    """The package's modules this module imports, at any depth (function-level too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("press"):
            names = [f"{node.module}.{a.name}" for a in node.names]
            out |= {n for n in names if n in known} or {node.module}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
    return out


def stage(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def test_stages_import_only_earlier_stages():
    known = modules()
    wrong = []
    for name, path in known.items():
        for target in imports(path, known):
            if target in ("press", name) or name.startswith(target + "."):
                continue
            if ORDER.index(stage(target)) > ORDER.index(stage(name)):
                wrong.append(f"{name} -> {target}")
    assert not wrong, "imports against the pipeline's direction: " + ", ".join(wrong)


def test_no_import_cycle_between_modules():
    known = modules()
    edges = {name: {t for t in imports(path, known) if t != name and not
                    name.startswith(t + ".") and t != "press"} for name, path in known.items()}
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                pytest.fail("import cycle: " + " -> ".join(path[path.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])


def call_name(node: ast.Call) -> str:
    func = node.func
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def state_in(path: Path) -> list[str]:
    """Module-level state: mutable values, caches, globals, patches of other modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, names = [], set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) and node.value else []
        value = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Attribute):
                found.append(f"line {node.lineno}: sets {ast.unparse(target)} at import")
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        if targets and isinstance(value, (ast.List, ast.Set, ast.ListComp, ast.SetComp,
                                          ast.DictComp)):
            found.append(f"line {node.lineno}: a mutable {type(value).__name__}")
        if targets and isinstance(value, ast.Dict) and not all(
                isinstance(t, ast.Name) and t.id.isupper() for t in targets):
            found.append(f"line {node.lineno}: a mutable dict")
        if targets and isinstance(value, ast.Call) and call_name(value) not in PURE_CALLS:
            found.append(f"line {node.lineno}: {call_name(value)}() made at import")
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.append(f"line {node.lineno}: global {', '.join(node.names)}")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for deco in node.decorator_list:
                if "cache" in ast.unparse(deco):
                    found.append(f"line {node.lineno}: {ast.unparse(deco)} on {node.name}")
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                value = getattr(item, "value", None)
                if isinstance(item, (ast.Assign, ast.AnnAssign)) and isinstance(
                        value, (ast.Dict, ast.List, ast.Set)) or (
                        isinstance(value, ast.Call) and isinstance(item, ast.Assign)
                        and call_name(value) not in PURE_CALLS):
                    found.append(f"line {item.lineno}: a class-level {ast.unparse(value)[:30]}")
        # A module-level name changed later: a table used as a cache.
        target = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in MUTATORS and isinstance(node.func.value, ast.Name):
            target = node.func.value.id
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
                    target = t.value.id
        if target in names:
            found.append(f"line {node.lineno}: changes the module-level {target}")
    return found


def test_no_module_keeps_state():
    found = {name: state_in(path) for name, path in modules().items()}
    found = {name: lines for name, lines in found.items() if lines}
    assert not found, "module-level state (it belongs in the Workspace): " + "; ".join(
        f"{name}: {', '.join(lines)}" for name, lines in found.items())


def test_the_static_check_finds_state(tmp_path):
    """The check above can fail: each kind of state it looks for is found."""
    sample = tmp_path / "sample.py"
    sample.write_text("import functools, weasyprint\nfrom press.util.memo import Memo\n"
                      "KEPT = Memo(8)\nSEEN = {}\nseen = {}\nweasyprint.x = 1\n"
                      "@functools.lru_cache\ndef f():\n    global KEPT\n    SEEN['a'] = 1\n"
                      "class C:\n    _all = []\n", encoding="utf-8")
    kinds = " ".join(state_in(sample))
    for expected in ("Memo() made at import", "a mutable dict", "sets weasyprint.x",
                     "lru_cache", "global KEPT", "changes the module-level SEEN",
                     "class-level"):
        assert expected in kinds


def test_every_code_is_registered_and_documented():
    used = set()
    for path in [*PACKAGE.rglob("*.py"), PROJECT / "tasks.py"]:
        used |= set(re.findall(r"\"([A-Z]\d{3})\"", path.read_text(encoding="utf-8")))
    assert used - set(CODES) == set(), "codes used but not registered"
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"\b([A-Z]\d{3})\b", readme))
    assert set(CODES) - documented == set(), "registered codes the README does not explain"
    assert documented - set(CODES) == set(), "codes the README names that do not exist"


def test_a_problem_needs_a_registered_code():
    from press.problems import Problem

    with pytest.raises(ValueError):
        Problem("x.md", 1, "Q999", "no such code")
