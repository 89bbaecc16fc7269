"""The conversation without any view: what goes to the model, what is recorded, and what
the model is told of the files and the kernel. ui/ renders it and sends the person's actions."""

from ._agents import Agents
from ._conversation import Conversation, SessionKernel, Waiting

__all__ = ["Agents", "Conversation", "SessionKernel", "Waiting"]
