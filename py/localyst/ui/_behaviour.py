"""How the interpreter loop behaves: its budgets, how code reaches it, what the model sees."""

from __future__ import annotations

from typing import Any

import panel as pn

from ..agent import Limits

#: Code wants the likeliest tokens: small local models make far fewer broken calls at a low
#: temperature than at their servers' defaults (0.7–0.8).
TEMPERATURE = 0.2
TOOLS = "Tool calls (run_python)"
FENCED = "Fenced ```python blocks"


class BehaviourPanel:
    """A collapsed card of settings; ``options()`` gives the Agent's keyword arguments."""

    def __init__(self) -> None:
        limits = Limits()
        self.max_steps = pn.widgets.IntInput(name="Steps per turn", value=limits.max_steps, start=1, end=100)
        self.max_failures = pn.widgets.IntInput(name="Failed runs in a row", value=limits.max_failures, start=1, end=50)
        self.max_tokens = pn.widgets.IntInput(name="Tokens per turn", value=limits.max_tokens, start=1000, step=1000)
        self.context = pn.widgets.IntInput(name="Model context window (tokens)", value=100_000, start=2000, step=1000)
        self.temperature = pn.widgets.FloatInput(name="Temperature", value=TEMPERATURE, start=0.0, end=2.0, step=0.1)
        self.mode = pn.widgets.Select(name="How the model runs code", options=[TOOLS, FENCED], value=TOOLS)
        self.images = pn.widgets.Checkbox(name="Show charts to the model as images (vision models)", value=False)
        self.confirm = pn.widgets.Checkbox(name="Confirm each cell before it runs", value=False)
        self.figures = pn.widgets.Checkbox(name="Ask the model about numbers no code computed", value=True)

    def fields(self) -> dict[str, pn.widgets.Widget]:
        """Each setting by the name it is kept under (not its label, which may be reworded)."""
        return {
            "max_steps": self.max_steps,
            "max_failures": self.max_failures,
            "max_tokens": self.max_tokens,
            "context_tokens": self.context,
            "temperature": self.temperature,
            "mode": self.mode,
            "send_images": self.images,
            "confirm": self.confirm,
            "check_figures": self.figures,
        }

    def widgets(self) -> tuple[pn.widgets.Widget, ...]:
        return tuple(self.fields().values())

    def remembered(self) -> dict[str, Any]:
        return {key: widget.value for key, widget in self.fields().items()}

    def read(self, kept: dict[str, Any]) -> dict[str, Any]:
        """Kept settings by key; settings kept before keys were used are found by label."""
        return {key: kept.get(key, kept.get(widget.name)) for key, widget in self.fields().items() if key in kept or widget.name in kept}

    def restore(self, kept: dict[str, Any]) -> None:
        fields = self.fields()
        for key, value in self.read(kept).items():
            fields[key].value = value

    def options(self) -> dict[str, Any]:
        return {
            "limits": Limits(
                max_steps=self.max_steps.value, max_failures=self.max_failures.value, max_tokens=self.max_tokens.value
            ),
            "mode": "fenced" if self.mode.value == FENCED else "tools",
            "send_images": self.images.value,
            "context_tokens": self.context.value,
            "temperature": self.temperature.value,
            "confirm": self.confirm.value,
            "check_figures": self.figures.value,
        }

    def view(self) -> pn.viewable.Viewable:
        return pn.Card(
            self.max_steps,
            self.max_failures,
            self.max_tokens,
            self.context,
            self.temperature,
            pn.pane.HTML(
                "<p class='ly-hint'>Sent with each request; low suits code. An endpoint that refuses it gets none.</p>",
                margin=(0, 10),
            ),
            self.mode,
            pn.pane.HTML(
                "<p class='ly-hint'>Endpoints that refuse tool calls are switched to fenced blocks by themselves.</p>",
                margin=(0, 10),
            ),
            self.images,
            self.confirm,
            self.figures,
            pn.pane.HTML(
                "<p class='ly-hint'>Once per answer; every number of an answer is marked with the code it came from, or as not computed.</p>",
                margin=(0, 10),
            ),
            title="Interpreter settings",
            collapsed=True,
            sizing_mode="stretch_width",
            margin=(10, 5),
        )
