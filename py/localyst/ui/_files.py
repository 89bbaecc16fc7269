"""The files panel: every file in the kernel's data folder, the person's and the code's,
with what can be done to each (preview, ask about it, download, rename, delete)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import PurePosixPath
from typing import Any

import panel as pn

from ..protocol import TABLE_MIME
from ..render import escape, size_text, visible
from . import _outputs
from ._actions import action_button
from ._buttons import once_button

FILES_CSS = """
.ly-file { font-size: 13px; line-height: 1.35; overflow-wrap: anywhere; }
.ly-file small { color: #5b6878; }
.ly-file .ly-out { color: #2f6db5; font-weight: 600; }
.ly-add { font: inherit; font-size: 13px; padding: 5px 12px; border: 1px solid #2f6db5; border-radius: 4px;
  background: #2f6db5; color: #fff; cursor: pointer; }
.ly-add:hover { background: #285d9b; }
.ly-link { font: inherit; font-size: 13px; padding: 5px 4px; border: none; background: none; color: #2f6db5; cursor: pointer; }
.ly-hint { color: #5b6878; font-size: 12px; margin: 4px 0; }
.ly-problem { color: #8a1c1c; font-size: 12.5px; margin: 4px 0; white-space: pre-wrap; }
"""

#: What a file's extension says it is, for people.
KINDS = {
    ".csv": "CSV", ".tsv": "TSV", ".xlsx": "Excel", ".xls": "Excel (old)", ".json": "JSON", ".jsonl": "JSON Lines",
    ".parquet": "Parquet", ".sqlite": "SQLite", ".sqlite3": "SQLite", ".db": "SQLite", ".png": "PNG image",
    ".jpg": "JPEG image", ".jpeg": "JPEG image", ".gif": "GIF image", ".webp": "WebP image", ".svg": "SVG image",
    ".txt": "text", ".md": "Markdown", ".py": "Python", ".zip": "ZIP archive", ".html": "HTML", ".pdf": "PDF",
}

OUTPUTS = "outputs/"

Kernel = Any  # RemoteKernel: list_files, get_file_js, delete_file, rename_file, zip_outputs, inspect_file
Save = Callable[[str, Any, str], None]
Ask = Callable[[str], Awaitable[None]]


def safe_name(name: str) -> str:
    """A file's bare name: no folders (either slash), no '..', nothing hidden."""
    bare = PurePosixPath(name.replace("\\", "/")).name.strip()
    return "" if bare in ("", ".", "..") else bare.lstrip(".")


def kind_of(path: str) -> str:
    return KINDS.get(PurePosixPath(path).suffix.lower(), PurePosixPath(path).suffix.lstrip(".").upper() or "file")


def clock(stamp: float, date: bool = False) -> str:
    """A moment as the person reads time (their time zone): the time of day, with the date
    before it when ``date``."""
    if sys.platform == "emscripten":
        import js
        from pyodide.ffi import to_js

        fields = {"hour": "2-digit", "minute": "2-digit", **({"day": "numeric", "month": "short"} if date else {})}
        options = to_js(fields, dict_converter=js.Object.fromEntries)
        return str(js.Date.new(stamp * 1000).toLocaleString(js.undefined, options))
    return time.strftime("%d %b %H:%M" if date else "%H:%M", time.localtime(stamp))


class FileRow:
    """One file: its name and facts, its action buttons, and (opened on demand) a preview."""

    def __init__(self, panel: FilesPanel, info: dict[str, Any]) -> None:
        self.panel = panel
        self.path = info["path"]
        self.label = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[FILES_CSS], margin=(2, 4))
        buttons = [
            ("eye", "Preview", self._on_preview),
            ("message-dots", "Ask about this file", self._on_ask),
            ("download", "Download", self._on_download),
            ("pencil", "Rename", self._on_rename),
            ("trash", "Delete", self._on_delete),
        ]
        icons = []
        for icon, description, handler in buttons:
            button = pn.widgets.ButtonIcon(icon=icon, description=description, size="1.1em", margin=(0, 3))
            button.on_click(handler)
            icons.append(button)
        self.extra = pn.Column(sizing_mode="stretch_width", margin=0)
        self.view = pn.Column(
            self.label, pn.Row(*icons, margin=(0, 0, 4, 4)), self.extra, sizing_mode="stretch_width", margin=(0, 0, 6, 0)
        )
        self.update(info)

    def update(self, info: dict[str, Any]) -> None:
        name = escape(visible(self.path))
        output = "<span class='ly-out'>output</span> · " if self.path.startswith(OUTPUTS) else ""
        self.label.object = (
            f"<div class='ly-file'><b>{name}</b><br><small>{output}{escape(size_text(info['size']))} · "
            f"{escape(kind_of(self.path))} · {escape(clock(info['mtime']))}</small></div>"
        )

    async def _on_preview(self, _event) -> None:
        if self.extra.objects:
            self.extra.clear()
            return
        self.extra.append(pn.pane.HTML("<p class='ly-hint'>Looking…</p>", stylesheets=[FILES_CSS]))
        try:
            info = await self.panel.kernel.inspect_file(self.path)
        except (OSError, RuntimeError) as exc:
            self.extra.objects = [_problem(f"No preview: {exc}")]
            return
        self.extra.objects = [preview(info, lambda: self.panel.extract(self.path))]

    async def _on_ask(self, _event) -> None:
        await self.panel.ask(self.path)

    async def _on_download(self, _event) -> None:
        await self.panel.download(self.path)

    def _on_rename(self, _event) -> None:
        field = pn.widgets.TextInput(value=PurePosixPath(self.path).name, sizing_mode="stretch_width", margin=(0, 4))

        async def renamed(event) -> None:
            await self.panel.rename(self.path, event.new)

        field.param.watch(renamed, "value")
        self.extra.objects = [pn.pane.HTML("<p class='ly-hint'>New name, then Enter:</p>", stylesheets=[FILES_CSS]), field]

    async def _on_delete(self, _event) -> None:
        await self.panel.delete(self.path)


def _problem(text: str) -> pn.pane.HTML:
    return pn.pane.HTML(f"<p class='ly-problem'>{escape(text)}</p>", stylesheets=[FILES_CSS], margin=(0, 4))


def preview(info: dict[str, Any], extract: Callable[[], Awaitable[None]] | None = None) -> pn.viewable.Viewable:
    """What the kernel's look at a file shows: its tables, a thumbnail, the text's head, or
    an archive's listing (with a button to unpack it). The look comes from the kernel:
    every value is escaped, and one not of the expected shape ends in a plain message."""
    try:
        return _preview(info, extract)
    except (KeyError, TypeError, ValueError, AttributeError):
        return _problem("The kernel's look at this file could not be read.")


def _preview(info: dict[str, Any], extract: Callable[[], Awaitable[None]] | None) -> pn.viewable.Viewable:
    if info.get("problem"):
        return _problem(str(info["problem"]))
    parts: list[pn.viewable.Viewable] = []
    for table in info.get("tables", []):
        names = [name for name, _ in table["columns"]]
        rows = table.get("rows")
        count = int(table["column_count"])
        shape = [int(rows) if rows is not None else len(table["first_rows"]), count]
        spec = {"columns": names, "rows": table["first_rows"], "shape": shape, "truncated": True}
        title = f"{table['name']} · " if table.get("name") else ""
        counted = f"{int(rows):,} rows" if rows is not None else "rows not counted"
        parts.append(_hint(f"{title}{counted} · {count} columns"))
        parts.append(_outputs.output({"kind": "display", "data": {TABLE_MIME: spec, "text/plain": ""}}))
    if info.get("thumbnail"):
        parts.append(_outputs.image(info["thumbnail"], "image/png"))
        parts.append(_hint(f"{int(info['width'])} × {int(info['height'])} px · {info['mode']}"))
    if info.get("text") is not None and not info.get("tables"):
        parts.append(_outputs.preformatted(str(info["text"]) + ("\n…" if info.get("truncated") else "")))
    if "members" in info:
        listing = "".join(f"{visible(str(m['path']))}  ({size_text(int(m['size']))})\n" for m in info["members"])
        parts.append(_outputs.preformatted(listing or "(empty archive)"))
        parts.append(_hint(f"{int(info['member_count'])} files, {size_text(int(info['unpacked_size']))} unpacked"))
        if extract is not None and info["members"]:
            parts.append(once_button("Extract here", "file-zip", extract, button_type="light", margin=(2, 4)))
    return pn.Column(*parts, sizing_mode="stretch_width", margin=0) if parts else _hint("Nothing to preview.")


def _hint(text: str) -> pn.pane.HTML:
    return pn.pane.HTML(f"<p class='ly-hint'>{escape(text)}</p>", stylesheets=[FILES_CSS], margin=(0, 4))


class FilesPanel:
    """The sidebar's file list, kept in step with the kernel's data folder."""

    def __init__(self, kernel: Kernel, ask: Ask, save: Save, on_change: Callable[[], None]) -> None:
        self.kernel = kernel
        self.on_change = on_change  # the files changed: the model should hear of it
        self.ask = ask
        self.save = save
        self.rows: dict[str, FileRow] = {}
        self.on_listed: Callable[[list[str]], None] = lambda paths: None  # after each listing: every path
        self._listing = asyncio.Lock()
        self.message = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[FILES_CSS], margin=(0, 10))
        self.empty = pn.pane.HTML(
            "<p class='ly-hint'>No files yet. Code finds them in its working folder, by name.</p>",
            stylesheets=[FILES_CSS],
            margin=(0, 10),
        )
        self.list = pn.Column(self.empty, sizing_mode="stretch_width", margin=(0, 6))
        self.download_all = pn.widgets.Button(
            name="Download all outputs (ZIP)", icon="file-zip", button_type="light", visible=False, margin=(4, 10)
        )
        self.download_all.on_click(self._on_download_all)

    def view(self) -> pn.viewable.Viewable:
        add = pn.pane.HTML(
            action_button("add-files", "Add files…", "ly-add")
            + "<p class='ly-hint'>or drop them anywhere on the page, or paste them.</p>",
            stylesheets=[FILES_CSS],
            margin=(4, 10),
        )
        return pn.Column(add, self.message, self.list, self.download_all, sizing_mode="stretch_width", margin=0)

    def say(self, text: str) -> None:
        """A line above the list: what went wrong with the last thing done ('' clears it)."""
        self.message.object = f"<p class='ly-problem'>{escape(visible(text))}</p>" if text else ""

    async def refresh(self) -> None:
        """Read the data folder again: new files appear, gone ones go, sizes and times update.

        One at a time: a listing taken before another refresh's must not be shown after it."""
        async with self._listing:
            try:
                listing = {info["path"]: info for info in await self.kernel.list_files()}
            except FileNotFoundError:  # the kernel was replaced meanwhile; its restart lists again
                return
            self._show(listing)

    def _show(self, listing: dict[str, dict[str, Any]]) -> None:
        for path in [p for p in self.rows if p not in listing]:
            self.list.remove(self.rows.pop(path).view)
        fresh = []
        for path, info in listing.items():
            if path in self.rows:
                self.rows[path].update(info)
            else:
                self.rows[path] = FileRow(self, info)
                fresh.append(self.rows[path].view)
        ordered = sorted(self.rows.values(), key=lambda row: (row.path.startswith(OUTPUTS), row.path.lower()))
        if fresh or not self.rows:
            self.list.objects = [row.view for row in ordered] or [self.empty]
        self.download_all.visible = any(path.startswith(OUTPUTS) for path in self.rows)
        self.on_listed(sorted(self.rows, key=str.lower))

    async def download(self, path: str, escape_formulas: bool = False) -> None:
        """Save a file to the person's machine; ``escape_formulas``: a copy of a CSV or
        workbook in which a spreadsheet shows formula-like text as text (kernel/_formulas.py)."""
        try:
            data = await self.kernel.get_file_js(path, escape_formulas=escape_formulas)
            self.save(PurePosixPath(path).name, data, "application/octet-stream")
        except FileNotFoundError as exc:
            self.say(f"{path} could not be read: {exc}")

    async def rename(self, path: str, name: str) -> None:
        clean = safe_name(name)
        if not clean:
            self.say(f"{name!r} is not a usable file name.")
            return
        folder = PurePosixPath(path).parent
        try:
            await self.kernel.rename_file(path, str(folder / clean) if str(folder) != "." else clean)
        except FileNotFoundError as exc:
            self.say(f"{path} was not renamed: {exc}")
            return
        self.say("")
        self.on_change()
        await self.refresh()

    async def delete(self, path: str) -> None:
        try:
            await self.kernel.delete_file(path)
        except FileNotFoundError as exc:
            self.say(f"{path} was not deleted: {exc}")
        self.on_change()
        await self.refresh()

    async def extract(self, path: str) -> None:
        try:
            await self.kernel.extract_zip(path)
        except FileNotFoundError as exc:
            self.say(f"{path} was not unpacked: {exc}")
            return
        self.say("")
        await self.refresh()
        self.on_change()

    async def _on_download_all(self, _event) -> None:
        self.save("outputs.zip", await self.kernel.zip_outputs(), "application/zip")
