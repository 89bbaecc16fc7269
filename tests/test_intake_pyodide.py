"""localyst.kernel.core._intake inside real Pyodide 0.27.7 under Node, on files in its /data.

Pyodide starts with only numpy and pandas, as the kernel worker warms up: the readers'
other packages (pyarrow, sqlite3, Pillow, charset-normalizer) are the scan's to load.
"""

from __future__ import annotations

import base64
import io
import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from localyst.agent._scan import SCAN_LIMITS, file_infos
from localyst.protocol import parse_kernel_message
from tests.pyodide_node import PyodideNode

pytestmark = pytest.mark.pyodide

PRELUDE = """
import base64, os, sys
import pyodide_js
from localyst.kernel import Kernel
from localyst.kernel.core import _intake

kernel = Kernel(data_dir="/data")

def put(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(base64.b64decode(data))

def loaded():
    return sorted(name.lower() for name in pyodide_js.loadedPackages.object_keys())

def shown(path, **kwargs):
    found = _intake.preview(path, **kwargs)
    found.pop("thumbnail", None)
    return found
"""


@pytest.fixture(scope="module")
def lock(built_site: Path) -> dict[str, Any]:
    return json.loads((built_site / "pyodide" / "pyodide-lock.json").read_text())


@pytest.fixture(scope="module")
def node(built_site: Path, lock: dict[str, Any]) -> Iterator[PyodideNode]:
    pyodide_dir = built_site / "pyodide"
    started = time.perf_counter()
    runner = PyodideNode(pyodide_dir, [str(pyodide_dir / lock["packages"]["localyst"]["file_name"]), "numpy", "pandas"])
    runner.run(PRELUDE)
    print(f"\nNode: Pyodide + localyst + numpy/pandas in {time.perf_counter() - started:.1f} s")
    yield runner
    runner.close()


def put(node: PyodideNode, path: str, data: bytes) -> None:
    node.run(f"put({path!r}, {base64.b64encode(data).decode()!r})")


def parquet_bytes() -> bytes:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    sink = io.BytesIO()
    pq.write_table(pa.table({"id": [1, 2, 3], "value": [0.5, 1.5, 2.5]}), sink)
    return sink.getvalue()


def sqlite_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER, item TEXT)")
        db.executemany("INSERT INTO orders VALUES (?, ?)", [(1, "pen"), (2, "ink")])
    db.close()
    return path.read_bytes()


def image_bytes(fmt: str) -> bytes:
    image_module = pytest.importorskip("PIL.Image")
    sink = io.BytesIO()
    image_module.new("RGB", (512, 128), (10, 120, 200)).save(sink, format=fmt)
    return sink.getvalue()


def test_the_readers_are_loaded_for_the_files_there_are(node: PyodideNode, tmp_path: Path) -> None:
    put(node, "/data/measures.parquet", parquet_bytes())
    put(node, "/data/shop.db", sqlite_bytes(tmp_path))
    put(node, "/data/photo.webp", image_bytes("WEBP"))
    node.run("open('/data/sales.csv', 'w').write('region,amount\\nnorth,10\\nsouth,20\\n')")
    before = node.run("loaded()")
    assert not {"pyarrow", "sqlite3", "pillow", "charset-normalizer"} & set(before)
    node.run("await _intake.load_readers('/data')")
    assert {"pyarrow", "sqlite3", "pillow", "charset-normalizer"} <= set(node.run("loaded()"))

    csv = node.run("shown('/data/sales.csv')")
    assert (csv["kind"], csv["encoding"], csv["delimiter"]) == ("csv", "utf-8", ",")
    (table,) = csv["tables"]
    assert table["columns"] == [["region", "object"], ["amount", "int64"]]
    assert table["first_rows"] == [["north", 10], ["south", 20]] and table["rows"] == 2

    parquet = node.run("shown('/data/measures.parquet')")
    (table,) = parquet["tables"]
    assert parquet["kind"] == "parquet" and table["rows"] == 3
    assert table["columns"] == [["id", "int64"], ["value", "float64"]] and table["first_rows"][0] == [1, 0.5]

    db = node.run("shown('/data/shop.db')")
    (table,) = db["tables"]
    assert db["kind"] == "sqlite" and table["name"] == "orders" and table["rows"] == 2
    assert table["columns"] == [["id", "INTEGER"], ["item", "TEXT"]] and table["first_rows"] == [[1, "pen"], [2, "ink"]]

    photo = node.run("_intake.preview('/data/photo.webp')")
    assert (photo["format"], photo["width"], photo["height"]) == ("webp", 512, 128)
    assert base64.b64decode(photo["thumbnail"])[:8] == b"\x89PNG\r\n\x1a\n"


def test_files_written_inside_pyodide(node: PyodideNode) -> None:
    node.run("await _intake.load_readers('/data')")
    found = node.run("""
import sqlite3
import pyarrow as pa, pyarrow.parquet as pq
os.makedirs('/data/made', exist_ok=True)
pq.write_table(pa.table({'k': ['a', 'b'], 'v': [1.25, 2.5]}), '/data/made/t.parquet')
with sqlite3.connect('/data/made/t.db') as db:
    db.execute('CREATE TABLE t (k TEXT, v REAL)')
    db.executemany('INSERT INTO t VALUES (?, ?)', [('a', 1.25), ('b', 2.5)])
db.close()
with open('/data/made/t.csv', 'wb') as f:
    f.write('clé;valeur\\nété;1,25\\nhiver;2,5\\n'.encode('cp1252'))
[shown(f'/data/made/t.{s}') for s in ('parquet', 'db', 'csv')]
""")
    parquet, db, csv = found
    assert parquet["tables"][0]["first_rows"] == [["a", 1.25], ["b", 2.5]] and parquet["tables"][0]["rows"] == 2
    assert db["tables"][0]["first_rows"] == [["a", 1.25], ["b", 2.5]] and db["tables"][0]["rows"] == 2
    assert (csv["delimiter"], csv["decimal"]) == (";", ",") and csv["encoding"] != "utf-8"
    assert csv["tables"][0]["first_rows"] == [["été", 1.25], ["hiver", 2.5]]


def workbook_bytes(fmt: str) -> bytes:
    sink = io.BytesIO()
    if fmt == "xlsx":
        book = pytest.importorskip("openpyxl").Workbook()
        book.active.title = "Sheet1"
        book.active.append(["a"])
        book.active.append([1])
        book.save(sink)
    else:
        book = pytest.importorskip("xlwt").Workbook()
        sheet = book.add_sheet("Sheet1")
        sheet.write(0, 0, "a")
        sheet.write(1, 0, 1)
        book.save(sink)
    return sink.getvalue()


@pytest.mark.parametrize(("fmt", "package"), [("xlsx", "openpyxl"), ("xls", "xlrd")])
def test_a_workbook_is_read_or_its_missing_reader_named(node: PyodideNode, lock: dict[str, Any], fmt: str, package: str) -> None:
    put(node, f"/data/book.{fmt}", workbook_bytes(fmt))
    node.run("await _intake.load_readers('/data')")
    outcome = node.run(f"""
try:
    outcome = shown('/data/book.{fmt}')['tables'][0]['first_rows']
except _intake.IntakeError as exc:
    outcome = str(exc)
os.remove('/data/book.{fmt}')
outcome
""")
    if package in lock["packages"]:
        assert package in node.run("loaded()")
        assert outcome == [[1]]
    else:
        assert outcome == f"reading .{fmt} files needs {package}, which this site does not ship"


def test_the_scan_the_model_is_given_reads_every_kind_and_checks_out(node: PyodideNode, tmp_path: Path) -> None:
    """The scan as the bridge answers a scan-files message, read back as the app reads it."""
    put(node, "/data/scanned/shop.db", sqlite_bytes(tmp_path))
    put(node, "/data/scanned/photo.png", image_bytes("PNG"))
    put(node, "/data/scanned/empty.csv", b"")
    node.run("open('/data/outputs/chart.csv', 'w').write('a\\n1\\n')")
    found = node.run(f"await _intake.load_readers('/data', max_files={SCAN_LIMITS['max_files']})\n_intake.scan('/data', **{SCAN_LIMITS!r})")
    reply = parse_kernel_message({"type": "scanned", "id": 1, "files": found})
    files = {f.path: f for f in file_infos(reply.files)}
    assert {"scanned/shop.db", "scanned/photo.png", "scanned/empty.csv"} <= set(files)
    assert not [path for path in files if path.startswith("outputs/")]
    shop = files["scanned/shop.db"]
    assert (shop.rows, shop.columns, shop.mime) == (2, (("id", "INTEGER"), ("item", "TEXT")), "application/vnd.sqlite3")
    assert shop.head.startswith('table "orders":\n')
    assert files["scanned/photo.png"].head == "PNG image, 512 × 128 pixels, mode RGB"
    assert files["scanned/empty.csv"].head == "(cannot be used: empty.csv is empty)"
