"""The architecture, enforced: which stage may import which, and no import cycles.

The rule (also in README.md, "Code layout"):
  schemas       imports nothing of the project but itself
  jobs.errors   schemas                                   (the closed set of reject reasons)
  jobs.parse    schemas, jobs.errors                      (pure: bytes -> record)
  jobs.lake     schemas, jobs.errors                      (the dataset on disk)
  jobs.run      jobs.parse, jobs.lake, schemas, jobs.errors
  jobs.analyst  jobs.run, jobs.parse, jobs.lake, schemas, jobs.errors
  jobs.cli      anything
Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

from paths import REPO

ALLOWED: dict[str, set[str]] = {
    "schemas": set(),
    "jobs.errors": {"schemas"},
    "jobs": set(),
    "jobs.parse": {"schemas", "jobs.errors"},
    "jobs.lake": {"schemas", "jobs.errors"},
    "jobs.run": {"jobs.parse", "jobs.lake", "schemas", "jobs.errors"},
    "jobs.analyst": {"jobs.run", "jobs.parse", "jobs.lake", "schemas", "jobs.errors"},
    "jobs.cli": {"jobs", "jobs.run", "jobs.parse", "jobs.lake", "jobs.analyst", "schemas", "jobs.errors"},
}


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in ("jobs", "schemas"):
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imports_of(path: Path, module: str, known: set[str]) -> set[str]:
    """Project modules that `module` imports (anywhere in the file), resolved to modules, not names."""
    found = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return {name for name in found if name in known}


def stage_of(module: str) -> str:
    for stage in sorted(ALLOWED, key=len, reverse=True):
        if module == stage or module.startswith(stage + "."):
            return stage
    raise AssertionError(f"{module} belongs to no stage: add it to the import rule")


def graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(path, name, set(modules)) for name, path in modules.items()}


def test_every_module_respects_the_import_rule():
    broken = []
    for module, imported in graph().items():
        stage = stage_of(module)
        for target in imported:
            target_stage = stage_of(target)
            if target_stage != stage and target_stage not in ALLOWED[stage]:
                broken.append(f"{module} imports {target} ({stage} may not import {target_stage})")
    assert not broken, "\n".join(broken)


def test_no_import_cycles():
    edges = graph()
    cycles = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges[node]):
            if target == node:
                continue
            if state.get(target) == 1:
                cycles.append(" -> ".join(trail[trail.index(target):] + [node, target]) if target in trail
                              else f"{node} -> {target}")
            elif target not in state:
                visit(target, trail + [node])
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [])
    assert not cycles, "\n".join(cycles)


def test_the_rule_catches_a_violation(tmp_path):
    """The checker itself can fail: a parse module importing the lake is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from jobs.lake.store import Store\n", encoding="utf-8")
    imported = imports_of(bad, "jobs.parse.bad", set(project_modules()))
    assert imported == {"jobs.lake.store"}
    assert stage_of("jobs.lake.store") not in ALLOWED[stage_of("jobs.parse.bad")]


def test_readme_code_layout_names_every_module_and_only_existing_ones():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Code layout", 1)[1].split("```", 2)[1]
    named = set()
    folder: list[str] = []
    for line in block.splitlines():
        indent = len(line) - len(line.lstrip())
        words = line.split()
        if not words:
            continue
        if words[0].endswith("/"):
            folder = folder[: indent // 2] + [words[0].rstrip("/")]
            continue
        base = "/".join(folder[: indent // 2])
        for word in words:
            for name in word.replace(";", " ").replace(",", " ").replace("(", " ").replace(")", " ").split():
                if name.endswith(".py"):
                    named.add(f"{base}/{name}" if base else name)
    modules = {str(p.relative_to(REPO)) for package in ("jobs", "schemas") for p in (REPO / package).rglob("*.py")
               if p.name != "__init__.py" and "sources" not in p.parts}
    assert modules - named == set(), "modules missing from README's code layout"
    assert {n for n in named if n.startswith(("jobs/", "schemas/"))} - modules == set(), "README names modules that do not exist"
