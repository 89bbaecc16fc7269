"""Buttons drawn as plain HTML that ask the page for an action (copy, save, pick files).

site/loader.js acts on a click on such a button only when it carries this visit's token,
which the app worker hands to the page and nothing else knows: a button that reached the
page in output or model text, even through a sink that failed to escape it, does nothing.
"""

from __future__ import annotations

import secrets

from ..render import escape

#: This visit's token (app-worker.js passes it to the page with the first render). Made
#: anew by ``new_token`` when the app is drawn: a memory snapshot holds the module as it was
#: on the visit that made it, and must hold no secret of a later one.
TOKEN = secrets.token_urlsafe(18)


def new_token() -> None:
    """A fresh token for this visit (before the first button is drawn)."""
    global TOKEN
    TOKEN = secrets.token_urlsafe(18)


def action_button(action: str, label: str, css: str = "", title: str = "", **data: str) -> str:
    """The markup of a button for ``action``; ``data`` become its ``data-*`` attributes,
    ``title`` what a pointer resting on it shows."""
    attributes = "".join(f' data-{name.replace("_", "-")}="{escape(value)}"' for name, value in data.items())
    classes = f' class="{escape(css)}"' if css else ""
    tip = f' title="{escape(title)}"' if title else ""
    return (
        f'<button type="button"{classes}{tip} data-action="{escape(action)}" data-token="{TOKEN}"{attributes}>'
        f"{escape(label)}</button>"
    )
