"""The matplotlib backend the kernel selects: Agg rendering, shown as cell output.

matplotlib imports this module (through MPLBACKEND) when pyplot is first imported.
"""

from __future__ import annotations

from typing import Any

from matplotlib.backend_bases import FigureManagerBase
from matplotlib.backends.backend_agg import FigureCanvasAgg

from ._display import display
from ._figures import show_open_figures


class FigureManager(FigureManagerBase):
    def show(self) -> None:
        """`fig.show()` displays the figure in the cell."""
        display(self.canvas.figure)


class FigureCanvas(FigureCanvasAgg):
    manager_class = FigureManager


def show(*args: Any, **kwargs: Any) -> None:
    """`plt.show()` displays every open figure at that point of the cell, then closes it."""
    show_open_figures(display)
