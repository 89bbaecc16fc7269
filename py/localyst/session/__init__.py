"""The conversation without any view: what goes to the model, what is recorded, what the
model is told of the files and the kernel, how a turn runs, and how it is kept. ui/
renders it and sends the person's actions."""

from ._agents import Agents
from ._conversation import Conversation, SessionKernel, Waiting
from ._keeping import Keeping
from ._recipe_run import Progress, RecipeEnded, RecipeKernel, run_plan, run_recipe

__all__ = ["Agents", "Conversation", "Keeping", "Progress", "RecipeEnded", "RecipeKernel", "SessionKernel", "Waiting", "run_plan", "run_recipe"]
