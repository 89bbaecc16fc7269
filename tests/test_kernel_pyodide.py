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
    assert images[0]["metadata"]["source"] == "matplotlib" and images[0]["metadata"]["figure"].startswith("figure-")


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


# The worker's message protocol (localyst.kernel.worker._bridge), with a Python list as the owner.

BRIDGE_PRELUDE = """
from localyst.kernel.worker._bridge import Bridge
import numpy, pandas, matplotlib.pyplot  # as a kernel restored from its snapshot has them

sent = []

def send(text, payload=None):
    message = json.loads(text)
    if payload is not None:
        message["bytes"] = payload.to_bytes().decode()
    sent.append(message)

bridge = Bridge(send, lock_text, data_dir="/bridge")
await bridge.start()

async def exchange(message):
    del sent[:]
    await bridge.handle(message)
    return list(sent)
"""


@pytest.fixture(scope="module")
def bridge(node: PyodideNode, built_site: Path) -> PyodideNode:
    lock_text = (built_site / "pyodide" / "pyodide-lock.json").read_text()
    node.run(f"lock_text = {lock_text!r}")
    node.run(BRIDGE_PRELUDE)
    return node


def exchange(node: PyodideNode, message: dict[str, Any]) -> list[dict[str, Any]]:
    return node.run(f"await exchange({message!r})")


def test_the_bridge_says_ready_with_its_status_alone(bridge: PyodideNode, built_site: Path) -> None:
    """What cells can import comes from the site's lock (the app reads it): the kernel,
    which runs the model's code, is never asked what goes into the model's instructions."""
    from localyst.kernel.core._packages import importable_packages

    ready = bridge.run("[m for m in sent if m['type'] == 'ready']")
    (message,) = ready
    assert set(message) == {"type", "status", "startup"}
    assert message["status"] == "", "this Node imported numpy, pandas and matplotlib already: nothing to warm"
    assert message["startup"] == {"path": "plain", "reason": ""}, "no start-up given: a plain one"
    lock = json.loads((built_site / "pyodide" / "pyodide-lock.json").read_text())
    packages = set(importable_packages(lock).values())
    assert {"numpy", "pandas", "matplotlib", "scipy", "sqlite3"} <= packages and "localyst" not in packages


def test_the_scan_is_a_message_not_a_cell(bridge: PyodideNode) -> None:
    """The app asks what the files are with scan-files: no execution count is used, and the
    answer is one checked message (the file scan once was code printing a marker)."""
    from localyst.agent._scan import SCAN_LIMITS
    from localyst.protocol import parse_kernel_message

    def count(cell_id: int) -> int:
        (result,) = [m for m in exchange(bridge, {"type": "run", "id": cell_id, "code": "1"}) if m["type"] == "result"]
        return result["result"]["execution_count"]

    exchange(bridge, {"type": "put-file", "id": 20, "path": "scan-me.csv", "bytes": b"a,b\n1,2\n"})
    before = count(21)
    (sent,) = exchange(bridge, {"type": "scan-files", "id": 22, "limits": SCAN_LIMITS})
    reply = parse_kernel_message(sent)
    entry = next(f for f in reply.files if f["path"] == "scan-me.csv")
    assert entry["rows"] == 1 and entry["columns"] == [["a", "int64"], ["b", "int64"]]
    assert count(23) == before + 1


def test_a_run_streams_outputs_then_ends_with_its_result(bridge: PyodideNode) -> None:
    sent = exchange(bridge, {"type": "run", "id": 7, "code": "print('one')\nprint('two')\n6 * 7"})
    assert [m["type"] for m in sent] == ["started", "output", "output", "output", "result"]
    assert all(m["id"] == 7 for m in sent)
    assert [m["output"].get("text") for m in sent[1:3]] == ["one\n", "two\n"]
    result = sent[-1]["result"]
    assert result["error"] is None and result["outputs"][-1]["data"]["text/plain"] == "42"


def test_a_shipped_package_loads_on_first_import_with_a_status(bridge: PyodideNode) -> None:
    sent = exchange(bridge, {"type": "run", "id": "y", "code": "import yaml\nyaml.safe_load('a: 1')"})
    assert sent[0] == {"type": "status", "text": "loading pyyaml…"}
    assert sent[1] == {"type": "status", "text": ""}
    assert sent[-1]["result"]["outputs"][-1]["data"]["text/plain"] == "{'a': 1}"


def test_a_package_the_site_lacks_is_explained(bridge: PyodideNode) -> None:
    sent = exchange(bridge, {"type": "run", "id": 1, "code": "import polars"})
    assert [m["type"] for m in sent] == ["started", "result"]
    assert "cannot install packages" in sent[-1]["result"]["error"]["evalue"]


def test_files_go_in_and_out_of_the_data_folder(bridge: PyodideNode) -> None:
    put = bridge.run("await exchange({'type': 'put-file', 'id': 1, 'path': 'in/sales.csv', 'bytes': memoryview(b'a,b\\n1,2\\n')})")
    assert put == [{"type": "file-put", "id": 1, "path": "in/sales.csv", "size": 8}]
    sent = exchange(bridge, {"type": "run", "id": 2, "code": "import pandas as pd\npd.read_csv('in/sales.csv').to_csv('outputs/copy.csv', index=False)"})
    assert sent[-1]["result"]["files"] == [{"path": "outputs/copy.csv", "size": 8, "mime": "text/csv"}]
    got = exchange(bridge, {"type": "get-file", "id": 3, "path": "outputs/copy.csv"})
    assert got == [{"type": "file", "id": 3, "path": "outputs/copy.csv", "bytes": "a,b\n1,2\n"}]


def test_paths_outside_the_data_folder_are_refused(bridge: PyodideNode) -> None:
    # A link is not followed out of the data folder (mounted big files are links, into /mnt/files).
    exchange(bridge, {"type": "run", "id": 5, "code": "import os\nos.symlink('/lib/python3.12/os.py', 'os-link.py')"})
    for path in ("../etc/passwd", "/lib/python3.12/os.py", "missing.csv", "os-link.py"):
        (sent,) = exchange(bridge, {"type": "get-file", "id": 4, "path": path})
        assert sent["type"] == "file-error" and sent["path"] == path
    (deleted,) = exchange(bridge, {"type": "delete-file", "id": 6, "path": "os-link.py"})
    assert deleted["type"] == "file-error"


def test_the_warm_up_is_what_the_build_counts_for_a_first_visit() -> None:
    from buildsite.precache import KERNEL_PACKAGES
    from localyst.kernel.worker._bridge import WARM_UP

    assert list(WARM_UP) == KERNEL_PACKAGES
