"""`pipelines/` has no import cycle: the graph of imports between its modules (every import,
also the ones inside functions) is acyclic. Built with ast, so nothing is imported."""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "pipelines"


def module_names(root: Path, package: str) -> dict[str, Path]:
    out = {}
    for path in (root / package).rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join(base + ([target] if target else []))


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """module -> modules of `package` it imports (anywhere in the file)."""
    modules = module_names(root, package)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = (_resolve_relative(module, is_package, node.level, node.module)
                        if node.level else node.module or "")
                # `from pkg import name`: name may be a submodule
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            for t in targets:
                # `import a.b.c` depends on the deepest module of ours that it names
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t != module:
                    graph[module].add(t)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}   # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_cycle_finder_finds_a_hand_made_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_graph_sees_imports_inside_functions_and_relative_ones(tmp_path):
    pkg = tmp_path / "p"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from p.sub import b\n")
    (pkg / "sub" / "b.py").write_text("from ..a import f\nimport numpy\n")
    g = import_graph(tmp_path, "p")
    assert g["p.a"] == {"p.sub.b"}
    assert g["p.sub.b"] == {"p.a"}
    assert find_cycle(g) == ["p.a", "p.sub.b", "p.a"]


def test_pipelines_has_no_import_cycle():
    graph = import_graph(REPO, PACKAGE)
    assert "pipelines.core" in graph and "pipelines.ranking.pipeline" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in pipelines/: " + " -> ".join(cycle)


def test_core_helpers_import_nothing_from_pipelines():
    graph = import_graph(REPO, PACKAGE)
    assert graph["pipelines.core"] == set()
