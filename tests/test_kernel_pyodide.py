"""localyst.kernel inside real Pyodide 0.27.7 under Node, as the kernel worker runs it.

The localyst wheel is loaded by its path, without the app's dependencies (Panel, Bokeh,
openai, ...), exactly as site/kernel-worker.js loads it; numpy, pandas and matplotlib by
their names in the site lock. One Node process serves the whole module.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.pyodide_node import PyodideNode

pytestmark = pytest.mark.pyodide

PRELUDE = """
import json
from localyst.kernel import Kernel

kernel = Kernel(data_dir="/data")

async def cell(code):
    return (await kernel.run_async(code)).as_dict()
"""


def localyst_wheel(pyodide_dir: Path) -> Path:
    lock = json.loads((pyodide_dir / "pyodide-lock.json").read_text())
    return pyodide_dir / lock["packages"]["localyst"]["file_name"]


@pytest.fixture(scope="module")
def node(built_site: Path) -> Iterator[PyodideNode]:
    pyodide_dir = built_site / "pyodide"
    started = time.perf_counter()
    runner = PyodideNode(pyodide_dir, [str(localyst_wheel(pyodide_dir)), "numpy", "pandas", "matplotlib"])
    runner.run(PRELUDE)
    print(f"\nNode: Pyodide + localyst + numpy/pandas/matplotlib + Kernel in {time.perf_counter() - started:.1f} s")
    yield runner
    runner.close()


def cell(node: PyodideNode, code: str, **kwargs: Any) -> dict[str, Any]:
    return node.run(f"await cell({code!r})", **kwargs)


def test_the_kernel_runs_without_the_app_packages(node: PyodideNode) -> None:
    loaded = node.run("import pyodide_js, sys; [sorted(pyodide_js.loadedPackages.object_keys()), sorted(m for m in sys.modules if m.split('.')[0] in ('panel', 'bokeh', 'openai'))]")
    packages, app_modules = loaded
    assert "localyst" in packages and "pandas" in packages
    assert not {"panel", "bokeh", "openai", "pydantic"} & set(packages)
    assert app_modules == []


def test_a_matplotlib_figure_comes_back_as_png(node: PyodideNode) -> None:
    result = cell(node, "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('t')\nplt.show()")
    assert result["error"] is None
    images = [o for o in result["outputs"] if o["kind"] == "display" and "image/png" in o["data"]]
    assert len(images) == 1
    assert base64.b64decode(images[0]["data"]["image/png"])[:4] == b"\x89PNG"
    assert images[0]["metadata"] == {"source": "matplotlib"}


def test_a_dataframe_comes_back_as_a_table(node: PyodideNode) -> None:
    result = cell(node, "import pandas as pd\ndf = pd.DataFrame({'a': range(30), 'b': [x * 0.5 for x in range(30)]})\ndf")
    assert result["error"] is None
    (out,) = result["outputs"]
    assert out["kind"] == "result"
    table = out["data"]["application/vnd.localyst.table+json"]
    assert table["shape"] == [30, 2]
    assert table["columns"] == ["a", "b"]
    assert table["rows"][3] == [3, 1.5]


def test_state_persists_across_cells(node: PyodideNode) -> None:
    cell(node, "answer = 41")
    result = cell(node, "answer + 1")
    assert result["outputs"][0]["data"]["text/plain"] == "42"


def test_a_busy_cell_is_interrupted_through_the_buffer(node: PyodideNode) -> None:
    cell(node, "kept = 'still here'")
    started = time.perf_counter()
    result = cell(node, "import time\nstarted = time.perf_counter()\nwhile True:\n    pass", interrupt_after=1.0)
    elapsed = time.perf_counter() - started
    print(f"\nNode: interrupt landed {elapsed - 1.0:.3f} s after it was written")
    assert result["error"]["ename"] == "KeyboardInterrupt"
    assert elapsed < 3
    after = cell(node, "kept")
    assert after["error"] is None and after["outputs"][0]["data"]["text/plain"] == "'still here'"


def test_an_interrupt_never_reaches_a_cell_that_already_finished(node: PyodideNode) -> None:
    assert cell(node, "1 + 1", interrupt_after=0.5)["error"] is None
    time.sleep(0.7)
    assert cell(node, "sum(range(10**6))")["error"] is None
