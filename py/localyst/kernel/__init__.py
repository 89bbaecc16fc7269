"""The kernel, split by where each part runs.

- ``core``: runs the cells and reads the files; plain Python, the same in CPython and Pyodide.
- ``worker``: the kernel worker's side, which turns the app's messages into calls on the core.
- ``client``: the app's side (``RemoteKernel``), which talks to that worker over a port and
  treats whatever comes back as untrusted data (protocol/).

Nothing here knows the model; the app imports ``client``, never ``worker``.
"""

from . import core
from .core import *  # noqa: F403 (the core's names are the kernel's)

__all__ = core.__all__
