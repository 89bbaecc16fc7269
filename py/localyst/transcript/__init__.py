"""A record of the conversation, and the files it can be exported as.

The record (``Transcript``) is plain JSON, fed by the person's messages, the agent's events
and the code the person edited and ran. It exports as a Jupyter notebook that runs again
on the same files, a Python script, a self-contained HTML report, and a recipe (its code
that worked, to run again on other files). No Panel here: it
runs in the browser's worker and in plain CPython alike.
"""

from ._notebook import notebook_json, to_notebook
from ._provenance import UNCOMPUTED, Provenance, Source, marker, origin, provenance
from ._record import VERSION, Entry, Outcome, Transcript, outcome, readable_text
from ._replay import INTERRUPTED, Turn, mark_interrupted, replayable_code, turns
from ._recipe import MAX_RECIPE_BYTES, Input, Recipe, RecipeError, files_read, make_recipe, parse_recipe, to_recipe
from ._report import to_html_report
from ._script import to_script

__all__ = [
    "INTERRUPTED",
    "UNCOMPUTED",
    "MAX_RECIPE_BYTES",
    "Input",
    "Recipe",
    "RecipeError",
    "files_read",
    "make_recipe",
    "parse_recipe",
    "to_recipe",
    "VERSION",
    "Entry",
    "Outcome",
    "Provenance",
    "Source",
    "Transcript",
    "Turn",
    "mark_interrupted",
    "marker",
    "origin",
    "replayable_code",
    "turns",
    "notebook_json",
    "provenance",
    "outcome",
    "readable_text",
    "to_html_report",
    "to_notebook",
    "to_script",
]
