"""The allocator setting of `vfxdenoise` processes: freed tensor memory is reused, not faulted in
again. Run in child processes, since the setting is process-wide."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

_PROBE = """
import resource, sys, torch
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else None
def faults():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.ones(16 * 2**20)  # 64 MiB, allocated, written and freed
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(kept, sum([faults() for _ in range(24)][-8:]))
"""


def _probe(mode: str) -> tuple[str, int]:
    result = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True,
                            check=True)
    kept, faults = result.stdout.split()
    return kept, int(faults)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="tunes glibc's malloc only")
def test_freed_tensor_memory_is_reused_instead_of_faulted_in_again():
    _, default_faults = _probe("default")
    kept, kept_faults = _probe("keep")
    assert kept == "True"
    # By default every 64 MiB tensor is mapped afresh: one fault per 4 KiB page. Kept, the heap
    # settles after a few rounds (each block freed is a little short of the next aligned
    # request until free neighbours merge: 2-9 rounds seen) and the last rounds fault nothing in.
    assert default_faults > 8 * 8000
    assert kept_faults < default_faults / 20


_ARENAS = """
import ctypes, sys, threading
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else None
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.fopen.restype, libc.fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
def allocate():  # as a reader, writer or the network's thread does: blocks kept after they are freed
    libc.free(libc.malloc(1 << 20))
threads = [threading.Thread(target=allocate) for _ in range(3)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
report = libc.fopen(sys.argv[2].encode(), b"w")
libc.malloc_info(0, report)
libc.fclose(report)
print(kept, open(sys.argv[2]).read().count("<heap nr="))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="tunes glibc's malloc only")
def test_threads_allocate_from_one_arena(tmp_path):
    def arenas(mode: str) -> tuple[str, int]:
        result = subprocess.run([sys.executable, "-c", _ARENAS, mode, str(tmp_path / f"{mode}.xml")],
                                capture_output=True, text=True, check=True)
        kept, count = result.stdout.split()
        return kept, int(count)

    # By default each thread that allocates gets an arena of its own (up to 8 a core), whose freed
    # blocks no other thread reuses; kept, the three threads allocate from the main one.
    assert arenas("default")[1] > 1
    assert arenas("keep") == ("True", 1)
