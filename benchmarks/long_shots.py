"""What a farm chunk of a long shot costs before and while it writes: the --resume check of a
finished output, the output checks before the first frame, the output folder's listings, and the
lock files a run holds.

    python benchmarks/long_shots.py [--shots 300,3000] [--chunk 10] [--write 40] [--hd-frames 2]
                                    [--repeats 5]

Builds its data in a temp folder:
- a long shot of tiny frames (TINY x TINY crops of the bundled sample renders, every channel and
  pixel type, written by `exr.write_exr`) for each length of --shots;
- --hd-frames 1920x1080 13-channel outputs as `seq` writes them: `denoise_sequence` (as
  `vfxdenoise seq` runs, CPU, the default model) over the sample renders tiled to that size
  (benchmarks/speed.py's sequence), so their header, provenance and compression are real.

Prints one table:
- is_complete: how --resume tells a finished 1080p output whole (`outputs.is_complete`: every
  chunk decoded, `exr.check_decodes`), against a full `read_exr` of the same file (median ms of
  --repeats, the file in the page cache, OpenImageIO's own threads);
- check_writable: `outputs.check_writable` of a --chunk frame chunk (the middle of the shot, into
  an output folder of its own) of each shot, in ms and in os.stat/os.lstat calls (the standard
  library's, wrapped here to count them), against the shot's length;
- listings: the output folder's os.scandir listings (wrapped, as tests/folder_listings.py does)
  over one run writing --write frames of the longest shot, then one --resume run over the same
  frames with every other output removed;
- locks: the `.lock` files in the output folder when half of a run's frames are reported on disk
  (its progress callback), against the frames it writes (a run held every one to its end).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from speed import SAMPLE, _write_sequence

from vfxdenoise.core.engine import EngineConfig, RunSummary, denoise_sequence
from vfxdenoise.core.io import outputs
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.io.frame_locks import LOCK_SUFFIX
from vfxdenoise.core.io.sequence import find_sequence, parse_pattern
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

TINY = 16  # pixels, each side of a long shot's frames
FIRST = 1001  # a shot's first frame number

_scandir = os.scandir  # the standard library's own, for what this script lists itself


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # once first: the file in the page cache, the code loaded
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


class _Counted:
    """Calls of `os.<names>` made while entered (the standard library's, wrapped), each with its
    first argument, so a count can be limited to one path."""

    def __init__(self, *names: str):
        self.names, self.calls = names, []

    def __enter__(self) -> _Counted:
        self.real = {name: getattr(os, name) for name in self.names}
        for name, real in self.real.items():
            def counted(path=".", *args, _real=real, **kwargs):
                self.calls.append(path)
                return _real(path, *args, **kwargs)
            setattr(os, name, counted)
        return self

    def __exit__(self, *exc) -> None:
        for name, real in self.real.items():
            setattr(os, name, real)

    def of(self, folder: Path) -> int:
        """The calls made on `folder` itself."""
        return sum(1 for path in self.calls if isinstance(path, (str, os.PathLike)) and Path(path) == folder)


def _long_shot(folder: Path, frames: int) -> str:
    """A shot of `frames` tiny frames: crops of the sample renders in turn, as they are stored;
    its pattern."""
    samples = [read_exr(path) for path in sorted(SAMPLE.glob("render.*.exr"))]
    images = [ExrImage.from_channels({n: plane[:TINY, :TINY].copy() for n, plane in
                                      zip(s.channel_names, s.get(s.channel_names))},
                                     pixel_types=s.parts[0].channel_types) for s in samples]
    folder.mkdir(parents=True)
    for index in range(frames):
        write_exr(folder / f"render.{FIRST + index:04d}.exr", images[index % len(images)])
    return str(folder / "render.####.exr")


def _middle(frames: int, count: int) -> list[int]:
    """`count` frames from the middle of a shot of `frames`."""
    start = FIRST + (frames - count) // 2
    return list(range(start, start + count))


def _hd_rows(folder: Path, frames: int, repeats: int) -> list[tuple[str, ...]]:
    """is_complete against a full read_exr, per 1080p output `seq` writes."""
    folder.mkdir()
    described = _write_sequence(folder, frames)
    summary = denoise_sequence(str(folder / "in.####.exr"), str(folder / "out" / "d.####.exr"),
                               config=EngineConfig(device="cpu"))
    rows = []
    for result in summary.results:
        path = result.path
        assert outputs.is_complete(path), path
        check = _median_ms(lambda path=path: outputs.is_complete(path), repeats)
        full = _median_ms(lambda path=path: read_exr(path), repeats)
        rows.append((f"is_complete, ms (median of {repeats})",
                     f"1920x1080 output {path.name}, {path.stat().st_size / 2**20:.1f} MiB",
                     f"{check:.1f}", f"full read_exr: {full:.0f}", f"{full / check:.0f}x less"))
    print(f"1080p outputs: `seq` (CPU, default model) over the sample renders tiled to 1920x1080, "
          f"{described}; written in {summary.seconds:.0f} s")
    return rows


def _writable_rows(folder: Path, shots: list[int], chunk: int, repeats: int) -> list[tuple[str, ...]]:
    """check_writable of a chunk of each shot: ms and stat calls, against the shot's length."""
    rows = []
    for frames in shots:
        in_pattern = parse_pattern(_long_shot(folder / f"shot{frames}", frames))
        out_pattern = parse_pattern(str(folder / f"out{frames}" / "d.####.exr"))
        out_pattern.directory.mkdir()
        on_disk, wanted = find_sequence(in_pattern).frames, _middle(frames, chunk)

        def check(in_pattern=in_pattern, out_pattern=out_pattern, on_disk=on_disk, wanted=wanted):
            outputs.check_writable(in_pattern, out_pattern, on_disk, wanted)

        spent = _median_ms(check, repeats)
        with _Counted("stat", "lstat") as stats:
            check()
        rows.append((f"check_writable, {chunk}-frame chunk", f"{frames}-frame shot",
                     f"{spent:.2f} ms, {len(stats.calls)} stat/lstat", f"{frames} inputs", ""))
    return rows


def _half_way_locks(out: Path, found: list[tuple[int, int]]) -> Callable[[object, int, int], None]:
    """A progress callback adding to `found`, once half the frames are reported on disk, the
    `.lock` files in `out` and the frames to write."""
    def progress(result: object, done: int, total: int) -> None:
        if done == total // 2:
            with _scandir(out) as entries:  # not the counted one
                found.append((sum(e.name.endswith(LOCK_SUFFIX) for e in entries), total))
    return progress


def _machine() -> str:
    """The CPU's model name (as lscpu says it) and count."""
    names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
             if line.startswith("model name")] if Path("/proc/cpuinfo").exists() else []
    return f"{names[0] if names else platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"


def _run_rows(pattern: str, out: Path, wanted: list[int]) -> list[tuple[str, ...]]:
    """Listings and half-way locks over a run writing `wanted`, then a --resume run with every
    other output removed."""
    rows = []
    for name, existing in (("run", "refuse"), ("--resume run", "resume")):
        if existing == "resume":
            for frame in wanted[::2]:
                (out / f"d.{frame:04d}.exr").unlink()
        locks: list[tuple[int, int]] = []
        progress = _half_way_locks(out, locks)
        with _Counted("scandir") as listings:
            summary: RunSummary = denoise_sequence(
                pattern, str(out / "d.####.exr"), f"{wanted[0]}-{wanted[-1]}",
                EngineConfig(device="cpu", existing=existing), progress=progress)
        held, total = locks[0]
        rows.append((f"output folder listings, {name}", f"{len(wanted)} frames asked, {total} written",
                     str(listings.of(out)), "", ""))
        rows.append((f".lock files half-way, {name}", f"{total // 2} of {total} written",
                     str(held), f"{total} to write", f"{held / total:.2f}"))
        print(f"{name}: {len(summary.results)} frames in {summary.seconds:.1f} s")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shots", default="300,3000", help="lengths of the long shots, in frames")
    parser.add_argument("--chunk", type=int, default=10, help="frames of a farm chunk")
    parser.add_argument("--write", type=int, default=40, help="frames the runs write (listings, locks)")
    parser.add_argument("--hd-frames", type=int, default=2, help="1080p outputs to check")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    keep_freed_memory()  # as the `vfxdenoise` command does
    shots = [int(n) for n in args.shots.split(",")]
    print(f"{_machine()}; tiny frames "
          f"{TINY}x{TINY}, 13 channels")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = _hd_rows(folder / "hd", args.hd_frames, args.repeats)
        rows += _writable_rows(folder, shots, args.chunk, args.repeats)
        longest = max(shots)
        rows += _run_rows(str(folder / f"shot{longest}" / "render.####.exr"), folder / "runs",
                          _middle(longest, args.write))
    print("\n| measure | data | this code | against | ratio |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
