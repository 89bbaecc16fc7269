"""Asking before a restored backup's settings are used.

A backup restores conversations and files, not trust: anyone can craft one, and its
settings say where the next question (with the conversation and file previews) goes and
whether cells wait for the person. So they change only when the person, shown each
difference, says so; and the key still goes only where it was typed for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import panel as pn

from ..render import escape
from ._files import FILES_CSS

if TYPE_CHECKING:
    from .app import LocalystApp


@dataclass(frozen=True)
class Change:
    """One setting the backup would change, from the current value to the backup's."""

    label: str
    current: Any
    backup: Any


def accepts(widget: pn.widgets.Widget, value: Any) -> bool:
    """Whether a widget can take ``value`` as the person could have set it: the same type,
    one of its options, within its bounds (a widget does not check all of this itself)."""
    if type(value) is not type(widget.value):
        return False
    options = getattr(widget, "options", None)
    if options is not None and value not in options:
        return False
    start, end = getattr(widget, "start", None), getattr(widget, "end", None)
    return (start is None or value >= start) and (end is None or value <= end)


def proposed(app: LocalystApp, settings: dict[str, Any]) -> tuple[dict[str, Any], list[Change]]:
    """What of a backup's settings would change the app's: in the shape apply_settings
    takes, and as one Change per setting for the person to read. Values no widget of the
    app accepts are left out, and so is the connection when this visit's link chose one."""
    changed: dict[str, Any] = {}
    changes: list[Change] = []
    connection = settings.get("connection", {})
    if connection.get("base_url") and not app.settings.chosen_in_link:
        now = app.settings.remembered()
        wanted = {"base_url": connection["base_url"], "model": connection.get("model", "")}
        labels = {"base_url": app.settings.base_url.name, "model": app.settings.model.name}
        for name, value in wanted.items():
            if value != now[name]:
                changes.append(Change(labels[name], now[name], value))
        if wanted != now:
            changed["connection"] = wanted
    behaviour = app.behaviour.read(settings.get("behaviour", {}))
    fields = app.behaviour.fields()
    for key, value in behaviour.items():
        widget = fields[key]
        if accepts(widget, value) and value != widget.value:
            changed.setdefault("behaviour", {})[key] = value
            changes.append(Change(widget.name, widget.value, value))
    limit = settings.get("time_limit")
    if limit is not None and accepts(app.time_limit, limit) and limit != app.time_limit.value:
        changed["time_limit"] = limit
        changes.append(Change(app.time_limit.name, app.time_limit.value, limit))
    return changed, changes


def shown(value: Any) -> str:
    """A setting's value as the person reads it, escaped (a backup's values are untrusted)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if value == "":
        return "<i>none</i>"
    return f"<code>{escape(str(value))}</code>"


class SettingsQuestion:
    """The differences, and two buttons: only "Use the backup's settings" applies them."""

    def __init__(self, source: str, changes: list[Change], on_use: Callable[[], None], on_keep: Callable[[], None]) -> None:
        rows = "".join(
            f"<li>{escape(change.label)}: {shown(change.current)} → {shown(change.backup)}</li>" for change in changes
        )
        text = pn.pane.HTML(
            f"<p class='ly-problem'>{escape(source)} has other settings. They were not applied; they would change:</p>"
            f"<ul class='ly-file'>{rows}</ul>",
            stylesheets=[FILES_CSS],
            sizing_mode="stretch_width",
            margin=(0, 10),
        )
        use = pn.widgets.Button(name="Use the backup's settings", button_type="warning", margin=(2, 10))
        keep = pn.widgets.Button(name="Keep mine", button_type="light", margin=(2, 10))
        use.on_click(lambda _event: on_use())
        keep.on_click(lambda _event: on_keep())
        self.panel = pn.Column(text, pn.Row(use, keep, margin=0), sizing_mode="stretch_width", margin=0)
