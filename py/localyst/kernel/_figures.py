"""matplotlib figures: a backend that shows figures in the cell, and PNG rendering.

Nothing here imports matplotlib: it is slow to import, and the person may never use it.
"""

from __future__ import annotations

import base64
import io
import os
import sys
from typing import Any, Callable

BACKEND = "module://localyst.kernel._mpl_backend"
FIGURE_METADATA = {"source": "matplotlib"}


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
