"""What OpenMP's wait policy costs and saves on the CPU: the engine's per-frame cost with libgomp's
default (OMP_WAIT_POLICY unset: a thread done with its part spins, waiting for the others) against
OMP_WAIT_POLICY=PASSIVE (it sleeps), which the `vfxdenoise` command sets (`core/runtime/openmp.py`).

    python benchmarks/wait_policy.py [--sizes 640x360,1920x1080] [--rounds 5] [--calls 3]

The policy is read once, as PyTorch loads its OpenMP runtime, so each measurement is a process of
its own: per size, ROUNDS rounds of one process per policy, the policies' order alternating from
round to round (a change of the machine's load favours neither). A process times CALLS engine
calls (`speed._engine_call`: one frame's input built and denoised, as `seq` does it) after one
warm-up, on the threads `seq` gives PyTorch (one per CPU the process may use), and reports its
median wall time and CPU time per call. Prints a markdown table: per size and policy, each
round's median, their median, the CPU seconds a frame took, and the load average seen.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

POLICIES = {"default (unset)": None, "PASSIVE": "PASSIVE"}


def _child(width: int, height: int, calls: int) -> None:
    """Time `calls` engine calls in this process (its wait policy fixed as torch loaded); print JSON."""
    import numpy as np  # torch loads OpenMP here, before vfxdenoise (which would set the policy)
    import speed
    import torch

    from vfxdenoise.core.denoiser import Denoiser
    from vfxdenoise.core.engine import EngineConfig
    from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

    keep_freed_memory()
    rng = np.random.default_rng(0)
    loaded, _ = speed._model("default", None)
    window = {offset: speed._frame(height, width, rng) for offset in range(-2, 3)}
    denoiser = Denoiser(loaded, torch.device("cpu"), EngineConfig(device="cpu"))
    walls, cpus = [], []
    with denoiser.settings():
        speed._engine_call(denoiser, window).result()
        for _ in range(calls):
            cpu, wall = time.process_time(), time.perf_counter()
            speed._engine_call(denoiser, window).result()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
    print(json.dumps({"wall_ms": statistics.median(walls) * 1000, "cpu_s": statistics.median(cpus),
                      "threads": denoiser.cpu_threads, "load": os.getloadavg()[0]}))


def _measure(width: int, height: int, calls: int, policy: str | None) -> dict:
    """One process's measurement under `policy` (None: OMP_WAIT_POLICY unset)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    done = subprocess.run([sys.executable, __file__, "--child", f"{width}x{height}", "--calls", str(calls)],
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="640x360,1920x1080")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*map(int, args.child.split("x")), args.calls)
        return
    print("| size | OMP_WAIT_POLICY | threads | ms/frame, each round's median | median | CPU s/frame "
          "| load |")
    print("|---|---|---|---|---|---|---|")
    for size in args.sizes.split(","):
        width, height = map(int, size.split("x"))
        results: dict[str, list[dict]] = {name: [] for name in POLICIES}
        for round_ in range(args.rounds):
            names = list(POLICIES) if round_ % 2 == 0 else list(POLICIES)[::-1]
            for name in names:
                results[name].append(_measure(width, height, args.calls, POLICIES[name]))
                print(f"  {size} round {round_ + 1} {name}: {results[name][-1]}", file=sys.stderr, flush=True)
        for name, runs in results.items():
            walls = [run["wall_ms"] for run in runs]
            loads = [run["load"] for run in runs]
            print(f"| {size} | {name} | {runs[0]['threads']} | {', '.join(f'{w:.0f}' for w in walls)} | "
                  f"{statistics.median(walls):.0f} | {statistics.median(run['cpu_s'] for run in runs):.2f} | "
                  f"{min(loads):.1f}-{max(loads):.1f} |", flush=True)


if __name__ == "__main__":
    main()
