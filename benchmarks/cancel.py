"""How soon a cancel ends a run whose frame is being denoised.

    python benchmarks/cancel.py [--size 1024x1024] [--model default] [--device cpu] [--after 0.5]
                                [--folder DIR]

Writes three frames of the bundled sample renders tiled to --size (as benchmarks/speed.py does;
into --folder, kept, where frames written there before are read again), then cancels a run over
them --after seconds after frame 1 is reported, while frame 2 is denoised, in two ways: a host's
cancel in process (`denoise_sequence`'s `stop`), and SIGTERM to `vfxdenoise seq --progress json`
(a farm's cancel). Prints, for each, frame 1's time (its denoise and write), the seconds from the
cancel to the run's end (its return; seq's error event) and, for seq, to the process's exit (which
frees the run's memory and threads after the event), and the frames on disk: frame 2 is there only
where the cancel waited for its denoise to end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from speed import _write_sequence

from vfxdenoise.core.engine import EngineConfig, RunStopped, denoise_sequence

FRAMES = 3


def _on_disk(out: Path) -> list[str]:
    return sorted(p.name for p in out.glob("o.*.exr"))


# frame 1's seconds; from the cancel to the run's end and to the process's exit (None in process);
# the outputs on disk
Measured = tuple[float, float, float | None, list[str]]


def in_process(pattern: str, out: Path, model: str, device: str, after: float) -> Measured:
    """A host's cancel: `stop` says yes `after` s after frame 1 is reported (frame 2 denoising).
    Its seconds: from the cancel to the run's return."""
    stop, marks = threading.Event(), {}

    def progress(result, index: int, total: int) -> None:
        if not marks:  # the frames a stopped run reports on its way out are not frame 1
            marks["frame"] = result.seconds
            time.sleep(after)
            marks["cancel"] = time.perf_counter()
            stop.set()

    try:
        denoise_sequence(pattern, str(out / "o.####.exr"), config=EngineConfig(model=model, device=device),
                         progress=progress, stop=stop.is_set)
    except RunStopped:
        pass
    return marks["frame"], time.perf_counter() - marks["cancel"], None, _on_disk(out)


def terminated(pattern: str, out: Path, model: str, device: str, after: float) -> Measured:
    """A farm's cancel: SIGTERM to `vfxdenoise seq` `after` s after its frame event for frame 1.
    Its seconds: from SIGTERM to seq's error event, and to its exit."""
    run = subprocess.Popen([sys.executable, "-c", "from vfxdenoise.cli.main import main; main()", "seq",
                            pattern, "-o", str(out / "o.####.exr"), "--model", model, "--device", device,
                            "--progress", "json"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    event = json.loads(run.stdout.readline())
    while event["event"] != "frame":
        event = json.loads(run.stdout.readline())
    time.sleep(after)
    sent = time.perf_counter()
    run.send_signal(signal.SIGTERM)
    while json.loads(run.stdout.readline())["event"] != "error":
        pass
    unwound = time.perf_counter() - sent
    run.communicate()
    return event["seconds"], unwound, time.perf_counter() - sent, _on_disk(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1024x1024", help="WIDTHxHEIGHT of the frames")
    parser.add_argument("--model", default="default")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--after", type=float, default=0.5, help="seconds into frame 2's denoise")
    parser.add_argument("--folder", type=Path, help="where the frames go (kept); a temp folder if left out")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    folder = args.folder or Path(tempfile.mkdtemp(prefix="vfxdenoise-cancel-"))
    if not (folder / f"in.{FRAMES:04d}.exr").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        _write_sequence(folder, FRAMES, width, height)
    pattern = str(folder / "in.####.exr")
    print("| cancel | frame 1 (s) | to the run's end (s) | to the exit (s) | on disk |\n"
          "|---|---|---|---|---|")
    for name, cancel in (("host's stop, in process", in_process), ("SIGTERM to seq", terminated)):
        out = folder / "out"
        shutil.rmtree(out, ignore_errors=True)
        frame, ended, exited, on_disk = cancel(pattern, out, args.model, args.device, args.after)
        exit_seconds = f"{exited:.2f}" if exited is not None else "-"
        print(f"| {name} | {frame:.2f} | {ended:.2f} | {exit_seconds} | {', '.join(on_disk)} |")


if __name__ == "__main__":
    main()
