"""The kernel worker's side: the messages the app sends, turned into calls on the core.

It runs only inside the kernel worker (site/kernel-worker.js imports it), next to the
code the model writes.
"""

from ._bridge import WARM_UP, Bridge, warm_up

__all__ = ["Bridge", "WARM_UP", "warm_up"]
