"""Host memory of CPU runs: peak resident memory of `vfxdenoise seq` under memory budgets.

    python benchmarks/host_memory.py [--size 3840x2160] [--frames 5] [--budgets whole,auto,6,4]
                                     [--precision float32]

Writes a sequence of the bundled sample renders tiled to --size (all 13 channels, as
benchmarks/speed.py does), then runs `vfxdenoise seq --device cpu` over it once per budget, each
in its own process: `whole` gives the run far more than it needs (`--max-mem 4096`: whole frames,
as before there were budgets), `auto` leaves the budget to seq (most of the memory free), a
number is `--max-mem GB`. Prints a markdown table: the plan seq's summary gave, the process's peak
resident memory (from the kernel's accounting of that child), seconds per frame, and the largest
difference of the beauty to the first budget's output in log(1+x).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from speed import _write_sequence

from vfxdenoise.core.frame_reading import read_beauty
from vfxdenoise.core.io.sequence import FramePattern, parse_pattern
from vfxdenoise.core.runtime.host_memory import available_bytes

_PLAN = re.compile(r"host memory: (.*)")


def _run(folder: Path, budget: str, precision: str) -> tuple[str, float, float, FramePattern]:
    """One seq run in its own process: the plan its summary gave, peak resident GB, seconds,
    output pattern."""
    out = parse_pattern(str(folder / f"out-{budget}" / "o.####.exr"))
    args = [sys.executable, "-c", "from vfxdenoise.cli.main import main; main()", "seq",
            str(folder / "in.####.exr"), "-o", out.text, "--device", "cpu", "--progress", "none",
            "--overwrite", "--precision", precision]
    if budget != "auto":
        args += ["--max-mem", "4096" if budget == "whole" else budget]
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        reason = log.strip().splitlines()[-1].removeprefix("error: ")
        return f"failed: {reason}", usage.ru_maxrss / 2**20, seconds, out
    plan = _PLAN.search(log)
    return plan.group(1) if plan else "whole frames", usage.ru_maxrss / 2**20, seconds, out


def _difference(a: FramePattern, b: FramePattern, frames: int) -> float:
    worst = 0.0
    for frame in range(1, frames + 1):
        x, y = (read_beauty(p.path(frame)) for p in (a, b))
        worst = max(worst, float(np.abs(np.log1p(x) - np.log1p(y)).max()))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="3840x2160")
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--budgets", default="whole,auto,6,4")
    parser.add_argument("--precision", default="auto", choices=["auto", "float32"], help="seq --precision")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    free = available_bytes()
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, "
          f"{free / 2**30:.1f} GB available at the start" if free else "")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        described = _write_sequence(folder, args.frames, width, height)
        print(f"sequence: {args.frames} frames of {args.size}, {described}\n")
        print("| budget | plan | peak resident GB | s/frame | max diff to first, log(1+x) |")
        print("|---|---|---|---|---|")
        first = None
        for budget in args.budgets.split(","):
            plan, peak, seconds, out = _run(folder, budget, args.precision)
            ok = not plan.startswith("failed")
            diff = (f"{_difference(first, out, args.frames):.5f}" if ok and first else "")
            first = first or (out if ok else None)
            name = {"whole": "--max-mem 4096", "auto": "(default)"}.get(budget, f"--max-mem {budget}")
            print(f"| {name} | {plan} | {peak:.2f} | {seconds / args.frames:.1f} | {diff} |",
                  flush=True)


if __name__ == "__main__":
    main()
