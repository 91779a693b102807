"""Fetch into .whl/ the packages that benchmarks/gpu_check.sh needs and the lent GPU machine's image
lacks (it has torch, numpy, click, tqdm, safetensors, pytest, hypothesis; its Python is 3.12).

    python3 benchmarks/gpu_wheels.py               # here, where pip reaches the package registries
    python3 benchmarks/gpu_wheels.py --set-aside   # if it says the call would be over the limit
    ... device run ...
    python3 benchmarks/gpu_wheels.py --restore     # right after

A device call carries the checkout and these wheels, 64 MiB at most. pyoidn's wheel alone is
84 MiB, most of it the HIP, SYCL, Level Zero and CPU devices: it is cut to what its CUDA device
needs; OpenImageIO's loses its command-line tools and fonts, cffi and pycparser what pyoidn never
loads; and every wheel is repacked with LZMA (pip reads it). Its core library (46 MB, OIDN's
built-in weights) leaves the checkout about 3 MiB. Exits non-zero when the total would be over
the limit, counted as the device tool counts it (apparently each file in 4 KiB blocks: a call
whose files' bytes summed to 63.95 MiB was refused). Then `--set-aside` removes from the working
tree, for the call, committed files the GPU check never reads (SET_ASIDE), and `--restore` checks
them out again; it refuses if any of them has uncommitted changes.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import zipfile
from pathlib import Path

WHEELS = Path(".whl")
PACKAGES = ["openimageio==3.2.2.0", "openexr==3.5.3", "fileseq==3.4.0", "pyoidn==2.5.1.0", "cffi",
            "pycparser"]
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"]
# What each wheel loses, by the name it starts with: pyoidn everything but its Python, the loader
# it opens by path (libOpenImageDenoise.so) and the CUDA device; OpenImageIO its tools, fonts and
# type stubs; cffi and pycparser what only compiling C (API mode) needs, since pyoidn uses ABI mode.
DROP = {
    "pyoidn-": re.compile(r"pyoidn/oidn/(?!lib/libOpenImageDenoise(\.so|_core\.so\..*|_device_cuda\.so\..*)$)"
                          r".*"),
    "openimageio-": re.compile(r"OpenImageIO/(bin/.*|share/fonts/.*|__init__\.pyi)"),
    "cffi-": re.compile(r"cffi/(.*\.h|_cffi_gen_src|_imp_emulation|_shimmed_dist_utils|backend_ctypes"
                        r"|cffi_opcode|ffiplatform|gen_src|pkgconfig|recompiler|setuptools_ext"
                        r"|vengine_cpy|vengine_gen|verifier)(\.py)?"),
    "pycparser-": re.compile(r"pycparser/(_ast_gen\.py|_c_ast\.cfg|c_generator\.py)"),
}
LIMIT = 64 * 1024 * 1024
BLOCK = 4096
# Committed files benchmarks/gpu_check.sh does not read: results, docs, training-data records and
# the tests it does not run (it runs tests/core/test_engine.py, which imports tests/reliability).
SET_ASIDE = ["BENCHMARKS.md", "docs", "core/models/weights/*-manifest.json", "tests/cli",
             "tests/plugin", "tests/nuke", "tests/houdini", "tests/benchmarks"]


def download() -> None:
    """The wheels for the GPU machine's Python, without their dependencies (named in PACKAGES)."""
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.12", "--implementation", "cp", *platforms,
                    "-d", str(WHEELS), *PACKAGES], check=True)


def repack(wheel: Path) -> None:
    """`wheel` rewritten with LZMA, less what the GPU check never runs; its RECORD lists what is kept."""
    drop = next((pattern.fullmatch for start, pattern in DROP.items() if wheel.name.startswith(start)),
                lambda name: None)
    keep = lambda name: not drop(name)  # noqa: E731
    repacked = wheel.with_suffix(".repacked")
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(repacked, "w", zipfile.ZIP_LZMA) as dst:
        for item in src.infolist():
            if not keep(item.filename):
                continue
            data = src.read(item)
            if item.filename.endswith(".dist-info/RECORD"):
                lines = [line for line in data.decode().splitlines() if keep(line.split(",")[0])]
                data = ("\n".join(lines) + "\n").encode()
            dst.writestr(item, data, compress_type=zipfile.ZIP_LZMA)
    repacked.replace(wheel)


def _git(command: str, *args: str) -> list[str]:
    listed = subprocess.run(["git", command, "-z", *args], check=True, capture_output=True).stdout.decode()
    return [name for name in listed.split("\0") if name]


def carried_bytes() -> int:
    """What a device call sends, in 4 KiB blocks: tracked and untracked-not-ignored files present
    in the working tree, and the wheels."""
    files = [Path(name) for name in _git("ls-files", "-co", "--exclude-standard") if Path(name).is_file()]
    return sum(-(-path.stat().st_size // BLOCK) * BLOCK for path in [*files, *WHEELS.glob("*.whl")])


def set_aside() -> int:
    """Remove the SET_ASIDE files from the working tree (all committed, none changed)."""
    changed = _git("status", "--porcelain", "--", *SET_ASIDE)
    if changed:
        print("not set aside: uncommitted changes in " + ", ".join(changed), file=sys.stderr)
        return 1
    files = _git("ls-files", "--", *SET_ASIDE)
    for name in files:
        Path(name).unlink(missing_ok=True)
    print(f"set aside {len(files)} committed files; bring them back with --restore")
    return 0


def restore() -> int:
    """Check out again the SET_ASIDE files missing from the working tree."""
    missing = _git("ls-files", "--deleted", "--", *SET_ASIDE)
    if missing:
        subprocess.run(["git", "checkout", "--", *missing], check=True)
    print(f"restored {len(missing)} files")
    return 0


def report() -> int:
    size = carried_bytes()
    print(f"{WHEELS}: {len(list(WHEELS.glob('*.whl')))} wheels; a device call carrying it sends "
          f"{size / 2**20:.2f} MiB (limit {LIMIT / 2**20:.0f})"
          + ("" if size <= LIMIT else "; over: --set-aside before the call, --restore after"))
    return 0 if size <= LIMIT else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--set-aside", action="store_true", help="remove SET_ASIDE files for a call")
    action.add_argument("--restore", action="store_true", help="check the SET_ASIDE files out again")
    args = parser.parse_args()
    if args.set_aside:
        return set_aside() or report()
    if args.restore:
        return restore()
    for old in WHEELS.glob("*.whl"):
        old.unlink()
    WHEELS.mkdir(exist_ok=True)
    download()
    for wheel in sorted(WHEELS.glob("*.whl")):
        repack(wheel)
    return report()


if __name__ == "__main__":
    sys.exit(main())
