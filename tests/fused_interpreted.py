"""Run as a script with TRITON_INTERPRET=1 (Triton reads it when it is imported): a fused CUDA
kernel, run by Triton's interpreter on the CPU, against the PyTorch path it replaces.

    python tests/fused_interpreted.py output   # the networks' output stage, on the shipped models
    python tests/fused_interpreted.py input    # the network input's neighbour slots
    python tests/fused_interpreted.py output-nonfinite  # a head giving NaN or Inf: where each path has it

Prints {case: largest difference} as JSON (output: in log(1 + x); input: in the input's values).
The interpreter executes the kernel's own code (indexing, pixel-shuffle phases, online softmax,
replicate borders, demodulation, bilinear taps, bounds) with NumPy, so a wrong index fails here as
it would on a GPU; what it cannot check is GPU compilation (tests/triton_compile.py does).
"""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import torch

from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.models import build_model
from vfxdenoise.core.network_input import SlotFill, build_input
from vfxdenoise.core.slot_plan import plan_slots
from vfxdenoise.core.weights import load_weights


def _models():
    """The shipped models, and the shipped KPN with its albedo demodulation switched (on if it is
    off, off if on), so both kinds of kernel run with trained-like weights."""
    for name in ("default", "fast"):
        loaded = load_weights(name)
        yield name, loaded.model
        if loaded.architecture == "temporal-kpn":
            switched = not loaded.config.get("demodulate", False)
            other = build_model(loaded.architecture, **{**loaded.config, "demodulate": switched})
            other.load_state_dict(loaded.model.state_dict())
            yield f"{name}, demodulation {'on' if switched else 'off'}", other.eval()


def _input(model, n: int, height: int, width: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    x = torch.rand((n, model.layout.in_channels, height, width), generator=generator)
    x[:, :model.layout.beauty_channels] *= 8.0
    x[:, :3, height // 2, width // 2] = 30000.0  # a highlight
    start = model.layout.albedo_start
    x[:, start:start + 3, :2] = 0.0  # black and missing albedo
    x[:, :, -4:] = 0.0  # an empty background: no light in any frame (the output stays black)
    return x.contiguous(memory_format=torch.channels_last)


def output_differences() -> dict[str, float]:
    results = {}
    for name, model in _models():
        for n, height, width in ((1, 16, 20), (2, 13, 31)):
            x = _input(model, n, height, width)
            with torch.no_grad():
                features = model.body(x)
                reference = model.forward_log(x)  # CPU tensors: the PyTorch path
                fused = model.fused_output(features, x)
            results[f"{name} {n}x{height}x{width}"] = (fused - reference).abs().max().item()
    return results


def nonfinite_outputs() -> dict[str, dict[str, bool]]:
    """The output stage of each model whose head gives NaN or Inf (weights that do: its bias set
    so in the residual's channels, or NaN in the weight logits'), by the fused kernel and by the
    PyTorch path: per case whether the two agree (NaN, Inf and values alike), whether the
    kernel's result is 0 where no frame holds light (the input's last rows: the 3x3 kernels reach
    one row up into the light) and not finite wherever the frames hold light (rows well above)."""
    results = {}
    for name, model in _models():
        head = model.head_layout
        channels = {"residual": slice(0, head.residual.stop * head.phases),  # head conv channels
                    "weight logits": slice(head.weights.start * head.phases, head.weights.stop * head.phases)}
        for part, bias in (("residual", "nan"), ("residual", "inf"), ("residual", "-inf"),
                           ("weight logits", "nan")):
            broken = copy.deepcopy(model)
            with torch.no_grad():
                broken.head.bias[channels[part]] = float(bias)
            x = _input(broken, 1, 16, 20)
            with torch.no_grad():
                features = broken.body(x)
                reference = broken.forward_log(x)  # CPU tensors: the PyTorch path
                fused = broken.fused_output(features, x)
            same = (torch.equal(fused.isnan(), reference.isnan())
                    and torch.equal(fused.isinf(), reference.isinf())
                    and bool((fused.nan_to_num() - reference.nan_to_num()).abs().max() < 1e-4))
            results[f"{name}, {part} bias {bias}"] = {
                "same": same, "unlit_zero": bool((fused[..., -3:, :] == 0).all()),
                "lit_not_finite": bool((~fused[..., :-6, :].isfinite()).all())}
    return results


def _smooth_window(height: int, width: int, offsets: range, guides=("albedo", "normal"),
                   motion: bool = True, half: bool = False) -> dict[int, FrameFeatures]:
    """Smooth frames and motion (a turn about the centre and a drift that takes pixels out of the
    frame): where positions differ by rounding only, the two paths' samples differ by as little.
    `half`: beauty and guides in float16, as `seq` holds renders that store them so."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    window = {}
    for d in offsets:
        def wave(a: float, b: float, phase: float, d: int = d) -> np.ndarray:
            return (np.sin(xs * a + ys * b + d * 0.3 + phase) + 1.2).astype(np.float32)

        frame = FrameFeatures(beauty=np.stack([wave(0.21, 0.13, k) * 4 for k in range(3)]))
        if "albedo" in guides:
            frame.albedo = np.stack([wave(0.11, 0.07, k) * 0.4 for k in range(3)])
        if "normal" in guides:
            frame.normal = np.stack([wave(0.05, 0.09, k) - 1.2 for k in range(3)])
        if motion:
            angle, cx, cy = 0.05 + 0.01 * d, width / 2 - 0.37, height / 2 + 0.21
            mx = (math.cos(angle) - 1) * (xs - cx) - math.sin(angle) * (ys - cy) + 1.73
            my = math.sin(angle) * (xs - cx) + (math.cos(angle) - 1) * (ys - cy) - 0.91
            frame.motion = np.stack([mx, my]).astype(np.float32)
        if half:
            frame = replace(frame, **{name: getattr(frame, name).astype(np.float16)
                                      for name in ("beauty", *guides)})
        window[d] = frame.to(torch.device("cpu"))
    return window


def input_differences() -> dict[str, float]:
    cases = {
        "mid-shot, temporal albedo": (range(-2, 3), InputLayout(2, True, True), {}),
        "first frame: chained flows": (range(0, 5), InputLayout(2, True, True), {}),
        "2-frame shot: stand-ins past its ends": (range(-1, 1), InputLayout(2, True, True), {}),
        "no motion": (range(-2, 3), InputLayout(2, True, False), {"motion": False}),
        "beauty only": (range(-2, 3), InputLayout(2), {"guides": ()}),
        "albedo only, radius 1": (range(-1, 2), InputLayout(1, True), {"guides": ("albedo",)}),
        "frames held in half": (range(-2, 3), InputLayout(2, True, True), {"half": True}),
    }
    results = {}
    for name, (offsets, layout, options) in cases.items():
        for height, width in ((13, 31), (24, 20)):
            window = _smooth_window(height, width, offsets, **options)
            plan = plan_slots(window, layout)
            reference = build_input(window, layout, plan=plan, fill=SlotFill.PYTORCH)
            fused = build_input(window, layout, plan=plan, fill=SlotFill.FUSED_KERNEL)
            results[f"{name} {height}x{width}"] = (fused - reference).abs().max().item()
    # In half precision, as on CUDA: the two differ by at most the rounding of one value.
    half = build_input(window, layout, plan=plan, dtype=torch.float16, fill=SlotFill.FUSED_KERNEL).float()
    relative = (half - reference).abs() / reference.abs().clamp(min=1.0)
    results["half precision, relative"] = relative.max().item()
    return results


def run_interpreted(kernel: str) -> dict:
    """This script's results for `kernel` ('output', 'input' or 'output-nonfinite'), from its own
    process: Triton decides at import whether it interprets."""
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    done = subprocess.run([sys.executable, __file__, kernel], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    kernel = sys.argv[1] if len(sys.argv) > 1 else "output"
    runs = {"output": output_differences, "input": input_differences,
            "output-nonfinite": nonfinite_outputs}
    print(json.dumps(runs[kernel]()))


if __name__ == "__main__":
    main()
