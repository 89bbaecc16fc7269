"""The messages between the page (site/loader.js), the app worker (site/app-worker.js) and
the app (ui/worker.py), defined once.

The page and the app worker are this site's own code, but what a page action carries is not
all theirs: a chart's file name comes from a button the app drew from the kernel's output,
and a first-screen question is whatever the person typed. ``parse_page_action`` turns one
action into a typed object, or raises ``Malformed`` (the action is then dropped, not guessed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from ._kernel import Malformed

#: What the page posts to the app worker.
PAGE_MESSAGES = ("start", "rendered", "patch", "files", "action")
#: What the app worker (and the app, through it) posts to the page.
APP_MESSAGES = ("status", "startup", "render", "ready", "patch", "idle", "download", "plotly", "error")
#: The ``data-action`` of the buttons the app draws as plain HTML; loader.js acts on them.
BUTTON_ACTIONS = ("add-files", "restore-backup", "pick-model", "copy", "save-image", "save-svg", "show-cell")

#: Longest question or draft the first screen hands over, and longest chart name.
MAX_TEXT = 1_000_000
MAX_NAME = 256


@dataclass(frozen=True)
class Early:
    """What the first screen took while Python started: a question (or a draft) and files,
    each file as (name, size, the browser's File)."""

    question: str
    draft: str
    files: tuple[tuple[str, int, Any], ...]


@dataclass(frozen=True)
class Restore:
    """The person picked a backup file to restore (the browser's File)."""

    file: Any


@dataclass(frozen=True)
class ModelFile:
    """The person picked a GGUF file for the in-page model: (name, size, the browser's File)."""

    name: str
    size: int
    file: Any


@dataclass(frozen=True)
class SaveSvg:
    """Save a chart the kernel keeps as an SVG file."""

    figure: str
    name: str


PageAction = Union[Early, Restore, ModelFile, SaveSvg]
PAGE_ACTIONS = ("early", "restore", "model-file", "save-svg")


def parse_page_action(message: dict[str, Any]) -> PageAction:
    """One ``action`` message as a typed object; Malformed when it is not one of PAGE_ACTIONS
    of the right shape."""
    kind = message.get("action")
    if kind == "early":
        return Early(_text(message, "question", MAX_TEXT), _text(message, "draft", MAX_TEXT), page_files(message.get("files") or []))
    if kind == "restore" and message.get("file") is not None:
        return Restore(message["file"])
    if kind == "model-file":
        ((name, size, file),) = page_files([message.get("file")])
        return ModelFile(name, size, file)
    if kind == "save-svg":
        return SaveSvg(_text(message, "figure", MAX_NAME), _text(message, "name", MAX_NAME))
    raise Malformed(f"no page action {str(kind)[:40]!r} of this shape")


def page_files(given: Any) -> tuple[tuple[str, int, Any], ...]:
    """Files the page handed over (JS File objects, not read yet) as (name, size, file)."""
    try:
        return tuple((str(f.name), int(f.size), f) for f in given)
    except (AttributeError, TypeError, ValueError):
        raise Malformed("the files are not a list of File objects") from None


def _text(message: dict[str, Any], key: str, limit: int) -> str:
    value = message.get(key, "")
    if not isinstance(value, str) or len(value) > limit:
        raise Malformed(f"its {key} is not a text of at most {limit:,} characters")
    return value
