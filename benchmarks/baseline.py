"""The baseline the start-up figures are compared with: what Panel itself makes of a minimal
ChatInterface app (`panel convert app.py --to pyodide-worker`), made to load every file
from 127.0.0.1 so that it runs offline and the ratios mean the same on any machine.

Its links to the CDNs are pointed at local copies of the same files: Panel's and Bokeh's
JavaScript from the installed panel and bokeh packages (the versions Localyst ships), and
Pyodide with its wheels from a build of the site that ships the wheels' sources as they
come (`build.py --sources`; Localyst's own build byte-compiles them). Two differences from
the CDN original:
Pyodide is the site's 0.27.7 (Panel 1.8.10 asks for 0.29.3), so the runtime is the same on
both sides, and `pyodide-http`, which micropip would fetch from PyPI, is left out (it only
patches `requests` and `urllib`, which the app does not use).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

APP = '''import panel as pn

pn.extension()


def respond(contents, user, instance):
    return f"You said: {contents}"


pn.chat.ChatInterface(callback=respond).servable()
'''


def prepare(root: Path) -> str:
    """Lay out the baseline under ``root`` (served as the web root) and return its page's path."""
    import bokeh
    import panel

    from buildsite.assemble import build

    site = root / "site-with-sources"
    build(site, compile_python=False)

    out = root / "baseline"
    out.mkdir(parents=True)
    (out / "app.py").write_text(APP)
    subprocess.run(
        [sys.executable, "-m", "panel", "convert", "app.py", "--to", "pyodide-worker", "--out", "."],
        cwd=out, check=True, capture_output=True,
    )
    (root / "panel-dist").symlink_to(Path(panel.__file__).parent / "dist")
    (root / "bokeh-js").symlink_to(Path(bokeh.__file__).parent / "server" / "static" / "js")
    (root / "pyodide").symlink_to((site / "pyodide").resolve())
    wheels = {p["name"]: p["file_name"] for p in json.loads((site / "pyodide" / "pyodide-lock.json").read_text())["packages"].values()}
    for name in ("app.html", "app.js"):
        path = out / name
        path.write_text(_localised(path.read_text(), wheels))
    return "baseline/app.html"


def _localised(text: str, wheels: dict[str, str]) -> str:
    text = re.sub(r"https://cdn\.holoviz\.org/panel/[^/]+/dist/wheels/(\w+)-[^'\"]+\.whl", lambda m: f"../pyodide/{wheels[m[1]]}", text)
    text = re.sub(r"https://cdn\.holoviz\.org/panel/wheels/(\w+)-[^'\"]+\.whl", lambda m: f"../pyodide/{wheels[m[1]]}", text)
    text = re.sub(r"https://cdn\.holoviz\.org/panel/[^/]+/dist/", "../panel-dist/", text)
    text = re.sub(r"https://cdn\.bokeh\.org/bokeh/release/bokeh((?:-[a-z]+)?)-[0-9.]+\.min\.js", r"../bokeh-js/bokeh\1.min.js", text)
    text = re.sub(r"https://cdn\.jsdelivr\.net/pyodide/[^/]+/full/pyodide\.js", "../pyodide/pyodide.js", text)
    text = text.replace(", 'pyodide-http'", "")
    outside = sorted(set(re.findall(r"https://[^\"' ]+", text)))
    if outside:
        raise RuntimeError(f"the baseline still links outside: {outside}")
    return text
