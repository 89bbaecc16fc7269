"""The outside-reference scan: the build fails if any text file it ships would make the
browser load something from another origin (a CDN fallback in vendored code, a stray
link in site/), since every byte of the page must come from its own origin."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: Text files in the output that the outside-reference scan reads.
TEXT_SUFFIXES = {".html", ".htm", ".js", ".mjs", ".cjs", ".css", ".json", ".map", ".txt", ".svg",
                 ".webmanifest", ".xml", ".md"}

#: Hosts that serve libraries to pages. Any mention of one, anywhere in a shipped text
#: file, fails the build (these are exactly the fallbacks vendored code reaches for).
CDN_HOSTS = [
    "cdn.jsdelivr.net", "cdn.holoviz.org", "cdn.bokeh.org", "unpkg.com", "cdnjs.cloudflare.com",
    "fonts.googleapis.com", "fonts.gstatic.com", "pyscript.net",
]

_ABS = r"""(?P<url>(?:https?:)?//[A-Za-z0-9\[])"""   # an absolute or protocol-relative URL
#: Absolute URLs in positions where a browser *loads* them. A URL anywhere else (a
#: licence comment, a documentation link in an error message, an XML namespace such as
#: http://www.w3.org/2000/svg) is not a load and is not flagged.
LOAD_PATTERNS = {
    # CSS (also inside JS strings: BokehJS/Panel build stylesheets in JS)
    "css url()": re.compile(r"""url\(\s*['"]?\s*""" + _ABS, re.I),
    "css @import": re.compile(r"""@import\s+(?:url\(\s*)?['"]?\s*""" + _ABS, re.I),
    # HTML attributes (also inside JS strings that build markup)
    "html src/href": re.compile(r"""\b(?:src|href|srcset|poster|action)\s*=\s*\\?['"]?\s*""" + _ABS, re.I),
    # JS loads
    "js importScripts()": re.compile(r"""importScripts\(\s*['"`]""" + _ABS),
    "js import()": re.compile(r"""\bimport\s*\(\s*['"`]""" + _ABS),
    "js import from": re.compile(r"""\bimport\b[^;'"`]{0,200}?\bfrom\s*['"`]""" + _ABS),
    "js .src/.href =": re.compile(r"""\.(?:src|href)\s*=\s*['"`]""" + _ABS),
    "js fetch()": re.compile(r"""\bfetch\(\s*['"`]""" + _ABS),
    "js new Worker()": re.compile(r"""\bnew\s+(?:Shared)?Worker\(\s*['"`]""" + _ABS),
}

#: Known, inert mentions of an outside origin in files we must ship byte-for-byte.
#: (relative path, exact text, why it is not a load in the browser)
SCAN_ALLOW = [
    ("pyodide/pyodide.js", "https://cdn.jsdelivr.net/pyodide/v${d.version}/full/",
     "setCdnUrl(): Pyodide's package loader falls back to this CDN only under Node "
     "(load-package: `if(!IN_NODE||channel!==default) throw`); official file, kept byte-for-byte"),
    ("pyodide/pyodide.mjs", "https://cdn.jsdelivr.net/pyodide/v${d.version}/full/",
     "as pyodide/pyodide.js"),
    ("vendor/plotly/plotly.min.js", "https://plotly.com/",
     "the modebar's 'Produced with Plotly' logo, a link opened only by a click; the page draws "
     "charts with displaylogo: false, so it is not even shown"),
    *(("vendor/plotly/plotly.min.js", link, "an attribution link of map traces (a link, not a load), which the page refuses to draw")
      for link in ("http://www.esri.com", "https://www.openstreetmap.org/copyright", "https://maplibre.org/")),
]


@dataclass
class Finding:
    """One outside reference: the file (relative to the site), the rule it broke, the text around it."""
    path: str
    rule: str
    text: str

    def __str__(self):
        return f"{self.path}: {self.rule}: {self.text}"


def scan_text(rel: str, text: str) -> list[Finding]:
    """The outside references in one file's text (rel: its path in the site, for SCAN_ALLOW)."""
    found = []
    allowed_spans = []
    for path, needle, _why in SCAN_ALLOW:
        if path == rel:
            start = 0
            while (i := text.find(needle, start)) >= 0:
                allowed_spans.append((i, i + len(needle)))
                start = i + 1

    def allowed(i: int) -> bool:
        return any(a <= i < b for a, b in allowed_spans)

    for host in CDN_HOSTS:
        for m in re.finditer(re.escape(host), text, re.I):
            if not allowed(m.start()):
                found.append(Finding(rel, f"CDN host {host}", _context(text, m.start(), m.end())))
    for rule, rx in LOAD_PATTERNS.items():
        for m in rx.finditer(text):
            if not allowed(m.start("url")):
                found.append(Finding(rel, f"outside URL in a load position ({rule})", _context(text, m.start(), m.end() + 60)))
    return found


def _context(text: str, a: int, b: int) -> str:
    return text[max(0, a - 40):min(len(text), b + 40)].replace("\n", "\\n")


def scan_site(root: Path) -> list[Finding]:
    """Every text file under root that refers to an outside origin (see CDN_HOSTS / LOAD_PATTERNS)."""
    findings = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES:
            text = p.read_bytes().decode("utf-8", errors="replace")
            findings.extend(scan_text(p.relative_to(root).as_posix(), text))
    return findings
