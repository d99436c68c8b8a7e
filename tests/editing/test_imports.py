"""The editor's model stays pure: importing any module of ``wireflow_nb.editing``, or
drawing a workflow as SVG (``Workflow._repr_svg_``, what GitHub and nbviewer show), loads
no widget library. Each check runs in a fresh interpreter, so nothing a test imported
before can hide an import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WIDGET_LIBRARIES = ("ipywidgets", "ipycanvas", "IPython")
EDITING = sorted(p.stem for p in (REPO / "wireflow_nb" / "editing").glob("*.py") if p.stem != "__init__")


def widget_modules_after(code: str) -> list[str]:
    probe = (
        code
        + "\nimport json, sys\n"
        + f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {WIDGET_LIBRARIES!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_editing_modules_load_no_widget_library():
    assert len(EDITING) >= 10
    assert widget_modules_after("\n".join(f"import wireflow_nb.editing.{m}" for m in EDITING)) == []


def test_an_svg_picture_of_a_workflow_loads_no_widget_library():
    code = (
        "import wireflow_nb as wf\n"
        "f = wf.Workflow()\n"
        "f.add_node('input:text', id='a')\n"
        "f.add_node('image:resize', id='b', position=(400, 0))\n"
        "f.connect('a', 'text', 'b', 'image')\n"
        "assert f._repr_svg_().startswith('<svg')\n"
    )
    assert widget_modules_after(code) == []


def test_the_probe_sees_a_widget_library():
    # the check above would pass for nothing if the probe could not see one
    assert "ipywidgets" in widget_modules_after("import wireflow_nb.widgets")
