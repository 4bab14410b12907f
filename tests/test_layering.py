"""The rooms and who may import whom, read from the source (every `import`, at the top of a module
or inside a function): no cycles; the domain core imports nothing of ours above it; only the flows
and the application shell import Prefect; only the settings read the environment.

    plan/            the domain core
    notifications/   mail content and transport (plan)
    reports/         the upward report (plan)
    flows/           the Prefect flows (plan, notifications, reports, kehoach.settings)
    kehoach/         settings, the command line, the team stack, the web forms (everything)

The web forms (kehoach/forms/) do not import Prefect themselves: they resume waiting runs through
flows/resume.py, which does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("plan", "notifications", "reports", "flows", "kehoach")

# What each room may import of ours (besides itself).
ALLOWED = {
    "plan": set(),
    "notifications": {"plan"},
    "reports": {"plan"},
    "flows": {"plan", "notifications", "reports", "kehoach.settings"},
    "kehoach": {"plan", "notifications", "reports", "flows", "kehoach"},
}
PREFECT_FREE = ("plan", "notifications", "reports", "kehoach.settings", "kehoach.cli.inputs", "kehoach.cli.errors", "kehoach.forms")
# The one reading of the environment, and the one place that writes Prefect's settings into it.
ENVIRONMENT_READERS = {"kehoach.settings", "kehoach.prefect_defaults", "kehoach.plan_choice"}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module `name` imports (ours resolved to module names, others by their top package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return found


def _ours(imported: str) -> str | None:
    """The module of ours an import names (its longest known prefix), or None."""
    parts = imported.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return None


GRAPH = {name: {m for m in map(_ours, _imports(name, path)) if m and m != name} for name, path in MODULES.items()}


def _room(module: str) -> str:
    return module.split(".")[0]


def test_the_import_graph_has_no_cycle():
    # Tarjan's strongly connected components; any component of more than one module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
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
                cycles.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"


def test_the_graph_sees_the_imports_it_must():
    """The checks below are only as good as the graph: it reads imports inside functions too."""
    assert "flows.dispatch" in GRAPH["flows.plan_run"]
    assert "flows.orphans" in GRAPH["kehoach.stack.doctor"]
    assert "kehoach.cli.tables" in GRAPH["kehoach.cli.plan_commands"], "a function-level import"
    assert "kehoach.settings" in GRAPH["kehoach.cli.inputs"], "a function-level import"


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_each_room_imports_only_the_rooms_below_it(room):
    wrong = sorted(
        f"{module} → {target}"
        for module, targets in GRAPH.items()
        if _room(module) == room
        for target in targets
        if _room(target) != room and not any(target == allowed or target.startswith(allowed + ".") or _room(target) == allowed for allowed in ALLOWED[room])
    )
    assert not wrong, f"{room}/ imports what it must not: {wrong}"


def test_flows_use_only_the_settings_of_the_application_shell():
    wrong = sorted(f"{m} → {t}" for m, ts in GRAPH.items() if _room(m) == "flows" for t in ts if _room(t) == "kehoach" and t != "kehoach.settings")
    assert not wrong, wrong


@pytest.mark.parametrize("prefix", PREFECT_FREE)
def test_the_core_never_imports_prefect(prefix):
    wrong = sorted(
        module
        for module, path in MODULES.items()
        if module == prefix or module.startswith(prefix + ".")
        for imported in _imports(module, path)
        if imported.split(".")[0] == "prefect"
    )
    assert not wrong, f"import Prefect: {wrong}"


def _environment_uses(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv", "environb"):
            if isinstance(node.value, ast.Name) and node.value.id == "os":
                lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and any(a.name in ("environ", "getenv") for a in node.names):
            lines.append(node.lineno)
    return lines


def test_only_the_settings_read_the_environment():
    readers = {f"{MODULES[m].relative_to(REPO)}:{line}" for m in MODULES if m not in ENVIRONMENT_READERS for line in _environment_uses(MODULES[m])}
    assert not readers, f"os.environ outside kehoach/settings.py: {sorted(readers)}"
    assert _environment_uses(MODULES["kehoach.settings"]), "the check must see what it looks for"
