"""The package layout the project promises: six packages, dependencies pointing inward."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["rldg_data", "builders", "collectors", "trainers", "viz", "robot_io"]


@pytest.mark.parametrize("name", PACKAGES)
def test_each_package_has_a_docstring(name):
    mod = importlib.import_module(name)
    assert mod.__doc__ and len(mod.__doc__.split()) >= 20


def test_core_imports_none_of_the_others():
    code = (
        "import sys, rldg_data, rldg_data.cli, rldg_data.io.reader, rldg_data.io.writer, rldg_data.validation.validate\n"
        "import pkgutil, importlib\n"
        "for m in pkgutil.walk_packages(rldg_data.__path__, 'rldg_data.'):\n"
        "    importlib.import_module(m.name)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {PACKAGES[1:]!r}]\n"
        "assert not bad, bad\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]


# rldg_data's own rooms, lowest first: a module may import its own room or a lower one, never a
# higher one or a peer on its level, at the top of the file or inside a function alike.
LAYERS = [
    {"errors", "compat"},
    {"configs", "cli_options"},
    {"contract"},
    {"io"},
    {"stats"},
    {"transforms"},
    {"policy"},
    {"validation"},
    {"loaders"},
    {"imports", "exports", "sharing", "mix"},
    {"__init__"},
    {"cli"},
]


def _imports_of(package: str) -> list[tuple[str, str]]:
    """(importing module, imported rldg module) for every import in `package`, anywhere in a file."""
    import ast
    from pathlib import Path

    root = Path(importlib.import_module(package).__file__).parent
    found = []
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        module = ".".join(parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] == package:
                    found.append((module, name))
    return found


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_rldg_data_rooms_import_only_lower_rooms():
    level = {room: i for i, rooms in enumerate(LAYERS) for room in rooms}
    bad = []
    for module, name in _imports_of("rldg_data"):
        a, b = _room(module), _room(name)
        assert a in level, f"{module}: room {a!r} is not in LAYERS; give it a level"
        if b in level and a != b and level[b] >= level[a]:
            bad.append(f"{module} imports {name} ({a} is level {level[a]}, {b} level {level[b]})")
    assert not bad, "\n".join(sorted(set(bad)))


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles_between_modules(package):
    """No cycle among a package's modules, counting imports inside functions too."""
    graph: dict[str, set[str]] = {}
    modules = {m for m, _ in _imports_of(package)}
    for module, name in _imports_of(package):
        target = name if name in modules else name.rsplit(".", 1)[0]
        if target in modules and target != module and not module.startswith(target + "."):
            graph.setdefault(module, set()).add(target)
    state: dict[str, int] = {}
    cycles = []

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(path[path.index(nxt):] + [nxt]) if nxt in path else nxt)
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(cycles)


def test_robot_hardware_room_never_imports_the_sim():
    hardware = ("robot_io.franka", "robot_io.cameras", "robot_io.teleop")
    bad = [f"{m} imports {n}" for m, n in _imports_of("robot_io")
           if m.startswith(hardware) and n.startswith("robot_io.sim")]
    assert not bad, "\n".join(bad)
