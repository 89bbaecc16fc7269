"""localyst.kernel.core._intake in CPython: every kind of file a person brings, and the bad ones.

Every fixture is generated here, in tmp_path.
"""

from __future__ import annotations

import base64
import io
import json
import sqlite3
import struct
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from localyst.kernel.core import _intake
from localyst.kernel.core._intake import IntakeError, check, detect, extract_zip, preview, scan
from localyst.kernel.core._intake import _check, _image, _load, _preview, _tables, _zip

STRING_DTYPES = {"object", "str"}  # pandas 2 says object, pandas 3 str


def only_table(shown: dict[str, Any]) -> dict[str, Any]:
    (table,) = shown["tables"]
    return table


def dtypes(table: dict[str, Any]) -> dict[str, str]:
    return dict(map(tuple, table["columns"]))


# ---------------------------------------------------------------- delimited text


def test_a_semicolon_csv_in_cp1252_keeps_its_accents_and_decimal_commas(tmp_path: Path) -> None:
    text = "nom;ville;montant\nCafé Müller;Zürich;12,5\nCrème brûlée;Besançon;3,25\nSmørrebrød;Århus;7\n"
    path = tmp_path / "ventes.csv"
    path.write_bytes(text.encode("cp1252"))
    info = detect(path)
    assert info["kind"] == "csv" and info["mime"] == "text/csv"
    assert info["encoding"] not in ("utf-8", "utf-8-sig", None)
    assert info["delimiter"] == ";" and info["header"] is True and info["decimal"] == ","
    assert check(path) is None
    table = only_table(preview(path))
    assert [name for name, _ in table["columns"]] == ["nom", "ville", "montant"]
    assert dtypes(table)["montant"] == "float64"
    assert table["first_rows"] == [["Café Müller", "Zürich", 12.5], ["Crème brûlée", "Besançon", 3.25], ["Smørrebrød", "Århus", 7.0]]
    assert table["rows"] == 3 and table["column_count"] == 3
    assert "Besançon" in table["head"]


def test_a_tsv_is_read_on_tabs(tmp_path: Path) -> None:
    path = tmp_path / "scores.tsv"
    path.write_text("name\tscore\tnote\nann\t3\thas, a comma\nbob\t5\tx\n")
    info = detect(path)
    assert (info["kind"], info["delimiter"], info["encoding"]) == ("tsv", "\t", "utf-8")
    table = only_table(preview(path))
    assert table["first_rows"] == [["ann", 3, "has, a comma"], ["bob", 5, "x"]]
    assert dtypes(table)["score"] == "int64" and table["rows"] == 2


def test_a_first_row_of_numbers_is_data_not_a_header(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("1,2.5,x\n3,4.5,y\n")
    assert detect(path)["header"] is False
    table = only_table(preview(path))
    assert table["rows"] == 2 and table["first_rows"] == [[1, 2.5, "x"], [3, 4.5, "y"]]


def test_a_large_csv_is_only_read_as_far_as_the_preview_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.csv"
    path.write_text("id,value\n" + "".join(f"{i},{i * 2}\n" for i in range(5000)) + "oops,this,row,breaks,parsing\n")
    monkeypatch.setattr(_tables, "COUNT_ROWS_UP_TO", 100)
    table = only_table(preview(path, rows=3))
    assert table["first_rows"] == [[0, 0], [1, 2], [2, 4]]
    assert table["rows"] is None  # counting would have read the whole file


# ---------------------------------------------------------------- spreadsheets


def write_xlsx(path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sales = book.active
    sales.title = "Sales"
    sales.append(["region", "amount"])
    for region, amount in [("north", 10), ("south", 20), ("east", 30)]:
        sales.append([region, amount])
    notes = book.create_sheet("Notes")
    notes.append(["note"])
    notes.append(["checked"])
    book.save(path)


def test_an_xlsx_workbook_shows_every_sheet(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    write_xlsx(path)
    info = detect(path)
    assert (info["kind"], info["format"]) == ("excel", "xlsx")
    sales, notes = preview(path)["tables"]
    assert sales["name"] == "Sales" and notes["name"] == "Notes"
    assert dtypes(sales)["amount"] == "int64" and dtypes(sales)["region"] in STRING_DTYPES
    assert sales["first_rows"] == [["north", 10], ["south", 20], ["east", 30]] and sales["rows"] == 3
    assert notes["first_rows"] == [["checked"]] and notes["rows"] == 1


def test_a_workbook_without_the_xlsx_suffix_is_still_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "export.bin"
    write_xlsx(path)
    assert (detect(path)["kind"], detect(path)["format"]) == ("excel", "xlsx")


def test_an_xls_workbook_is_read_with_xlrd(tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt")
    pytest.importorskip("xlrd")
    book = xlwt.Workbook()
    sheet = book.add_sheet("Old")
    for column, value in enumerate(["when", "count"]):
        sheet.write(0, column, value)
    sheet.write(1, 0, "monday")
    sheet.write(1, 1, 4)
    path = tmp_path / "old.xls"
    book.save(str(path))
    info = detect(path)
    assert (info["kind"], info["format"], info["mime"]) == ("excel", "xls", "application/vnd.ms-excel")
    table = only_table(preview(path))
    assert table["name"] == "Old" and table["first_rows"] == [["monday", 4.0]] and table["rows"] == 1


def test_a_missing_reader_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "book.xlsx"
    write_xlsx(path)
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl now fails
    with pytest.raises(IntakeError, match=r"^reading \.xlsx files needs openpyxl, which this site does not ship$"):
        preview(path)
    summary = scan(tmp_path)[0]
    assert summary["head"] == "(could not preview: reading .xlsx files needs openpyxl, which this site does not ship)"


# ---------------------------------------------------------------- JSON


def test_a_json_array_of_records_is_a_table(tmp_path: Path) -> None:
    path = tmp_path / "people.json"
    path.write_text(json.dumps([{"id": 1, "name": "ann"}, {"id": 2, "name": "bob", "age": 40}]))
    table = only_table(preview(path))
    assert [name for name, _ in table["columns"]] == ["id", "name", "age"]
    assert table["first_rows"] == [[1, "ann", None], [2, "bob", 40.0]] and table["rows"] == 2


def test_a_long_json_array_is_decoded_only_as_far_as_needed(tmp_path: Path) -> None:
    path = tmp_path / "long.json"
    records = ",\n".join(json.dumps({"n": i, "text": "x" * 50}) for i in range(5000))
    path.write_text("[\n" + records + ",\n this is not JSON at all")  # never reached
    table = only_table(preview(path, rows=2))
    assert table["first_rows"] == [[0, "x" * 50], [1, "x" * 50]]
    assert table["rows"] is None


def test_other_json_is_shown_as_text(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"name": "demo", "items": [1, 2]}))
    shown = preview(path)
    assert "tables" not in shown and shown["text"] == '{"name": "demo", "items": [1, 2]}' and shown["truncated"] is False


def test_json_lines_are_a_table(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"kind": "click", "n": 1}\n{"kind": "view", "n": 2}\n\n{"kind": "click", "n": 3}\n')
    info = detect(path)
    assert info["kind"] == "jsonl"
    table = only_table(preview(path))
    assert table["first_rows"] == [["click", 1], ["view", 2], ["click", 3]] and dtypes(table)["n"] == "int64"


# ---------------------------------------------------------------- Parquet and SQLite


def test_parquet_gives_its_row_count_and_only_the_first_rows(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "measures.parquet"
    pq.write_table(pa.table({"id": list(range(10_000)), "value": [i / 4 for i in range(10_000)]}), path, row_group_size=1000)
    info = detect(path)
    assert (info["kind"], info["mime"]) == ("parquet", "application/vnd.apache.parquet")
    table = only_table(preview(path, rows=3))
    assert table["rows"] == 10_000 and table["column_count"] == 2
    assert table["columns"] == [["id", "int64"], ["value", "float64"]]
    assert table["first_rows"] == [[0, 0.0], [1, 0.25], [2, 0.5]]


def test_the_first_bytes_win_over_the_name(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "actually.csv"
    pq.write_table(pa.table({"a": [1]}), path)
    assert detect(path)["kind"] == "parquet" and check(path) is None


def test_sqlite_lists_each_table_with_its_declared_types(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT, price REAL)")
        db.executemany("INSERT INTO orders (item, price) VALUES (?, ?)", [("pen", 1.5), ("ink", 4.0), ("pad", 2.25)])
        db.execute('CREATE TABLE "odd ""name""" (x)')
    db.close()
    info = detect(path)
    assert (info["kind"], info["mime"]) == ("sqlite", "application/vnd.sqlite3")
    odd, orders = preview(path, rows=2)["tables"]
    assert orders["name"] == "orders" and orders["rows"] == 3
    assert orders["columns"] == [["id", "INTEGER"], ["item", "TEXT"], ["price", "REAL"]]
    assert orders["first_rows"] == [[1, "pen", 1.5], [2, "ink", 4.0]]
    assert odd["name"] == 'odd "name"' and odd["rows"] == 0 and odd["head"] == "(no rows)"


# ---------------------------------------------------------------- images


@pytest.mark.parametrize(
    ("suffix", "fmt", "options", "mode"),
    [
        (".png", "png", {}, "RGB"),
        (".jpg", "jpeg", {}, "RGB"),
        (".gif", "gif", {}, "P"),
        (".webp", "webp", {}, "RGB"),  # lossy: a VP8 chunk
        (".webp", "webp", {"lossless": True}, "RGB"),  # VP8L
        (".webp", "webp", {"alpha": True}, "RGBA"),  # VP8X
    ],
)
def test_images_are_measured_from_their_header_and_previewed_small(tmp_path: Path, suffix: str, fmt: str, options: dict[str, Any], mode: str) -> None:
    image_module = pytest.importorskip("PIL.Image")
    alpha = options.pop("alpha", False)
    image = image_module.new("RGBA" if alpha else "RGB", (640, 300), (200, 30, 30, 128) if alpha else (200, 30, 30))
    path = tmp_path / f"picture{suffix}"
    image.save(path, **options)
    info = detect(path)
    assert (info["kind"], info["format"], info["mime"]) == ("image", fmt, f"image/{fmt}")
    assert _image.image_size(path, fmt) == (640, 300)
    assert check(path) is None
    shown = preview(path)
    assert (shown["width"], shown["height"], shown["mode"]) == (640, 300, mode)
    thumbnail = image_module.open(io.BytesIO(base64.b64decode(shown["thumbnail"])))
    assert thumbnail.format == "PNG" and thumbnail.size == (256, 120) == tuple(shown["thumbnail_size"])


def png_header(width: int, height: int) -> bytes:
    """A PNG signature and IHDR chunk, and no pixels at all."""
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I4sIIBBBBB", 13, b"IHDR", width, height, 8, 2, 0, 0, 0) + b"\0" * 4


def test_a_huge_image_is_refused_from_its_header_alone(tmp_path: Path) -> None:
    path = tmp_path / "poster.png"
    path.write_bytes(png_header(100_000, 50_000))  # no pixel data: only the header can have been read
    assert check(path) == "poster.png is 100,000 × 50,000 pixels (5,000 megapixels), more than the 89 megapixels Pillow opens safely"


def test_the_pixel_limit_is_pillows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image_module = pytest.importorskip("PIL.Image")
    path = tmp_path / "small.jpg"
    image_module.new("RGB", (40, 30)).save(path)
    assert check(path) is None
    monkeypatch.setattr(image_module, "MAX_IMAGE_PIXELS", 1000)
    assert check(path) == "small.jpg is 40 × 30 pixels (0 megapixels), more than the 0 megapixels Pillow opens safely"
    with pytest.raises(IntakeError, match="too many pixels"):
        preview(path)


# ---------------------------------------------------------------- text


@pytest.mark.parametrize(("name", "mime"), [("notes.md", "text/markdown"), ("clean.py", "text/x-python"), ("README", "text/plain")])
def test_source_and_prose_are_text(tmp_path: Path, name: str, mime: str) -> None:
    path = tmp_path / name
    path.write_text("# Title\n\nSome words — with a dash.\n")
    info = detect(path)
    assert (info["kind"], info["mime"], info["encoding"]) == ("text", mime, "utf-8")
    assert preview(path)["text"] == "# Title\n\nSome words — with a dash.\n"


def test_only_the_beginning_of_a_long_text_is_read(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_text("line\n" * 100_000)
    shown = preview(path)
    assert len(shown["text"]) == _preview.TEXT_CHARS and shown["truncated"] is True


# ---------------------------------------------------------------- ZIP


def write_zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_a_zip_lists_its_members_and_unpacks_them(tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    write_zip(path, {"data/a.csv": b"a,b\n1,2\n", "readme.txt": b"hello", "data/": b""})
    info = detect(path)
    assert (info["kind"], info["mime"]) == ("zip", "application/zip") and check(path) is None
    shown = preview(path)
    assert shown["members"] == [{"path": "data/a.csv", "size": 8, "packed": shown["members"][0]["packed"]},
                                {"path": "readme.txt", "size": 5, "packed": shown["members"][1]["packed"]}]
    assert shown["member_count"] == 2 and shown["unpacked_size"] == 13
    dest = tmp_path / "out"
    assert extract_zip(path, dest) == ["data/a.csv", "readme.txt"]
    assert (dest / "data" / "a.csv").read_bytes() == b"a,b\n1,2\n" and (dest / "readme.txt").read_text() == "hello"


def write_bomb(path: Path, megabytes: int) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("zeros.bin", "w") as member:
        for _ in range(megabytes):
            member.write(bytes(1 << 20))


def test_a_zip_bomb_is_refused_without_unpacking(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    write_bomb(path, 20)
    message = check(path)
    assert message is not None and message.startswith("bomb.zip would unpack to 21.0 MB from ")
    assert message.endswith("it looks like a ZIP bomb")
    dest = tmp_path / "out"
    with pytest.raises(IntakeError, match="ZIP bomb"):
        extract_zip(path, dest)
    assert not dest.exists()
    assert "ZIP archive" not in str(scan(tmp_path)[0].get("head")) and scan(tmp_path)[0]["problem"] == message


def test_a_zip_over_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "many.zip"
    write_zip(path, {"a.bin": bytes(range(256)) * 40}, zipfile.ZIP_STORED)
    assert check(path) is None
    monkeypatch.setattr(_zip, "MAX_UNPACKED_BYTES", 10_000)
    assert check(path) == "many.zip would unpack to 10.2 KB, more than the 10.0 KB this page can hold"
    with pytest.raises(IntakeError, match="more than the 10.0 KB"):
        extract_zip(path, tmp_path / "out")


def symlink_member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o120777 << 16
    return info


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ("../evil.txt", "“../evil.txt” points outside the folder it would be unpacked into"),
        ("data/../../evil.txt", "“data/../../evil.txt” points outside the folder it would be unpacked into"),
        ("/abs", "“/abs” has an absolute path"),
        ("C:\\evil.txt", "“C:/evil.txt” has an absolute path"),
        ("<b>x</b>.csv", "“<b>x</b>.csv” has characters a file name should not have"),
        ("link", "“link” is a symbolic link"),
    ],
)
def test_unsafe_members_refuse_the_whole_archive(tmp_path: Path, member: str, reason: str) -> None:
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("fine.txt", "ok")
        archive.writestr(symlink_member(member) if member == "link" else member, "/etc/passwd")
    expected = f"bad.zip holds a file that cannot be unpacked safely: {reason}"
    assert check(path) == expected
    dest = tmp_path / "inner" / "out"
    with pytest.raises(IntakeError) as refused:
        extract_zip(path, dest)
    assert str(refused.value) == expected
    assert not dest.exists() and not (tmp_path / "evil.txt").exists() and not (tmp_path / "inner").exists()


def test_a_damaged_member_is_removed_again(tmp_path: Path) -> None:
    path = tmp_path / "damaged.zip"
    write_zip(path, {"a.txt": b"first", "b.txt": b"x" * 1000}, zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    start = data.index(b"x" * 1000)
    data[start : start + 10] = b"y" * 10  # the CRC no longer matches
    path.write_bytes(bytes(data))
    dest = tmp_path / "out"
    with pytest.raises(IntakeError, match="damaged.zip is damaged: Bad CRC-32"):
        extract_zip(path, dest)
    assert list(dest.iterdir()) == []


# ---------------------------------------------------------------- files that cannot be used


def test_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "nothing.csv"
    path.write_bytes(b"")
    assert check(path) == "nothing.csv is empty"


@pytest.mark.parametrize("name", ["table.csv", "table.tsv", "notes.txt", "data.json"])
def test_binary_content_under_a_text_name(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\x00\x01\x02\x03binary\x00" * 200)
    suffix = Path(name).suffix
    assert check(path) == f"{name} holds binary data, not text: it may be another kind of file renamed to {suffix}"
    with pytest.raises(IntakeError, match="holds binary data"):
        preview(path)


def test_text_that_no_encoding_reads(tmp_path: Path) -> None:
    pytest.importorskip("charset_normalizer")
    path = tmp_path / "broken.csv"
    path.write_bytes(b"id,name\n1," + bytes(range(128, 256)) * 40 + b"\n")
    assert detect(path)["encoding"] is None
    assert check(path) == "broken.csv is in no text encoding that could be recognised; save it again as UTF-8"


def test_no_size_is_refused_and_a_big_csv_is_previewed_from_its_head(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file bigger than any limit is usable, and its preview does not read past its head:
    the rest of the file is bytes that are not CSV at all."""
    path = tmp_path / "huge.csv"
    head = "a,b\n" + "1,2\n" * 100_000  # past the sample detect() reads and the parser's first chunk
    path.write_bytes(head.encode() + b"\x00\xff" * 300_000)
    monkeypatch.setattr(_tables, "COUNT_ROWS_UP_TO", 1000)
    assert check(path) is None
    (found,) = scan(tmp_path)
    assert found["size"] == path.stat().st_size and found["rows"] is None
    assert found["columns"] == [["a", "int64"], ["b", "int64"]]


def test_misnamed_and_password_protected_files(tmp_path: Path) -> None:
    (tmp_path / "fake.parquet").write_text("hello")
    (tmp_path / "locked.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    assert check(tmp_path / "fake.parquet") == "fake.parquet is not a Parquet file, whatever its name says"
    assert check(tmp_path / "locked.xlsx") == "locked.xlsx is password-protected: save a copy without a password"


# ---------------------------------------------------------------- the scan


def test_the_scan_describes_each_file_for_the_model(tmp_path: Path) -> None:
    sales_bytes = "région;total\nÎle;1,5\nNord;2\n".encode("cp1252")
    (tmp_path / "sales.csv").write_bytes(sales_bytes)
    write_xlsx(tmp_path / "book.xlsx")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "empty.txt").write_bytes(b"")
    write_zip(tmp_path / "sub" / "pack.zip", {"x.csv": b"a\n1\n"})
    (tmp_path / "sub" / "pic.png").write_bytes(png_header(10, 20))
    (tmp_path / ".hidden.csv").write_text("a\n1\n")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "x.csv").write_text("a\n1\n")
    (tmp_path / "outputs").mkdir()
    (tmp_path / "outputs" / "chart.png").write_bytes(png_header(10, 10))

    found = {entry["path"]: entry for entry in scan(tmp_path)}
    assert sorted(found) == ["book.xlsx", "sales.csv", "sub/empty.txt", "sub/pack.zip", "sub/pic.png"]

    sales = found["sales.csv"]
    assert (sales["size"], sales["mime"], sales["kind"], sales["rows"], sales["column_count"]) == (len(sales_bytes), "text/csv", "csv", 2, 2)
    assert sales["columns"][1] == ["total", "float64"]
    assert sales["head"].startswith("read with pandas.read_csv(path, sep=';', encoding=")
    assert "decimal=','" in sales["head"] and "Île" in sales["head"] and "1.5" in sales["head"]

    book = found["book.xlsx"]
    assert "columns" not in book and "rows" not in book
    assert book["head"].startswith('2 sheets:\n- sheet "Sales": 3 rows × 2 columns: region (')
    assert '- sheet "Notes": 1 row × 1 column: note (' in book["head"] and 'first rows of "Notes":' in book["head"]

    assert found["sub/empty.txt"]["problem"] == "empty.txt is empty"
    assert found["sub/empty.txt"]["head"] == "(cannot be used: empty.txt is empty)"
    assert found["sub/pack.zip"]["head"] == "ZIP archive of 1 file, 4 bytes unpacked:\nx.csv (4 bytes)"
    assert found["sub/pic.png"]["head"].startswith("(could not preview: pic.png could not be decoded as PNG")
    json.dumps(list(found.values()), allow_nan=False)  # what the kernel prints must be plain JSON


def test_the_scan_previews_until_its_budget_is_used(tmp_path: Path) -> None:
    for n in range(6):
        (tmp_path / f"t{n}.csv").write_text("a,b\n" + "1,2\n" * 3)
    found = scan(tmp_path, budget=400)
    previewed = [entry["path"] for entry in found if "head" in entry]
    assert 1 <= len(previewed) < 6 and previewed == [f"t{n}.csv" for n in range(len(previewed))]
    assert all(set(entry) == {"path", "size", "mime", "kind"} for entry in found[len(previewed):])
    assert [entry["path"] for entry in scan(tmp_path, max_files=2)] == ["t0.csv", "t1.csv", "t2.csv"]  # one more: "and more"


def test_the_scan_knows_which_readers_to_load(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pytest.importorskip("pyarrow.parquet").write_table(pa.table({"a": [1]}), tmp_path / "t.parquet")
    (tmp_path / "p.png").write_bytes(png_header(1, 1))
    write_xlsx(tmp_path / "b.xlsx")
    (tmp_path / "outputs").mkdir()
    (tmp_path / "outputs" / "skip.db").write_bytes(b"SQLite format 3\x00")
    assert _load.reader_modules(tmp_path) == ["PIL", "openpyxl", "pandas", "pyarrow"]


def test_the_public_names() -> None:
    assert set(_intake.__all__) == {"BIG_FILE_BYTES", "IntakeError", "check", "detect", "extract_zip", "load_readers", "preview", "scan"}
