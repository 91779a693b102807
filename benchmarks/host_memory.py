"""Host memory of CPU runs: peak resident memory of `vfxdenoise seq` under memory budgets.

    python benchmarks/host_memory.py [--size 3840x2160] [--frames 5] [--budgets whole,auto,6,4]
                                     [--precision float32] [--pixel-type half|float] [--folder DIR]

Writes a sequence of the bundled sample renders tiled to --size (all 13 channels, as
benchmarks/speed.py does; all half or all float with --pixel-type; into --folder, kept, where a
sequence written there before is read again), then runs `vfxdenoise seq --device cpu` over it once
per budget, each in its own process: `whole` gives the run far more than it needs (`--max-mem
4096`: whole frames, as before there were budgets), `auto` leaves the budget to seq (most of the
memory free), a number is `--max-mem GB`. Prints a markdown table: the plan seq's summary gave,
the peak it planned (what the process held before its frames and `HostPlan.planned_bytes`, from
seq's debug log), the process's peak resident memory (from the kernel's accounting of that
child), seconds per frame, and the largest difference of the beauty to the first budget's output
in log(1+x).
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
_PLANNED = re.compile(r"host memory planned: ([\d.]+) GiB for the frames, ([\d.]+) GiB held before")


def _run(folder: Path, budget: str, precision: str) -> tuple[str, float | None, float, float, FramePattern]:
    """One seq run in its own process: the plan its summary gave, the peak it planned (GiB, None
    where it made no plan), peak resident GiB, seconds, output pattern."""
    out = parse_pattern(str(folder / f"out-{budget}" / "o.####.exr"))
    args = [sys.executable, "-c", "from vfxdenoise.cli.main import main; main()", "--debug", "seq",
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
        # the error line, or with --debug its traceback's last: "vfxdenoise.core.errors.DeviceError: ..."
        reason = re.sub(r"^(error|[\w.]+Error): ", "", log.strip().splitlines()[-1])
        return f"failed: {reason}", None, usage.ru_maxrss / 2**20, seconds, out
    plan, planned = _PLAN.search(log), _PLANNED.search(log)
    planned_gib = float(planned.group(1)) + float(planned.group(2)) if planned else None
    return plan.group(1) if plan else "whole frames", planned_gib, usage.ru_maxrss / 2**20, seconds, out


def _sequence(folder: Path, args: argparse.Namespace, width: int, height: int) -> str:
    """The sequence's description: written into `folder`, or read from there where a run with
    the same arguments wrote it before (`--folder`)."""
    described = folder / "sequence.txt"
    key = f"{args.frames} {width}x{height} {args.pixel_type}"
    if described.exists() and described.read_text().startswith(key + "\n"):
        return described.read_text().splitlines()[1]
    folder.mkdir(parents=True, exist_ok=True)
    text = _write_sequence(folder, args.frames, width, height, args.pixel_type)
    described.write_text(f"{key}\n{text}\n")
    return text


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
    parser.add_argument("--pixel-type", choices=["half", "float"], help="every channel stored as this")
    parser.add_argument("--folder", type=Path, help="write the sequence here and keep it (reused if there)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    free = available_bytes()
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, "
          f"{free / 2**30:.1f} GB available at the start" if free else "")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp)
        print(f"sequence: {args.frames} frames of {args.size}, {_sequence(folder, args, width, height)}\n")
        print("| budget | plan | planned peak GiB | peak resident GiB | s/frame "
              "| max diff to first, log(1+x) |")
        print("|---|---|---|---|---|---|")
        first = None
        for budget in args.budgets.split(","):
            plan, planned, peak, seconds, out = _run(folder, budget, args.precision)
            ok = not plan.startswith("failed")
            diff = (f"{_difference(first, out, args.frames):.5f}" if ok and first else "")
            first = first or (out if ok else None)
            name = {"whole": "--max-mem 4096", "auto": "(default)"}.get(budget, f"--max-mem {budget}")
            shown = f"{planned:.2f}" if planned is not None else ""
            print(f"| {name} | {plan} | {shown} | {peak:.2f} | {seconds / args.frames:.1f} | {diff} |",
                  flush=True)


if __name__ == "__main__":
    main()
