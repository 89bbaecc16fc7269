"""matplotlib figures: a backend that shows figures in the cell, and PNG rendering.

Nothing here imports matplotlib: it is slow to import, and the person may never use it.
"""

from __future__ import annotations

import base64
import io
import itertools
import os
import sys
from collections import OrderedDict
from typing import Any, Callable

BACKEND = "module://localyst.kernel.core._mpl_backend"
FIGURE_METADATA = {"source": "matplotlib"}
#: Shown figures kept for a later "Download SVG" (the most recent ones only: each holds memory).
KEPT_FIGURES = 20

_kept: OrderedDict[str, Any] = OrderedDict()
_ids = itertools.count(1)


def use_kernel_backend() -> None:
    """Make plt.show() display into the cell; works whether or not matplotlib is loaded yet."""
    os.environ["MPLBACKEND"] = BACKEND
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is not None:
        matplotlib.use(BACKEND)


def is_figure(obj: Any) -> bool:
    figure_module = sys.modules.get("matplotlib.figure")
    return figure_module is not None and isinstance(obj, figure_module.Figure)


def figure_bundle(figure: Any) -> dict[str, Any]:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return {
        "text/plain": repr(figure),
        "image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
    }


def keep(figure: Any) -> str:
    """Hold on to a shown (and closed) figure so it can still be saved as SVG; its id."""
    figure_id = f"figure-{next(_ids)}"
    _kept[figure_id] = figure
    while len(_kept) > KEPT_FIGURES:
        _kept.popitem(last=False)
    return figure_id


def svg(figure_id: str) -> bytes:
    """A kept figure as SVG; KeyError when it is no longer kept."""
    figure = _kept.get(figure_id)
    if figure is None:
        raise KeyError(f"{figure_id} is no longer kept (only the last {KEPT_FIGURES} figures are); run its cell again")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    return buffer.getvalue()


def forget(figure: Any) -> None:
    """Close a figure that was shown, so it is not shown again when the cell ends."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(figure)


def show_open_figures(show: Callable[[Any], None]) -> None:
    """Show every figure pyplot holds open, oldest first, then close them."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return
    for number in pyplot.get_fignums():
        show(pyplot.figure(number))
    pyplot.close("all")
