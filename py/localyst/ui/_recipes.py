"""Run a recipe: pick a recipe file, pick one of the Files for each of its inputs, and run
it in a kernel of its own, its cells drawn in the chat as they run. No model is involved;
the conversation's kernel, variables and files are left as they are."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import PurePosixPath
from typing import Any

import panel as pn

from ..agent import CodeFinished, KernelOutput
from ..render import escape, visible
from ..session import Progress, RecipeEnded, run_plan, run_recipe
from ..transcript import Recipe, RecipeError, parse_recipe
from ._files import FILES_CSS, OUTPUTS
from ._turn import TurnView

NOT_CHOSEN = ""
#: Marks the id of a chart the recipe's kernel drew, so that "Download SVG" asks that kernel
#: (the conversation's kernel numbers its charts the same way).
RECIPE_FIGURE = "recipe-"
CHOOSE = "choose a file…"

#: A kernel of its own for a run (RemoteKernel); the app makes it, the panel lets it go.
FreshKernel = Callable[[], Any]
#: The data of one of the person's files (bytes or a browser File/Blob), by its path.
FileData = Callable[[str], Awaitable[Any]]
#: Puts a component in the chat as a message of its own.
Post = Callable[[pn.viewable.Viewable], None]
#: Keeps the chat on its latest message while the run's message grows.
Follow = Callable[[], None]


def default_choice(original: str, files: list[str]) -> str:
    """The file an input starts with: one of the same name; else the only file of the
    same type; else none (the person picks)."""
    if original in files:
        return original
    suffix = PurePosixPath(original).suffix.lower()
    alike = [path for path in files if PurePosixPath(path).suffix.lower() == suffix]
    return alike[0] if len(alike) == 1 else NOT_CHOSEN


def _marked(output: dict[str, Any]) -> dict[str, Any]:
    """The output with its chart's id marked as the recipe kernel's (RECIPE_FIGURE)."""
    metadata = output.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("figure"), str):
        return output
    return {**output, "metadata": {**metadata, "figure": RECIPE_FIGURE + metadata["figure"]}}


class RecipePanel:
    """The sidebar's "Run a recipe": the recipe chooser, one file chooser per input, Run."""

    def __init__(self, fresh_kernel: FreshKernel, file_data: FileData, post: Post, follow: Follow) -> None:
        self.fresh_kernel = fresh_kernel
        self.file_data = file_data
        self.post = post
        self.follow = follow
        self.recipe: Recipe | None = None
        self.kernel: Any = None  # the last run's, kept so that its outputs can be downloaded
        self.files: list[str] = []
        self.chooser = pn.widgets.FileInput(
            accept=".py", multiple=False, sizing_mode="stretch_width", margin=(2, 10), css_classes=["ly-recipe-file"]
        )
        self.chooser.param.watch(self._on_recipe, "value")
        self.about = pn.pane.HTML(
            "<p class='ly-hint'>A recipe is the code of a conversation that worked, saved with "
            "“Recipe (.py)” above. Run it on new files: add them to Files, pick a recipe, "
            "then pick a file for each input.</p>",
            stylesheets=[FILES_CSS],
            margin=(0, 10),
        )
        self.inputs = pn.Column(sizing_mode="stretch_width", margin=(0, 10))
        self.selects: dict[str, pn.widgets.Select] = {}
        self.run = pn.widgets.Button(
            name="Run the recipe", icon="player-play", button_type="primary", visible=False, margin=(4, 10)
        )
        self.run.on_click(self._on_run)
        self.status = pn.pane.HTML("", stylesheets=[FILES_CSS], margin=(0, 10))

    def view(self) -> pn.viewable.Viewable:
        return pn.Column(self.about, self.chooser, self.inputs, self.run, self.status, sizing_mode="stretch_width", margin=0)

    def files_listed(self, paths: list[str]) -> None:
        """The person's files changed: the choices follow, a choice already made stays."""
        self.files = [path for path in paths if not path.startswith(OUTPUTS)]
        for name, select in self.selects.items():
            original = next(i.file for i in self.recipe.inputs if i.name == name) if self.recipe else ""
            kept = select.value if select.value in self.files else default_choice(original, self.files)
            select.options = self._options()
            select.value = kept
        self._check()

    def _options(self) -> dict[str, str]:
        return {CHOOSE: NOT_CHOSEN, **{visible(path): path for path in self.files}}

    def say(self, text: str, problem: bool = False) -> None:
        """A line under Run: progress, what is missing, how the run ended ('' clears it)."""
        kind = "ly-problem" if problem else "ly-hint"
        self.status.object = f"<p class='{kind}'>{escape(visible(text))}</p>" if text else ""

    def _on_recipe(self, event) -> None:
        if event.new is None:
            return
        try:
            recipe = parse_recipe(event.new)
        except RecipeError as exc:
            self.recipe = None
            self.selects = {}
            self.inputs.objects = []
            self.run.visible = False
            self.say(str(exc), problem=True)
            return
        self.recipe = recipe
        self.selects = {}
        rows: list[pn.viewable.Viewable] = [
            pn.pane.HTML(
                f"<p class='ly-file'><b>{escape(visible(recipe.title or 'Untitled recipe'))}</b><br>"
                f"<small>{len(recipe.cells)} cell{'s' if len(recipe.cells) != 1 else ''} · "
                f"{len(recipe.inputs) or 'no'} input{'s' if len(recipe.inputs) != 1 else ''}</small></p>",
                stylesheets=[FILES_CSS],
                margin=0,
            )
        ]
        for item in recipe.inputs:
            select = pn.widgets.Select(
                name=f"{item.name}: in place of {visible(item.file)} ({visible(item.kind)})",
                options=self._options(),
                value=default_choice(item.file, self.files),
                sizing_mode="stretch_width",
                margin=(2, 0),
                css_classes=["ly-recipe-input"],
            )
            select.param.watch(lambda _event: self._check(), "value")
            self.selects[item.name] = select
            rows.append(select)
        self.inputs.objects = rows
        self.run.visible = True
        self._check()

    def _check(self) -> None:
        """Run is there once every input has a file."""
        if self.recipe is None:
            return
        missing = [name for name, select in self.selects.items() if not select.value]
        self.run.disabled = bool(missing)
        if missing:
            self.say(f"Choose a file for {', '.join(missing)} (add it to Files first if it is not there).")
        else:
            self.say("Ready: it runs in a fresh kernel of its own; your conversation's variables stay as they are.")

    async def _on_run(self, _event) -> None:
        recipe = self.recipe
        if recipe is None:
            return
        chosen = {name: select.value for name, select in self.selects.items()}
        self.run.disabled = self.chooser.disabled = True
        view = TurnView(download=self._download)
        title = escape(visible(recipe.title or "Untitled recipe"))
        plan = escape(visible(run_plan(recipe, chosen))) if recipe.inputs else "no input files"
        self.post(
            pn.Column(
                pn.pane.Markdown(f"**Running the recipe “{title}”** on {plan}, in a fresh kernel of its own.", sizing_mode="stretch_width"),
                view.panel,
                sizing_mode="stretch_width",
                margin=0,
            )
        )

        def on_event(event: Any) -> None:
            if isinstance(event, Progress):
                view.wait(event.text)
                self.say(event.text)
                return
            if isinstance(event, KernelOutput):
                event = KernelOutput(event.cell_id, _marked(event.output))
            view.handle(event)
            if isinstance(event, CodeFinished):
                view.wait("")
                self.follow()

        try:
            if self.kernel is not None:
                self.kernel.close()
            self.kernel = self.fresh_kernel()
            files = {name: await self.file_data(path) for name, path in chosen.items()}
            ended = await run_recipe(self.kernel, recipe, files, on_event)
        except (FileNotFoundError, RuntimeError) as exc:
            ended = RecipeEnded(0, len(recipe.cells), None, f"The recipe could not run: {exc}")
        finally:
            self.run.disabled = self.chooser.disabled = False
        view.flush()
        view.wait("")
        if ended.ran == ended.count:
            view.add_notice(ended.message)
        else:
            view.add_problem("The recipe stopped", ended.message)
        self.say(ended.message, problem=ended.ran != ended.count)
        self.follow()

    async def figure_svg(self, figure: str) -> Any:
        """A chart the last run drew (its id marked with RECIPE_FIGURE), as SVG."""
        if self.kernel is None:
            raise FileNotFoundError("no recipe has run in this visit")
        return await self.kernel.figure_svg(figure.removeprefix(RECIPE_FIGURE))

    async def _download(self, path: str, escape_formulas: bool) -> None:
        """A file the recipe's code wrote, from the recipe's kernel."""
        from ._page import save

        try:
            data = await self.kernel.get_file_js(path, escape_formulas=escape_formulas)
        except FileNotFoundError as exc:
            self.say(f"{path} could not be read: {exc}", problem=True)
            return
        save(PurePosixPath(path).name, data, "application/octet-stream")
