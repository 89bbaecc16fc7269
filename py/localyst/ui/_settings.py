"""The connection settings: endpoint preset, base URL, key, model, and a connection test."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import panel as pn

from ._inpage import InPagePanel
from ._styles import SIDE_CSS
from ._tasks import background
from ..llm import IN_PAGE, PRESETS, Endpoint, describe, in_page_model, list_models, make_client

CUSTOM = "Custom"
KEY_IN_MEMORY = "The key stays in this tab's memory and goes only to the base URL above."
KEY_KEPT = (
    "The key is kept in this browser for this site, so anyone using this browser profile can use it. "
    "It goes only to the base URL above, and never into backups."
)


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL: what a key is bound to ('' if there is none)."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def preset_for(base_url: str) -> str:
    """The preset whose base URL this is, or Custom."""
    wanted = base_url.rstrip("/")
    for name, preset in PRESETS.items():
        if preset.base_url and preset.base_url.rstrip("/") == wanted:
            return name
    return CUSTOM


class SettingsPanel:
    """Widgets for choosing where messages go.

    The key is bound to the origin it was typed for: when the base URL moves to another
    origin, the key is held back until the person agrees to send it there."""

    def __init__(self, search: str = "", origin: str = "") -> None:
        query = parse_qs(search.lstrip("?"))
        self.origin = origin  # this site's, for the local servers' start commands
        first_name = next(iter(PRESETS))
        base_url = (query.get("base_url") or [PRESETS[first_name].base_url])[0]
        self.key_in_link = any(k in query for k in ("api_key", "key", "token"))
        self.chosen_in_link = any(k in query for k in ("base_url", "model"))

        self.preset = pn.widgets.Select(
            name="Endpoint", options=list(PRESETS), value=preset_for(base_url), sizing_mode="stretch_width"
        )
        self.start_hint = pn.pane.Markdown("", css_classes=["ly-hint"], margin=(0, 10), sizing_mode="stretch_width")
        self._show_start(self.preset.value)
        self.base_url = pn.widgets.TextInput(
            name="Base URL", value=base_url, placeholder="https://…/v1", sizing_mode="stretch_width"
        )
        self.api_key = pn.widgets.PasswordInput(
            name="API key", placeholder="not needed for local servers", sizing_mode="stretch_width"
        )
        self.remember_key = pn.widgets.Checkbox(name="Remember the key on this device", margin=(0, 10))
        self.key_hint = pn.pane.HTML(f"<p class='ly-hint'>{KEY_IN_MEMORY}</p>", margin=(0, 10))
        self.key_origin = ""  # the origin the key may go to
        self.key_question = pn.pane.Markdown("", css_classes=["ly-status"], sizing_mode="stretch_width")
        self.send_key = pn.widgets.Button(name="Send the key there", button_type="warning")
        self.clear_key = pn.widgets.Button(name="Clear the key", button_type="light")
        self.key_prompt = pn.Column(
            self.key_question, pn.Row(self.send_key, self.clear_key), visible=False, sizing_mode="stretch_width"
        )
        self.on_key: Callable[[], None] = lambda: None  # the key, its origin or remembering it changed
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

        self.in_page = InPagePanel(in_page_model(), self._on_in_page_model)
        #: What only a server endpoint has: an address, a key, a model list.
        self.server_only = [self.base_url, self.api_key, self.remember_key, self.key_hint, self.load_models, self.test]

        self.preset.param.watch(self._on_preset, "value")
        self.api_key.param.watch(self._on_key_typed, "value")
        self.base_url.param.watch(self._on_base_url, "value")
        self.remember_key.param.watch(self._on_remember, "value")
        self.send_key.on_click(self._on_send_key)
        self.clear_key.on_click(lambda _event: setattr(self.api_key, "value", ""))
        self.load_models.on_click(self._on_load_models)
        self.test.on_click(self._on_test)
        if self.preset.value == IN_PAGE:
            self.show_in_page()

    def endpoint(self) -> Endpoint:
        """Where the next request goes, with the key only if it is bound to that origin."""
        base_url = self.base_url.value.strip()
        key_allowed = self.key_origin == origin_of(base_url)
        return Endpoint(
            base_url=base_url,
            api_key=(self.api_key.value or "") if key_allowed else "",
            model=(self.model.value or self.model.value_input or "").strip(),
        )

    def remembered(self) -> dict[str, str]:
        """What is kept between visits: where messages go and to which model, never the key."""
        return {"base_url": self.base_url.value, "model": self.model.value or self.model.value_input or ""}

    def kept_key(self) -> dict[str, str] | None:
        """The key and its origin if the person chose to keep it on this device."""
        if self.remember_key.value and self.api_key.value:
            return {"key": self.api_key.value, "origin": self.key_origin}
        return None

    def restore_key(self, kept: dict[str, str]) -> None:
        """Take back a key kept on this device, bound to the origin it was kept for."""
        on_key, self.on_key = self.on_key, lambda: None  # it is stored already
        try:
            self.api_key.value = kept["key"]
            self.remember_key.value = True
        finally:
            self.on_key = on_key
        self.key_origin = kept["origin"]
        self._ask_about_key()

    def _on_key_typed(self, event) -> None:
        self.key_origin = origin_of(self.base_url.value) if event.new else ""
        self._ask_about_key()
        self.on_key()

    def _on_base_url(self, _event) -> None:
        self._ask_about_key()

    def _on_remember(self, event) -> None:
        self.key_hint.object = f"<p class='ly-hint'>{KEY_KEPT if event.new else KEY_IN_MEMORY}</p>"
        self.on_key()

    def _on_send_key(self, _event) -> None:
        self.key_origin = origin_of(self.base_url.value)
        self._ask_about_key()
        self.on_key()

    def _ask_about_key(self) -> None:
        """Show the question when a key exists but was typed for another origin."""
        target = origin_of(self.base_url.value)
        pending = bool(self.api_key.value) and bool(target) and self.key_origin != target
        if pending:
            self.key_question.object = (
                f"**Your key was for `{self.key_origin}`.** It is not sent to `{target}` "
                "unless you say so; until then requests go there without a key."
            )
        self.key_prompt.visible = pending

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
        if not endpoint.model and endpoint.in_page:
            return "**No model in this page yet.** Choose a .gguf file under *In this page* in the settings on the left."
        if not endpoint.model:
            return "**No model chosen.** Type a model name or press *Load models* in the settings on the left."
        return ""

    def _on_preset(self, event) -> None:
        preset = PRESETS.get(event.new)
        if preset is not None and preset.base_url:
            self.base_url.value = preset.base_url
        self.model.options = []
        self._show_start(event.new)
        self.show_in_page()

    def show_in_page(self) -> None:
        """With *In this page* chosen, its own settings instead of a server's."""
        chosen = self.preset.value == IN_PAGE
        for widget in self.server_only:
            widget.visible = not chosen
        self.model.disabled = chosen
        if chosen:
            self.model.value = ""
            background(self.in_page.show())
        else:
            self.in_page.hide()

    def _on_in_page_model(self, name: str) -> None:
        if self.preset.value == IN_PAGE:
            self.model.value = name

    def _show_start(self, name: str) -> None:
        preset = PRESETS.get(name)
        start = preset.how_to_start(self.origin) if preset is not None else ""
        self.start_hint.object, self.start_hint.visible = start, bool(start)

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
            self.start_hint,
            self.in_page.layout,
            self.base_url,
            self.api_key,
            self.key_prompt,
            self.remember_key,
            self.model,
            pn.Row(self.test, self.load_models, sizing_mode="stretch_width"),
            self.status,
            self.key_hint,
            *extra,
            width=320,
            scroll=True,
            sizing_mode="stretch_height",
            css_classes=["ly-settings"],
            stylesheets=[SIDE_CSS],
        )
