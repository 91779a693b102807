"""Baseline denoisers we measure ourselves against, as `scoring.SequenceDenoiser`s like our own.

Intel Open Image Denoise via the `pyoidn` wheel (extra `bench`): single-frame, HDR, with or without
albedo + normal. Imported lazily so the engine never depends on it.
"""

from __future__ import annotations

import numpy as np

from vfxdenoise.core.errors import VfxDenoiseError
from vfxdenoise.core.features import FrameFeatures


def _pyoidn():
    try:
        import pyoidn
    except ImportError as exc:
        raise VfxDenoiseError("OIDN baseline needs pyoidn: pip install 'vfxdenoise[bench]'") from exc
    return pyoidn


def oidn_frame(frame: FrameFeatures, with_aux: bool = True, quality: str = "high") -> np.ndarray:
    """Denoise one frame with OIDN's RT filter (HDR); (3,H,W) in, (3,H,W) out."""
    pyoidn = _pyoidn()
    color = np.ascontiguousarray(np.moveaxis(frame.beauty, 0, -1), np.float32)
    aux = {}
    if with_aux and frame.albedo is not None and frame.normal is not None:
        aux = {"albedo": np.ascontiguousarray(np.moveaxis(frame.albedo, 0, -1).clip(0, 1), np.float32),
               "normal": np.ascontiguousarray(np.moveaxis(frame.normal, 0, -1), np.float32)}
    out = pyoidn.denoise(color, hdr=True, quality=quality, **aux)
    return np.moveaxis(np.asarray(out, np.float32), -1, 0)


def oidn_denoiser(with_aux: bool = True, quality: str = "high"):
    """A `scoring.SequenceDenoiser` running OIDN on every frame independently."""

    def run(seq, level: str) -> list[np.ndarray]:
        return [oidn_frame(f, with_aux, quality) for f in seq.noisy[level]]

    return run
