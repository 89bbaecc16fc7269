"""Wheels: what a wheel says about itself (name, version, requirements, import names), and
writing wheels deterministically (fixed order, times and modes, with a RECORD that fits),
so that two builds of the same inputs are the same bytes."""

from __future__ import annotations

import base64
import csv
import email.message
import email.parser
import email.policy
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from . import BuildError
from .fetch import Artifact

FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass
class WheelInfo:
    name: str                     # canonical
    version: str
    file_name: str
    requires: list[Requirement]
    requires_python: str | None
    imports: list[str]


def parse_metadata(text: str) -> email.message.Message:
    """Core metadata (a wheel's METADATA, an sdist's PKG-INFO: the same format)."""
    return email.parser.Parser(policy=email.policy.compat32).parsestr(text)


def read_wheel(path: Path) -> WheelInfo:
    """Name, version, Requires-Dist and top-level import names of a wheel."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        distinfo = _distinfo_folders(names)
        if len(distinfo) != 1:
            raise BuildError(f"wheel has {len(distinfo)} .dist-info folders")
        di = distinfo[0]
        meta = parse_metadata(zf.read(f"{di}/METADATA").decode("utf-8"))
        top_level = zf.read(f"{di}/top_level.txt").decode() if f"{di}/top_level.txt" in names else ""
    reqs = [Requirement(r) for r in (meta.get_all("Requires-Dist") or [])]
    # importable top-level names are packages (a folder with an __init__.py) and modules
    # (.py files) at the root; folders such as bokeh's "typings" (stubs) are not importable
    importable = {n.split("/")[0] for n in names if n.count("/") == 1 and n.endswith("/__init__.py")
                  and not n.split("/")[0].endswith((".dist-info", ".data"))}
    importable |= {n[:-3] for n in names if "/" not in n and n.endswith(".py")}
    # top_level.txt, if any, but only its importable names (bokeh lists "typings")
    imports = [l.strip() for l in top_level.splitlines() if l.strip() in importable] or sorted(importable)
    public = sorted({i for i in imports if i and "/" not in i and not i.startswith("_") and i not in ("test", "tests")})
    imports = public or sorted({i for i in imports if i and "/" not in i})
    return WheelInfo(
        name=canonicalize_name(meta["Name"]),
        version=meta["Version"],
        file_name=path.name,
        requires=reqs,
        requires_python=meta.get("Requires-Python"),
        imports=imports,
    )


def read_pinned_wheel(path: Path, art: Artifact) -> WheelInfo:
    """read_wheel for a pinned PyPI wheel, which must be pure Python and be what pins.toml says."""
    _name, _version, _build, tags = parse_wheel_filename(art.file)
    if not any(t.interpreter in ("py3", "py2.py3") or (t.interpreter.startswith("py3") and t.abi == "none" and t.platform == "any") for t in tags) \
            or not all(t.abi == "none" and t.platform == "any" for t in tags):
        raise BuildError(f"{art.file}: not a pure Python wheel")
    info = read_wheel(path)
    if info.name != canonicalize_name(art.name) or Version(info.version) != Version(art.version):
        raise BuildError(f"{art.file}: METADATA says {info.name} {info.version}, pins.toml says {art.name} {art.version}")
    return info


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_wheel(dest: Path, files: dict[str, bytes], distinfo: str, metadata: str,
                extra_distinfo: dict[str, bytes] | None = None, wheel_meta: bytes | None = None) -> bytes:
    """Write a pure py3-none-any wheel deterministically; returns its bytes.

    files: archive path -> content (package files). Entries are sorted, timestamps fixed,
    permissions fixed; .dist-info comes last with RECORD at the very end.
    """
    wheel_meta = wheel_meta or ("Wheel-Version: 1.0\nGenerator: localyst-build.py\nRoot-Is-Purelib: true\n"
                                "Tag: py3-none-any\n").encode()
    di_files = {f"{distinfo}/METADATA": metadata.encode("utf-8"), f"{distinfo}/WHEEL": wheel_meta}
    for k, v in (extra_distinfo or {}).items():
        di_files[f"{distinfo}/{k}"] = v
    entries = sorted(files.items()) + sorted(di_files.items())
    record_name = f"{distinfo}/RECORD"
    rows = [(n, _record_hash(d), str(len(d))) for n, d in entries] + [(record_name, "", "")]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    entries.append((record_name, buf.getvalue().encode()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in entries:
            zi = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zi.create_system = 3
            zf.writestr(zi, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    data = out.getvalue()
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    return data


def wheel_members(path: Path) -> dict[str, bytes]:
    """Every file in a wheel: archive path -> bytes."""
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}


def _distinfo_folders(names: Iterable[str]) -> list[str]:
    return sorted({n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(".dist-info")})


def rewrite_wheel(dest: Path, members: dict[str, bytes]) -> bytes:
    """Write a wheel's members again (deterministically, with a RECORD that fits them)."""
    distinfo = _distinfo_folders(members)[0]
    files = {n: d for n, d in members.items() if not n.startswith(distinfo + "/")}
    meta = members[f"{distinfo}/METADATA"].decode("utf-8")
    extra = {n[len(distinfo) + 1:]: d for n, d in members.items()
             if n.startswith(distinfo + "/") and n[len(distinfo) + 1:] not in ("METADATA", "WHEEL", "RECORD")}
    return write_wheel(dest, files, distinfo, meta, extra, wheel_meta=members[f"{distinfo}/WHEEL"])


def slim_wheel(src: Path, dest: Path, drop: Callable[[str], bool]) -> bytes:
    """Rewrite a wheel without the package files drop(path) selects (deterministically)."""
    members = wheel_members(src)
    distinfo = _distinfo_folders(members)[0]
    return rewrite_wheel(dest, {n: d for n, d in members.items() if n.startswith(distinfo + "/") or not drop(n)})
