"""The layers of the package, checked: what a light use of it must not load, and no import
cycle between its modules (imports inside functions count; ``TYPE_CHECKING`` blocks do not).

Each check runs in a fresh interpreter, so what an earlier test imported cannot hide a
layering fault.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wireflow_nb"

HEAVY = ("ipywidgets", "ipycanvas", "IPython", "httpx", "starlette", "uvicorn")


def loaded_after(code: str) -> list[str]:
    """The modules of ``HEAVY`` (and ``wireflow_nb.*``) in ``sys.modules`` after ``code``
    runs in a fresh interpreter."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        """
        import json as _json, sys as _sys
        print(_json.dumps(sorted(_sys.modules)))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PACKAGE.parent,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def heavy_in(modules: list[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules if m.split(".")[0] in HEAVY})


def test_building_validating_drawing_and_a_local_run_load_no_widgets_http_or_server() -> None:
    modules = loaded_after(
        """
        import wireflow_nb as wf
        flow = wf.Workflow(id="layers")
        text = flow.add_node("input:text", text="a fox")
        image = flow.add_node("model:fal:text-to-image", width=64, height=64, seed=1)
        flow.connect(text, "text", image, "prompt")
        flow.validate()
        assert "<svg" in flow._repr_svg_()
        flow.to_request()
        engine = wf.LocalEngine(home=":memory:", model_latency=0)
        (result,) = engine.run("layers", flow)
        assert str(result.state) == "COMPLETED", result
        engine.close()
        """
    )
    assert heavy_in(modules) == []


def test_import_wireflow_nb_is_light() -> None:
    modules = loaded_after("import wireflow_nb")
    assert heavy_in(modules) == []
    assert "numpy" not in modules


def test_engine_loads_no_http_client_or_widgets() -> None:
    modules = loaded_after("import wireflow_nb.engine")
    assert heavy_in(modules) == []


def test_models_import_nothing_else_of_the_package() -> None:
    # statically: no module of models/ imports a module of the package outside models/,
    # at module level or inside a function
    for path in sorted((PACKAGE / "models").glob("*.py")):
        outside = sorted(
            t for t in imports_of(path) if t.startswith("wireflow_nb") and not t.startswith("wireflow_nb.models")
        )
        assert outside == [], f"models/{path.name} imports {outside}"
    # and at run time: the reprs (imported on use) load nothing new outside models/
    before = set(loaded_after("import wireflow_nb"))
    after = loaded_after(
        """
        import wireflow_nb.models as m
        m.PollResponse.model_validate({"status": "COMPLETED"})._repr_html_()
        m.ExecuteResponse.model_validate({"workflowId": "w", "executionRuns": []})._repr_html_()
        """
    )
    new = sorted(x for x in set(after) - before if x.startswith("wireflow_nb"))
    assert [x for x in new if not x.startswith("wireflow_nb.models")] == []


# -- import cycles ----------------------------------------------------------------------


def module_name(path: Path, root: Path = PACKAGE.parent) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (getattr(test, "id", None) or getattr(test, "attr", None)) == "TYPE_CHECKING"


def imports_of(path: Path, root: Path = PACKAGE.parent) -> set[str]:
    """Every module of the package ``path`` imports, at module level or inside functions;
    ``from X import name`` counts as ``X.name`` when that is a module."""
    name = module_name(path, root)
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for n in child.orelse:
                    walk(n)
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    if child.level > 1:
                        base = base[: len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                found.add(target)
                found.update(f"{target}.{a.name}" for a in child.names)
            elif isinstance(child, ast.Call):
                func = child.func
                called = getattr(func, "attr", None) or getattr(func, "id", None)
                if called == "import_module" and child.args and isinstance(child.args[0], ast.Constant):
                    found.add(str(child.args[0].value))
            walk(child)

    walk(ast.parse(path.read_text(encoding="utf-8")))
    return found


def import_graph(package: Path) -> dict[str, set[str]]:
    root = package.parent
    files = {module_name(p, root): p for p in package.rglob("*.py") if "__pycache__" not in p.parts}
    return {mod: {t for t in imports_of(path, root) if t in files and t != mod} for mod, path in files.items()}


def cycles_between_modules(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of two or more plain modules (a package ``__init__`` that
    re-exports its submodules is not a module that can be half-initialised by them)."""
    from wireflow_nb.graphs import find_cycles

    plain = {m: {t for t in targets if not is_package_init(t, graph)} for m, targets in graph.items()}
    plain = {m: t for m, t in plain.items() if not is_package_init(m, graph)}
    return find_cycles(plain, ((m, t) for m, targets in plain.items() for t in targets))


def is_package_init(module: str, graph: dict[str, set[str]]) -> bool:
    return any(other.startswith(module + ".") for other in graph)


def test_no_import_cycle_between_modules() -> None:
    cycles = cycles_between_modules(import_graph(PACKAGE))
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_cycle_check_finds_a_cycle_inside_a_function(tmp_path: Path) -> None:
    pkg = tmp_path / "wireflow_nb"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from .a import A\n")
    (pkg / "sub" / "a.py").write_text("from .b import B\nA = 1\n")
    (pkg / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c import C\n"
        "def f():\n    from . import a\n    return a\nB = 2\n"
    )
    (pkg / "sub" / "c.py").write_text("from .b import B\n")
    found = cycles_between_modules(import_graph(pkg))
    assert [sorted(set(cycle)) for cycle in found] == [["wireflow_nb.sub.a", "wireflow_nb.sub.b"]]


@pytest.mark.parametrize("limit", [600])
def test_no_module_over_the_size_of_one_concept(limit: int) -> None:
    sizes = {
        module_name(p): sum(1 for _ in p.open(encoding="utf-8"))
        for p in PACKAGE.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert {m: n for m, n in sizes.items() if n > limit} == {}


# -- the package map of docs/INTERNALS.md ------------------------------------------------

INTERNALS = PACKAGE.parent / "docs" / "INTERNALS.md"


def allowed_imports() -> dict[str, set[str]]:
    """part -> the parts it may import, from the table of docs/INTERNALS.md."""
    text = INTERNALS.read_text(encoding="utf-8")
    table = text.split("<!-- layers:", 1)[1]
    allowed: dict[str, set[str]] = {}
    for line in table.splitlines()[1:]:
        if not line.startswith("|"):
            if allowed:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("part", "---") or set(cells[0]) <= {"-"}:
            continue
        part = cells[0].strip("`")
        may = cells[2]
        allowed[part] = set() if may == "nothing" else {p.strip() for p in may.split(",")}
    return allowed


def part_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "wireflow_nb"


def test_every_part_imports_only_what_the_package_map_allows() -> None:
    allowed = allowed_imports()
    graph = import_graph(PACKAGE)
    parts = {part_of(m) for m in graph} - {"wireflow_nb", "_version"}
    assert parts <= set(allowed), f"parts missing from the map in docs/INTERNALS.md: {sorted(parts - set(allowed))}"
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if (src := part_of(module)) not in ("wireflow_nb", "_version")
        and (dst := part_of(target)) != src
        and dst != "_version"
        and dst not in allowed[src]
    )
    assert wrong == []


def test_the_map_check_sees_a_forbidden_import() -> None:
    allowed = allowed_imports()
    assert allowed["models"] == set()
    assert "widgets" not in allowed["engine"] and "client" not in allowed["engine"]
    assert "engine" in allowed["widgets"]
    # the table has every row (a parse that stopped early would allow everything)
    assert {"models", "graphs", "catalog", "workflow", "engine", "client", "server", "widgets"} <= set(allowed)
