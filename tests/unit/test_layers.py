"""The layering of docs/architecture.md, read from the source with ``ast``: imports only go downward.

Layers, bottom up: the shared base ``seatwatch.core`` (site model, contract, schema, settings, MQTT client,
config reading, the IEC 61672-1 acoustics and the photometry); the stages of the data flow
(``firmware_bridge``, ``ingest``, ``analysis``, ``dashboards``), which import the base and never each
other; the tools that orchestrate stages (``seatwatch.cli``, ``seatwatch.demo``, ...). Every import is
read, including those inside functions, because a lazy import is still a dependency. The module graph
must also be free of cycles, so that any module can be read, tested and moved with what it imports.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("firmware_bridge", "ingest", "analysis", "dashboards")
PACKAGES = ("seatwatch", *STAGES)
BASE = "seatwatch.core"


def layer_of(module: str) -> tuple[int, str]:
    """(rank, name) of a module's layer: 0 base, 1 a stage (named, so stages can be told apart), 2 tools.

    The package ``seatwatch`` itself (its ``__init__``: the version) counts as base; every other module
    of ``seatwatch`` outside ``seatwatch.core`` is a tool.
    """
    top = module.split(".")[0]
    if module == "seatwatch" or module == BASE or module.startswith(BASE + "."):
        return 0, "base"
    if top in STAGES:
        return 1, top
    return 2, "tools"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if ".venv" not in path.parts
    }


def imports_of(path: Path, module: str, known: Iterable[str]) -> set[str]:
    """Every project module that ``path`` imports (absolute or relative, at any depth in the file).

    ``from package import name`` names a module when ``package.name`` is one, else the package itself.
    """
    known = set(known)

    def nearest(name: str) -> str:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name

    found: set[str] = set()
    parts = module.split(".")
    keep = len(parts) if path.name == "__init__.py" else len(parts) - 1
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(nearest(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = parts[: keep - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                named = f"{base}.{alias.name}"
                found.add(named if named in known else nearest(base))
    found.discard("")
    found.discard(module)
    return found


@cache
def _graph() -> tuple[tuple[str, frozenset[str]], ...]:
    modules = source_modules()
    return tuple((module, frozenset(imports_of(path, module, modules))) for module, path in modules.items())


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (a fresh copy: tests may add an edge to it)."""
    return {module: set(targets) for module, targets in _graph()}


def layer_violations(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Imports that go up a layer, or across from one stage to another."""
    problems = []
    for module, targets in sorted(graph.items()):
        rank, name = layer_of(module)
        for target in sorted(targets):
            target_rank, target_name = layer_of(target)
            if target_rank > rank:
                problems.append(
                    f"{module} -> {target}: the {name} layer imports the {target_name} layer above it"
                )
            elif target_rank == rank == 1 and target_name != name:
                problems.append(f"{module} -> {target}: stage {name} imports stage {target_name}")
    return problems


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each a cycle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_import_goes_down_a_layer_and_no_stage_imports_another() -> None:
    graph = import_graph()
    assert len(graph) > 100, "the source tree was not found"
    assert layer_violations(graph) == []


def test_the_module_graph_has_no_cycle() -> None:
    assert cycles(import_graph()) == []


@pytest.mark.parametrize(
    ("module", "target"),
    [
        ("firmware_bridge.drivers.modbus_rtu", "analysis.compliance.stats"),  # a stage on another stage
        ("seatwatch.core.site", "ingest.sink"),  # the base on a stage
        ("ingest.sink", "seatwatch.demo.command"),  # a stage on a tool
        ("seatwatch.core.acoustics.meter", "seatwatch.cli"),  # the base on a tool
    ],
)
def test_a_reintroduced_wrong_import_is_found(module: str, target: str) -> None:
    """The checks above would fail: the real graph with one wrong import added."""
    graph = import_graph()
    assert module in graph and target in graph
    graph[module] = {*graph[module], target}
    assert any(problem.startswith(f"{module} -> {target}:") for problem in layer_violations(graph))


def test_a_reintroduced_cycle_is_found() -> None:
    graph = import_graph()
    graph["seatwatch.core.hours"] = {*graph["seatwatch.core.hours"], "seatwatch.core.site"}
    assert ["seatwatch.core.hours", "seatwatch.core.site"] in cycles(graph)


def test_relative_and_lazy_imports_are_read(tmp_path: Path) -> None:
    """A relative import and one inside a function both count (the parser is what the checks stand on)."""
    package = tmp_path / "ingest"
    package.mkdir()
    source = package / "mod.py"
    source.write_text("def f():\n    from .sink import x\n    import analysis.compliance.stats\n")
    found = imports_of(source, "ingest.mod", {"ingest.sink", "analysis.compliance.stats", "analysis"})
    assert found == {"ingest.sink", "analysis.compliance.stats"}
