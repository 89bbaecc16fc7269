"""The Python the site runs on, Pyodide 0.27.7's CPython 3.12.7 on Emscripten: what the
build checks requirements against (the build machine's own Python may be another)."""

from __future__ import annotations

from packaging.requirements import Requirement
from packaging.version import Version

#: The target interpreter, for evaluating dependency markers.
EMSCRIPTEN_ENV = {
    "sys_platform": "emscripten",
    "platform_system": "Emscripten",
    "platform_release": "3.1.58",
    "platform_version": "",
    "platform_python_implementation": "CPython",
    "python_version": "3.12",
    "python_full_version": "3.12.7",
    "implementation_name": "cpython",
    "implementation_version": "3.12.7",
    "platform_machine": "wasm32",
    "os_name": "posix",
    "extra": "",
}
TARGET_PYTHON = Version("3.12.7")


def active_requirements(reqs: list[Requirement]) -> list[Requirement]:
    """Requirements that apply on Emscripten/CPython 3.12 with no extras requested."""
    out = []
    for r in reqs:
        if r.marker is not None and not r.marker.evaluate(dict(EMSCRIPTEN_ENV)):
            continue
        out.append(r)
    return out
