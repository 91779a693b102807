"""Compile a Triton kernel for an NVIDIA GPU on a machine without one (Triton's ahead-of-time
path: PTX and cubin through its bundled ptxas), so type and lowering errors the interpreter lets
through fail here rather than on a user's first CUDA run."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import pytest
import torch

if torch.cuda.is_available():  # there the CUDA tests compile and run the kernels themselves, with
    # the GPU image's Triton, whose ahead-of-time interface may differ from 3.9's used here
    pytest.skip("a CUDA GPU is present: the CUDA tests compile the kernels", allow_module_level=True)
triton = pytest.importorskip("triton", reason="Triton is not installed (the dev extra installs it "
                                              "on x86-64 Linux)")
try:
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
except ImportError:  # pragma: no cover - another Triton's layout
    pytest.skip("this Triton has no ahead-of-time compile API", allow_module_level=True)


def compile_for_gpu(kernel, types: Mapping[str, str], constexprs: Mapping[str, object],
                    capability: int) -> bytes:
    """The cubin of `kernel` for compute capability `capability` (e.g. 90): `types` gives the
    arguments' Triton types ('*fp16', 'fp32'; others are 'i32'), `constexprs` their values."""
    signature = {name: "constexpr" if name in constexprs else types.get(name, "i32")
                 for name in kernel.arg_names}
    source = ASTSource(fn=kernel, signature=signature,
                       constexprs={(kernel.arg_names.index(n),): v for n, v in constexprs.items()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Triton's notices about its own future defaults
        return triton.compile(source, target=GPUTarget("cuda", capability, 32)).asm["cubin"]
