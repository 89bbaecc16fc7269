"""A recipe: the code of a conversation that worked, with the files it read named as inputs,
to run again on other files. The one definition of the recipe file.

The file is a Python script with a small JSON header in comments (the layout of PEP 723's
inline metadata), because a person can read it, diff it, mail it and run it: in a folder
holding files of the inputs' names, ``python recipe.py`` runs the same code. It holds code
and file names, never data or outputs, so it can be shared. Cells are separated by
``# %% cell N of M`` lines, which editors such as VS Code and Spyder show as cells.

Inputs are re-pointed by name, not by rewriting code: a run puts each new file into a fresh
kernel under the name the recipe was made with, so the code runs unchanged however it
spelled the path ("january.csv", "/data/january.csv", f"{folder}/january.csv").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ._record import Transcript
from ._replay import replayable_code

FORMAT = 1
#: A recipe is code and names: anything near this size is not one (or not one to run blind).
MAX_RECIPE_BYTES = 1_000_000
MAX_TITLE = 200

_OPEN = "# /// localyst-recipe"
_CLOSE = "# ///"
_MARKER = re.compile(r"^# %% cell (\d+) of (\d+)[ \t]*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

_PREAMBLE = """\
# Localyst recipe: {title}
#
# Code saved from a conversation with Localyst, to run again on other files. In Localyst,
# use "Run a recipe", pick this file and a file for each input below. It holds code and
# file names, never data. As a plain script it runs from a folder holding files with the
# inputs' names (python this_file.py), after making an "outputs" folder if the code writes
# there. Edit the code between the cell lines as you like; keep the header as it is.
#
"""


class RecipeError(ValueError):
    """A file that cannot be read as a recipe; the message says why, for the person."""


@dataclass(frozen=True)
class Input:
    """A file the recipe reads: its ``name`` in the recipe, the ``file`` (path under /data)
    the code opens, and its ``kind`` as the person saw it ("CSV")."""

    name: str
    file: str
    kind: str


@dataclass(frozen=True)
class Recipe:
    title: str
    inputs: tuple[Input, ...] = ()
    cells: tuple[str, ...] = field(default_factory=tuple)


def files_read(cells: Iterable[str], available: Iterable[str]) -> list[str]:
    """The available files (paths under /data) that the code names in a string, in the
    order the code first names them. A path counts when a quoted string is the path or
    ends in "/" and the path: 'sales.csv', "/data/sales.csv", f"{folder}/sales.csv"."""
    code = "\n".join(cells)
    found: list[tuple[int, str]] = []
    for path in set(available):
        match = re.search(r"""(["'])(?:[^"'\n]*/)?""" + re.escape(path) + r"\1", code)
        if match:
            found.append((match.start(), path))
    return [path for _, path in sorted(found)]


def make_recipe(transcript: Transcript, title: str, available: Mapping[str, str]) -> Recipe:
    """The recipe of a conversation: its code that ran without failing, in order, and as
    inputs the files among ``available`` (path -> kind: the person's files, not the
    code's outputs) that this code names."""
    cells = tuple(code.strip("\n") for code in replayable_code(transcript) if code.strip())
    inputs: list[Input] = []
    for path in files_read(cells, available):
        inputs.append(Input(_input_name(path, {i.name for i in inputs}), path, available[path]))
    return Recipe(title[:MAX_TITLE], tuple(inputs), cells)


def _input_name(path: str, taken: set[str]) -> str:
    base = re.sub(r"\W+", "_", PurePosixPath(path).stem, flags=re.ASCII).strip("_").lower()[:50] or "input"
    base = base if base[0].isalpha() else f"input_{base}"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    return name


def to_recipe(recipe: Recipe) -> str:
    """The recipe file's text."""
    header = {
        "format": FORMAT,
        "title": recipe.title,
        "inputs": [{"name": i.name, "file": i.file, "kind": i.kind} for i in recipe.inputs],
        "cells": len(recipe.cells),
    }
    title = " ".join(recipe.title.split()) or "untitled"
    lines = [_PREAMBLE.format(title=title), _OPEN]
    # split("\n"), not splitlines(): a title may hold characters that splitlines() ends a line at.
    lines += [f"# {line}" for line in json.dumps(header, indent=2, ensure_ascii=False).split("\n")]
    lines.append(_CLOSE)
    count = len(recipe.cells)
    for number, code in enumerate(recipe.cells, 1):
        lines += ["", f"# %% cell {number} of {count}", _escaped(code)]
    return "\n".join(lines) + "\n"


def _escaped(code: str) -> str:
    """The cell's code with any line that would read as a cell marker made a plain
    comment (one more space): the marker lines are the only thing that split cells."""
    return "\n".join("#  " + line[2:] if _MARKER.match(line) else line for line in code.split("\n"))


def parse_recipe(data: bytes | str) -> Recipe:
    """Read a recipe file, checking all of it; a RecipeError says what is wrong."""
    if isinstance(data, (bytes, bytearray)):
        if len(data) > MAX_RECIPE_BYTES:
            raise RecipeError(f"This file is {len(data):,} bytes: a recipe is code and names, at most {MAX_RECIPE_BYTES:,} bytes.")
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RecipeError("This file is not text (not UTF-8), so it is not a recipe.") from None
    else:
        text = data
        if len(text.encode()) > MAX_RECIPE_BYTES:
            raise RecipeError(f"This text is over {MAX_RECIPE_BYTES:,} bytes: a recipe is code and names.")
    if "\0" in text:
        raise RecipeError("This file holds NUL characters: it is not text, so it is not a recipe.")
    lines = text.replace("\r\n", "\n").split("\n")
    header, start = _header(lines)
    return Recipe(_title(header), _inputs(header), _cells(lines[start:], header))


def _header(lines: list[str]) -> tuple[dict, int]:
    """The header's fields and the line after it."""
    try:
        first = lines.index(_OPEN)
    except ValueError:
        raise RecipeError(f"This is not a Localyst recipe: it has no {_OPEN!r} header line.") from None
    if any(_MARKER.match(line) for line in lines[:first]):
        raise RecipeError("The recipe's header must come before its first cell.")
    try:
        last = lines.index(_CLOSE, first + 1)
    except ValueError:
        raise RecipeError(f"The recipe's header is not closed: no {_CLOSE!r} line after it.") from None
    body = []
    for number, line in enumerate(lines[first + 1 : last], first + 2):
        if not line.startswith("#"):
            raise RecipeError(f"Line {number} is inside the recipe's header but is not a comment.")
        body.append(line[2:] if line.startswith("# ") else line[1:])
    try:
        header = json.loads("\n".join(body))
    except json.JSONDecodeError as exc:
        raise RecipeError(f"The recipe's header is not valid JSON (line {first + 1 + exc.lineno}: {exc.msg}).") from None
    if not isinstance(header, dict):
        raise RecipeError("The recipe's header must be a JSON object.")
    missing = [key for key in ("format", "title", "inputs", "cells") if key not in header]
    if missing:
        raise RecipeError(f"The recipe's header lacks {', '.join(map(repr, missing))}.")
    version = header["format"]
    if version != FORMAT or isinstance(version, bool):
        newer = isinstance(version, int) and not isinstance(version, bool) and version > FORMAT
        why = "a newer Localyst made it" if newer else "that is not a format Localyst wrote"
        raise RecipeError(f"The recipe is of format {version!r}, and this Localyst reads format {FORMAT}: {why}.")
    return header, last + 1


def _title(header: dict) -> str:
    title = header["title"]
    if not isinstance(title, str):
        raise RecipeError("The recipe's title must be text.")
    if len(title) > MAX_TITLE:
        raise RecipeError(f"The recipe's title is {len(title)} characters long; at most {MAX_TITLE}.")
    return title


def _inputs(header: dict) -> tuple[Input, ...]:
    inputs = header["inputs"]
    if not isinstance(inputs, list):
        raise RecipeError("The recipe's inputs must be a list.")
    found: list[Input] = []
    for number, item in enumerate(inputs, 1):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("name", "file", "kind")):
            raise RecipeError(f"Input {number} of the recipe must have a name, a file and a kind, each text.")
        name, path, kind = item["name"], item["file"], item["kind"]
        if not _NAME.match(name):
            raise RecipeError(f"Input {number}'s name {name!r} is not a plain name (letters, digits and _, up to 64).")
        parts = PurePosixPath(path).parts
        if not path or len(path) > 255 or path.startswith("/") or "\\" in path or any(p in ("..", ".") for p in parts) or any(
            p.startswith(".") for p in parts
        ) or any(ord(c) < 32 for c in path):
            raise RecipeError(f"Input {name!r} names the file {path!r}, which is not a plain file name in the data folder.")
        if any(i.name == name for i in found):
            raise RecipeError(f"Two inputs of the recipe are named {name!r}.")
        if any(i.file == path for i in found):
            raise RecipeError(f"Two inputs of the recipe name the same file, {path!r}.")
        found.append(Input(name, path, kind[:40]))
    return tuple(found)


def _cells(lines: list[str], header: dict) -> tuple[str, ...]:
    count = header["cells"]
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise RecipeError(f"The recipe's header says it has {count!r} cells; it must have at least one.")
    cells: list[list[str]] = []
    for number, line in enumerate(lines, 1):
        marker = _MARKER.match(line)
        if marker:
            at, of = int(marker[1]), int(marker[2])
            if at != len(cells) + 1 or of != count:
                raise RecipeError(
                    f"The cell line {line.strip()!r} is out of order: cell {len(cells) + 1} of {count} was expected."
                )
            cells.append([])
        elif cells:
            cells[-1].append(line)
        elif line.strip() and not line.lstrip().startswith("#"):
            raise RecipeError("The recipe has code before its first '# %% cell 1 of …' line.")
    if len(cells) != count:
        raise RecipeError(f"The recipe's header says it has {count} cells, but it holds {len(cells)}: is it cut short?")
    codes = tuple("\n".join(cell).strip("\n") for cell in cells)
    empty = [str(n) for n, code in enumerate(codes, 1) if not code.strip()]
    if empty:
        raise RecipeError(f"Cell {', '.join(empty)} of the recipe holds no code.")
    return codes
