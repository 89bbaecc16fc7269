"""vendor/: the JavaScript, CSS and fonts the page loads from its own origin instead of a
CDN (BokehJS and Panel's from their wheels, the Tabler webfont, plotly.js and wllama from
npm), the outside URLs inside BokehJS, plotly.js and wllama rewritten, and the copies the
wheels themselves carry dropped."""

from __future__ import annotations

import zipfile
from pathlib import Path

from . import BuildError
from .files import tar_members, write_file

#: BokehJS bundles copied from the bokeh wheel (``bokeh/server/static/js/<name>``).
BOKEH_JS = ["bokeh.min.js", "bokeh-widgets.min.js", "bokeh-tables.min.js", "bokeh-gl.min.js"]

#: Outside URLs inside BokehJS, rewritten to site-relative paths. Each must be found
#: (a new Bokeh that moved them should stop the build, not pass silently).
#:  * Tabler: ``TablerIconView._url``; used as ``url("${_url}/fonts/tabler-icons.woff2")``
#:    inside a stylesheet BokehJS adopts into the main document, so a relative URL
#:    resolves against the page (also under a GitHub Pages sub-path).
#:  * MathJax: ``CDNProvider`` adds a <script> for TeX rendering. We do not ship MathJax;
#:    the path points at nothing, so TeX labels fail to typeset instead of reaching a CDN.
#:  * Google Maps: ``GMapPlot`` adds a <script>; Localyst has no use for it (it needs an API
#:    key and the network), so it points at nothing too.
BOKEH_REWRITES = {
    "bokeh.min.js": [
        ("https://cdn.jsdelivr.net/npm/@tabler/icons-webfont@latest", "vendor/tabler-icons"),
        ("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js", "vendor/mathjax/tex-svg.js"),
        ("https://maps.googleapis.com/maps/api/js", "vendor/google-maps/unavailable.js"),
    ],
}

#: plotly.js (``package/plotly.min.js`` of plotly.js-dist-min), served as PLOTLY_JS; the page
#: loads it when a plotly chart is first drawn. Its outside addresses, rewritten like
#: BOKEH_REWRITES (each must be found), all belong to traces the page refuses to draw
#: (protocol/_plotly.py), and the page's CSP would block them; rewritten so that even a
#: slip asks the site, not a CDN:
#:  * the Maki marker icons of map traces, from jsdelivr;
#:  * the topojson of geo traces (``topojsonURL``), from plotly's CDN.
PLOTLY_JS = "vendor/plotly/plotly.min.js"
PLOTLY_REWRITES = [
    ("https://cdn.jsdelivr.net/npm/@mapbox/maki@8.2.0/icons/", "vendor/plotly/unavailable/maki/"),
    ("https://cdn.plot.ly/un/", "vendor/plotly/unavailable/topojson/"),
]

#: Sub-paths of the panel wheel's ``panel/dist/`` served under vendor/panel/<version>/dist/.
#: Enough for ChatInterface, Tabulator, FileInput, FileDownload, Markdown and the loading
#: spinners; extend as components are added. Source maps are never copied.
PANEL_DIST = [
    "panel.min.js",
    "css/",                      # component stylesheets (chat_*.css, markdown.css, loading.css, models/...)
    "assets/",                   # spinners referenced from css/loading.css, chat logos
    "images/",
    "bundled/theme/",            # default/dark/native design themes
    "bundled/font-awesome/",     # icons Tabulator's stylesheet pulls in
    "bundled/datatabulator/",    # Tabulator 6.3.1 + luxon
]

#: Files of the Tabler webfont (``package/iconfont/fonts/``) served under
#: vendor/tabler-icons/fonts/. BokehJS's @font-face also names .eot and .svg; no current
#: browser picks those over woff2/woff/ttf, so they are not shipped.
TABLER_FONTS = ["tabler-icons.woff2", "tabler-icons.woff", "tabler-icons.ttf"]

#: Wheels the site ships slimmed: the browser gets BokehJS and Panel's JS/CSS from vendor/,
#: so the copies inside the wheels would only cost download time and worker memory (the
#: panel wheel is ~30 MB, nearly all panel/dist/bundled). This follows what Panel itself
#: does for its Pyodide wheels (scripts/build_pyodide_wheels.py: Bokeh without its .js,
#: .d.ts, .tsbuildinfo and bokeh.json outside bokeh/core/_templates; Panel built with
#: PANEL_LITE, i.e. without dist/bundled). plotly goes without its JupyterLab extension
#: (_slim_plotly). Source maps go too. The pinned PyPI file is verified first; the slim wheel is rewritten deterministically with a matching RECORD.
def _slim_bokeh(path: str) -> bool:
    if path.startswith("bokeh/core/_templates"):
        return False
    return path.endswith((".js", ".d.ts", ".tsbuildinfo", ".map", "bokeh.json"))


def _slim_panel(path: str) -> bool:
    return path.startswith("panel/dist/bundled/") or path.endswith(".map")


def _slim_plotly(path: str) -> bool:
    """plotly's JupyterLab extension and its FigureWidget bundle (the kernel is neither
    JupyterLab nor a widget host: the page draws with vendor/plotly). Its own plotly.min.js
    stays: ``fig.write_html()`` puts it into the file it writes."""
    return (
        path.startswith(("plotly/labextension/", "plotly/package_data/widgetbundle.js"))
        or ".data/data/share/jupyter/" in path
        or path.endswith(".map")
    )


SLIM_WHEELS = {"bokeh": _slim_bokeh, "panel": _slim_panel, "plotly": _slim_plotly}


def vendor(out: Path, bokeh_wheel: Path, panel_wheel: Path, panel_version: str, tabler_tgz: Path, plotly_tgz: Path) -> None:
    """Write out/vendor/: BokehJS (rewritten), Panel's dist/ (PANEL_DIST), the Tabler font and
    plotly.js (rewritten)."""
    with zipfile.ZipFile(bokeh_wheel) as zf:
        for n in BOKEH_JS:
            text = zf.read(f"bokeh/server/static/js/{n}").decode("utf-8")
            for old, new in BOKEH_REWRITES.get(n, []):
                if old not in text:
                    raise BuildError(f"bokeh/server/static/js/{n}: expected to find {old} (to rewrite to {new}); "
                                     "has BokehJS changed? update BOKEH_REWRITES")
                text = text.replace(old, new)
            write_file(out / "vendor" / "bokeh" / n, text.encode("utf-8"))
    pdest = out / "vendor" / "panel" / panel_version / "dist"
    with zipfile.ZipFile(panel_wheel) as zf:
        files = {n[len("panel/dist/"):]: zf.read(n) for n in zf.namelist()
                 if n.startswith("panel/dist/") and not n.endswith("/")}
    for sub in PANEL_DIST:
        hits = [n for n in files if (n.startswith(sub) if sub.endswith("/") else n == sub)]
        if not hits:
            raise BuildError(f"panel wheel has no panel/dist/{sub}")
        for n in hits:
            if n.endswith(".map"):
                continue
            write_file(pdest / n, files[n])
    tmembers = tar_members(tabler_tgz)
    for n in TABLER_FONTS:
        key = f"package/iconfont/fonts/{n}"
        if key not in tmembers:
            raise BuildError(f"{tabler_tgz.name} has no {key}")
        write_file(out / "vendor" / "tabler-icons" / "fonts" / n, tmembers[key])
    # TablerIconView also imports ``${_url}/tabler-icons.min.css`` into each icon's shadow root.
    write_file(out / "vendor" / "tabler-icons" / "tabler-icons.min.css", tmembers["package/iconfont/tabler-icons.min.css"])
    if "package/LICENSE" in tmembers:
        write_file(out / "vendor" / "tabler-icons" / "LICENSE", tmembers["package/LICENSE"])
    pmembers = tar_members(plotly_tgz)
    if "package/plotly.min.js" not in pmembers:
        raise BuildError(f"{plotly_tgz.name} has no package/plotly.min.js")
    text = pmembers["package/plotly.min.js"].decode("utf-8")
    for old, new in PLOTLY_REWRITES:
        if old not in text:
            raise BuildError(f"plotly.min.js: expected to find {old} (to rewrite to {new}); has plotly.js changed? update PLOTLY_REWRITES")
        text = text.replace(old, new)
    write_file(out / PLOTLY_JS, text.encode("utf-8"))
    write_file(out / "vendor" / "plotly" / "LICENSE", pmembers["package/LICENSE"])


#: wllama's files (``package/<name>``) served under vendor/wllama/: its ES module (with its
#: workers inside, started from blob: URLs) and llama.cpp compiled to plain WebAssembly,
#: single- and multi-thread (no JSPI, no Memory64: stock browsers run both).
WLLAMA_FILES = {
    "esm/index.js": "index.js",
    "esm/single-thread/wllama.wasm": "single-thread/wllama.wasm",
    "esm/multi-thread/wllama.wasm": "multi-thread/wllama.wasm",
    "LICENCE": "LICENCE",
}

#: Rewrites in wllama's module (each must be found): ``loadModelFromHF`` builds a Hugging Face
#: download URL; Localyst never calls it, and with the rewrite nothing in it can reach one.
#: Its asset paths are resolved against ``document``, which a worker lacks (the model runs in
#: site/model-worker.js); ``self.location`` is the same base in a page and in a worker.
WLLAMA_REWRITES = [
    ("new URL(relativePath, document.baseURI)", "new URL(relativePath, self.location.href)"),
    ("`https://huggingface.co/${modelId}/resolve/main/${filePath}`", "`unavailable:${modelId}/${filePath}`"),
]


def vendor_wllama(out: Path, tgz: Path) -> None:
    """Write out/vendor/wllama/ (WLLAMA_FILES) from the pinned npm tarball."""
    members = tar_members(tgz)
    for src, dest in WLLAMA_FILES.items():
        data = members.get(f"package/{src}")
        if data is None:
            raise BuildError(f"{tgz.name} has no package/{src}")
        if src.endswith(".js"):
            text = data.decode("utf-8")
            for old, new in WLLAMA_REWRITES:
                if old not in text:
                    raise BuildError(f"{tgz.name} {src}: expected to find {old}; has wllama changed? update WLLAMA_REWRITES")
                text = text.replace(old, new)
            data = text.encode("utf-8")
        write_file(out / "vendor" / "wllama" / dest, data)
