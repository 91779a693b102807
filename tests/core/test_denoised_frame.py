"""A denoised frame's EXR: what its header says of the frame it stands for."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import OpenEXR
import OpenImageIO as oiio
import pytest
from exr_sequences import store_as_float, write_sequence
from reliability.damage import poison

from vfxdenoise.core.denoised_frame import MadeWith, denoised_image, storage_changes_of
from vfxdenoise.core.engine import denoise_sequence
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.exposure import Exposure
from vfxdenoise.core.io.aovs import LayerMap
from vfxdenoise.core.io.exr import read_exr, write_exr

H, W = 4, 6
START = {24: (1, 0, 59, 22), 30: (0, 9, 59, 27)}  # the first frame's time code at each rate


def _timecode_of(frame: int, rate: Fraction, drop: bool) -> OpenEXR.TimeCode:
    """The time code a renderer writes on `frame` of a shot starting at START, counted as
    editorial tools count it: one frame label after another, drop-frame skipping ;00 and ;01."""
    hours, minutes, seconds, label = START.get(round(rate), START[24])
    for _ in range(frame):
        label += 1
        if label == round(rate):
            label, seconds = 0, seconds + 1
            if seconds == 60:
                seconds, minutes = 0, minutes + 1
                label = 2 if drop and minutes % 10 else 0
    code = OpenEXR.TimeCode(hours, minutes, seconds, label, drop, 1, 0, 0, 0, 1, *[0] * 8)
    code.userData = 0x1234
    return code


def _render(path, frame: int, rate: Fraction | None, drop: bool = False, parts: int = 1) -> None:
    """A frame with a timeCode (and, with `rate`, framesPerSecond) in the first part's header."""
    headers = [{"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
               for _ in range(parts)]
    headers[0]["timeCode"] = _timecode_of(frame, rate or Fraction(24), drop)
    if rate is not None:
        headers[0]["framesPerSecond"] = rate
    channels = {c: np.full((H, W), 0.5, np.float32) for c in "RGB"}
    exr = (OpenEXR.File([OpenEXR.Part(header, channels, f"part{n}") for n, header in enumerate(headers)])
           if parts > 1 else OpenEXR.File(headers[0], channels))
    exr.write(str(path))


def _held(tmp_path, source: int, frame: int | None, rate: Fraction | None, drop: bool = False,
          parts: int = 1) -> OpenEXR.File:
    """Frame `frame`'s output held from frame `source`, as written, read back by OpenEXR."""
    _render(tmp_path / "in.exr", source, rate, drop, parts)
    image = read_exr(tmp_path / "in.exr")
    made_with = MadeWith("model", "", Exposure(), "record", held_from=source, frame=frame)
    layers = {"": LayerMap(beauty=("R", "G", "B"))}
    out = denoised_image(image, layers, {"": np.full((3, H, W), 0.25, np.float32)}, EngineConfig(),
                         made_with)[0]
    write_exr(tmp_path / "out.exr", out)
    return OpenEXR.File(str(tmp_path / "out.exr"), header_only=True)


@pytest.mark.parametrize(("rate", "drop", "source", "frame"), [
    (Fraction(24), False, 3, 5),  # 01:00:59:23 on the way
    (Fraction(24000, 1001), False, 1, 3),
    (Fraction(30000, 1001), True, 1, 4),  # 00:09:59;29 then 00:10:00;00
    (Fraction(30000, 1001), True, 5, 1900),  # past 00:11:00;02, after the labels it skips
    (Fraction(24), False, 10, 2),  # held from a later frame (the shot's first frame is missing)
])
def test_a_held_frames_time_code_is_the_one_a_render_of_its_frame_would_carry(tmp_path, rate, drop,
                                                                              source, frame):
    """Frames 4 and 5 held from 3 read frame 3's time code: editorial tools saw duplicates."""
    held = _held(tmp_path, source, frame, rate, drop).parts[0].header
    _render(tmp_path / "rendered.exr", frame, rate, drop)
    rendered = OpenEXR.File(str(tmp_path / "rendered.exr"), header_only=True).parts[0].header
    assert held["timeCode"] == rendered["timeCode"], (held["timeCode"], rendered["timeCode"])
    assert held["timeCode"].userData == 0x1234 and held["vfxdenoise/held_from"] == source
    assert read_exr(tmp_path / "out.exr").parts[0].timecode == read_exr(tmp_path / "rendered.exr"
                                                                         ).parts[0].timecode


def test_each_part_takes_the_rate_another_part_gives(tmp_path):
    """The first part holds both time code and rate; a multi-part frame is advanced as one."""
    held = _held(tmp_path, 3, 5, Fraction(24), parts=2)
    _render(tmp_path / "rendered.exr", 5, Fraction(24))
    rendered = OpenEXR.File(str(tmp_path / "rendered.exr"), header_only=True).parts[0].header
    assert held.parts[0].header["timeCode"] == rendered["timeCode"]


@pytest.mark.parametrize(("rate", "drop", "frame"), [
    (None, False, 5),  # the rate unknown: no framesPerSecond
    (Fraction(24), False, None),  # the frame it stands for unknown
    (Fraction(50), False, 5),  # a code of frame pairs
    (Fraction(25), True, 5),  # drop-frame but at 25
])
def test_a_held_frames_time_code_that_cannot_be_advanced_is_left_out(tmp_path, rate, drop, frame):
    held = _held(tmp_path, 3, frame, rate, drop).parts[0].header
    assert "timeCode" not in held and held["vfxdenoise/held_from"] == 3
    assert read_exr(tmp_path / "out.exr").parts[0].timecode is None


def test_a_frame_that_is_not_held_keeps_its_time_code(tmp_path):
    _render(tmp_path / "in.exr", 3, Fraction(24))
    image = read_exr(tmp_path / "in.exr")
    before = image.parts[0].timecode
    out = denoised_image(image, {"": LayerMap(beauty=("R", "G", "B"))},
                         {"": np.zeros((3, H, W), np.float32)}, EngineConfig(),
                         MadeWith("model", "", Exposure(), "record", frame=3))[0]
    assert out.parts[0].timecode == before


MANIFEST = "cryptomatte/abcdef0/manifest"


def _manifest(size: int) -> str:
    """A Cryptomatte manifest (object name -> hash, JSON) of about `size` characters, as a shot
    with tens of thousands of objects carries."""
    count = size // 40
    return json.dumps({f"/obj/g\u00e9o_{i:06d}/shape": f"{(i * 2654435761) & 0xFFFFFFFF:08x}"
                       for i in range(count)})


def _denoised_with_manifest(tmp_path, manifest: str) -> None:
    """A frame carrying `manifest` read, given what `seq` gives a frame, and written."""
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage, MANIFEST: manifest,
              "cryptomatte/abcdef0/name": "CryptoObject", "cryptomatte/abcdef0/hash": "MurmurHash3_32"}
    channels = {c: np.full((H, W), 0.5, np.float16) for c in "RGB"}
    channels.update({f"CryptoObject00.{c}": np.full((H, W), 0.25, np.float32) for c in "RGBA"})
    OpenEXR.File(header, channels).write(str(tmp_path / "in.exr"))
    image = read_exr(tmp_path / "in.exr")
    out = denoised_image(image, {"": LayerMap(beauty=("R", "G", "B"))},
                         {"": np.full((3, H, W), 0.25, np.float32)}, EngineConfig(keep_noisy=True),
                         MadeWith("model", "next", Exposure(), "record", frame=1))[0]
    write_exr(tmp_path / "out.exr", out)


def test_a_megabyte_cryptomatte_manifest_is_written_back_as_read_without_serialising_headers(
        tmp_path, monkeypatch):
    """Each header edit compared OpenImageIO's XML serialisation of the whole header, which takes
    seconds for a manifest of a megabyte (its time grows with the square of the length): a 96x64
    frame took minutes. OpenImageIO's own method is counted, nothing of ours replaced."""
    calls = []
    serialize = oiio.ImageSpec.serialize

    def counted(spec, *args, **kwargs):
        calls.append(args)
        return serialize(spec, *args, **kwargs)

    monkeypatch.setattr(oiio.ImageSpec, "serialize", counted)
    manifest = _manifest(1_000_000)
    _denoised_with_manifest(tmp_path, manifest)
    header = OpenEXR.File(str(tmp_path / "out.exr"), header_only=True).parts[0].header
    assert header[MANIFEST] == manifest and header["vfxdenoise/model"] == "model"
    assert calls == []


def test_tiled_parts_beside_scanline_ones_are_said_to_be_written_as_scanlines_by_openimageio(tmp_path):
    """Where OpenImageIO writes a frame (a name in its header is not UTF-8) it writes one kind of
    part per file: the tiled part became scanlines unsaid. OpenEXR keeps the tiles."""
    tiles = OpenEXR.TileDescription()
    tiles.xSize = tiles.ySize = 2
    channels = {c: np.full((H, W), 0.5, np.float32) for c in "RGB"}
    parts = [OpenEXR.Part({"JXrg": "artist"}, channels, "rgba"),
             OpenEXR.Part({"type": OpenEXR.tiledimage, "tiles": tiles}, channels, "albedo")]
    OpenEXR.File(parts).write(str(tmp_path / "in.exr"))
    assert storage_changes_of(tmp_path / "in.exr", None) == []
    latin1 = (tmp_path / "in.exr").read_bytes().replace(b"JXrg", "J\u00f6rg".encode("latin-1"))
    (tmp_path / "in.exr").write_bytes(latin1)
    changes = storage_changes_of(tmp_path / "in.exr", None)
    assert len(changes) == 1 and changes[0].startswith("tiled parts written as scanlines: OpenImageIO")


def test_a_half_beauty_keeps_its_pixel_filters_negative_lobes(tmp_path):
    """A Mitchell, Catmull-Rom or Lanczos beauty stored as half, without alpha or layers: its
    negative outline round a bright edge is read back from the frame and kept (it was erased)."""
    beauty = np.full((3, 8, 8), 0.5, np.float32)
    beauty[:, 3:5] = 200.0
    beauty[:, 2] = -1.5
    exr = OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage},
                       {c: beauty[i].astype(np.float16) for i, c in enumerate("RGB")})
    exr.write(str(tmp_path / "in.exr"))
    made_with = MadeWith("model", "", Exposure(), "record")
    denoised = np.maximum(beauty, 0.0)
    out = denoised_image(read_exr(tmp_path / "in.exr"), {"": LayerMap(beauty=("R", "G", "B"))},
                         {"": denoised.copy()}, EngineConfig(), made_with)[0].get(["R", "G", "B"])
    assert (out[:, 2] < -1.0).all() and (out[:, 2] >= -1.5).all()
    np.testing.assert_array_equal(out[:, 3:], denoised[:, 3:])


@pytest.mark.parametrize("stored", ["float", "half"])
def test_inf_in_a_float_beauty_is_no_lamp_put_back_but_in_a_half_one_is(tmp_path, stored):
    """A 2x2 block of +Inf in a beauty stored as float is a broken value the network saw as 0
    (`sanitize.sanitize`), not a lamp: the output keeps the denoised pixels there (it put back
    65504). Stored as half, +Inf is a lamp brighter than half floats hold, put back as before."""
    beauty = np.full((3, 8, 8), 0.5, np.float32)
    beauty[1, 3:5, 3:5] = np.inf
    dtype = np.float32 if stored == "float" else np.float16
    exr = OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage},
                       {c: beauty[i].astype(dtype) for i, c in enumerate("RGB")})
    exr.write(str(tmp_path / "in.exr"))
    denoised = np.full((3, 8, 8), 0.5, np.float32)
    made_with = MadeWith("model", "", Exposure(), "record")
    out, _ = denoised_image(read_exr(tmp_path / "in.exr"), {"": LayerMap(beauty=("R", "G", "B"))},
                            {"": denoised.copy()}, EngineConfig(), made_with)
    block = out.get(["R", "G", "B"])[:, 3:5, 3:5]
    if stored == "float":
        np.testing.assert_array_equal(block, 0.5)
    else:
        assert (block[1] == 65504.0).all()


def test_a_block_of_inf_in_a_float_beauty_comes_out_near_what_surrounds_it(tmp_path):
    """A bad shader's 2x2 block of +Inf in every frame of a float beauty: the network sees 0 there
    and the output keeps what it made of it, near the shot's level round it (it was 65504)."""
    pattern = write_sequence(tmp_path / "shot", frames=range(1, 4), height=32, width=32)
    for frame in range(1, 4):
        path = tmp_path / "shot" / f"render.{frame:04d}.exr"
        store_as_float(path)
        for channel in "RGB":
            poison(path, channel, {(y, x): np.inf for y in (12, 13) for x in (12, 13)})
    summary = denoise_sequence(pattern, str(tmp_path / "out" / "den.####.exr"),
                               config=EngineConfig(model="default", device="cpu", precision="float32"))
    beauty = read_exr(summary.output_pattern.path(2)).get(["R", "G", "B"])
    assert np.isfinite(beauty).all()
    around = beauty[:, 8:18, 8:18].copy()
    around[:, 4:6, 4:6] = np.nan
    assert beauty[:, 12:14, 12:14].max() < 2 * np.nanmax(around), beauty[:, 12:14, 12:14]


def _element(tmp_path, alpha_type: str = "half"):
    """An 8x8 frame over nothing in columns 0-2, partly covered in 3, covered in 4-7: empty over
    the 3x3 in 0-1, covered over it in 5-7."""
    alpha = np.zeros((8, 8), np.float32)
    alpha[:, 3] = 0.5
    alpha[:, 4:] = 1.0
    channels = {c: np.full((8, 8), 0.5, np.float32) * alpha for c in "RGB"}
    exr = OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage},
                       {**{c: v.astype(np.float16) for c, v in channels.items()},
                        "A": alpha.astype(np.float32 if alpha_type == "float" else np.float16)})
    exr.write(str(tmp_path / "in.exr"))
    return read_exr(tmp_path / "in.exr"), alpha


@pytest.mark.parametrize("alpha_type", ["half", "float"])
def test_a_denoised_alpha_is_brought_back_settled_and_written_in_its_own_type(tmp_path, alpha_type):
    """The network's alpha (3 channels after the beauty's, at the shot's exposure: x4 here) comes
    back /4, clamped, 0 and 1 where the render's is so over a 3x3, the rest the network's, in the
    alpha's type; the beauty is as without it but where the alpha is partial within 2 px of an
    opaque pixel, there held to the alpha times the render's colour (0.3 x 0.5: `edge_light`);
    the header says so; noisy.A keeps the rendered one."""
    image, rendered = _element(tmp_path, alpha_type)
    beauty = np.full((3, 8, 8), 0.25, np.float32)
    network = np.concatenate([beauty * 4, np.full((3, 8, 8), 4 * 0.3, np.float32)])
    layers = {"": LayerMap(beauty=("R", "G", "B"), alpha=("A",))}
    made_with = MadeWith("model", "", Exposure(4.0), "record")
    out = denoised_image(image, layers, {"": network}, EngineConfig(alpha="denoise", keep_noisy=True),
                         made_with)[0]
    alpha = out.get(["A"])[0]
    np.testing.assert_array_equal(alpha[:, :2], 0)
    np.testing.assert_array_equal(alpha[:, 5:], 1)
    np.testing.assert_allclose(alpha[:, 2:5], 0.3, rtol=1e-3)
    assert out.pixel_type("A") == out.pixel_type("noisy.A") == alpha_type
    np.testing.assert_array_equal(out.get(["noisy.A"])[0], rendered)
    assert out.parts[0].spec.getattribute("vfxdenoise/alpha") == "denoised"
    plain, _ = _element(tmp_path)
    plain = denoised_image(plain, layers, {"": beauty * 4}, EngineConfig(), made_with)[0]
    held, as_without = out.get(["R", "G", "B"]), plain.get(["R", "G", "B"])
    np.testing.assert_array_equal(held[:, :, [0, 1, 2, 5, 6, 7]], as_without[:, :, [0, 1, 2, 5, 6, 7]])
    np.testing.assert_allclose(held[:, :, 3:5], 0.3 * 0.5, rtol=1e-3)
    assert plain.parts[0].spec.getattribute("vfxdenoise/alpha") is None


def test_an_alpha_the_network_did_not_see_is_written_as_rendered(tmp_path):
    """Frame t opaque, the engine leaves its alpha out of the network (`engine._layers_of`): the
    result holds the beauty alone, and the alpha is written as rendered."""
    image, rendered = _element(tmp_path)
    out = denoised_image(image, {"": LayerMap(beauty=("R", "G", "B"), alpha=("A",))},
                         {"": np.full((3, 8, 8), 0.25, np.float32)}, EngineConfig(alpha="denoise"),
                         MadeWith("model", "", Exposure(), "record"))[0]
    np.testing.assert_array_equal(out.get(["A"])[0], rendered)


@pytest.mark.parametrize("glow", [0.0, 0.125])
def test_a_denoised_alpha_of_0_leaves_no_colour_the_render_did_not_put_there(tmp_path, glow):
    """Column 2 is empty in the render but beside a covered pixel, so the network's colour is kept
    there (`coverage.MARGIN`); where the network's alpha is 0 there, the colour goes too: a
    premultiplied frame holds none over alpha 0, which a comp would add to the plate. A glow the
    render put over alpha 0 (`glow` in column 2) is kept, as the network made it."""
    image, _ = _element(tmp_path)
    if glow:
        for channel in "RGB":
            pixels = image.get([channel])
            pixels[0, :, 2] = glow
            image.set([channel], pixels)
    network_alpha = np.zeros((3, 8, 8), np.float32)
    network_alpha[:, :, 3:] = 0.6
    network = np.concatenate([np.full((3, 8, 8), 0.25, np.float32), network_alpha])
    out = denoised_image(image, {"": LayerMap(beauty=("R", "G", "B"), alpha=("A",))}, {"": network},
                         EngineConfig(alpha="denoise"), MadeWith("model", "", Exposure(), "record"))[0]
    np.testing.assert_array_equal(out.get(["A"])[0][:, 2], 0)
    beauty = out.get(["R", "G", "B"])
    np.testing.assert_array_equal(beauty[:, :, 2], 0.25 if glow else 0.0)
    np.testing.assert_array_equal(beauty[:, :, 3:], 0.25)
    np.testing.assert_array_equal(beauty[:, :, :2], 0.0)


def _element_with_key(tmp_path, rim: float):
    """An 8x8 frame with a `key` layer half its beauty, over nothing in columns 0-2, half covered
    in 3, covered in 4-7, of colour 0.5; its half-covered pixels `rim` bright over their coverage."""
    alpha = np.zeros((8, 8), np.float32)
    alpha[:, 3] = 0.5
    alpha[:, 4:] = 1.0
    colour = np.full((8, 8), 0.5, np.float32)
    colour[:, 3] = rim
    channels = {c: (colour * alpha).astype(np.float16) for c in "RGB"}
    channels.update({f"key.{c}": (colour * alpha / 2).astype(np.float16) for c in "RGB"})
    OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage},
                 {**channels, "A": alpha.astype(np.float16)}).write(str(tmp_path / "in.exr"))
    return read_exr(tmp_path / "in.exr")


_WITH_KEY = {"": LayerMap(beauty=("R", "G", "B"), aovs=(("key", ("key.R", "key.G", "key.B")),), alpha=("A",))}


@pytest.mark.parametrize(("rim", "held"), [(0.5, 0.25), (0.9, 0.3)])
def test_a_denoised_alpha_edge_holds_no_more_light_than_it_covers(tmp_path, rim, held):
    """The network's beauty came out wider than its alpha: 0.4 in column 3 (alpha 0.5) beside the
    element's 0.5, which unpremultiplied grades as a light rim 1.6x the element. With --alpha
    denoise it is held to the alpha times the brightest colour that could cover it: the opaque
    pixels' 0.5 within 2 px (0.25), or the render's own over its 3x3 where brighter (a rim lit
    0.9 over coverage: 0.95 of light over 1.5 of coverage there, x0.5 = 0.317, above the 0.3 the
    network gave: kept); the key layer scaled alike, so it stays half the beauty. Column 2 (alpha
    0.2, 0.15 of light) is held to 0.2 x 0.5, or kept beside the lit rim (0.45 of light over 0.5
    of coverage in the render's 3x3, x0.2 = 0.18); with --alpha rendered nothing changes."""
    network = np.zeros((9, 8, 8), np.float32)
    network[:3, :, 2:] = 0.5
    network[:3, :, 2] = 0.15
    network[:3, :, 3] = 0.4 if rim == 0.5 else 0.3
    network[3:6] = network[:3] / 2
    network[6:, :, 2] = 0.2
    network[6:, :, 3] = 0.5
    network[6:, :, 4:] = 1.0
    made_with = MadeWith("model", "", Exposure(), "record")
    out = denoised_image(_element_with_key(tmp_path, rim), _WITH_KEY, {"": network},
                         EngineConfig(alpha="denoise"), made_with)[0]
    beauty, key = out.get(["R", "G", "B"]), out.get(["key.R", "key.G", "key.B"])
    np.testing.assert_allclose(beauty[:, :, 3], held, rtol=2e-3)
    np.testing.assert_allclose(beauty[:, :, 2], 0.2 * 0.5 if rim == 0.5 else 0.15, rtol=2e-3)
    np.testing.assert_array_equal(beauty[:, :, 4:], 0.5)
    np.testing.assert_allclose(key[:, :, 3:], beauty[:, :, 3:] / 2, rtol=2e-3)
    rendered = denoised_image(_element_with_key(tmp_path, rim), _WITH_KEY, {"": network[:6]},
                              EngineConfig(), made_with)[0]
    np.testing.assert_array_equal(rendered.get(["R", "G", "B"])[:, :, 2:],
                                  network[:3, :, 2:].astype(np.float16))


def test_an_edge_with_no_opaque_pixel_near_keeps_the_networks_light(tmp_path):
    """A thin or wholly blurred element, no pixel fully covered within 2 px of a partial one:
    nothing tells the colour of its cover, and its light is left as the network made it."""
    network = np.zeros((9, 8, 8), np.float32)
    network[:6, :, 2:] = 0.4
    network[6:, :, 2:] = 0.5  # settled: 1 only where the render covers the 3x3, from column 5 on
    out = denoised_image(_element_with_key(tmp_path, 0.5), _WITH_KEY, {"": network},
                         EngineConfig(alpha="denoise"), MadeWith("model", "", Exposure(), "record"))[0]
    np.testing.assert_array_equal(out.get(["A"])[0][:, 5:], 1.0)
    np.testing.assert_array_equal(out.get(["R", "G", "B"])[:, :, 2], np.float16(0.4))


@pytest.mark.parametrize("failed", [1, 65])
def test_a_frame_is_written_only_where_the_network_failed_on_a_few_of_its_lit_pixels(tmp_path, caplog,
                                                                                    failed):
    """The writer checks the count the denoiser took before cleaning (`NetworkFailures`): one
    pixel of 100,000 lit is warned of, naming the frame, and the frame written; more than 64 (the
    floor, `denoiser.MIN_FAILED_PIXELS`) fail it, naming the model, and nothing is written."""
    import logging

    import torch

    from vfxdenoise.core.denoised_frame import write_denoised
    from vfxdenoise.core.denoiser import DenoisedBeauty, NonFiniteNetworkError

    _render(tmp_path / "in.exr", 3, None)
    denoised = DenoisedBeauty(torch.full((3, H, W), 0.25), failures=torch.tensor([failed, 100_000]))
    made_with = MadeWith("models/ft", "", Exposure(), "record", frame=3,
                         model_path="/m/ft/model.safetensors", model_sha256="ab" * 32)

    def write() -> None:
        write_denoised(tmp_path / "out.exr", read_exr(tmp_path / "in.exr"),
                       {"": LayerMap(beauty=("R", "G", "B"))}, {"": denoised}, EngineConfig(), made_with)

    if failed > 64:
        with pytest.raises(NonFiniteNetworkError, match=r"^frame 3 not written: model 'models/ft' "
                                                        r"\(/m/ft/model.safetensors\) gives NaN/Inf on 65 "):
            write()
        assert not (tmp_path / "out.exr").exists()
        return
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.denoiser"):
        write()
    assert [m[:60] for m in caplog.messages] == [
        "frame 3: model 'models/ft' (/m/ft/model.safetensors) gave Na"]
    spec = read_exr(tmp_path / "out.exr").parts[0].spec
    assert spec.getattribute("vfxdenoise/model") == "models/ft"
    assert spec.getattribute("vfxdenoise/model_path") == "/m/ft/model.safetensors"
    assert spec.getattribute("vfxdenoise/model_sha256") == "ab" * 32


def _denoised_channels_of(tmp_path, parts: list[OpenEXR.Part], views: dict[str, LayerMap]
                          ) -> list[str | None]:
    """Each part's `vfxdenoise/denoised_channels` (None where it has none) in the output of a frame
    made of `parts`, its `views` denoised."""
    OpenEXR.File(parts).write(str(tmp_path / "in.exr"))
    denoised = {view: np.full((3 + 3 * len(layers.aovs), H, W), 0.25, np.float32)
                for view, layers in views.items()}
    out = denoised_image(read_exr(tmp_path / "in.exr"), views, denoised, EngineConfig(),
                         MadeWith("model", "", Exposure(), "record"))[0]
    write_exr(tmp_path / "out.exr", out)
    headers = [part.header for part in OpenEXR.File(str(tmp_path / "out.exr"), header_only=True).parts]
    return [header.get("vfxdenoise/denoised_channels") for header in headers]


def test_each_part_lists_the_channels_of_its_own_that_were_denoised(tmp_path):
    """A render with an AOV a part (`diffuse` holding R,G,B): every part said the one-part names
    of all replaced channels, so the albedo part claimed its R,G,B denoised and the diffuse part
    named diffuse.R, which it does not hold. Each part names its own; one with none says nothing."""
    rgb = {c: np.full((H, W), 0.5, np.float32) for c in "RGB"}
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage,
              "vfxdenoise/denoised_channels": "R,G,B"}  # an earlier run's output, denoised again
    parts = [OpenEXR.Part(dict(header), rgb, name) for name in ("rgba", "albedo", "diffuse")]
    views = {"": LayerMap(beauty=("R", "G", "B"), albedo=("albedo.R", "albedo.G", "albedo.B"),
                          aovs=(("diffuse", ("diffuse.R", "diffuse.G", "diffuse.B")),))}
    assert _denoised_channels_of(tmp_path, parts, views) == ["R,G,B", None, "R,G,B"]


def test_each_view_part_of_a_stereo_frame_lists_its_own_channels(tmp_path):
    """A stereo render with a part a view: the right part listed right.R, a name it does not hold."""
    names = ("R", "G", "B", "spec.R", "spec.G", "spec.B")
    channels = {name: np.full((H, W), 0.5, np.float32) for name in names}
    parts = [OpenEXR.Part({"view": view}, channels, view) for view in ("left", "right")]
    views = {view: LayerMap(beauty=tuple(f"{prefix}{c}" for c in "RGB"),
                            aovs=(("spec", tuple(f"{prefix}spec.{c}" for c in "RGB")),))
             for view, prefix in (("left", ""), ("right", "right."))}
    assert _denoised_channels_of(tmp_path, parts, views) == ["R,G,B,spec.R,spec.G,spec.B"] * 2


def test_a_light_group_in_a_cropped_part_sums_with_the_others_to_the_beauty_round_its_crop(tmp_path):
    """Parts rgba, RGBA_key (autocropped to the box its light reaches) and RGBA_fill, the beauty
    key + fill: the key's share of the difference between the denoised beauty and the layers' sum
    outside its box was dropped as its part was written, so key + fill missed the beauty there
    (QA: 401-523 pixels a frame over 1% off, up to 37%, on a ring round the box). A compositor
    reads the key as 0 outside its data window: key + fill is the denoised beauty everywhere."""
    height, width, (x0, y0, x1, y1) = 8, 10, (2, 1, 6, 5)
    inside = np.zeros((height, width), bool)
    inside[y0:y1 + 1, x0:x1 + 1] = True
    key = np.where(inside, 0.6, 0.0).astype(np.float32)
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage,
              "displayWindow": (np.array([0, 0], np.int32), np.array([width - 1, height - 1], np.int32))}
    cropped = {**header, "dataWindow": (np.array([x0, y0], np.int32), np.array([x1, y1], np.int32))}
    parts = [OpenEXR.Part(dict(header), {c: np.ones((height, width), np.float32) for c in "RGB"}, "rgba"),
             OpenEXR.Part(cropped, {c: key[y0:y1 + 1, x0:x1 + 1].copy() for c in "RGB"}, "RGBA_key"),
             OpenEXR.Part(dict(header), {c: 1 - key for c in "RGB"}, "RGBA_fill")]
    OpenEXR.File(parts).write(str(tmp_path / "in.exr"))
    views = {"": LayerMap(beauty=("R", "G", "B"), aovs=tuple((name, tuple(f"{name}.{c}" for c in "RGB"))
                                                             for name in ("RGBA_key", "RGBA_fill")))}
    # the network spreads the key's light past its box, as a filter does
    network = np.concatenate([np.full((3, height, width), value, np.float32) for value in (0.8, 0.5, 0.3)])
    out, unreconciled = denoised_image(read_exr(tmp_path / "in.exr"), views, {"": network}, EngineConfig(),
                                       MadeWith("model", "", Exposure(), "record"))
    assert unreconciled == {}
    write_exr(tmp_path / "out.exr", out)
    written = OpenEXR.File(str(tmp_path / "out.exr"), separate_channels=True).parts
    written_key = np.zeros((height, width))
    written_key[inside] = written[1].channels["G"].pixels.ravel()
    np.testing.assert_allclose(written_key + written[2].channels["G"].pixels,
                               written[0].channels["G"].pixels, rtol=1e-6)


def test_a_layers_inf_where_the_beauty_is_dim_comes_out_denoised_not_65504(tmp_path):
    """Layers diffuse + specular stored as half summing to the beauty, specular holding a 2x2 block
    of +Inf where the beauty is 0.5 (a broken value) and one where the beauty is a lamp past what
    half floats hold (a light group's lamp). The first was put back as a lamp: 65504 in the written
    layer, the layers 65504 off the beauty (QA). It comes out as denoised, the layers summing to the
    beauty; the lamp's is put back as before."""
    beauty = np.full((3, 8, 8), 0.5, np.float32)
    beauty[:, 1:3, 1:3] = np.inf
    diffuse, specular = np.full_like(beauty, 0.3), np.full_like(beauty, 0.2)
    diffuse[:, 1:3, 1:3] = 0.3
    specular[:, 1:3, 1:3] = np.inf
    specular[:, 5:7, 5:7] = np.inf
    layers = {"": beauty, "diffuse.": diffuse, "specular.": specular}
    exr = OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage},
                       {f"{prefix}{c}": values[i].astype(np.float16)
                        for prefix, values in layers.items() for i, c in enumerate("RGB")})
    exr.write(str(tmp_path / "in.exr"))
    views = {"": LayerMap(beauty=("R", "G", "B"), aovs=tuple((name, tuple(f"{name}.{c}" for c in "RGB"))
                                                             for name in ("diffuse", "specular")))}
    network = np.concatenate([np.full((3, 8, 8), value, np.float32) for value in (0.5, 0.3, 0.2)])
    out, _ = denoised_image(read_exr(tmp_path / "in.exr"), views, {"": network}, EngineConfig(),
                            MadeWith("model", "", Exposure(), "record"))
    written = {prefix: out.get([f"{prefix}{c}" for c in "RGB"]) for prefix in layers}
    np.testing.assert_allclose(written["specular."][:, 5:7, 5:7], 0.2, rtol=1e-3)
    np.testing.assert_allclose(written["diffuse."] + written["specular."], written[""], rtol=1e-3)
    assert (written["specular."][:, 1:3, 1:3] == 65504.0).all()
