// Runs a Python file in the site's own Pyodide under Node, for build steps that need the
// exact Python the browser runs (byte-compiling the wheels the site ships).
//
//   node tools/pyodide_run.mjs <pyodide-dir> <work-dir> <script.py> [arg ...]
//
// <work-dir> is mounted at /work; the script gets sys.argv = [<script.py>, arg ...]. The
// exit status is 1 if the script raises.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [dir, work, script, ...args] = process.argv.slice(2);
if (!script) {
  process.stderr.write("usage: node tools/pyodide_run.mjs <pyodide-dir> <work-dir> <script.py> [arg ...]\n");
  process.exit(2);
}
const indexURL = path.resolve(dir) + path.sep;
const { loadPyodide } = await import(pathToFileURL(indexURL + "pyodide.mjs").href);
const print = (stream) => (line) => stream.write(line + "\n");
const pyodide = await loadPyodide({ indexURL, stdout: print(process.stdout), stderr: print(process.stderr) });
pyodide.FS.mkdir("/work");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: path.resolve(work) }, "/work");
pyodide.pyimport("sys").argv = pyodide.toPy([script, ...args]);
try {
  pyodide.runPython(fs.readFileSync(script, "utf8"), { filename: script });
} catch (err) {
  process.stderr.write(String(err.message || err) + "\n");
  process.exit(1);
}
process.exit(0);
