"""Named per-frame features: the layers carried along with the beauty, read from an EXR."""

from dataclasses import fields

import numpy as np
import pytest
import torch

from vfxdenoise.core.errors import ExrError
from vfxdenoise.core.features import ALPHA_LAYER, FrameFeatures, features_from_exr, opaque_in_file
from vfxdenoise.core.io.aovs import resolve_layers
from vfxdenoise.core.io.exr import ExrImage, channel_names_by_part, read_exr, read_exr_header, write_exr
from vfxdenoise.core.io.feature_table import FEATURES, NETWORK_FEATURES
from vfxdenoise.core.sanitize import MAX_RADIANCE, sanitize


def test_moving_and_cropping_carry_the_layers():
    frame = FrameFeatures(beauty=np.zeros((3, 4, 5), np.float32),
                          aovs={"key": np.arange(60, dtype=np.float32).reshape(3, 4, 5)})
    moved = frame.to(torch.device("cpu")).crop(1, 2, 2, 3)
    assert isinstance(moved.aovs["key"], torch.Tensor)
    np.testing.assert_array_equal(moved.aovs["key"].numpy(), frame.aovs["key"][:, 1:3, 2:5])
    assert frame.without("albedo").aovs is frame.aovs and moved.available() == ("beauty",)


def test_inf_is_a_lamp_in_a_channel_stored_as_half_but_broken_in_one_stored_as_float(tmp_path):
    """A half channel holds nothing above 65504: a renderer writes a brighter lamp there as +Inf,
    which the network sees clipped. A float channel holds any lamp (to 3e38): +Inf there is a
    broken value, as NaN is, and the network sees the value round it (at 65504 it spread it into a
    blob of 1e4, at 0 it made a dark hole)."""
    plane = np.ones((8, 8), np.float32)
    channels = {name: plane.copy() for name in ("R", "G", "B", "key.R", "key.G", "key.B")}
    for name in ("R", "G", "key.R"):
        channels[name][6, 6] = np.inf
    types = {"R": "half", "G": "float", "B": "float", **dict.fromkeys(("key.R", "key.G", "key.B"), "float")}
    write_exr(tmp_path / "f.exr", ExrImage.from_channels(channels, pixel_types=types))
    image = read_exr(tmp_path / "f.exr")
    layers = resolve_layers(image.channel_names, aovs=("key",))
    features, report = features_from_exr(image, layers, NETWORK_FEATURES, keep_half=True)
    assert features.beauty[:, 6, 6].tolist() == [MAX_RADIANCE, 1.0, 1.0]
    assert features.aovs["key"][:, 6, 6].tolist() == [1.0, 1.0, 1.0]
    assert report.replaced == {"beauty": 2, "aov key": 1} and report.clipped == {}
    assert report.lamps == {"beauty": 1}  # R's: set to 65504, not replaced as broken (said for the run)
    assert report.describe_frame() == "replaced non-finite values: 1 aov key, 1 beauty"
    beauty = np.array(channels["R"])[None].repeat(3, axis=0)  # no storage said: Inf is a lamp, as before
    assert sanitize(FrameFeatures(beauty=beauty))[0].beauty[:, 6, 6].tolist() == [MAX_RADIANCE] * 3


def test_a_frames_features_are_the_feature_tables_then_its_layers():
    """FrameFeatures holds one field per feature of `aovs.FEATURE_TABLE`, in its order, which `map`
    and `available` walk by name."""
    assert [field.name for field in fields(FrameFeatures)] == [*FEATURES, "aovs"]


def test_the_alpha_to_denoise_is_read_as_the_last_layer_and_said_opaque_where_it_is_1(tmp_path):
    """With `alpha_layer` (seq --alpha denoise) a frame's alpha joins its layers, last, as three
    channels, in its own type and sanitised as they are; without an alpha, or without the flag,
    nothing is added."""
    plane = np.full((4, 4), 0.5, np.float32)
    channels = {name: plane.copy() for name in ("R", "G", "B", "A", "key.R", "key.G", "key.B")}
    channels["A"][0, 0] = np.nan
    write_exr(tmp_path / "f.exr", ExrImage.from_channels(channels))
    image = read_exr(tmp_path / "f.exr")
    layers = resolve_layers(image.channel_names, aovs=("key",))
    features, report = features_from_exr(image, layers, NETWORK_FEATURES, keep_half=True, alpha_layer=True)
    assert list(features.aovs) == ["key", ALPHA_LAYER]
    alpha = features.aovs[ALPHA_LAYER]
    assert alpha.shape == (3, 4, 4) and alpha.dtype == np.float16 and (alpha == 0.5).all()  # NaN filled
    assert report.replaced == {f"aov {ALPHA_LAYER}": 1}  # one pixel of one channel, counted once
    assert not features.opaque()
    assert list(features_from_exr(image, layers, NETWORK_FEATURES)[0].aovs) == ["key"]
    without = resolve_layers([name for name in image.channel_names if name != "A"], aovs=("key",))
    assert list(features_from_exr(image, without, NETWORK_FEATURES, alpha_layer=True)[0].aovs) == ["key"]
    opaque = FrameFeatures(beauty=alpha, aovs={ALPHA_LAYER: np.ones((3, 2, 2), np.float16)})
    assert opaque.opaque() and FrameFeatures(beauty=alpha).opaque()
    assert opaque.without_layer(ALPHA_LAYER).aovs == {} and ALPHA_LAYER in opaque.aovs


def test_a_frame_whose_alpha_does_not_decode_is_refused_as_damaged_when_judged_opaque(tmp_path):
    """`opaque_in_file` (info --alpha denoise, every frame) over a frame damaged in the middle
    failed with numpy's error on OpenImageIO's no pixels, a traceback: it is refused as seq
    refuses the frame, naming it."""
    ys, xs = np.mgrid[0:64, 0:64].astype(np.float32)
    smooth = {c: np.sin(xs / (5 + i)) + ys / 64 for i, c in enumerate("RGBA")}  # compresses well
    path = tmp_path / "render.1001.exr"
    write_exr(path, ExrImage.from_channels(smooth, compression="zip"))
    specs = read_exr_header(path)
    layers = resolve_layers([name for part in channel_names_by_part(specs) for name in part])
    assert opaque_in_file(path, specs, layers) is False
    data = bytearray(path.read_bytes())
    start = len(data) // 2
    data[start:start + 200] = bytes(b ^ 0x5A for b in data[start:start + 200])  # garble zip data
    path.write_bytes(bytes(data))
    with pytest.raises(ExrError, match=r"render\.1001\.exr: damaged or truncated EXR"):
        opaque_in_file(path, specs, layers)
