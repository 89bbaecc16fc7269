"""The portable core of the kernel: runs the Python a model writes, and reads the files.

It knows nothing of the model, the page or any worker. It imports and runs in plain
CPython (the tests) and in Pyodide, where the kernel worker's bridge drives it.
"""

from ._display import display
from ._kernel import Kernel
from ...protocol import BOKEH_MIME, TABLE_MIME
from ._outputs import CellResult, Output
from ._packages import MissingModules, imports_of, missing_modules, unavailable_message

__all__ = [
    "BOKEH_MIME",
    "TABLE_MIME",
    "CellResult",
    "Kernel",
    "MissingModules",
    "Output",
    "display",
    "imports_of",
    "missing_modules",
    "unavailable_message",
]
