"""Patches applied to modules as they finish loading (or at once if already loaded).

`IPython.display.display` and Bokeh's `show` go to the kernel's display: code written for
Jupyter does `from IPython.display import display` or `from bokeh.plotting import show`,
which bind the name when imported.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any, Callable

from ._display import display


def _show_bokeh(obj: Any, *_args: Any, **_kwargs: Any) -> None:
    display(obj)


def _replacing(attribute: str, replacement: Callable[..., Any]) -> Callable[[ModuleType], None]:
    """A patch that replaces a module's function, and wherever its package re-exported it."""

    def patch(module: ModuleType) -> None:
        original = getattr(module, attribute, None)
        if original is None or original is replacement:
            return
        package = module.__name__.partition(".")[0]
        for name, other in list(sys.modules.items()):
            if (name == package or name.startswith(package + ".")) and other is not None:
                if getattr(other, attribute, None) is original:
                    setattr(other, attribute, replacement)
        setattr(module, attribute, replacement)

    return patch


# module -> what to do to it once loaded (each safe to apply twice)
PATCHES: dict[str, Callable[[ModuleType], None]] = {
    "IPython.core.display_functions": _replacing("display", display),
    "bokeh.io.showing": _replacing("show", _show_bokeh),
}


def install() -> None:
    """Patch the modules already loaded, and the others as they load (safe to call twice)."""
    for name, patch in PATCHES.items():
        if name in sys.modules:
            patch(sys.modules[name])
    if not any(isinstance(finder, _PatchingFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchingFinder())


class _PatchingFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in PATCHES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _PatchingLoader(spec.loader)
        return spec


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: Any) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        PATCHES[module.__name__](module)
