"""Run as a script with TRITON_INTERPRET=1 (Triton reads it when it is imported): the fused CUDA
output kernel, run by Triton's interpreter on the CPU, against the PyTorch path of the same models.
Prints {case: largest difference in log(1 + x)} as JSON.

The interpreter executes the kernel's own code (indexing, pixel-shuffle phases, online softmax,
replicate borders, demodulation) with NumPy, so a wrong index fails here as it would on a GPU;
what it cannot check is GPU compilation.
"""

from __future__ import annotations

import json

import torch

from vfxdenoise.core.models import build_model
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
    return x.contiguous(memory_format=torch.channels_last)


def main() -> None:
    results = {}
    for name, model in _models():
        for n, height, width in ((1, 16, 20), (2, 13, 31)):
            x = _input(model, n, height, width)
            with torch.no_grad():
                features = model.body(x)
                reference = model.forward_log(x)  # CPU tensors: the PyTorch path
                fused = model.fused_output(features, x)
            results[f"{name} {n}x{height}x{width}"] = (fused - reference).abs().max().item()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
