"""Synthetic noise models for the classic (photograph) track: evaluation and training augmentation.

Images are float arrays with values in [0, 1], any shape (e.g. (C, H, W)); every model is called
as `noise(clean, rng)` with a `numpy.random.Generator`, so results are reproducible from a seed.
Noisy values are not clipped: Gaussian noise on a white pixel goes above 1, as in the DnCNN/BM3D
literature (clip when writing an 8-bit file, not before scoring), unless a chain ends in `clip`.

Specs (the CLI's `--noise`) are `name:args`, args positional or `key=value`, comma separated:

    gaussian:25              sigma 25 on the 0-255 scale (the literature's convention)
    gaussian:sigma=0.1,scale=1   sigma 0.1 on the 0-1 scale
    gaussian:0-55            sigma drawn uniformly from [0, 55] per call (blind training)
    poisson:30               shot noise: clean * 30 photons at white, Poisson, / 30
    impulse:0.2              20% of values replaced by uniform random values in [0, 1]
    saltpepper:0.1           10% of values set to 0 or 1, half each; `saltpepper:0.1,0.7` = 70% salt
    speckle:0.2              multiplicative: clean * (1 + n), n ~ N(0, 0.2^2)
    poisson:50+gaussian:10   a chain, applied left to right: shot noise, then read noise (the
                             camera's order; the other way round, Poisson of values already
                             noisy and clipped at 0, adds a bias in the dark)
    gaussian:25+clip         the chain's values clipped to [0, 1], as an 8- or 16-bit file holds
                             them; last in a chain only, and a choice's options clip each on its
                             own (gaussian:0-55+clip|poisson:30+clip)
    gaussian:0-55|saltpepper:0-0.2   a choice: one of them, picked uniformly per call
    none                     the clean image itself

Any numeric parameter but Gaussian's `scale` can be a range `lo-hi`, drawn uniformly per call.
Impulse and salt-and-pepper corrupt each value independently (each channel of each pixel), as
scikit-image's `random_noise` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from vfxdenoise.core.errors import DatasetError, ImageError, NoiseSpecError

if TYPE_CHECKING:
    from vfxdenoise.core.classic.datasets import ImagePair

Param = float | tuple[float, float]  # a value, or a (lo, hi) range drawn uniformly per call


class Noise(Protocol):
    """A seeded noise model: returns a new noisy array, never modifies `clean`."""

    spec: str

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray: ...


def _draw(value: Param, rng: np.random.Generator) -> float:
    return float(rng.uniform(*value)) if isinstance(value, tuple) else float(value)


def _float(clean: np.ndarray) -> np.ndarray:
    return np.asarray(clean, dtype=np.float32 if np.asarray(clean).dtype != np.float64 else np.float64)


@dataclass(frozen=True)
class Identity:
    """No noise (a clean baseline, or the 'no augmentation' member of a choice)."""

    spec: str = "none"

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return _float(clean).copy()


@dataclass(frozen=True)
class Gaussian:
    """Additive white Gaussian noise with standard deviation `sigma` on the 0-1 scale."""

    sigma: Param
    spec: str = "gaussian"

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        clean = _float(clean)
        return clean + rng.normal(0.0, _draw(self.sigma, rng), clean.shape).astype(clean.dtype)


@dataclass(frozen=True)
class Poisson:
    """Shot noise: a value v becomes Poisson(v * photons) / photons (photons counted at white)."""

    photons: Param
    spec: str = "poisson"

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        clean = _float(clean)
        peak = _draw(self.photons, rng)
        return (rng.poisson(np.maximum(clean, 0.0) * peak) / peak).astype(clean.dtype)


@dataclass(frozen=True)
class Impulse:
    """Random-valued impulse noise: a fraction `density` of values becomes uniform in [0, 1]."""

    density: Param
    spec: str = "impulse"

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        noisy = _float(clean).copy()
        hit = rng.random(noisy.shape) < _draw(self.density, rng)
        noisy[hit] = rng.random(int(hit.sum()))
        return noisy


@dataclass(frozen=True)
class SaltPepper:
    """A fraction `density` of values set to 1 (salt, with probability `salt`) or 0 (pepper)."""

    density: Param
    salt: Param = 0.5
    spec: str = "saltpepper"

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        noisy = _float(clean).copy()
        hit = rng.random(noisy.shape) < _draw(self.density, rng)
        noisy[hit] = (rng.random(int(hit.sum())) < _draw(self.salt, rng)).astype(noisy.dtype)
        return noisy


@dataclass(frozen=True)
class Speckle:
    """Multiplicative noise: v * (1 + n), n ~ N(0, sigma^2) (sigma on the 0-1 scale)."""

    sigma: Param
    spec: str = "speckle"

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        clean = _float(clean)
        return clean * (1 + rng.normal(0.0, _draw(self.sigma, rng), clean.shape).astype(clean.dtype))


@dataclass(frozen=True)
class Clip:
    """Values clipped to [0, 1], as an 8- or 16-bit image file holds a noisy image (a chain's last
    link: a model meant for such files learns the noise they hold, not what lies beyond 0 and 1)."""

    spec: str = "clip"

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.clip(_float(clean), 0.0, 1.0)


@dataclass(frozen=True)
class Chain:
    """Several noises applied one after another (e.g. shot noise then read noise)."""

    parts: tuple[Noise, ...]
    spec: str = "chain"

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        noisy = _float(clean)
        for part in self.parts:
            noisy = part(noisy, rng)
        return noisy


@dataclass(frozen=True)
class Choice:
    """One of several noises, picked uniformly per call (mixed training data)."""

    options: tuple[Noise, ...]
    spec: str = "choice"

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.options[int(rng.integers(len(self.options)))](clean, rng)


@dataclass(frozen=True)
class _Kind:
    """A noise a spec can name: its class, parameters (the first one required, all positional in
    this order), the range each may take, and an example value for the error that asks for it."""

    cls: type
    params: tuple[str, ...]
    limits: dict[str, tuple[float, float]]
    example: str


_KINDS = {
    "gaussian": _Kind(Gaussian, ("sigma", "scale"), {"sigma": (0.0, 65535.0), "scale": (1.0, 65535.0)}, "25"),
    "poisson": _Kind(Poisson, ("photons",), {"photons": (1e-3, 1e9)}, "30"),
    "impulse": _Kind(Impulse, ("density",), {"density": (0.0, 1.0)}, "0.2"),
    "saltpepper": _Kind(SaltPepper, ("density", "salt"), {"density": (0.0, 1.0), "salt": (0.0, 1.0)}, "0.1"),
    "speckle": _Kind(Speckle, ("sigma",), {"sigma": (0.0, 10.0)}, "0.2"),
}
# The link that ends a chain by clipping its values to [0, 1].
CLIP = "clip"
# Sigma is given on the 0-255 scale unless the spec says `scale=`.
GAUSSIAN_SCALE = 255.0
_ALIASES = {"gauss": "gaussian", "awgn": "gaussian", "shot": "poisson", "s&p": "saltpepper",
            "sp": "saltpepper", "salt-and-pepper": "saltpepper", "salt_pepper": "saltpepper",
            "random-impulse": "impulse", "multiplicative": "speckle"}
_NUMBER = r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"
# A chain joins noises with "+"; a "+" inside a number's exponent (1e+3) is not a join.
_CHAIN_JOIN = re.compile(r"\+(?=\s*[A-Za-z])")


def _value(text: str, whole: str) -> Param:
    match = re.fullmatch(rf"({_NUMBER})(?:-({_NUMBER}))?", text.strip())
    if not match:
        raise NoiseSpecError(f"noise '{whole}': '{text}' is not a number or a range like 0-55")
    lo = float(match.group(1))
    if match.group(2) is None:
        return lo
    hi = float(match.group(2))
    if hi < lo:
        raise NoiseSpecError(f"noise '{whole}': range {text} runs backwards; write it low-high")
    return (lo, hi)


def _ends(value: Param) -> tuple[float, ...]:
    """The value itself, or both ends of a range."""
    return value if isinstance(value, tuple) else (value,)


def _parse_values(name: str, kind: _Kind, args: str, text: str) -> dict[str, Param]:
    """The parameters of one noise from its comma-separated `args` (positional or key=value);
    refuses unknown, repeated and missing ones."""
    values: dict[str, Param] = {}
    for index, arg in enumerate(a for a in args.split(",") if a.strip()):
        key, eq, raw = arg.partition("=")
        key = key.strip() if eq else (kind.params[index] if index < len(kind.params) else "")
        if key not in kind.params:
            raise NoiseSpecError(f"noise '{text}': unexpected parameter '{arg.strip()}'; "
                                 f"{name} takes {', '.join(kind.params)}")
        if key in values:
            raise NoiseSpecError(f"noise '{text}': {key} is given twice")
        values[key] = _value(raw if eq else arg, text)
    required = kind.params[0]
    if required not in values:
        raise NoiseSpecError(f"noise '{text}' needs its {required}, e.g. {name}:{kind.example}")
    return values


def _check_limits(kind: _Kind, values: dict[str, Param], text: str) -> None:
    """Refuse a parameter (either end of a range) outside the range its noise allows."""
    for key, value in values.items():
        lo, hi = kind.limits[key]
        if any(not lo <= v <= hi for v in _ends(value)):
            raise NoiseSpecError(f"noise '{text}': {key} must lie in [{lo:g}, {hi:g}]")


def _gaussian_on_unit_scale(values: dict[str, Param], text: str) -> dict[str, Param]:
    """Gaussian's sigma moved from the spec's scale (0-255 unless `scale=` says) to 0-1, the
    scale `Gaussian` takes; a sigma above its scale is refused, and a scale that is a range: it
    is the unit sigma is written in, not a value drawn per call (a range of sigma is)."""
    values = dict(values)
    scale = values.pop("scale", GAUSSIAN_SCALE)
    if isinstance(scale, tuple):
        raise NoiseSpecError(f"noise '{text}': scale is the scale sigma is written on (255, or 1), one "
                             "number, not a range; give sigma the range instead, e.g. "
                             "gaussian:sigma=0.05-0.1,scale=1")
    sigma = values["sigma"]
    if max(_ends(sigma)) > scale:
        raise NoiseSpecError(f"noise '{text}': sigma must lie in [0, {scale:g}] (it is on the "
                             f"0-{scale:g} scale; e.g. gaussian:25 or gaussian:sigma=0.1,scale=1)")
    values["sigma"] = tuple(s / scale for s in sigma) if isinstance(sigma, tuple) else sigma / scale
    return values


def _check_clip(links: list[str], option: str) -> None:
    """Refuse a `clip` with parameters, alone, or before the chain's end: a file clips what the
    whole chain gives, once."""
    names = [link.partition(":")[0].strip().lower() for link in links]
    for index, (name, link) in enumerate(zip(names, links)):
        if name != CLIP:
            continue
        if link.partition(":")[2].strip():
            raise NoiseSpecError(f"noise '{option}': clip takes no parameters (it clips to [0, 1]); "
                                 "write it bare, e.g. gaussian:25+clip")
        if len(links) == 1:
            raise NoiseSpecError(f"noise '{option}': clip needs a noise before it (it clips what "
                                 "the chain gives to [0, 1]), e.g. gaussian:25+clip")
        if index != len(links) - 1:
            others = "+".join(link.strip() for link, n in zip(links, names) if n != CLIP)
            raise NoiseSpecError(f"noise '{option}': clip must come last in its chain (a file "
                                 f"clips what the whole chain gives), e.g. {others}+clip")


def _parse_chain(option: str) -> Noise:
    """One option of a choice: a noise, or noises joined by '+' and applied left to right."""
    texts = _CHAIN_JOIN.split(option)
    _check_clip(texts, option.strip())
    links = [_parse_one(text) for text in texts]
    return links[0] if len(links) == 1 else Chain(tuple(links), spec=option.strip())


def _parse_one(text: str) -> Noise:
    """One noise of a chain: `name:args`, none, or clip."""
    name, _, args = text.strip().partition(":")
    name = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if name in ("none", "clean"):
        return Identity()
    if name == CLIP:
        return Clip()
    if name not in _KINDS:
        raise NoiseSpecError(f"unknown noise '{name}' in '{text}'; use one of {', '.join(_KINDS)} or "
                             "none, and clip to end a chain (e.g. gaussian:25, gaussian:25+clip)")
    kind = _KINDS[name]
    values = _parse_values(name, kind, args, text)
    _check_limits(kind, values, text)
    if kind.cls is Gaussian:
        values = _gaussian_on_unit_scale(values, text)
    return kind.cls(**values, spec=text.strip())


def parse_noise(spec: str) -> Noise:
    """Parse a noise spec (see the module docstring) into a callable noise model."""
    if not spec or not spec.strip():
        raise NoiseSpecError("empty noise spec; give e.g. gaussian:25 or none")
    parsed = []
    for option in spec.split("|"):
        if not option.strip():
            raise NoiseSpecError(f"noise '{spec.strip()}': an empty choice (nothing between or beside "
                                 "the '|'s); give a noise on each side, e.g. gaussian:25|saltpepper:0.1")
        parsed.append(_parse_chain(option))
    return parsed[0] if len(parsed) == 1 else Choice(tuple(parsed), spec=spec.strip())


def gaussian_sigma(noise: Noise) -> float | None:
    """The fixed sigma (0-1 scale) of a plain Gaussian noise, else None (for sigma-aware baselines)."""
    if isinstance(noise, Gaussian) and not isinstance(noise.sigma, tuple):
        return float(noise.sigma)
    return None


def add_noise(clean: np.ndarray, noise: Noise | str, seed: int = 0) -> np.ndarray:
    """Noisy copy of `clean` (float values, 0-1 scale) from a noise model or spec, reproducible
    from `seed`. Integer pixels are refused: the noise is drawn on the 0-1 scale, so 0-255 values
    got a sigma 255 times too small (and a float result)."""
    dtype = np.asarray(clean).dtype
    if not np.issubdtype(dtype, np.floating):
        raise ImageError(f"add_noise: the image holds {dtype} values, and noise is drawn on the 0-1 "
                         "scale of float images: divide 8-bit values by 255 (16-bit by 65535) first, "
                         "as the image readers do")
    model = parse_noise(noise) if isinstance(noise, str) else noise
    return model(clean, np.random.default_rng(seed))


def noisy_inputs(pairs: list[ImagePair], noise: Noise | None, seed: int) -> list[np.ndarray]:
    """Fixed noisy versions of `pairs` (image i: `add_noise` with seed + i), the same on every
    call (validation and evaluation score like with like); with no `noise`, their real noisy
    captures (a pair without one is a DatasetError)."""
    if noise is None:
        refuse_missing_captures(pairs, noise)
        return [p.noisy for p in pairs]
    return [add_noise(p.clean, noise, seed + i) for i, p in enumerate(pairs)]


def refuse_missing_captures(pairs: list[ImagePair], noise: Noise | None) -> None:
    """With no synthetic `noise`, every pair's noisy input is its real capture: a pair without
    one is a DatasetError naming it, before any work."""
    missing = next((p.name for p in pairs if p.noisy is None), None) if noise is None else None
    if missing is not None:
        raise DatasetError(f"{missing} has no real noisy capture; give a synthetic noise (--noise)")
