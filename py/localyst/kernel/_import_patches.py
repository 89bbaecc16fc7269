"""Redirect `IPython.display.display` and Bokeh's `show` to the kernel's display.

Code written for Jupyter does `from IPython.display import display` or
`from bokeh.plotting import show`; both bind the name when imported, so the
replacement has to be in place as the defining module finishes loading.
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


# module -> (attribute, replacement)
PATCHES: dict[str, tuple[str, Callable[..., Any]]] = {
    "IPython.core.display_functions": ("display", display),
    "bokeh.io.showing": ("show", _show_bokeh),
}


def install() -> None:
    """Patch the modules already loaded, and the others as they load (safe to call twice)."""
    for name in PATCHES:
        if name in sys.modules:
            _patch(sys.modules[name])
    if not any(isinstance(finder, _PatchingFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchingFinder())


def _patch(module: ModuleType) -> None:
    """Replace the attribute in the module and wherever its package re-exported it."""
    attribute, replacement = PATCHES[module.__name__]
    original = getattr(module, attribute, None)
    if original is None or original is replacement:
        return
    package = module.__name__.partition(".")[0]
    for name, other in list(sys.modules.items()):
        if (name == package or name.startswith(package + ".")) and other is not None:
            if getattr(other, attribute, None) is original:
                setattr(other, attribute, replacement)
    setattr(module, attribute, replacement)


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
        _patch(module)
