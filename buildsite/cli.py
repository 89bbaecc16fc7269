"""``python3 build.py``: the command line of the build.

    python3 build.py                     build into _site/ (downloads what the cache lacks)
    python3 build.py --offline           build from the download cache only
    python3 build.py --out DIR           build somewhere else
    python3 build.py --sources           ship the wheels' sources, not bytecode
    python3 build.py serve [--port 8000] [--host 127.0.0.1]
                                         build if needed, then serve the output folder
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import BuildError, log, paths
from .assemble import build
from .precache import APP_PACKAGES, KERNEL_PACKAGES
from .serve import make_server


def needs_build(out: Path) -> bool:
    """Whether ``serve`` must build first: no site in out, or an input newer than its lock."""
    marker = out / "pyodide" / "pyodide-lock.json"
    if not marker.exists() or not (out / "index.html").exists():
        return True
    built = marker.stat().st_mtime
    inputs = [paths.REPO / "build.py", paths.PINS_FILE, paths.PYPROJECT, *paths.TOOLS.glob("*")]
    inputs += [p for d in (paths.SITE_SRC, paths.PY_SRC, Path(__file__).parent) for p in d.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts]
    return any(p.stat().st_mtime > built for p in inputs if p.exists())


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    """Build (and with ``serve``, serve) the site; the exit status (1: the build failed)."""
    ap = argparse.ArgumentParser(description="Build (and serve) the Localyst static site.")
    ap.add_argument("command", nargs="?", choices=["build", "serve"], default="build")
    ap.add_argument("--out", type=Path, default=paths.DEFAULT_OUT, help="output folder (default: _site/)")
    ap.add_argument("--offline", action="store_true", help="use the download cache only")
    ap.add_argument("--sources", action="store_true",
                    help="ship the wheels' Python sources, not bytecode (a slower start; every traceback line shown)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    args = ap.parse_args(argv)
    try:
        if args.command == "build" or needs_build(args.out):
            s = build(args.out, offline=args.offline, compile_python=not args.sources)
            log(f"built {args.out} in {s['seconds']} s: {s['files']} files, {s['bytes']:,} bytes ({_mb(s['bytes'])}); "
                f"{s['packages']} packages in the site lock")
            log(f"first visit: {s['first_visit_files']} files, {s['first_visit_bytes']:,} bytes "
                f"({_mb(s['first_visit_bytes'])}) = page + Pyodide core + lock + the bundle of "
                f"{'+'.join(APP_PACKAGES)} closure ({len(s['app_closure'])} packages) and the kernel's warm-up "
                f"({', '.join(KERNEL_PACKAGES)} and their closure) + vendor JS/CSS/font")
    except BuildError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    if args.command == "serve":
        server = make_server(args.out, args.host, args.port)
        host, port = server.server_address[:2]
        log(f"serving {args.out} at http://{host}:{port}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0
