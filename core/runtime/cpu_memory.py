"""How this process's C allocator treats the large tensors PyTorch frees on the CPU.

By default glibc's malloc gives blocks above its mmap threshold (which it raises by itself to at
most 32 MiB) back to the kernel as soon as they are freed, and trims the heap once 64 MiB lie
free at its top. A frame at 1080p is tens of MB per tensor and every operator allocates and frees
several, so on the CPU each of them is mapped, page-faulted and zeroed by the kernel afresh. On
the 2-core development machine that cost the shipped model a third of its time per 1080p frame
(BENCHMARKS.md, CPU section). Keeping freed blocks for reuse is what tcmalloc and jemalloc do
for PyTorch; glibc does it when asked, without another library.

glibc also gives each thread that allocates its own arena, whose freed blocks only that arena
reuses. A run decodes on reader threads, writes on writer threads and denoises on a thread of its
own, so each arena kept its own frame-sized free blocks beside the others', and which thread freed
what varied with timing: 5 runs of 8 960x540 frames at --max-mem 1.08 peaked at 0.93-1.19 GiB,
and at 0.80-0.81 in one arena (BENCHMARKS.md, "Host memory: one allocator arena"). So the
process keeps one arena: every thread reuses what any other freed.
"""

from __future__ import annotations

import ctypes
import sys

# mallopt(3) parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
# Blocks this large or larger are still mapped and given back on free: whole 8K inputs, which
# a CPU run needs once per frame, and whose freeing returns most of the memory a run holds.
MMAP_THRESHOLD = 1 << 30
# Free memory at the top of the heap kept for reuse instead of trimmed (mallopt takes an int).
TRIM_THRESHOLD = (1 << 31) - 1


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed blocks below 1 GiB for reuse by this process, in one arena that
    every thread allocates from. Meant for processes that denoise or train on the CPU (the CLI),
    called before they start threads; a host application's allocator is its own business.
    Returns False, changing nothing, where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    mapped = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    trimmed = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    return bool(mapped) and bool(trimmed) and bool(mallopt(_M_ARENA_MAX, 1))
