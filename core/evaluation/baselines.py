"""Baseline denoisers we measure ourselves against, as `scoring.SequenceDenoiser`s like our own.

Intel Open Image Denoise via the `pyoidn` wheel (extra `bench`): single-frame, HDR, colour only, with
the render's albedo + normal as they are (noisy at low sample counts, `cleanAux` off), or with them
prefiltered first (`AuxPrefilter`, `cleanAux` on): the mode OIDN's documentation recommends for
noisy guides in final-frame denoising, and the stronger baseline. Imported lazily so the engine
never depends on it.
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


def hwc(planes: np.ndarray) -> np.ndarray:
    """(3, H, W) -> contiguous float32 (H, W, 3), the layout OIDN reads."""
    return np.ascontiguousarray(np.moveaxis(planes, 0, -1), np.float32)


class AuxPrefilter:
    """OIDN's RT filter run on a guide alone (albedo, or normal): the noise-free guides OIDN's
    `cleanAux` mode expects, made from noisy ones as its documentation recommends. One CPU device
    and one committed filter per guide, kept while the image size stays the same, so a sequence's
    frames pay for the filters' set-up once (`benchmarks/speed.py` times the three filters a frame)."""

    def __init__(self, quality: str = "high"):
        pyoidn = _pyoidn()
        from pyoidn.device import Device

        self._quality = {"high": pyoidn.OIDN_QUALITY_HIGH, "balanced": pyoidn.OIDN_QUALITY_BALANCED,
                         "fast": pyoidn.OIDN_QUALITY_FAST}[quality]
        self._device = Device()
        self._device.commit()
        self._filters: dict[str, tuple[object, np.ndarray, np.ndarray]] = {}

    def __call__(self, name: str, image: np.ndarray) -> np.ndarray:
        """`image` (H, W, 3 float32), the guide `name` ("albedo" or "normal"), filtered: a new array."""
        held = self._filters.get(name)
        if held is None or held[1].shape != image.shape:
            held = self._filter(name, image.shape)
        filt, source, output = held
        source[...] = image
        filt.execute()
        error = self._device.get_error()
        if error:
            raise VfxDenoiseError(f"OIDN failed to prefilter the {name} guide: {error}")
        return output.copy()

    def _filter(self, name: str, shape: tuple[int, ...]) -> tuple[object, np.ndarray, np.ndarray]:
        """A committed RT filter of the guide `name` over buffers of `shape`, in place of the one held."""
        pyoidn = _pyoidn()
        from pyoidn.filter import Filter

        if name in self._filters:
            self._filters.pop(name)[0].release()
        source, output = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
        filt = Filter(self._device, "RT")
        filt.set_image(name, source, pyoidn.OIDN_FORMAT_FLOAT3)
        filt.set_image("output", output, pyoidn.OIDN_FORMAT_FLOAT3)
        filt.set_quality(self._quality)
        filt.commit()
        self._filters[name] = (filt, source, output)
        return self._filters[name]

    def close(self) -> None:
        """Release the filters and the device."""
        for filt, _, _ in self._filters.values():
            filt.release()
        self._filters.clear()
        self._device.release()


def oidn_frame(frame: FrameFeatures, with_aux: bool = True, quality: str = "high",
               prefilter: AuxPrefilter | None = None) -> np.ndarray:
    """Denoise one frame with OIDN's RT filter (HDR); (3,H,W) in, (3,H,W) out. With `prefilter`
    the albedo and normal are filtered by it first and OIDN told they are clean (`cleanAux`);
    without, they go in as rendered and OIDN is told they may be noisy."""
    pyoidn = _pyoidn()
    aux = {}
    if with_aux and frame.albedo is not None and frame.normal is not None:
        aux = {"albedo": hwc(frame.albedo.clip(0, 1)), "normal": hwc(frame.normal)}
    if aux and prefilter is not None:
        aux = {name: prefilter(name, image) for name, image in aux.items()}
    out = pyoidn.denoise(hwc(frame.beauty), hdr=True, quality=quality,
                         clean_aux=bool(aux) and prefilter is not None, **aux)
    return np.moveaxis(np.asarray(out, np.float32), -1, 0)


def oidn_denoiser(with_aux: bool = True, quality: str = "high", prefilter_aux: bool = False):
    """A `scoring.SequenceDenoiser` running OIDN on every frame independently; `prefilter_aux`:
    the guides prefiltered (`AuxPrefilter`), one prefilter per sequence."""

    def run(seq, level: str) -> list[np.ndarray]:
        prefilter = AuxPrefilter(quality) if with_aux and prefilter_aux else None
        try:
            return [oidn_frame(f, with_aux, quality, prefilter) for f in seq.noisy[level]]
        finally:
            if prefilter is not None:
                prefilter.close()

    return run
