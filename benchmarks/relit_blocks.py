"""What the block-by-block checks cost a frame (`neighbour_patches.leave_out_relit_blocks`, and with
it `leave_out_other_content` on the same block moments, as `network_input.build_input` runs them).

    python benchmarks/relit_blocks.py [--size 1920x1080] [--radius 2] [--threads 1,2] [--repeats 7]
                                      [--dtype float32] [--relit] [--top 12] [--checks relit,both]
                                      [--memory]

Builds a network input of `--radius`'s layout (the shipped `default`: 2, four neighbour slots) of
4 spp-like noise over a flat grey, the same in every slot but for its noise, each neighbour slot
consistent but for a band at its edge (out of bounds, as in a pan), and runs the check on a copy
of it: with `--relit` one slot holds a shadow 2x dark the check finds (its slot is then mended
too), else none does (as in most shots, and in `speed.py`'s). Prints, per thread count and per
`--checks` (`relit`: the light check alone; `both`: with the other-content check), the time per
frame (best and median of `--repeats`; freed memory kept for reuse, as the CLI keeps it:
`keep_freed_memory`) and a table of the torch profiler's operators by their own CPU time per
frame over those calls (the profiler adds some time to each
operator: read the table for where the time goes, the first line for what it is). With
`--memory`, instead, what each of `--checks` adds to the process's peak resident memory (Linux: the
kernel's high-water mark, reset once the input and its copy are held and the memory freed in
building them given back), in MB and bytes per pixel of the frame, to weigh against
`host_memory.INPUT_BYTES_PER_PIXEL`: what the checks hold at once beyond the input.
"""

from __future__ import annotations

import argparse
import ctypes
import statistics
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.neighbour_patches import SlotBlocks, leave_out_other_content, leave_out_relit_blocks
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory
from vfxdenoise.core.slot_plan import SlotPlan

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def _input(layout: InputLayout, height: int, width: int, dtype: torch.dtype, relit: bool) -> torch.Tensor:
    """A (1, C, H, W) input: gamma noise (shape 4, mean 0.3) in every beauty slot, neighbour slots
    consistent but for their last 16 columns; with `relit`, the first neighbour slot's beauty
    halved over a 64x64 square."""
    generator = torch.Generator().manual_seed(0)
    out = torch.zeros((1, layout.in_channels, height, width))
    for slot in range(len(layout.slots)):
        shape = torch.full((3, height, width), 4.0)
        out[0, layout.slot_beauty(slot)] = torch._standard_gamma(shape, generator=generator) * 0.075
    out[:, layout.consistency] = 1.0
    out[:, layout.consistency, :, -16:] = 0.0
    if relit:
        beauty, _ = layout.neighbour_views(out, 0)
        beauty[..., height // 2:height // 2 + 64, width // 2:width // 2 + 64] *= 0.5
    return out.to(dtype)


def _both(out: torch.Tensor, layout: InputLayout, plan: SlotPlan) -> None:
    """The two block checks on one `SlotBlocks`, as `build_input` runs them."""
    blocks = SlotBlocks(out, layout, plan)
    leave_out_relit_blocks(out, layout, plan, blocks)
    leave_out_other_content(out, layout, plan, blocks)


CHECKS = {"relit": leave_out_relit_blocks, "both": _both}


def _timed(out: torch.Tensor, layout: InputLayout, plan: SlotPlan, repeats: int, check=leave_out_relit_blocks
           ) -> list[float]:
    """Milliseconds of each of `repeats` runs of `check`, each on a fresh copy of `out`."""
    times = []
    for _ in range(repeats):
        copy = out.clone()
        start = time.perf_counter()
        check(copy, layout, plan)
        times.append(1000.0 * (time.perf_counter() - start))
    return times


def _profiled(out: torch.Tensor, layout: InputLayout, plan: SlotPlan, repeats: int, top: int,
              check=leave_out_relit_blocks) -> list[tuple[str, float, float]]:
    """(operator, calls per check, own CPU ms per check) of the `top` operators by own time."""
    copies = [out.clone() for _ in range(repeats)]
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for copy in copies:
            check(copy, layout, plan)
    events = sorted(profiler.key_averages(), key=lambda event: event.self_cpu_time_total, reverse=True)
    return [(event.key, event.count / repeats, event.self_cpu_time_total / 1000.0 / repeats)
            for event in events[:top]]


def _resident_kib(field: str) -> int:
    """This process's `field` of /proc/self/status (VmRSS: now, VmHWM: its peak), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}: --memory needs Linux")


def _peak_growth(out: torch.Tensor, layout: InputLayout, plan: SlotPlan, check=leave_out_relit_blocks
                 ) -> int:
    """Bytes `check` on a copy of `out` adds to the process's peak resident memory: the
    high-water mark is reset (clear_refs 5) once the copy is held and what building it freed is
    given back (glibc's malloc_trim: kept, the check would reuse it unseen), then read after."""
    copy = out.clone()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    held = _resident_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    check(copy, layout, plan)
    return (_resident_kib("VmHWM") - held) * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1920x1080", help="WxH")
    parser.add_argument("--radius", type=int, default=2, help="temporal radius (default: `default`'s)")
    parser.add_argument("--threads", default="1,2", help="torch thread counts, commas between")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--dtype", choices=DTYPES, default="float32", help="the input's (the model's)")
    parser.add_argument("--relit", action="store_true", help="a shadow in one slot, which the check mends")
    parser.add_argument("--top", type=int, default=12, help="operators listed")
    parser.add_argument("--checks", default="relit,both", help=f"which, commas between: {', '.join(CHECKS)}")
    parser.add_argument("--memory", action="store_true",
                        help="the peak memory each of --checks adds (first thread count), not its time")
    args = parser.parse_args()
    keep_freed_memory()
    width, height = (int(n) for n in args.size.split("x"))
    layout = InputLayout(temporal_radius=args.radius)
    offsets = [offset for offset in layout.slots[1:]]
    plan = SlotPlan(offsets=offsets, firsts={offset: index for index, offset in enumerate(offsets)},
                    flows={}, use_motion=False)
    out = _input(layout, height, width, DTYPES[args.dtype], args.relit)
    print(f"{width}x{height}, {len(offsets)} neighbour slots, {args.dtype}, "
          f"{'a shadow found in one slot' if args.relit else 'nothing found'}, torch {torch.__version__}")
    if args.memory:
        torch.set_num_threads(int(args.threads.split(",")[0]))
        for name in args.checks.split(","):
            grown = _peak_growth(out, layout, plan, CHECKS[name])
            print(f"peak resident memory of {name}: +{grown / 1e6:.0f} MB, "
                  f"{grown / (width * height):.0f} B/px")
        return
    for threads in (int(n) for n in args.threads.split(",")):
        torch.set_num_threads(threads)
        for name in args.checks.split(","):
            check = CHECKS[name]
            _timed(out, layout, plan, 1, check)  # warm-up
            times = _timed(out, layout, plan, args.repeats, check)
            print(f"\n{threads} thread(s), {name}: best {min(times):.1f} ms, median "
                  f"{statistics.median(times):.1f} ms ({args.repeats} runs)\n")
            print("| operator | calls | own ms (profiled) |\n|---|---|---|")
            for operator, calls, ms in _profiled(out, layout, plan, args.repeats, args.top, check):
                print(f"| {operator} | {calls:g} | {ms:.1f} |")


if __name__ == "__main__":
    main()
