"""Temporal residual U-Net: the shipped `fast` render denoiser, and the body `TemporalKPN` extends.

Input: the channel layout of `vfxdenoise.core.input_layout` (the noisy beauty of frames t-k..t+k
warped to t, consistency masks, albedo, normal, presence flags). The network sees the beauty through
a fixed log transfer (no per-frame autoexposure, which would itself flicker).

Output: per-pixel blend weights over the 2k+1 aligned frames, applied to their *linear* radiance
(averaging aligned frames pools their samples, which is unbiased), plus a residual in log space for
what blending cannot fix (spatial noise, disocclusions), added to the pixel's brightest channel and
shared out as the filtered colour is, so that it cannot lift a saturated colour's weak channel
(`with_residual`). The weight logits start from the log of the
consistency masks and the head starts at zero, so an untrained network already averages the
consistent neighbours; training refines from there, which converges far faster than a plain residual.
Where the frames hold no light within the weights' reach (a CG element's empty background), the
output is black, residual or not (`lit_or_black`); where the network itself gives NaN or Inf (weights
from a diverged training run), the output is NaN, which the engine reports (`denoiser`).
With `demodulate` the frames are divided by frame t's albedo before they are filtered and the result
is multiplied by it: the weights then filter shading, and a weight that reaches across a texture
edge no longer blurs the texture (the albedo demodulation of kernel-predicting denoisers).

For speed the first layer is a stride-2 4x4 convolution, so every convolution runs at half
resolution or less, and the head, a 3x3 convolution to 4x the output channels whose pixel shuffle
brings them back to full resolution, runs as the equivalent stride-2 transposed convolution
(`head_transposed`), which writes full resolution directly. The head and `combine` run over bands
of rows, so their many-channel full-resolution intermediates stay in cache on the CPU (several
times faster, with identical results: BENCHMARKS.md) and within bounded memory when training on a
GPU. For inference on CUDA one Triton kernel replaces that stage (`fused_output`). Where the
head's output channels lie is `HeadLayout`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from vfxdenoise.core.input_layout import InputLayout, channel_sources
from vfxdenoise.core.models import fused_output
from vfxdenoise.core.sanitize import MAX_RADIANCE

# log1p of the largest half float: outputs are clamped so they stay finite when written as half.
_MAX_LOG = math.log1p(MAX_RADIANCE)
# Added to the albedo before demodulating by it, so black and missing albedo (zeros) leave the
# radiance as it is (scaled and scaled back) instead of dividing by zero.
ALBEDO_EPSILON = 0.02
# Below this a lit pixel's brightest channel is taken as this, in `with_residual` (no division by 0).
_MIN_PEAK = 1e-12


def to_log(linear: torch.Tensor) -> torch.Tensor:
    """HDR transfer used for the network and its loss: log(1 + x), x clamped at 0."""
    return torch.log1p(linear.clamp(min=0.0))


def from_log(log: torch.Tensor) -> torch.Tensor:
    """Inverse of `to_log`, clamped to the half-float range (in half precision the clamped log
    itself rounds up to a value whose expm1 is inf, hence the second clamp)."""
    return torch.expm1(log.clamp(0.0, _MAX_LOG)).clamp(max=MAX_RADIANCE)


def blend_aligned(beauty: torch.Tensor, consistency: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """The weighted mean of the aligned frames' linear beauty; weights = softmax over slots of
    `logits` + log(consistency).

    `beauty` holds the slots' non-negative linear RGB (N, 3 * slots, H, W); `consistency` the
    neighbours' (N, slots - 1, H, W): the centre frame counts as fully consistent.
    """
    slots = logits.shape[1]
    weights, total = kernel_weights(logits.unflatten(1, (slots, 1)), consistency)
    return (weights * beauty.unflatten(1, (slots, 3))).sum(dim=1) / total


def lit_or_black(filtered_log: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
    """`filtered_log` (log1p of the filtered frames, (N, 3, H, W)) with the `residual` added
    (`with_residual`), except at pixels where the filtering found no light in any channel: those
    stay black. There every frame the weights reach is black (the empty background of a CG element
    rendered over transparency), and the residual, which adds what filtering cannot, would lift them by a haze
    the network learnt on renders that have light everywhere. A NaN (weights that give NaN: a
    diverged training run's) is no "no light": it stays NaN, for the engine to tell from black
    and report (`denoiser.NetworkFailures`), where a test of `> 0` would turn it black unseen."""
    unlit = filtered_log.sum(dim=1, keepdim=True) <= 0
    return torch.where(unlit, 0.0, with_residual(filtered_log, residual))


def with_residual(filtered_log: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
    """log1p of the filtered frames with the residual added in log1p of the pixel's brightest
    channel and each channel's share of it kept: channel c becomes F_c / M * expm1(log1p(M) +
    residual_c), M the filtered pixel's largest channel, clamped at 0 as `from_log` clamps. On a
    grey pixel, and on any pixel's brightest channel, this is the residual added to the channel's
    log1p, as the network was trained; a weaker channel moves by its share of that.
    Added to each channel's own log1p, a residual of a few thousandths (a trained head's over flat
    patches, mostly the same in R, G and B) changed a saturated colour's weak channel by as much
    whatever its level, and was clamped at 0 where negative: over flat saturated patches the
    shipped model lifted the weakest channel 1.1-1.8x (a red of 0.8, 0.02, 0.02 came out pinker;
    BENCHMARKS.md). Not the luminance: a pure blue's is 0.07 of it, and a residual added there
    would move the blue 15x as far as the network meant."""
    filtered = torch.expm1(filtered_log.to(torch.promote_types(filtered_log.dtype, torch.float32)))
    peak = filtered.amax(dim=1, keepdim=True).clamp(min=_MIN_PEAK)
    residual = residual.to(filtered.dtype)
    lifted = torch.expm1((torch.log1p(peak) + residual).clamp(min=0.0))
    shared = torch.log1p(filtered * (lifted / peak))
    # A residual of NaN or Inf (a diverged training run's) stays so, for the engine to report,
    # where the clamp would turn -Inf into a finite black.
    return torch.where(residual.isfinite(), shared, residual).to(filtered_log.dtype)


def kernel_weights(logits: torch.Tensor, consistency: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The softmax of (N, slots, taps, H, W) `logits` + log consistency (the centre slot's is 1)
    over slots and taps together, not yet divided by its sum: the weights and their (N, 1, H, W)
    sum, which the caller divides its filtered result by (3 channels, not slots x taps weights).
    In float32 at least, so a sum of half-float highlights stays finite."""
    dtype = torch.promote_types(logits.dtype, torch.float32)
    peak = logits.detach().amax(dim=(1, 2), keepdim=True).to(dtype)  # keeps exp() in range
    log_prior = torch.cat([torch.zeros_like(consistency[:, :1]),
                           consistency.clamp(min=1e-3).log()], dim=1).to(dtype)
    weights = torch.exp(logits + (log_prior.unsqueeze(2) - peak))
    return weights, weights.sum(dim=(1, 2)).unsqueeze(1)


def head_transposed(head: nn.Conv2d, width: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """`head` (a 3x3 convolution to 4C channels) and the pixel shuffle after it, as one stride-2
    transposed convolution to C channels that writes full resolution without a shuffle's copy:
    its weight and bias. Run it over rows of the head's input with one row of halo above and
    below, padding (4, 2): kernel element (2(2-a) + py, 2(2-c) + px) is tap (a, c) of output
    pixel (2i + py, 2j + px). The bias differs by output phase, which a transposed convolution's
    own cannot: it comes in `dtype` as (C, 1, 2, 2 * width) for an input `width` wide, to add to
    the output viewed as (N, C, rows / 2, 2, 2 * width). Faster than the convolution and a
    shuffle's copy (BENCHMARKS.md)."""
    out_ch, in_ch = head.out_channels // 4, head.in_channels
    taps = head.weight.unflatten(0, (out_ch, 2, 2)).flip(4, 5)  # (C, py, px, in, 2-a, 2-c)
    weight = taps.permute(3, 0, 4, 1, 5, 2).reshape(in_ch, out_ch, 6, 6)
    bias = head.bias.to(dtype).view(out_ch, 1, 2, 1, 2).expand(out_ch, 1, 2, width, 2)
    return weight, bias.flatten(3)


@dataclass(frozen=True)
class HeadLayout:
    """Where a head's output channels lie (after the pixel shuffle): the log-space residual, then
    `taps` weight logits per slot (slot-major, in `InputLayout.slots` order), then a coarse
    level's blend-weight logit (`TemporalKPN`). The head convolution writes `phases` channels
    (consecutive pixel-shuffle phases) for each of these."""

    slots: int
    taps: int
    residual_channels: int = 0
    blend_channels: int = 0
    phases: int = 1

    @property
    def residual(self) -> slice:
        """The residual added to the filtered frames in log space (`lit_or_black`)."""
        return slice(0, self.residual_channels)

    @property
    def weights(self) -> slice:
        """Every slot's weight logits (`combine`'s `logits`)."""
        return slice(self.residual.stop, self.residual.stop + self.slots * self.taps)

    def slot_weights(self, slot: int) -> slice:
        """The weight logits of the frame in slot `slot` (slot 0: frame t)."""
        start = self.weights.start + slot * self.taps
        return slice(start, start + self.taps)

    @property
    def blend(self) -> slice:
        """A coarse level's blend-weight logit (none on the full-resolution head)."""
        return slice(self.weights.stop, self.weights.stop + self.blend_channels)

    @property
    def channels(self) -> int:
        return self.blend.stop

    @property
    def conv_channels(self) -> int:
        """The head convolution's output channels: `phases` per channel."""
        return self.phases * self.channels


# How much lower a slot added by widening a loaded model's window starts in the softmax than the
# outermost slot on its side, whose head rows it copies: e^-2, about 0.14 of its weight.
NEW_SLOT_LOGIT_OFFSET = 2.0

# Leaky ReLU: with plain ReLU a whole layer can die early in training (seen here: the last decoder
# layer went silent and the head could only add a constant), after which nothing learns.
_SLOPE = 0.1
# Channels per U-Net level, full resolution first.
DEFAULT_WIDTHS = (32, 48, 64, 80)


def _rows(x: torch.Tensor, start: int, stop: int, mode: str, columns: int = 0) -> torch.Tensor:
    """Rows start..stop of `x`, which may reach past its top and bottom edges, and `columns` more
    on each side; what lies outside `x` is filled by F.pad's `mode`. A view when nothing is."""
    lo, hi = max(start, 0), min(stop, x.shape[2])
    pads = (columns, columns, lo - start, stop - hi)
    rows = x[:, :, lo:hi]
    return F.pad(rows, pads, mode=mode) if any(pads) else rows


def _act() -> nn.LeakyReLU:
    return nn.LeakyReLU(_SLOPE, inplace=True)


def _block(in_ch: int, out_ch: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, 3, padding=1), _act(),
        nn.Conv2d(out_ch, out_ch, 3, padding=1), _act(),
    )


class TemporalUNet(nn.Module):
    """Residual U-Net over a motion-warped temporal window; see module docstring."""

    taps = 1  # predicted weights per aligned frame and pixel
    halo = 0  # pixels around each output pixel that `combine` reads from the aligned frames
    # Output pixels per band. CPU: few enough that a band's head output stays in cache. GPU:
    # enough that kernel launches stay few, while bounding the many-channel intermediates' memory.
    band_pixels = 16384
    device_band_pixels = 2**21

    def __init__(self, temporal_radius: int = InputLayout.temporal_radius,
                 widths: tuple[int, ...] = DEFAULT_WIDTHS, demodulate: bool = False,
                 temporal_albedo: bool = False, slot_distances: bool = False):
        super().__init__()
        self.layout = InputLayout(temporal_radius, temporal_albedo, slot_distances)
        self.temporal_radius = temporal_radius
        self.widths = tuple(widths)
        self.demodulate = demodulate
        levels = len(widths) - 1
        # Spatial sizes must divide by 2 (unshuffle) * 2**levels (poolings).
        self.multiple = 2 * 2**levels
        self.stem = nn.Sequential(
            nn.Conv2d(self.layout.in_channels, widths[0], 4, stride=2, padding=1), _act()
        )
        encoders, in_ch = [], widths[0]
        for width in widths:
            encoders.append(_block(in_ch, width))
            in_ch = width
        self.encoders = nn.ModuleList(encoders)
        self.decoders = nn.ModuleList(
            _block(widths[i + 1] + widths[i], widths[i]) for i in reversed(range(levels))
        )
        self.slot_count = len(self.layout.slots)
        # An RGB residual and the slots' weights, at half resolution: 4 pixel-shuffle phases each.
        self.head_layout = HeadLayout(self.slot_count, self.taps, residual_channels=3, phases=4)
        self.head = nn.Conv2d(widths[0], self.head_layout.conv_channels, 3, padding=1)
        # He initialisation keeps the signal alive through the ~15 convolutions (PyTorch's default
        # shrinks it at every layer); the head starts at zero so the untrained network is exactly
        # the consistency-weighted temporal mean.
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, a=_SLOPE, nonlinearity="leaky_relu")
                nn.init.zeros_(module.bias)
        nn.init.zeros_(self.head.weight)

    def adopt(self, state: dict[str, torch.Tensor], layout: InputLayout) -> dict[str, torch.Tensor]:
        """`state`, the weights of this architecture built for input `layout`, fitted to this
        network's layout, for a fine-tune that widens a loaded model. The first layer reads each
        input where it now lies and ignores inputs the loaded model lacked (zero weights). A
        slot beyond the loaded radius gets the kernel logits of the outermost slot on its side,
        `NEW_SLOT_LOGIT_OFFSET` lower: the loaded network's output changes a little at the start,
        and the new frames' weights can grow from there (a slot at -inf could never learn)."""
        state = dict(state)
        old_stem = state["stem.0.weight"]
        stem = old_stem.new_zeros(self.stem[0].weight.shape)
        for column, source in enumerate(channel_sources(layout, self.layout)):
            if source is not None:
                stem[:, column] = old_stem[:, source[0]] * source[1]
        state["stem.0.weight"] = stem
        for name, head in self._head_layouts().items():
            if f"{name}.weight" not in state:  # coarse levels the fine-tune adds: built afresh
                continue
            rows = self._head_sources(layout.slots, head)
            for suffix in ("weight", "bias"):
                old = state[f"{name}.{suffix}"].unflatten(0, (-1, head.phases))
                new = old[[source for source, _ in rows]].clone()
                if suffix == "bias":
                    new[[added for _, added in rows]] -= NEW_SLOT_LOGIT_OFFSET
                state[f"{name}.{suffix}"] = new.flatten(0, 1)
        return state

    def _head_layouts(self) -> dict[str, HeadLayout]:
        """Each head predicting per-slot weights, by its name in the state dict."""
        return {"head": self.head_layout}

    def _head_sources(self, old_slots: list[int], head: HeadLayout) -> list[tuple[int, bool]]:
        """Per channel of `head` (before pixel-shuffle phases): the channel it takes of the
        loaded head, whose slots were `old_slots`, and whether it belongs to a slot the loaded
        model lacked."""
        old = replace(head, slots=len(old_slots))
        rows = [(c, False) for c in range(old.residual.start, old.residual.stop)]
        for slot in self.layout.slots:
            known = slot in old_slots
            source = slot if known else (max(old_slots) if slot > 0 else min(old_slots))
            taken = old.slot_weights(old_slots.index(source))
            rows += [(c, not known) for c in range(taken.start, taken.stop)]
        return rows + [(c, False) for c in range(old.blend.start, old.blend.stop)]

    def forward_log(self, x: torch.Tensor) -> torch.Tensor:
        """Denoised beauty of frame t in the log transfer space (what the loss compares)."""
        return self._output(self.body(x), x)

    def run_convolutions_in(self, dtype: torch.dtype) -> None:
        """Run every convolution (the U-Net and its heads) in `dtype`, and the output stage (the
        weights' softmax, the filtering of the frames, the residual) in the type of the input as
        before. For bfloat16 on CPUs with bfloat16 matrix instructions: the convolutions are most
        of the network's time, and they only predict the weights and the residual, while the
        filtering of HDR frames needs float32's precision."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                module.to(dtype)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        """The U-Net's last decoder features at half resolution: what the head reads."""
        h = self.stem(self._features(x, self.stem[0].weight.dtype))
        skips = []
        for level, encoder in enumerate(self.encoders):
            if level:
                h = F.max_pool2d(h, 2)
            h = encoder(h)
            skips.append(h)
        for decoder, skip in zip(self.decoders, reversed(skips[:-1])):
            h = F.interpolate(h, scale_factor=2.0, mode="nearest")
            h = decoder(torch.cat([h, skip], dim=1))
        return h

    def _output(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Head, `combine` and residual, band by band of output rows. Each band's
        head convolution reads one row of `h` above and below it, or the head's zero padding at
        the frame's edges, so bands give the whole frame's result. On a GPU, for inference, one
        fused kernel does it all (`fused_output`), unless it cannot run on the machine."""
        if fused_output.available(x):
            return fused_output.FALLBACK.attempt(lambda: self.fused_output(h, x),
                                                 lambda: self._banded_output(h, x))
        return self._banded_output(h, x)

    def _banded_output(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """`_output` in PyTorch, band by band."""
        n, _, height, width = x.shape
        beauty, consistency, albedo = self._frame_inputs(x)
        pixels = self.band_pixels if x.device.type == "cpu" else self.device_band_pixels
        rows = max(2, pixels // (n * width) // 2 * 2)
        weight, bias = head_transposed(self.head, h.shape[3], x.dtype)
        parts = self.head_layout
        bands = []
        for top in range(0, height, rows):
            bottom = min(top + rows, height)
            first, last = top // 2, (bottom + 1) // 2  # the rows of `h` under the band
            head_in = _rows(h, first - 1, last + 1, "constant")  # the head's zero padding
            out = F.conv_transpose2d(head_in, weight, stride=2, padding=(4, 2))
            # One pass to the type the bias is added in and a plain layout (from bfloat16
            # channels-last on the CPU), then the bias in place: the same values as a copy to
            # the plain layout and an add into a new tensor, with one pass less.
            out = out.to(torch.promote_types(out.dtype, bias.dtype), memory_format=torch.contiguous_format)
            out = out.unflatten(2, (-1, 2)).add_(bias).flatten(2, 3)[..., :bottom - top, :width]
            frames = _rows(beauty, top - self.halo, bottom + self.halo, "replicate", self.halo)
            frames = frames.clamp(min=0.0)
            if self.demodulate:
                band_albedo = _rows(albedo, top - self.halo, bottom + self.halo, "replicate", self.halo)
                filtered = self._demodulated(frames, band_albedo, consistency[:, :, top:bottom],
                                             out[:, parts.weights])
            else:
                filtered = torch.log1p(self.combine(frames, consistency[:, :, top:bottom],
                                                    out[:, parts.weights]))
            bands.append(lit_or_black(filtered, out[:, parts.residual]))
        return torch.cat(bands, dim=2) if len(bands) > 1 else bands[0]

    def _frame_inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Views of what the output stage filters, from the network input: the aligned frames'
        beauty, the neighbours' consistency and the albedo."""
        return x[:, self.layout.beauties], x[:, self.layout.consistency], x[:, self.layout.albedo]

    def _shading(self, frames: torch.Tensor, albedo: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The aligned frames divided by the albedo (+ `ALBEDO_EPSILON`), in float32, and that
        divisor: what demodulated filtering filters, and what it multiplies back."""
        divisor = albedo.float() + ALBEDO_EPSILON
        shading = frames.float().unflatten(1, (self.slot_count, 3)) / divisor.unsqueeze(1)
        return shading.flatten(1, 2), divisor

    def fused_output(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """What `_output` gives, from the fused Triton kernel (see `fused_output.available`)."""
        return fused_output.fused_output(self.head(h), x, self.slot_count, 2 * self.halo + 1,
                                         ALBEDO_EPSILON if self.demodulate else None)

    def _demodulated(self, frames: torch.Tensor, albedo: torch.Tensor, consistency: torch.Tensor,
                     logits: torch.Tensor) -> torch.Tensor:
        """log1p of `combine` applied to the frames divided by frame t's albedo at each tap, times
        the albedo at the output pixel: filtering shading instead of radiance, so a kernel that
        reaches across a texture edge does not blur the texture. In float32 up to the log:
        dividing by a dark albedo can take a highlight past half precision's range."""
        shading, divisor = self._shading(frames, albedo)
        filtered = self.combine(shading, consistency, logits)
        halo = self.halo
        at_pixel = divisor[..., halo:divisor.shape[-2] - halo, halo:divisor.shape[-1] - halo]
        return torch.log1p(filtered * at_pixel).to(frames.dtype)

    def combine(self, beauty: torch.Tensor, consistency: torch.Tensor, logits: torch.Tensor
                ) -> torch.Tensor:
        """The aligned frames (linear) filtered by the predicted weights (one per frame here);
        `beauty` is padded by `halo` pixels on every side."""
        return blend_aligned(beauty, consistency, logits)

    def _features(self, x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """The stem's input in `dtype`: log beauty and the other channels, replicate-padded at the
        bottom and right to a multiple of `self.multiple`, written into one channels-last buffer
        (no concatenation, padded copy or layout conversion of the full-resolution input). The log
        is taken in the input's layout and type, band by band, before the buffer's conversion:
        faster than in the buffer (BENCHMARKS.md) and, into bfloat16, rounded once, not twice."""
        height, width = x.shape[-2:]
        padded = (height + -height % self.multiple, width + -width % self.multiple)
        features = torch.empty((x.shape[0], x.shape[1], *padded), dtype=dtype, device=x.device,
                               memory_format=torch.channels_last)
        beauty = self.layout.beauty_channels
        rows = max(1, self.device_band_pixels // width)  # bounds the log's temporary
        for top in range(0, height, rows):
            band = slice(top, min(top + rows, height))
            features[:, :beauty, band, :width] = x[:, :beauty, band].clamp(min=0.0).log1p_()
        features[:, beauty:, :height, :width] = x[:, beauty:]
        if padded[1] > width:
            features[:, :, :height, width:] = features[:, :, :height, width - 1:width]
        if padded[0] > height:
            features[:, :, height:] = features[:, :, height - 1:height]
        return features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Denoised linear HDR beauty of frame t, (N, 3, H, W): NaN wherever the network's log
        result is NaN or infinite (weights that overflow), which `from_log`'s clamp would
        otherwise pass off as black or as a 65504 highlight; the engine counts and reports such
        pixels (`denoiser.NetworkFailures`). One elementwise pass over the output."""
        log = self.forward_log(x)
        return from_log(log.nan_to_num(nan=math.nan, posinf=math.nan, neginf=math.nan))
