import pytest
import torch

from vfxdenoise.core.errors import DeviceError
from vfxdenoise.core.runtime.device import (
    cpu_has_bfloat16,
    cuda_unusable,
    device_broken,
    model_dtypes,
    pick_device,
)


def test_precision_picks_each_devices_types():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert model_dtypes(cuda, "auto") == (torch.float16, torch.float16)
    assert model_dtypes(cuda, "float32") == model_dtypes(cpu, "float32") == (torch.float32, torch.float32)
    native = torch.bfloat16 if cpu_has_bfloat16() else torch.float32
    assert model_dtypes(cpu, "auto") == (torch.float32, native)


def test_auto_picks_cuda_only_where_pytorch_sees_it():
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is here")
def test_cuda_asked_for_without_a_gpu_is_refused_with_what_to_do():
    with pytest.raises(DeviceError, match="--device cuda was requested .* use --device cpu"):
        pick_device("cuda")


def test_why_cuda_is_unusable_is_said_only_where_pytorch_sees_no_gpu(monkeypatch):
    assert (cuda_unusable() is None) == torch.cuda.is_available()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert cuda_unusable() == "PyTorch sees no CUDA GPU here"
    assert pick_device("auto") == torch.device("cpu")
    with pytest.raises(DeviceError, match=r"^--device cuda was requested but PyTorch sees no CUDA GPU here;"):
        pick_device("cuda:0")


def test_errors_that_lose_the_gpu_are_told_from_others():
    """An illegal memory access or a device-side assert loses the CUDA context: every later frame
    would fail alike. Other errors, out of memory included, are not that."""
    assert device_broken(RuntimeError("CUDA error: an illegal memory access was encountered"))
    assert device_broken(RuntimeError("CUDA error: device-side assert triggered"))
    assert device_broken(torch.AcceleratorError("CUDA error: unspecified launch failure"))
    assert not device_broken(RuntimeError("shape mismatch"))
    assert not device_broken(torch.OutOfMemoryError("CUDA out of memory"))
    assert not device_broken(ValueError("CUDA error: not a RuntimeError"))
