"""Fetch into .whl/ the packages that benchmarks/gpu_check.sh needs and the lent GPU machine's image
lacks (it has torch, numpy, click, tqdm, safetensors, pytest, hypothesis; its Python is 3.12).

    python3 benchmarks/gpu_wheels.py      # here, where pip reaches the package registries

A device call carries the checkout and these wheels, 64 MiB at most. pyoidn's wheel alone is
84 MiB, most of it the HIP, SYCL, Level Zero and CPU devices: it is cut to what its CUDA device
needs; OpenImageIO's loses its command-line tools and fonts, which nothing here runs; and every
wheel is repacked with LZMA (pip reads it), so all fit. Exits non-zero when the
total would still be over the limit.
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


def carried_bytes() -> int:
    """What a device call sends: tracked and untracked-not-ignored files, and the wheels."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], check=True,
                            capture_output=True).stdout.decode().split("\0")
    files = [Path(name) for name in listed if name and Path(name).is_file()]
    return sum(path.stat().st_size for path in [*files, *WHEELS.glob("*.whl")])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()  # no options: --help describes the script, a typo is refused before any download
    for old in WHEELS.glob("*.whl"):
        old.unlink()
    WHEELS.mkdir(exist_ok=True)
    download()
    for wheel in sorted(WHEELS.glob("*.whl")):
        repack(wheel)
    size = carried_bytes()
    print(f"{WHEELS}: {len(list(WHEELS.glob('*.whl')))} wheels; a device call carrying it sends "
          f"{size / 2**20:.1f} MiB (limit {LIMIT / 2**20:.0f})")
    return 0 if size <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
