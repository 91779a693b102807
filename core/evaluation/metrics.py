"""Image quality metrics shared by the render and the classic (photograph) denoisers.

Every function takes numpy arrays or torch tensors laid out channels-first: (H, W), (C, H, W), or a
batch (N, C, H, W), and returns a Python float. Inputs are compared in float64. Images holding NaN
or Inf are refused (ImageError naming the score and the image), as is a `data_range` not above 0:
their scores were NaN or infinite, and a mean over rows silently NaN; so are the motion vectors and
guides the warped score reads. Images of integers (8-bit values 0-255, say) are refused by every
score alike: none knows the range their codes stand for, and read as the numbers they hold they were
scored on the wrong scale without a word (8-bit images at the default data_range 1: PSNR 48 dB low,
SSIM's stabilising constants 255^2 times too small); the caller converts them to floats
(8-bit values / 255 for [0, 1]).

- `psnr`, `ssim`: for display-referred values in [0, data_range]. Render (HDR) frames go through
  `tonemap` first; classic images in [0, 1] are scored as they are.
- `relmse`: relative MSE on linear HDR values (the rendering literature's metric); `relmse_tensor`
  the same on tensors with their gradient, for the training loss.
- `energy_ratio`: the output's mean radiance over the reference's: below 1, the denoiser darkens.
- `sparkle_rate`: pixels per million far brighter than the reference (bright samples let through).
- `temporal_error`: frame-to-frame change that the reference does not have, pixel by pixel;
  `temporal_error_bands` splits it into coarse (boiling patches) and fine (grain, edges).
  It rewards a result that changes less, so it is read beside `temporal_change_kept`: the share of
  the reference's change the result makes too (0 for a frozen picture, below 1 for a blur).
- `warped_temporal_error`: the same along the motion vectors: flicker alone, without the spatial
  error that moves with the picture.
- `flip`: NVIDIA's FLIP perceptual difference (optional extra `metrics`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from vfxdenoise.core.errors import ImageError
from vfxdenoise.core.warp import warp

# Gaussian-window SSIM constants of Wang et al. 2004, with the window scikit-image uses for
# `gaussian_weights=True`: sigma 1.5 truncated at 3.5 sigma (11 taps).
SSIM_SIGMA = 1.5
SSIM_RADIUS = int(3.5 * SSIM_SIGMA + 0.5)
SSIM_K1, SSIM_K2 = 0.01, 0.03
SSIM_WINDOW = 2 * SSIM_RADIUS + 1  # the smallest side SSIM scores
TONEMAP_GAMMA = 2.2

ArrayLike = np.ndarray | torch.Tensor

# The score of a metric that does not apply, such as a temporal one for a single frame: means
# over sequences leave it out (`scoring.mean_scores`), tables show it as 'n/a'.
NO_SCORE = float("nan")


def _tensor(x: ArrayLike) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float64)
    return torch.from_numpy(np.asarray(x, dtype=np.float64))


def _checked(x: ArrayLike, what: str, name: str) -> torch.Tensor:
    """`x` as a float64 CPU tensor; an ImageError naming `what` reads it and its `name` where it
    holds integers (see the module's docstring) or NaN or Inf."""
    if isinstance(x, torch.Tensor):
        dtype, floating = x.dtype, x.is_floating_point()
    else:
        dtype = np.asarray(x).dtype
        floating = np.issubdtype(dtype, np.floating)
    if not floating:
        raise ImageError(f"{what}: the {name} holds {str(dtype).removeprefix('torch.')} values, not floats; "
                         "convert it to floats in the range it stands for (8-bit values / 255 for [0, 1])")
    t = _tensor(x)
    _check_finite(t, what, name)
    return t


def _pair(a: ArrayLike, b: ArrayLike, what: str,
          names: tuple[str, str] = ("first image", "second image")) -> tuple[torch.Tensor, torch.Tensor]:
    """`a` and `b` as float64 CPU tensors of one shape; an ImageError, naming `what` scores them and
    which of `names` is at fault, for shapes that differ or values that are integers, NaN or Inf."""
    ta, tb = (_checked(x, what, name) for x, name in zip((a, b), names))
    if ta.shape != tb.shape:
        raise ImageError(f"{what}: images differ in shape {tuple(ta.shape)} vs {tuple(tb.shape)}; "
                         "compare images of the same size and channel count")
    if ta.ndim not in (2, 3, 4):
        raise ImageError(f"{what}: expected (H,W), (C,H,W) or (N,C,H,W), got shape {tuple(ta.shape)}")
    return ta, tb


def _check_finite(t: torch.Tensor, what: str, name: str) -> None:
    """Refuse NaN or Inf in `t`: a score of them is NaN (a mean of rows then NaN, silently) or
    infinite (PSNR -inf), where it should say what to mend."""
    bad = ~torch.isfinite(t)
    if bad.any():
        nan = int(torch.isnan(t).sum())
        raise ImageError(f"{what}: the {name} holds NaN or Inf values ({nan} NaN, {int(bad.sum()) - nan} "
                         f"Inf of {t.numel()}); sanitise it first (`seq` and the dataset readers do)")


def _check_data_range(data_range: float, what: str) -> float:
    """`data_range` as a float; an ImageError unless it is a finite number above 0 (the range the
    images' values span: 1 for [0, 1], 255 for 8-bit values): PSNR took -1 as 1, and 0 gave -inf."""
    value = float(data_range)
    if not (np.isfinite(value) and value > 0):
        raise ImageError(f"{what}: data_range={data_range!r}: it is the span of the images' values, "
                         "a finite number above 0 (1 for values in [0, 1], 255 for 8-bit values)")
    return value


def psnr(a: ArrayLike, b: ArrayLike, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB; for a batch (N,C,H,W) the mean of per-image PSNRs.

    Identical images give +inf, and so does a batch holding one identical pair, whatever the others
    score: the mean of the per-image values, as skimage's and the literature's, has no finite value
    then. To average over images some of which may come back exactly, score them one by one and
    count those apart (`classic.image_evaluation.summarize` does).
    """
    data_range = _check_data_range(data_range, "psnr")
    ta, tb = _pair(a, b, "psnr")
    dims = tuple(range(1, ta.ndim)) if ta.ndim == 4 else tuple(range(ta.ndim))
    mse = ((ta - tb) ** 2).mean(dim=dims)
    with np.errstate(divide="ignore"):
        values = 10.0 * np.log10(data_range**2 / mse.numpy())
    return float(np.mean(values))


def _gaussian_kernel() -> torch.Tensor:
    offsets = torch.arange(-SSIM_RADIUS, SSIM_RADIUS + 1, dtype=torch.float64)
    kernel = torch.exp(-(offsets**2) / (2 * SSIM_SIGMA**2))
    return kernel / kernel.sum()


def _blur(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Separable gaussian over (M, 1, H, W) without padding (the 'valid' region only)."""
    x = F.conv2d(x, kernel.view(1, 1, 1, -1))
    return F.conv2d(x, kernel.view(1, 1, -1, 1))


def ssim_size_problem(height: int, width: int) -> str | None:
    """Why SSIM cannot score an image of `height` x `width` pixels (a side under its window,
    `SSIM_WINDOW`), or None where it can. The one size rule, worded once for `ssim` and for the
    checks that refuse such images before a run denoises them (`scoring.check_scorable`,
    `image_evaluation.check_scorable_images`): each says whose image it is and what to do."""
    if min(height, width) >= SSIM_WINDOW:
        return None
    return (f"{width}x{height} pixels, smaller than SSIM's {SSIM_WINDOW}-pixel window (it scores "
            f"images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels)")


def ssim(a: ArrayLike, b: ArrayLike, data_range: float = 1.0) -> float:
    """Structural similarity with an 11-tap gaussian window (sigma 1.5), averaged over channels.

    Matches `skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False)`: the statistics are taken only where the window fits inside the
    image. Images must be at least 11 pixels on each side.
    """
    data_range = _check_data_range(data_range, "ssim")
    ta, tb = _pair(a, b, "ssim")
    height, width = ta.shape[-2:]
    problem = ssim_size_problem(height, width)
    if problem:
        raise ImageError(f"ssim: the images are {problem}; score larger images")
    x = ta.reshape(-1, 1, height, width)
    y = tb.reshape(-1, 1, height, width)
    kernel = _gaussian_kernel()
    mu_x, mu_y = _blur(x, kernel), _blur(y, kernel)
    var_x = _blur(x * x, kernel) - mu_x**2
    var_y = _blur(y * y, kernel) - mu_y**2
    cov = _blur(x * y, kernel) - mu_x * mu_y
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    score = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return float(score.mean())


# Added to the reference's squared radiance in relative MSE, so black pixels do not dominate.
RELMSE_EPSILON = 0.01


def relmse(pred: ArrayLike, ref: ArrayLike, eps: float = RELMSE_EPSILON) -> float:
    """Relative MSE: mean of (pred - ref)^2 / (ref^2 + eps), on linear (HDR) values, in float64
    (`relmse_tensor` of detached copies)."""
    tp, tr = _pair(pred, ref, "relmse", ("prediction", "reference"))
    return float(relmse_tensor(tp, tr, eps))


def relmse_tensor(pred: torch.Tensor, ref: torch.Tensor, eps: float = RELMSE_EPSILON) -> torch.Tensor:
    """`relmse` of tensors as they are: on their device and in their dtype, with the gradient
    (the training loss `render_losses.relmse_loss` is this score)."""
    return (((pred - ref) ** 2) / (ref**2 + eps)).mean()


def energy_ratio(denoised_frames: Sequence[ArrayLike], reference_frames: Sequence[ArrayLike]) -> float:
    """Mean linear radiance of the denoised frames over that of the reference frames (all pixels,
    channels and frames): 1 for a denoiser that keeps the energy. Per-pixel metrics barely see a
    few percent of darkening spread over a shot; a lighting TD comparing against the converged
    render sees it at once (e.g. caustics whose rare bright samples were dropped as noise). NaN
    for a black reference."""
    _check_frame_counts("energy_ratio", denoised=denoised_frames, reference=reference_frames)
    pairs = [_pair(d, r, "energy_ratio", (f"denoised frame {t}", f"reference frame {t}"))
             for t, (d, r) in enumerate(zip(denoised_frames, reference_frames))]
    reference = sum(float(r.sum()) for _, r in pairs)
    return sum(float(d.sum()) for d, _ in pairs) / reference if reference else float("nan")


# A sparkle: a denoised pixel brighter in some channel than SPARKLE_RATIO x the reference +
# SPARKLE_OFFSET (linear radiance). The offset keeps dark pixels' ordinary noise out of the count.
SPARKLE_RATIO = 3.0
SPARKLE_OFFSET = 0.5


def sparkle_rate(denoised_frames: Sequence[ArrayLike], reference_frames: Sequence[ArrayLike],
                 ratio: float = SPARKLE_RATIO, offset: float = SPARKLE_OFFSET) -> float:
    """Sparkles per million pixels over all frames: bright samples a denoiser let through, each a
    dot a compositor paints out. Mean errors hide them (a few pixels among millions); this counts
    them. Zero for the reference itself."""
    _check_frame_counts("sparkle_rate", denoised=denoised_frames, reference=reference_frames)
    sparkles, pixels = 0, 0
    for t, (d, r) in enumerate(zip(denoised_frames, reference_frames)):
        td, tr = _pair(d, r, "sparkle_rate", (f"denoised frame {t}", f"reference frame {t}"))
        bright = td > ratio * tr + offset
        if bright.ndim > 2:  # a pixel counts once, however many of its channels sparkle
            bright = bright.any(dim=-3)
        sparkles += int(bright.sum())
        pixels += bright.numel()
    return 1e6 * sparkles / pixels if pixels else float("nan")


def tonemap(x: ArrayLike) -> ArrayLike:
    """Fixed HDR -> [0, 1) display transform used before PSNR/SSIM/temporal error on renders.

    Negative values are clamped to 0, then Reinhard's x / (1 + x) compresses highlights and a
    1/2.2 gamma spreads the shadows roughly as a display does. It has no parameters, so scores are
    comparable between runs; it is a metric transform, not a look. Returns the input's type.
    """
    if isinstance(x, torch.Tensor):
        clamped = x.clamp(min=0)
        return (clamped / (1 + clamped)) ** (1 / TONEMAP_GAMMA)
    clamped = np.maximum(np.asarray(x), 0)
    return (clamped / (1 + clamped)) ** (1 / TONEMAP_GAMMA)


def _frame_changes(what: str, denoised_frames: Sequence[ArrayLike], reference_frames: Sequence[ArrayLike]):
    """Per frame t >= 1, (t, d_t - d_{t-1}, r_t - r_{t-1}) on tonemapped frames."""
    previous = None
    for t, (d, r) in enumerate(zip(denoised_frames, reference_frames)):
        td, tr = _pair(d, r, what, (f"denoised frame {t}", f"reference frame {t}"))
        current = (tonemap(td), tonemap(tr))
        if previous is not None:
            yield t, current[0] - previous[0], current[1] - previous[1]
        previous = current


def _changes(what: str, denoised_frames: Sequence[ArrayLike], reference_frames: Sequence[ArrayLike]):
    """Per frame t >= 1, (t, (d_t - d_{t-1}) - (r_t - r_{t-1})) on tonemapped frames."""
    for t, denoised, reference in _frame_changes(what, denoised_frames, reference_frames):
        yield t, denoised - reference


def temporal_error(denoised_frames: Sequence[ArrayLike], reference_frames: Sequence[ArrayLike],
                   masks: Sequence[ArrayLike] | None = None) -> float:
    """Mean |(d_t - d_{t-1}) - (r_t - r_{t-1})| over consecutive tonemapped frames.

    Zero when the denoised sequence changes exactly as the reference does; flicker raises it.
    A sequence of fewer than two frames has no frame-to-frame change and no score: NaN (0.0
    would read as no flicker and lower a mean over sequences: `scoring.mean_scores`). `masks`
    (one (H, W) boolean array per frame; the first frame's is unused) restricts the mean to the
    pixels of frame t marked True; NaN when none is.
    """
    _check_frame_counts("temporal_error", denoised=denoised_frames, reference=reference_frames,
                        masks=masks)
    if len(denoised_frames) < 2:
        return NO_SCORE
    total, count = 0.0, 0
    for t, change in _changes("temporal_error", denoised_frames, reference_frames):
        if masks is not None:
            change = change[..., torch.as_tensor(np.asarray(masks[t]), dtype=torch.bool)]
        total += float(change.abs().sum())
        count += change.numel()
    return total / count if count else float("nan")


def temporal_error_bands(denoised_frames: Sequence[ArrayLike], reference_frames: Sequence[ArrayLike],
                         size: int = 9) -> tuple[float, float]:
    """`temporal_error` of the coarse and the fine part of the change the reference does not
    have: that change box-filtered over `size` x `size` pixels, and what the filter removes.

    Coarse change is patches that brighten and darken from frame to frame, the boiling a viewer
    calls flicker. Fine change is grain, and on a moving shot also any fine error (a softened
    texture, a noisy edge) that travels with the picture, and the reference's own noise, which
    no denoiser can follow. (NaN, NaN) for fewer than two frames, as `temporal_error`.
    """
    _check_frame_counts("temporal_error_bands", denoised=denoised_frames, reference=reference_frames)
    coarse_total, fine_total, count = 0.0, 0.0, 0
    for _, change in _changes("temporal_error_bands", denoised_frames, reference_frames):
        planes = change.reshape(-1, 1, *change.shape[-2:])
        padded = F.pad(planes, (size // 2,) * 4, mode="replicate")
        coarse = F.avg_pool2d(padded, size, stride=1)
        coarse_total += float(coarse.abs().sum())
        fine_total += float((planes - coarse).abs().sum())
        count += planes.numel()
    return (coarse_total / count, fine_total / count) if count else (NO_SCORE, NO_SCORE)


def temporal_change_kept(denoised_frames: Sequence[ArrayLike],
                         reference_frames: Sequence[ArrayLike]) -> float:
    """How much of the reference's frame-to-frame change the denoised sequence makes too: the
    slope sum(dd * dr) / sum(dr * dr) of its changes dd = d_t - d_{t-1} on the reference's
    dr = r_t - r_{t-1}, over consecutive tonemapped frames and every pixel.

    The counterpart of `temporal_error`, which a sequence that changes less scores better on: a
    frozen picture (no change) scores 0 here, a blur that softens the moving edges and texture
    below 1, a sequence that changes as the reference does 1. Flicker, change the reference does
    not have, leaves it about where it is (uncorrelated with dr): that is `temporal_error`'s part.
    The reference's own noise is in dr and no denoiser follows it, so against a reference that
    still has noise even a perfect result scores below 1. NaN for fewer than two frames, or where
    the reference does not change at all.
    """
    _check_frame_counts("temporal_change_kept", denoised=denoised_frames, reference=reference_frames)
    followed, reference_power = 0.0, 0.0
    for _, denoised, reference in _frame_changes("temporal_change_kept", denoised_frames, reference_frames):
        followed += float((denoised * reference).sum())
        reference_power += float((reference * reference).sum())
    return followed / reference_power if reference_power > 0 else NO_SCORE


def warped_temporal_error(denoised_frames: Sequence[ArrayLike], reference_frames: Sequence[ArrayLike],
                          motion: Sequence[ArrayLike], guides: Sequence[ArrayLike] | None = None,
                          tolerance: float = 0.05) -> float:
    """Mean |(d_t - W d_{t-1}) - (r_t - W r_{t-1})| over tonemapped frames, where W brings frame
    t-1 to t along frame t's motion vectors (pixels to the previous frame, ARCHITECTURE.md).

    `temporal_error` compares frames pixel by pixel, so on a moving shot an error that travels
    with the picture (a softened texture, a blurred edge) counts as change the reference does not
    have. Warped, such an error cancels and what remains is flicker: error that changes on the
    surface from frame to frame (the warping error of video-consistency work). Only pixels
    visible in both frames count: in bounds and, with `guides` (per-frame (C, H, W) albedo and
    normal, say), whose warped guides match within `tolerance`; bilinear blends across edges and
    disocclusions fail that test. NaN when no pixel qualifies, as for fewer than two frames.
    """
    _check_frame_counts("warped_temporal_error", denoised=denoised_frames, reference=reference_frames,
                        motion=motion, guides=guides)
    pairs = [_pair(d, r, "warped_temporal_error", (f"denoised frame {t}", f"reference frame {t}"))
             for t, (d, r) in enumerate(zip(denoised_frames, reference_frames))]
    mapped = [torch.cat([tonemap(d), tonemap(r)]) for d, r in pairs]  # denoised RGB, then reference RGB
    guide_frames = [_checked(g, "warped_temporal_error", f"guides of frame {t}")
                    for t, g in enumerate(guides or [])]
    channels = mapped[0].shape[0] // 2
    total, pixels = 0.0, 0
    for t in range(1, len(mapped)):
        previous = [mapped[t - 1]] + ([guide_frames[t - 1]] if guides else [])
        vectors = _tensor(motion[t])
        _check_finite(vectors, "warped_temporal_error", f"motion of frame {t}")
        warped, inside = warp(torch.cat(previous).unsqueeze(0), vectors.unsqueeze(0))
        warped, valid = warped[0], inside[0, 0] > 0
        if guides:
            mismatch = (warped[2 * channels:] - guide_frames[t]).abs().amax(dim=0)
            valid &= mismatch <= tolerance
        change = mapped[t] - warped[:2 * channels]
        change = change[:channels] - change[channels:]
        total += float(change[:, valid].abs().sum())
        pixels += int(valid.sum()) * channels
    return total / pixels if pixels else NO_SCORE


def _check_frame_counts(what: str, **sequences: Sequence | None) -> None:
    """Raise unless every given (not None) sequence holds the same number of frames."""
    counts = {name: len(frames) for name, frames in sequences.items() if frames is not None}
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"{n} {name}" for name, n in counts.items())
        raise ImageError(f"{what}: {listed} frames; pass the same frames of each")


def _flip_layout(x: np.ndarray, name: str) -> np.ndarray:
    """(H,W) or (3,H,W) -> contiguous float32 (H,W,3), the layout FLIP reads."""
    if x.ndim == 2:
        x = np.repeat(x[None], 3, axis=0)
    if x.ndim != 3 or x.shape[0] != 3:
        raise ImageError(f"flip: {name} must be (H,W) or (3,H,W), got shape {x.shape}")
    return np.ascontiguousarray(np.transpose(x, (1, 2, 0)), dtype=np.float32)


def flip(test: ArrayLike, reference: ArrayLike, hdr: bool = True) -> float:
    """Mean FLIP error (0 = identical, higher is worse) of `test` against `reference`.

    HDR inputs are linear radiance (negative values clamped to 0, as FLIP requires); LDR inputs
    are sRGB-encoded values clipped to [0, 1]. Inputs are validated here because the
    `flip-evaluator` package exits the process on arguments it rejects.
    """
    ta, tb = _pair(test, reference, "flip", ("test image", "reference image"))
    try:
        import flip_evaluator
    except ImportError as exc:
        raise ImageError("flip: the 'flip-evaluator' package is missing; "
                         "install vfxdenoise[metrics]") from exc
    arrays = []
    for name, t in (("test", ta), ("reference", tb)):
        x = t.numpy()
        x = np.maximum(x, 0.0) if hdr else np.clip(x, 0.0, 1.0)
        arrays.append(_flip_layout(x, name))
    _, mean_error, _ = flip_evaluator.evaluate(arrays[1], arrays[0], "HDR" if hdr else "LDR",
                                               applyMagma=False)
    return float(mean_error)
