"""Where a model runs and in which precision: the CUDA-or-CPU choice every command makes, and the
types a temporal model computes in there."""

from __future__ import annotations

import torch

from vfxdenoise.core.errors import DeviceError

# PRECISIONS (named with the other options' values, `engine_config`): auto, half precision on CUDA;
# on a CPU with bfloat16 instructions the convolutions in bfloat16 (`TemporalUNet.run_convolutions_in`),
# else float32. float32: float32 throughout, on every device.


def cpu_has_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices natively (AVX512-BF16 or AMX: Intel Cooper
    Lake and Sapphire Rapids on, AMD Zen 4 on). Elsewhere bfloat16 is emulated, slower than float32."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, check, lambda: False)() for check in checks)


def model_dtypes(device: torch.device, precision: str) -> tuple[torch.dtype, torch.dtype]:
    """The type a temporal model runs in on `device` under `precision` (PRECISIONS), and the type
    of its convolutions (`TemporalUNet.run_convolutions_in`)."""
    auto = precision == "auto"
    dtype = torch.float16 if auto and device.type == "cuda" else torch.float32
    convolutions = torch.bfloat16 if auto and device.type == "cpu" and cpu_has_bfloat16() else dtype
    return dtype, convolutions


def cuda_unusable() -> str | None:
    """Why this process cannot run on CUDA, as PyTorch sees it; None where it can. The one
    judgement of the run (`pick_device`) and of a host's check before an in-process run
    (`runner_setup`), which words it alike."""
    return None if torch.cuda.is_available() else "PyTorch sees no CUDA GPU here"


def device_broken(error: BaseException) -> bool:
    """Whether `error` leaves the GPU unusable for the rest of the process (an illegal memory
    access, a device-side assert: the CUDA context is lost), so every later frame would fail
    alike and the run should stop for its task to be retried elsewhere."""
    accelerator_error = getattr(torch, "AcceleratorError", ())  # PyTorch 2.8 on
    return isinstance(error, accelerator_error) or (
        isinstance(error, RuntimeError) and str(error).startswith("CUDA error"))


def pick_device(name: str) -> torch.device:
    """'auto' -> CUDA when available (`cuda_unusable`), else CPU; explicit names are checked."""
    if name == "auto":
        return torch.device("cpu" if cuda_unusable() else "cuda")
    device = torch.device(name)
    why = cuda_unusable() if device.type == "cuda" else None
    if why:
        raise DeviceError(f"--device cuda was requested but {why}; use --device cpu")
    return device
