"""Buttons that act once: pressed, they turn off and run their action (Retry, Extract)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import panel as pn


def once_button(name: str, icon: str, action: Callable[[], Awaitable[None]], **options) -> pn.widgets.Button:
    """A button that disables itself when pressed, then awaits ``action``."""
    button = pn.widgets.Button(name=name, icon=icon, **options)

    async def clicked(_event) -> None:
        button.disabled = True
        await action()

    button.on_click(clicked)
    return button
