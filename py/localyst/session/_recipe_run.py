"""Running a recipe (transcript/_recipe.py) on new files, with no model: each new file goes
into a fresh kernel under the name the recipe was made with, then the cells run in order,
and the run stops at the first cell that fails."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..agent import CodeFinished, CodeStarted, Event, KernelOutput
from ..transcript import Recipe
from ..transcript._record import STOPPED_ERRORS


class RecipeKernel(Protocol):
    """What a run needs of its kernel: a fresh one (RemoteKernel in the browser)."""

    async def put_file(self, path: str, data: Any) -> int: ...

    async def run(self, code: str, on_output: Any = None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Progress:
    """The run is at cell ``number`` of ``count`` (0: putting the files in)."""

    number: int
    count: int

    @property
    def text(self) -> str:
        return f"Running cell {self.number} of {self.count}…" if self.number else "Putting the files into a fresh kernel…"


@dataclass(frozen=True)
class RecipeEnded:
    """How a run ended: ``ran`` cells of ``count`` went through; ``failed`` is the number of
    the cell that stopped it (None when all ran); ``message`` says it to the person."""

    ran: int
    count: int
    failed: int | None
    message: str


def run_plan(recipe: Recipe, chosen: Mapping[str, str]) -> str:
    """'february.csv as january.csv, …': what will be read in place of what."""
    return ", ".join(f"{chosen[i.name]} as {i.file}" if chosen[i.name] != i.file else i.file for i in recipe.inputs)


async def run_recipe(
    kernel: RecipeKernel,
    recipe: Recipe,
    files: Mapping[str, Any],
    on_event: Callable[[Event | Progress], None],
) -> RecipeEnded:
    """Run ``recipe`` in ``kernel`` (a fresh one) with ``files``: input name -> the new
    file's data (bytes or a browser File/Blob). Cell events are the agent's, so the chat
    draws them as it draws the model's code."""
    count = len(recipe.cells)
    missing = [i.name for i in recipe.inputs if i.name not in files]
    if missing:
        raise ValueError(f"No file was chosen for {', '.join(missing)}.")
    on_event(Progress(0, count))
    for item in recipe.inputs:
        try:
            await kernel.put_file(item.file, files[item.name])
        except FileNotFoundError as exc:
            return RecipeEnded(0, count, None, f"The file for {item.name} could not be put into the kernel: {exc}")
    for number, code in enumerate(recipe.cells, 1):
        on_event(Progress(number, count))
        cell_id = f"recipe-{number}"
        on_event(CodeStarted(cell_id, code, "tool"))
        result = await kernel.run(code, lambda output, cell_id=cell_id: on_event(KernelOutput(cell_id, output)))
        on_event(CodeFinished(cell_id, result))
        error = result.get("error")
        if error:
            first_line = next((line.strip() for line in code.splitlines() if line.strip()), "")
            shown = first_line if len(first_line) <= 60 else first_line[:59] + "…"
            why = "was stopped" if error.get("ename") in STOPPED_ERRORS else "failed"
            message = (
                f"The recipe stopped at cell {number} of {count} (`{shown}`), which {why}: "
                f"{error.get('ename')}: {str(error.get('evalue'))[:300]}. The cells after it did not run."
            )
            return RecipeEnded(number - 1, count, number, message)
    return RecipeEnded(count, count, None, f"The recipe ran to its end: {count} cell{'s' if count != 1 else ''}.")
