"""The seam to the kernel: the loop only needs these calls, wherever the kernel runs.

In the browser the kernel lives in another worker and answers with CellResult dicts, so
the loop works on dicts; what the model reads of one is agent/_account.py's.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

OnOutput = Callable[[dict[str, Any]], None]
IMAGE_MIMES = ("image/png", "image/jpeg")  # what vision endpoints accept as data URLs


class KernelLike(Protocol):
    async def run(self, code: str, on_output: OnOutput | None = None) -> dict[str, Any]:
        """Run a cell; call ``on_output`` with each ``Output.as_dict()`` as it comes; return
        ``CellResult.as_dict()``."""
        ...

    def interrupt(self) -> None:
        """Ask the running cell to stop (KeyboardInterrupt); ``run`` then returns its result."""
        ...


def figures(result: dict[str, Any]) -> list[str]:
    """Data URLs of the images a cell displayed, in order."""
    urls = []
    for out in result.get("outputs", []):
        data = out.get("data") or {}
        for mime in IMAGE_MIMES:
            if isinstance(data.get(mime), str):
                urls.append(f"data:{mime};base64,{data[mime]}")
                break
    return urls


def error_key(result: dict[str, Any]) -> tuple[str, str] | None:
    """What makes two failures "the same error": the exception's type and message."""
    error = result.get("error")
    return (error.get("ename", ""), error.get("evalue", "")) if error else None
