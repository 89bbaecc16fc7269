"""The connection settings: endpoint preset, base URL, key, model, and a connection test."""

from __future__ import annotations

from urllib.parse import parse_qs

import panel as pn

from ._styles import SIDE_CSS
from ..llm import PRESETS, Endpoint, describe, list_models, make_client

CUSTOM = "Custom"


def preset_for(base_url: str) -> str:
    """The preset whose base URL this is, or Custom."""
    wanted = base_url.rstrip("/")
    for name, preset in PRESETS.items():
        if preset.base_url and preset.base_url.rstrip("/") == wanted:
            return name
    return CUSTOM


class SettingsPanel:
    """Widgets for choosing where messages go; the key is held in memory only."""

    def __init__(self, search: str = "") -> None:
        query = parse_qs(search.lstrip("?"))
        first_name = next(iter(PRESETS))
        base_url = (query.get("base_url") or [PRESETS[first_name].base_url])[0]
        self.key_in_link = any(k in query for k in ("api_key", "key", "token"))
        self.chosen_in_link = any(k in query for k in ("base_url", "model"))

        self.preset = pn.widgets.Select(
            name="Endpoint", options=list(PRESETS), value=preset_for(base_url), sizing_mode="stretch_width"
        )
        self.base_url = pn.widgets.TextInput(
            name="Base URL", value=base_url, placeholder="https://…/v1", sizing_mode="stretch_width"
        )
        self.api_key = pn.widgets.PasswordInput(
            name="API key", placeholder="not needed for local servers", sizing_mode="stretch_width"
        )
        self.model = pn.widgets.AutocompleteInput(
            name="Model",
            value=(query.get("model") or [""])[0],
            options=[],
            restrict=False,
            min_characters=0,
            search_strategy="includes",
            case_sensitive=False,
            placeholder="type a model name or load the list",
            sizing_mode="stretch_width",
        )
        self.load_models = pn.widgets.Button(name="Load models", icon="list", button_type="light")
        self.test = pn.widgets.Button(name="Test connection", icon="plug-connected", button_type="primary")
        self.status = pn.pane.Markdown("", css_classes=["ly-status"], sizing_mode="stretch_width")
        if self.key_in_link:
            self.status.object = "The link carried an API key; it was ignored. Keys are never taken from links."

        self.preset.param.watch(self._on_preset, "value")
        self.load_models.on_click(self._on_load_models)
        self.test.on_click(self._on_test)

    def endpoint(self) -> Endpoint:
        return Endpoint(
            base_url=self.base_url.value.strip(),
            api_key=self.api_key.value or "",
            model=(self.model.value or self.model.value_input or "").strip(),
        )

    def remembered(self) -> dict[str, str]:
        """What is kept between visits: where messages go and to which model, never the key."""
        return {"base_url": self.base_url.value, "model": self.model.value or self.model.value_input or ""}

    def restore(self, kept: dict[str, str]) -> None:
        """Take back the kept choices, unless this visit's link made its own."""
        if self.chosen_in_link or not kept.get("base_url"):
            return
        self.preset.value = preset_for(kept["base_url"])
        self.base_url.value = kept["base_url"]
        self.model.value = kept.get("model", "")

    def missing(self, endpoint: Endpoint) -> str:
        """A message naming what must be filled in before a request can go out, or ''."""
        if not endpoint.base_url:
            return "**No endpoint yet.** Choose an endpoint (or type a base URL) in the settings on the left."
        if not endpoint.model:
            return "**No model chosen.** Type a model name or press *Load models* in the settings on the left."
        return ""

    def _on_preset(self, event) -> None:
        preset = PRESETS.get(event.new)
        if preset is not None and preset.base_url:
            self.base_url.value = preset.base_url
        self.model.options = []

    async def _fetch_models(self) -> list[str]:
        endpoint = self.endpoint()
        names = await list_models(make_client(endpoint))
        self.model.options = names
        if names and not self.model.value:
            self.model.value = names[0]
        return names

    async def _on_load_models(self, _event) -> None:
        self.status.object = "Loading the model list…"
        try:
            names = await self._fetch_models()
        except Exception as exc:
            found = describe(exc, self.endpoint())
            self.status.object = f"**{found.title}** — {found.detail}"
            return
        self.status.object = f"{len(names)} models available." if names else "The endpoint lists no models; type one."

    async def _on_test(self, _event) -> None:
        self.test.loading = True
        self.status.object = "Testing the connection…"
        try:
            names = await self._fetch_models()
        except Exception as exc:
            found = describe(exc, self.endpoint())
            self.status.object = f"**{found.title}** — {found.detail}"
        else:
            self.status.object = f"✓ Connected: {len(names)} models available."
        finally:
            self.test.loading = False

    def view(self, *extra: pn.viewable.Viewable) -> pn.viewable.Viewable:
        """The settings column; ``extra`` goes below them (the kernel's status and controls)."""
        return pn.Column(
            pn.pane.HTML("<h3 class='ly-side-title'>Connection</h3>", margin=(0, 10)),
            self.preset,
            self.base_url,
            self.api_key,
            self.model,
            pn.Row(self.test, self.load_models, sizing_mode="stretch_width"),
            self.status,
            pn.pane.HTML(
                "<p class='ly-hint'>The key stays in this tab's memory and goes only to the base URL above.</p>",
                margin=(0, 10),
            ),
            *extra,
            width=320,
            scroll=True,
            sizing_mode="stretch_height",
            css_classes=["ly-settings"],
            stylesheets=[SIDE_CSS],
        )
