"""The layers, enforced: engine → actions → review → {cli, tui}; no import circle anywhere.

Why an AST walk over every module rather than importing a few: an import inside a function,
or under ``if TYPE_CHECKING``, is a dependency too (a type-only import still ties two modules
together), and a hand-picked list misses the module someone adds next. Every ``import`` and
``from ... import`` statement of every module under tui_dedup/ is read here.

Also checked: only ``tui_dedup/actions`` calls the functions that rename, link, unlink or
replace a file; our own files (cache, remembered matches, state, a user's ``-o`` output, the
demo library) are written by the named modules listed below, which take paths under the cache
or state dir, the user's ``-o``, or a folder they create themselves.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tui_dedup

PKG = Path(tui_dedup.__file__).parent
RANK = {"engine": 0, "actions": 1, "review": 2, "cli": 3, "tui": 3}
#: Self-contained helpers at the engine's rank (the package itself holds only its version).
SUPPORT = {"tui_dedup", "tui_dedup.demo", "tui_dedup.stdio"}
TOP = {"tui_dedup.__main__"}
HEADLESS_RANK = 2  # up to review: never textual or rich
#: The one place the command line opens the app.
CLI_TO_TUI = {"tui_dedup.cli.entry"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The tui_dedup module ``name`` refers to (its longest existing prefix)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> list[tuple[str, int]]:
    """Every module this one imports (tui_dedup modules resolved; others by their top name),
    with the line: function-level and TYPE_CHECKING imports included."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.append((alias.name, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                src = ".".join(base + ([node.module] if node.module else []))
            else:
                src = node.module or ""
            for alias in node.names:
                full = f"{src}.{alias.name}"
                out.append((full if full in MODULES else src, node.lineno))
    return out


def _layer(module: str) -> tuple[str, int]:
    if module in TOP:
        return "top", 9
    if module in SUPPORT:
        return "support", 0
    part = module.split(".")[1]
    return part, RANK[part]


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for m in MODULES:
        for name, _line in imports_of(m):
            target = _resolve(name) if name.startswith("tui_dedup") else None
            if target is not None and target != m:
                graph[m].add(target)
    return graph


def test_every_module_is_in_a_layer():
    for m in MODULES:
        _layer(m)  # KeyError names a module outside engine/actions/review/cli/tui


def test_no_module_imports_a_layer_above_its_own():
    bad = []
    for m in MODULES:
        layer, rank = _layer(m)
        for name, line in imports_of(m):
            top = name.split(".")[0]
            if rank <= HEADLESS_RANK and top in ("textual", "rich", "textual_image"):
                bad.append(f"{m}:{line} imports {name} (headless layers never do)")
            target = _resolve(name) if top == "tui_dedup" else None
            if target is None or target == m:
                continue
            t_layer, t_rank = _layer(target)
            if (t_rank > rank and layer != "top") or (
                {layer, t_layer} == {"cli", "tui"} and not (layer == "cli" and m in CLI_TO_TUI)
            ):
                bad.append(f"{m}:{line} ({layer}) imports {target} ({t_layer})")
    assert bad == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    x = stack.pop()
                    on_stack.discard(x)
                    comp.append(x)
                    if x == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_no_import_circle_anywhere():
    assert _cycles(_graph()) == []


def test_the_circle_finder_finds_circles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


#: Calls that rename, link, unlink or replace a file, by the name they are called through.
FILE_CHANGING = {
    "os.unlink",
    "os.remove",
    "os.rename",
    "os.renames",
    "os.replace",
    "os.link",
    "os.symlink",
    "os.rmdir",
    "os.removedirs",
    "shutil.move",
    "shutil.rmtree",
    "shutil.copy",
    "shutil.copy2",
    "shutil.copyfile",
    "send2trash",
    "send2trash.send2trash",
}
METHODS_CHANGING = {"unlink", "rename", "rmdir", "symlink_to", "hardlink_to"}
#: ``x.replace(target)``: Path.replace takes one argument, str.replace two or three.
ONE_ARG_METHODS = {"replace"}
#: The same, imported by name (``from os import unlink``); not ``replace`` or ``copy``,
#: which are far more often dataclasses.replace and copy.copy.
BARE_CHANGING = {
    "unlink",
    "remove",
    "rename",
    "renames",
    "link",
    "symlink",
    "rmdir",
    "removedirs",
    "move",
    "rmtree",
    "copyfile",
    "copy2",
    "send2trash",
}
#: Our own files, each written by one named module, and why it is safe there.
OWN_FILES = {
    "tui_dedup.engine.cache.db": "the feature cache database, in the cache dir",
    "tui_dedup.engine.cache.snapshot": "store snapshots beside the cache database",
    "tui_dedup.engine.cache.matches": "remembered match results in the cache dir",
    "tui_dedup.review.export_file": "the user's -o file, written beside it and renamed over it",
    "tui_dedup.stdio": "nothing on disk: file descriptors only",
    "tui_dedup.demo": "the --demo library it generated in its own temp folder, at exit",
}


def _calls(module: str) -> list[tuple[str, int]]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Attribute):
            base = f.value
            name = f"{base.id}.{f.attr}" if isinstance(base, ast.Name) else f.attr
            one_arg = f.attr in ONE_ARG_METHODS and len(node.args) == 1 and not node.keywords
            if name in FILE_CHANGING or f.attr in METHODS_CHANGING or one_arg:
                out.append((name, node.lineno))
        elif isinstance(f, ast.Name) and f.id in BARE_CHANGING:
            out.append((f.id, node.lineno))
    return out


def test_only_actions_changes_a_users_files():
    bad = []
    for m in MODULES:
        if m.startswith("tui_dedup.actions") or m in OWN_FILES:
            continue
        bad += [f"{m}:{line} calls {name}" for name, line in _calls(m)]
    assert bad == []


@pytest.mark.parametrize("module", sorted(OWN_FILES))
def test_each_own_file_writer_exists(module):
    assert module in MODULES, f"{module} is listed as writing our own files but is gone"
