"""Tiny real EXR sequences for tests: a smooth HDR image panning right, with every canonical AOV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import OpenEXR

from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.motion_vectors import CONVENTIONS
from vfxdenoise.core.provenance import ATTRIBUTE as MADE_FROM

FLOAT_CHANNELS = {"Z": "float", "motion.X": "float", "motion.Y": "float"}


def clean_frame(height: int, width: int, shift: float) -> np.ndarray:
    """A smooth HDR test image (3,H,W) translated right by `shift` pixels."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    xs = xs - shift
    r = 0.6 + 0.4 * np.sin(xs / 5.0)
    g = 0.5 + 0.4 * np.cos(ys / 4.0)
    b = 2.0 * ((xs // 8 + ys // 8) % 2)
    return np.stack([r, g, b]).astype(np.float32)


def write_sequence(folder: Path, frames=range(1001, 1006), height: int = 32, width: int = 48,
                   noise: float = 0.2, motion: float = 1.0, seed: int = 0, name: str = "render",
                   extra: dict | None = None, convention: str = "previous", start: int = 0) -> str:
    """Write noisy frames with all canonical AOVs (camera panning `motion` px/frame, the first of
    `frames` being the pan's frame `start`), the motion vectors in `convention`
    (`motion_vectors.CONVENTIONS`); return the pattern."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index, frame in enumerate(frames):
        clean = clean_frame(height, width, motion * (start + index))
        noisy = clean * rng.gamma(4.0, 0.25, size=clean.shape) if noise else clean
        channels = {c: noisy[i] for i, c in enumerate("RGB")}
        channels["A"] = np.ones((height, width), np.float32)
        for i, c in enumerate("RGB"):
            channels[f"albedo.{c}"] = np.clip(clean[i] / 2.0, 0, 1)
        for c, v in zip("XYZ", (0.0, 0.0, 1.0)):
            channels[f"N.{c}"] = np.full((height, width), v, np.float32)
        channels["Z"] = np.full((height, width), 5.0, np.float32)
        # Content moves right by `motion` px per frame: the point at x was at x - motion before.
        channels["motion.X"] = np.full((height, width), -motion * CONVENTIONS[convention][0], np.float32)
        channels["motion.Y"] = np.zeros((height, width), np.float32)
        channels.update(extra or {})
        image = ExrImage.from_channels(channels, pixel_types=FLOAT_CHANNELS,
                                       attributes={"studio/shot": "sq010_sh020"})
        write_exr(folder / f"{name}.{frame:04d}.exr", image)
    return str(folder / f"{name}.####.exr")


def write_textured_sequence(folder: Path, noise: float, frames=range(1001, 1004), size: int = 48,
                            seed: int = 0) -> str:
    """Write still frames of a fine texture (a 1-pixel checker in the albedo over smooth light)
    whose beauty carries white noise of `noise` times the signal (the 4-16 spp renders the shipped
    models trained on measure 0.15 and more, `input_noise`), with every canonical AOV; return the
    pattern."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    albedo = 0.2 + 0.6 * ((xs + ys) % 2) * np.array([1.0, 0.8, 0.6], np.float32)[:, None, None]
    light = 1.0 + 0.5 * np.sin(xs / 9.0) * np.cos(ys / 11.0)
    for frame in frames:
        beauty = albedo * light * (1 + noise * rng.standard_normal((1, size, size), dtype=np.float32))
        channels = {c: beauty[i] for i, c in enumerate("RGB")}
        channels.update({f"albedo.{c}": albedo[i] for i, c in enumerate("RGB")})
        channels.update({f"N.{c}": np.full((size, size), v, np.float32)
                         for c, v in zip("XYZ", (0.0, 0.0, 1.0))})
        channels["Z"] = np.full((size, size), 5.0, np.float32)
        channels["motion.X"] = channels["motion.Y"] = np.zeros((size, size), np.float32)
        write_exr(folder / f"render.{frame:04d}.exr",
                  ExrImage.from_channels(channels, pixel_types=FLOAT_CHANNELS))
    return str(folder / "render.####.exr")


def store_as_float(path: Path) -> None:
    """Rewrite the EXR at `path` with every channel stored as float (the same values)."""
    image = read_exr(path)
    names = image.channel_names
    write_exr(path, ExrImage.from_channels(dict(zip(names, image.get(names))),
                                           pixel_types=dict.fromkeys(names, "float")))


def rename_layer(pattern: str, layer: str, name: str) -> str:
    """Rename `layer` of every frame of `pattern` (its channels `layer.R`... become `name.R`...),
    as a host that renames layers writes them; return the pattern."""
    sequence = parse_pattern(pattern)
    for frame in sequence.frames_on_disk():
        image = read_exr(sequence.path(frame))
        names = image.channel_names
        write_exr(sequence.path(frame), ExrImage.from_channels(
            {f"{name}.{c[len(layer) + 1:]}" if c.startswith(f"{layer}.") else c: values
             for c, values in zip(names, image.get(names))}, pixel_types=FLOAT_CHANNELS))
    return pattern


def write_render_dataset(root: Path, sequences: int = 2, frames=range(1001, 1005), size: int = 40,
                         second_noisy: bool = False) -> Path:
    """A make-dataset style folder: <seq>/spp4 (noisy), <seq>/reference (clean), optional spp4b."""
    for i in range(sequences):
        write_sequence(root / f"seq{i}" / "spp4", frames, size, size, seed=i)
        write_sequence(root / f"seq{i}" / "reference", frames, size, size, noise=0.0)
        if second_noisy:
            write_sequence(root / f"seq{i}" / "spp4b", frames, size, size, seed=100 + i)
    return root


def beauty_of(pattern: str, frame: int) -> np.ndarray:
    """The (3, H, W) beauty of `frame` of the sequence `pattern` (a run's output, say)."""
    return read_exr(parse_pattern(pattern).path(frame)).get(["R", "G", "B"])


def with_light_groups(pattern: str, frames) -> np.ndarray:
    """Split each frame's beauty into `key` and `fill` layers (float) by a mask varying across the
    frame; return the mask."""
    sequence = parse_pattern(pattern)
    mask = None
    for frame in frames:
        image = read_exr(sequence.path(frame))
        beauty = image.get(["R", "G", "B"])
        if mask is None:
            mask = np.linspace(0.0, 1.0, beauty.shape[2], dtype=np.float32)[None, None, :] ** 2
        image.add_channels(["key.R", "key.G", "key.B"], beauty * mask, pixel_type="float")
        image.add_channels(["fill.R", "fill.G", "fill.B"], beauty * (1 - mask), pixel_type="float")
        write_exr(sequence.path(frame), image)
    return mask


def with_named_light_groups(pattern: str, frames, key: str = "RGBA_lgKey", rim: str = "RGBA_lgRim") -> None:
    """Split each frame's beauty into light groups `key` and `rim` (float) by a mask varying
    across the frame, as a renderer names light groups a wildcard (`RGBA_lg*`) takes."""
    sequence = parse_pattern(pattern)
    for frame in frames:
        image = read_exr(sequence.path(frame))
        beauty = image.get(["R", "G", "B"])
        mask = np.linspace(0.0, 1.0, beauty.shape[2], dtype=np.float32)[None, None, :] ** 2
        for name, share in ((key, mask), (rim, 1 - mask)):
            image.add_channels([f"{name}.{c}" for c in "RGB"], beauty * share, pixel_type="float")
        write_exr(sequence.path(frame), image)


def without_layer(pattern: str, frame: int, layer: str) -> None:
    """Rewrite `frame` of `pattern` without the channels of `layer` (`layer.R`...), every other
    channel as stored: a render that left one light group out of one frame."""
    path = parse_pattern(pattern).path(frame)
    image = read_exr(path)
    types = image.parts[0].channel_types
    kept = [name for name in image.channel_names if not name.startswith(f"{layer}.")]
    write_exr(path, ExrImage.from_channels(dict(zip(kept, image.get(kept))),
                                           pixel_types={name: types[name] for name in kept}))


def element_over_transparency(pattern: str, frames, empty_alpha: float = 0.0) -> None:
    """Turn each frame into an element (columns 16-31) over nothing (0-15: no light, no AOVs,
    alpha `empty_alpha`) beside a sky (32-47: light, alpha `empty_alpha`), with a `key` layer."""
    sequence = parse_pattern(pattern)
    for frame in frames:
        image = read_exr(sequence.path(frame))
        beauty = image.get(["R", "G", "B"])
        beauty[:, :, :16] = 0
        alpha = np.full(beauty.shape[1:], empty_alpha, np.float32)
        alpha[:, 16:32] = 1
        image.set(["R", "G", "B"], beauty)
        image.set(["A"], alpha)
        for channels in (["albedo.R", "albedo.G", "albedo.B"], ["N.X", "N.Y", "N.Z"]):
            values = image.get(channels)
            values[:, :, :16] = 0
            values[:, :, 32:] = 0
            image.set(channels, values)
        image.add_channels(["key.R", "key.G", "key.B"], beauty * 0.5, pixel_type="float")
        write_exr(sequence.path(frame), image)



def element_with_soft_edges(pattern: str, frames, samples: int | None = 4, seed: int = 0,
                            radius: float = 9.0) -> list[np.ndarray]:
    """Turn each frame of a `write_sequence` shot (panning 1 px a frame) into a disc of `radius`
    px moving with the pan over nothing, its edge a 2 px ramp of partial cover; rendered with
    `samples` per pixel (None: exactly), each pixel's cover drawn from its samples (seeded):
    alpha, beauty, albedo and normal all carry it, as a render's do. Returns the clean alphas
    (1, H, W), the reference the noisy edge is measured against."""
    sequence = parse_pattern(pattern)
    rng = np.random.default_rng(seed)
    clean_alphas = []
    for index, frame in enumerate(frames):
        image = read_exr(sequence.path(frame))
        height, width = image.height, image.width
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        distance = np.hypot(ys - height / 2, xs - (width / 2 - 4 + index))
        clean = np.clip((radius - distance) / 2 + 0.5, 0.0, 1.0).astype(np.float32)[None]
        cover = clean if samples is None else (rng.binomial(samples, clean) / samples).astype(np.float32)
        image.set(["A"], cover)
        for channels in (["R", "G", "B"], ["albedo.R", "albedo.G", "albedo.B"], ["N.X", "N.Y", "N.Z"]):
            image.set(channels, image.get(channels) * cover)
        write_exr(sequence.path(frame), image)
        clean_alphas.append(clean)
    return clean_alphas


def write_stereo_sequence(left: str, right: str, folder: Path, frames, layout: str = "single-part"
                          ) -> str:
    """Merge two one-view sequences into a stereo one (views left and right), written through
    OpenEXR in either multi-view layout: 'single-part' (a `multiView` attribute, the right
    view's channels named `right.R`, `albedo.right.R`) or 'multi-part' (a part per view, each
    with a `view` attribute). Returns the pattern."""
    folder.mkdir(parents=True, exist_ok=True)
    for frame in frames:
        eyes = {view: OpenEXR.File(str(parse_pattern(pattern).path(frame)), separate_channels=True)
                for view, pattern in (("left", left), ("right", right))}
        header = {key: value for key, value in eyes["left"].header().items() if key != "channels"}
        planes = {view: {name: channel.pixels for name, channel in eye.channels().items()}
                  for view, eye in eyes.items()}
        if layout == "single-part":
            channels = dict(planes["left"])
            channels.update({view_channel(name, "right"): values for name, values in planes["right"].items()})
            exr = OpenEXR.File({**header, "multiView": ["left", "right"]}, channels)
        else:
            exr = OpenEXR.File([OpenEXR.Part({**header, "view": view, "name": f"rgba.{view}"}, planes[view])
                                for view in ("left", "right")])
        exr.write(str(folder / f"stereo.{frame:04d}.exr"))
    return str(folder / "stereo.####.exr")


def view_channel(channel: str, view: str) -> str:
    """A channel's name in a non-default view by the single-part convention: `layer.view.C`."""
    layer, _, component = channel.rpartition(".")
    return ".".join([*([layer] if layer else []), view, component])


def alike_but_inputs(a: Path, b: Path) -> bool:
    """Whether two outputs hold the same channels, pixels and header but for the record of what
    made them (`vfxdenoise/made_from`, which differs between, say, a run that read a damaged frame
    and one where that frame was never rendered)."""
    with OpenEXR.File(str(a), separate_channels=True) as first, \
            OpenEXR.File(str(b), separate_channels=True) as second:
        if len(first.parts) != len(second.parts):
            return False
        for ours, theirs in zip(first.parts, second.parts):
            headers = [{k: v for k, v in part.header.items() if k != MADE_FROM}
                       for part in (ours, theirs)]
            if repr(headers[0]) != repr(headers[1]) or ours.channels.keys() != theirs.channels.keys():
                return False
            if not all(np.array_equal(ours.channels[name].pixels, theirs.channels[name].pixels)
                       for name in ours.channels):
                return False
    return True
