"""The settings of the model inside the page: pick or download a GGUF file, see it kept in
this browser with its size, load it, remove it. No key, no server: nothing leaves the tab."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import panel as pn

from ..llm import MAX_MODEL_BYTES, InPageFailed, InPageModel, too_big
from ..protocol import Kept, Loaded
from ..render import escape, size_text
from ._actions import action_button

PROMISE = (
    "The model runs inside this tab (llama.cpp in WebAssembly). <b>Nothing leaves this tab</b>: no account, "
    "no server; your questions, files and the model's answers stay on this device."
)


class InPagePanel:
    """Shown while the *In this page* endpoint is chosen. ``on_model(name)`` is told the
    name of the model that is kept (and loaded), "" when there is none."""

    def __init__(self, model: InPageModel, on_model: Callable[[str], None]) -> None:
        self.model = model
        self.on_model = on_model
        self.promise = pn.pane.HTML(f"<p class='ly-hint'>{PROMISE}</p>", margin=(0, 10), sizing_mode="stretch_width")
        self.pick = pn.pane.HTML(action_button("pick-model", "Choose a .gguf file…", "ly-pick-model"), margin=(0, 10))
        self.url = pn.widgets.TextInput(
            name="…or download one (kept in this browser)", placeholder="https://…/model.gguf", sizing_mode="stretch_width"
        )
        self.download = pn.widgets.Button(name="Download", icon="download", button_type="light")
        self.progress = pn.indicators.Progress(value=0, max=100, visible=False, sizing_mode="stretch_width", margin=(0, 10))
        self.status = pn.pane.Markdown("", css_classes=["ly-status"], sizing_mode="stretch_width")
        self.forget = pn.widgets.Button(name="Remove the model from this browser", icon="trash", button_type="light", visible=False)
        self.download.on_click(self._on_download)
        self.forget.on_click(self._on_forget)
        self.model.on_progress = self._on_progress
        self.layout = pn.Column(
            self.promise, self.pick, self.url, self.download, self.progress, self.status, self.forget,
            visible=False, sizing_mode="stretch_width", margin=0,
        )

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.visible = True
        self.progress.value = int(100 * done / total) if total else -1
        of = f" of {size_text(total)}" if total else ""
        self.status.object = f"Keeping the model in this browser: {size_text(done)}{of}…"

    async def show(self) -> None:
        """Say what is kept, and load it (the model is needed as soon as this is chosen)."""
        self.layout.visible = True
        try:
            kept = await self.model.kept()
        except InPageFailed as exc:
            self._say_problem(str(exc))
            return
        if kept.name:
            await self._load(kept)
        else:
            self.status.object = "No model is kept in this browser yet. Choose a GGUF file (a 0.5B–3B model at Q4 works well)."
            self.forget.visible = False
            self.on_model("")

    def hide(self) -> None:
        self.layout.visible = False

    async def keep_file(self, name: str, size: int, file: Any) -> None:
        """Keep the picked file in this browser and load it."""
        self.layout.visible = True
        self.status.object = f"Keeping **{escape(name)}** ({size_text(size)}) in this browser…"
        await self._keep(self.model.keep_file(file, size))

    async def _on_download(self, _event: Any) -> None:
        url = self.url.value.strip()
        if not url.startswith(("https://", "http://")):
            self._say_problem("Type the address of a .gguf file, starting with https://.")
            return
        self.status.object = f"Downloading from `{escape(url)}`: only this address is reached, once, and the file is kept here."
        await self._keep(self.model.keep_url(url))

    async def _keep(self, keeping: Any) -> None:
        self.download.disabled = True
        try:
            kept: Kept = await keeping
        except InPageFailed as exc:
            await self._refused(str(exc))
            return
        finally:
            self.download.disabled = False
            self.progress.visible = False
        await self._load(kept)

    async def _refused(self, problem: str) -> None:
        """Say why a file was not kept, and that the model kept before it still is."""
        self._say_problem(problem)
        try:
            kept = await self.model.kept()
        except InPageFailed:
            return
        if kept.name:
            self.status.object += f"\n\n**{escape(kept.name)}** ({size_text(kept.size)}) is still kept and used."

    async def _load(self, kept: Kept) -> None:
        """The memory check, then the model into the tab."""
        self.forget.visible = True
        if kept.size > MAX_MODEL_BYTES:
            self._say_problem(f"{kept.name} is kept, but will not fit. {too_big(kept.size)}")
            return
        self.status.object = f"Loading **{escape(kept.name)}** ({size_text(kept.size)}, kept in this browser)…"
        try:
            loaded: Loaded = await self.model.load()
        except InPageFailed as exc:
            self._say_problem(str(exc))
            return
        self.status.object = (
            f"✓ **{escape(loaded.name)}** ({size_text(loaded.size)}) is loaded and kept in this browser: "
            f"{loaded.n_layer} layers, a context of {loaded.n_ctx:,} tokens, {loaded.threads} thread{'s' if loaded.threads != 1 else ''}. "
            "The next visit loads it from here."
        )
        self.on_model(loaded.name)

    async def _on_forget(self, _event: Any) -> None:
        try:
            await self.model.forget()
        except InPageFailed as exc:
            self._say_problem(str(exc))
            return
        self.forget.visible = False
        self.status.object = "The model was removed from this browser."
        self.on_model("")

    def _say_problem(self, text: str) -> None:
        """``text`` is the worker's or the file's words: shown as text, never as markup."""
        self.status.object = f"**The model cannot be used.** {escape(text)}"
