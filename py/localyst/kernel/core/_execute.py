"""Turning a cell's source into code objects: the statements, then the last expression."""

from __future__ import annotations

import ast
import inspect
import linecache
import re
from dataclasses import dataclass
from types import CodeType

FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


@dataclass(frozen=True)
class CompiledCell:
    """`steps` run in order; if `shows_last`, the last step's value is the cell's result."""

    steps: list[CodeType]
    shows_last: bool

    @property
    def awaits(self) -> bool:
        """Whether some step uses top-level `await` (and so evaluates to a coroutine)."""
        return any(is_coroutine_code(step) for step in self.steps)


def is_coroutine_code(code: CodeType) -> bool:
    return bool(code.co_flags & inspect.CO_COROUTINE)


def compile_cell(source: str, filename: str) -> CompiledCell:
    """Compile a cell as IPython does; its source goes into linecache for tracebacks.

    Raises SyntaxError for code that does not compile.
    """
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    tree = ast.parse(source, filename, "exec")
    body = tree.body
    shows_last = bool(body) and isinstance(body[-1], ast.Expr) and not _ends_with_semicolon(source, body[-1])
    steps = []
    statements = body[:-1] if shows_last else body
    if statements:
        module = ast.Module(body=statements, type_ignores=[])
        steps.append(compile(module, filename, "exec", flags=FLAGS, dont_inherit=True))
    if shows_last:
        expression = ast.Expression(body=body[-1].value)  # type: ignore[attr-defined]
        steps.append(compile(expression, filename, "eval", flags=FLAGS, dont_inherit=True))
    return CompiledCell(steps, shows_last)


def _ends_with_semicolon(source: str, last: ast.stmt) -> bool:
    """`df.plot();` shows nothing: the text right after the last expression is a ';'."""
    line = re.split("\r\n|\r|\n", source)[last.end_lineno - 1]  # type: ignore[operator]
    rest = line.encode()[last.end_col_offset :]  # ast offsets count UTF-8 bytes
    return rest.lstrip().startswith(b";")
