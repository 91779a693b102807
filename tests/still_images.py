"""Still images written and read with OpenImageIO itself, beside what the project reads and
writes: pixels and alpha as the file stores them, with the attributes asked for."""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio


def write_raw(path, hwc: np.ndarray, pixel_type: str, alpha_channel: int = -1, attributes=()) -> None:
    """Write (H, W, C) pixels, colour stored as given (straight) beside the alpha if any."""
    spec = oiio.ImageSpec(hwc.shape[1], hwc.shape[0], hwc.shape[2], pixel_type)
    spec.alpha_channel = alpha_channel
    spec.attribute("oiio:UnassociatedAlpha", 1)
    for name, kind, value in attributes:
        spec.attribute(name, oiio.TypeDesc(kind), value)
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec) and out.write_image(hwc), out.geterror()
    out.close()


def read_raw(path) -> tuple[np.ndarray, oiio.ImageSpec]:
    """(H, W, C) float pixels as stored (straight colour) and the file's ImageSpec."""
    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)
    handle = oiio.ImageInput.open(str(path), config)
    spec = handle.spec()
    pixels = handle.read_image(0, 0, 0, spec.nchannels, "float")
    handle.close()
    return pixels, spec
