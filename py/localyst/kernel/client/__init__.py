"""The app's side of the kernel: ``RemoteKernel`` over a port to the kernel worker.

Everything the worker sends is parsed by protocol/ where it arrives here.
"""

from ._port import Connect, Port, WorkerPort
from ._remote import RemoteKernel, lost_result

__all__ = ["Connect", "Port", "RemoteKernel", "WorkerPort", "lost_result"]
