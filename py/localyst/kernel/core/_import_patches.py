"""Patches applied to modules as they finish loading (or at once if already loaded).

`IPython.display.display`, Bokeh's `show` and plotly's (behind `fig.show()`) go to the
kernel's display: code written for Jupyter does `from IPython.display import display` or
`from bokeh.plotting import show`, which bind the name when imported; and plotly's own
would look for a renderer, or open a web browser. And Panel's Pyodide module (imported by hvplot and
HoloViews) gets what it would otherwise make with eval, which the kernel's policy refuses.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from types import ModuleType
from typing import Any, Callable, ContextManager

from ._display import display


def _show(obj: Any, *_args: Any, **_kwargs: Any) -> None:
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
    "bokeh.io.showing": _replacing("show", _show),
    "plotly.io._renderers": _replacing("show", _show),
}


@contextmanager
def _panel_without_eval() -> Iterator[None]:
    """While panel.io.pyodide runs: its one `run_js` call evals a dict converter that it
    uses only to talk to a page from a Panel worker, which the kernel is not. The kernel's
    policy refuses eval (so the import would fail); the browser's own Object.fromEntries
    stands in."""
    import js
    import pyodide.code

    original = pyodide.code.run_js
    pyodide.code.run_js = lambda *_args, **_kwargs: js.Object.fromEntries
    try:
        yield
    finally:
        pyodide.code.run_js = original


# module -> what surrounds its loading
AROUND: dict[str, Callable[[], ContextManager[Any]]] = {"panel.io.pyodide": _panel_without_eval}


def install() -> None:
    """Patch the modules already loaded, and the others as they load (safe to call twice)."""
    for name, patch in PATCHES.items():
        if name in sys.modules:
            patch(sys.modules[name])
    if not any(isinstance(finder, _PatchingFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchingFinder())


class _PatchingFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in PATCHES and fullname not in AROUND:
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
        with AROUND.get(module.__name__, nullcontext)():
            self._loader.exec_module(module)
        patch = PATCHES.get(module.__name__)
        if patch is not None:
            patch(module)
