"""Procedural images made in numpy: surface textures (checker, value noise, stripes) and a sky envmap.

Everything is a pure function of its (hashable) description, so a texture is identical in the beauty
render and in the albedo render of the same frame, and cached once per process. Each call returns
a copy of the cached image, the caller's own: one changed in place would otherwise have changed
every later render's texture (and mi.Bitmap takes only a writable array, so a read-only cache would
need the same copy at the caller).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

Color = tuple[float, float, float]


@dataclass(frozen=True)
class Texture:
    """A tiling reflectance pattern between two linear colours; `repeat` tiles it over the uv square."""

    kind: str  # "checker" | "noise" | "stripes"
    color_a: Color
    color_b: Color
    repeat: float = 4.0
    seed: int = 0


@dataclass(frozen=True)
class Sky:
    """A latitude-longitude sky: zenith-to-horizon gradient, ground colour, a sun and noisy clouds."""

    zenith: Color
    horizon: Color
    ground: Color
    sun_direction: tuple[float, float, float]
    sun_radiance: float
    sun_size_degrees: float = 3.0
    cloud_cover: float = 0.3
    seed: int = 0


def value_noise(shape: tuple[int, int], seed: int, octaves: int = 4, base_cells: int = 4) -> np.ndarray:
    """Fractal value noise in [0, 1]: bilinearly interpolated random lattices, halving each octave."""
    rng = np.random.default_rng(seed)
    height, width = shape
    total = np.zeros(shape)
    weight_sum = 0.0
    for octave in range(octaves):
        cells = base_cells * 2**octave
        lattice = rng.random((cells + 1, cells + 1))
        lattice[-1, :], lattice[:, -1] = lattice[0, :], lattice[:, 0]  # tiles seamlessly
        ys = np.linspace(0, cells, height, endpoint=False)
        xs = np.linspace(0, cells, width, endpoint=False)
        y0, x0 = ys.astype(int), xs.astype(int)
        fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
        fy, fx = fy * fy * (3 - 2 * fy), fx * fx * (3 - 2 * fx)  # smoothstep: no lattice creases
        top = lattice[y0][:, x0] * (1 - fx) + lattice[y0][:, x0 + 1] * fx
        bottom = lattice[y0 + 1][:, x0] * (1 - fx) + lattice[y0 + 1][:, x0 + 1] * fx
        weight = 0.5**octave
        total += weight * (top * (1 - fy) + bottom * fy)
        weight_sum += weight
    return total / weight_sum


def _mask(texture: Texture, size: int) -> np.ndarray:
    ys, xs = np.mgrid[0:size, 0:size] / size
    if texture.kind == "checker":
        return ((np.floor(xs * 8) + np.floor(ys * 8)) % 2).astype(float)
    if texture.kind == "stripes":
        return (np.sin(2 * np.pi * 6 * (xs + 0.3 * ys)) > 0).astype(float)
    if texture.kind == "noise":
        noise = value_noise((size, size), texture.seed)
        return np.clip((noise - 0.5) * 2.5 + 0.5, 0, 1)
    raise ValueError(f"unknown texture kind {texture.kind!r}; use checker, noise or stripes")


def texture_image(texture: Texture, size: int = 256) -> np.ndarray:
    """(size, size, 3) float32 linear reflectance in [0, 1]; the caller's own copy of the cached one."""
    return _texture_image(texture, size).copy()


@functools.lru_cache(maxsize=64)
def _texture_image(texture: Texture, size: int) -> np.ndarray:
    mask = _mask(texture, size)[..., None]
    a, b = np.asarray(texture.color_a), np.asarray(texture.color_b)
    return np.clip(a * (1 - mask) + b * mask, 0, 1).astype(np.float32)


def envmap_directions(height: int, width: int) -> np.ndarray:
    """World direction of each texel of a Mitsuba lat-long envmap (row 0 = zenith, +Y up)."""
    theta = np.pi * (np.arange(height) + 0.5) / height
    phi = 2 * np.pi * (np.arange(width) + 0.5) / width
    theta, phi = np.meshgrid(theta, phi, indexing="ij")
    return np.stack([np.sin(theta) * np.sin(phi), np.cos(theta), -np.sin(theta) * np.cos(phi)], -1)


def sky_image(sky: Sky, height: int = 128) -> np.ndarray:
    """(height, 2*height, 3) float32 HDR radiance of the sky in Mitsuba's envmap layout; the caller's
    own copy of the cached one."""
    return _sky_image(sky, height).copy()


@functools.lru_cache(maxsize=16)
def _sky_image(sky: Sky, height: int) -> np.ndarray:
    d = envmap_directions(height, 2 * height)
    up = d[..., 1:2]
    t = np.clip(up, 0, 1) ** 0.5
    color = np.asarray(sky.horizon) * (1 - t) + np.asarray(sky.zenith) * t
    color = np.where(up < 0, np.asarray(sky.ground) * (0.6 + 0.4 * np.exp(up * 4)), color)
    clouds = value_noise((height, 2 * height), sky.seed, octaves=5, base_cells=6)
    clouds = np.clip((clouds - (1 - sky.cloud_cover)) * 4, 0, 1)[..., None] * (up > 0)
    color = color * (1 - clouds) + clouds * 0.9 * np.mean(np.asarray(sky.horizon))
    sun = np.asarray(sky.sun_direction, float)
    sun /= np.linalg.norm(sun)
    cos_angle = np.clip(d @ sun, -1, 1)
    radius = np.radians(sky.sun_size_degrees) / 2
    disc = np.exp(-((np.arccos(cos_angle) / radius) ** 2))[..., None]
    return (color + disc * sky.sun_radiance * (1 - 0.8 * clouds)).astype(np.float32)
