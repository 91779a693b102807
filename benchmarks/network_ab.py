"""The network's code in the working tree against the same network at another git revision, in one
process, same weights and input, the two timed in turn: for changes to the networks' code on
machines too noisy for separate runs to tell them apart (the 2-core development VMs).

    python benchmarks/network_ab.py --rev REV [--model default] [--size 1920x1080] [--runs 16]
                                    [--precision auto] [--part output|whole] [--device cpu]

The revision's `core/models/` is loaded as a package of its own (its files from `git show`); the
rest of the code (network input, weights) is the working tree's. Both networks get the model's
shipped weights and run as `seq` runs them (`Denoiser`: type, channels-last, convolutions'
precision) on one 5-frame window of random frames. Prints best and median ms of the output stage
(head, weights, filtering, residual, on the same U-Net features) or of the whole network, and the
largest difference between the two outputs in log(1+x).
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from speed import _frame

from vfxdenoise.core.denoiser import Denoiser
from vfxdenoise.core.engine import EngineConfig
from vfxdenoise.core.engine_config import PRECISIONS
from vfxdenoise.core.network_input import build_input
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory
from vfxdenoise.core.runtime.device import pick_device
from vfxdenoise.core.weights import load_weights

_REPO = Path(__file__).resolve().parent.parent
_PACKAGE = "vfxdenoise_models_at_rev"


def _models_at(rev: str, folder: Path):
    """The registry module of `core/models/` as it is at `rev`, importable beside the current one."""
    names = subprocess.run(["git", "-C", str(_REPO), "ls-tree", "--name-only", f"{rev}:core/models"],
                           check=True, capture_output=True, text=True).stdout.split()
    package = folder / _PACKAGE
    package.mkdir()
    for name in (n for n in names if n.endswith(".py")):
        source = subprocess.run(["git", "-C", str(_REPO), "show", f"{rev}:core/models/{name}"],
                                check=True, capture_output=True, text=True).stdout
        (package / name).write_text(source.replace("vfxdenoise.core.models", _PACKAGE))
    sys.path.insert(0, str(folder))
    return importlib.import_module(_PACKAGE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rev", required=True, help="git revision to compare with, e.g. HEAD~3")
    parser.add_argument("--model", default="default")
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--precision", choices=PRECISIONS, default="auto")
    parser.add_argument("--part", choices=["output", "whole"], default="output")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    keep_freed_memory()  # as the `vfxdenoise` command does
    width, height = map(int, args.size.split("x"))
    loaded = load_weights(args.model)
    device, config = pick_device(args.device), EngineConfig(precision=args.precision)
    denoiser = Denoiser(loaded, device, config)
    with tempfile.TemporaryDirectory() as tmp:
        old = _models_at(args.rev, Path(tmp)).build_model(loaded.architecture, **loaded.config)
        old.load_state_dict(loaded.model.state_dict())
        at_rev = Denoiser(replace(loaded, model=old.eval()), device, config)  # as seq prepares it
        networks = {args.rev: at_rev.model, "working tree": denoiser.model}
        rng = np.random.default_rng(0)
        window = {offset: _frame(height, width, rng).to(denoiser.device) for offset in range(-2, 3)}
        x = build_input(window, denoiser.model.layout, denoiser.device, dtype=denoiser.dtype)
        with torch.inference_mode(), denoiser.settings():
            h = denoiser.model.body(x)
            calls = {name: (lambda net=net: net(x)) if args.part == "whole" else
                     (lambda net=net: net._output(h, x)) for name, net in networks.items()}
            outputs = [call().float() for call in calls.values()]
            if args.part == "whole":  # linear radiance: compared in log(1+x) as the output stage
                outputs = [torch.log1p(out.clamp(min=0.0)) for out in outputs]
            times = {name: [] for name in calls}
            for _ in range(args.runs):
                for name, call in calls.items():
                    started = time.perf_counter()
                    call()
                    if denoiser.device.type == "cuda":
                        torch.cuda.synchronize()
                    times[name].append((time.perf_counter() - started) * 1000)
    difference = (outputs[0] - outputs[1]).abs()
    print(f"{args.model}, {args.size}, {args.precision} on {denoiser.describe()}, {args.part}, "
          f"{args.runs} runs each, alternating")
    print("| code | best ms | median ms |\n|---|---|---|")
    for name, runs in times.items():
        print(f"| {name} | {min(runs):.0f} | {statistics.median(runs):.0f} |")
    print(f"\nlargest difference {difference.max().item():.2g} in log(1+x) "
          f"(mean {difference.mean().item():.2g})")


if __name__ == "__main__":
    main()
