"""Build the network input tensor for frame t from the features of frames t-k..t+k (`build_input`):
laid out as `input_layout.InputLayout` says, each neighbour slot showing the frame `slot_plan`
chose for it, brought to t by its flow and mended where its light differs from t's, and frame t's
own firefly bounded (`neighbour_patches`); the layers denoised along with the beauty aligned alike
(`aligned_aovs`); both built one region at a time for tiles (`InputByRegion`).
"""

from __future__ import annotations

import math
from dataclasses import replace
from enum import Enum
from typing import NamedTuple

import torch

from vfxdenoise.core import fused_input
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.input_layout import FLAG_NAMES, AovStack, InputLayout, StackedFrame
from vfxdenoise.core.neighbour_coverage import covered_otherwise, leave_out_covered_otherwise
from vfxdenoise.core.neighbour_patches import (
    OUTLIER_BLOCK,
    SlotBlocks,
    SlotPeaks,
    bound_own_outliers,
    expose_slots,
    leave_out_other_content,
    leave_out_outliers,
    leave_out_relit,
    leave_out_relit_blocks,
)
from vfxdenoise.core.slot_plan import SlotPlan, plan_slots
from vfxdenoise.core.warp import sample_at, warp

# The temporal albedo's running sum (`_albedo_sum`), one (1, 4, H, W) float32 tensor: each
# consistent frame's albedo times its consistency, then the sum of those consistencies (its
# weight, which the colour is divided by); `fused_input.align_slot` adds to it as well. A short
# window's stand-ins (`SlotPlan.stand_ins`) add nothing: t's own albedo again, they pulled the
# mean back to t's noisy one (held5150/seq0000 at 16 spp 0.32 dB below repeats with them, 0.02
# without; BENCHMARKS.md, "Short shots' repeated slots"). They show t's own pixel where their
# guides differ from t's (`slot_plan._own_where_unmatched`), so the mean holds their material.
ALBEDO_SUM_COLOUR = slice(0, 3)
ALBEDO_SUM_WEIGHT = slice(3, 4)


class SlotFill(Enum):
    """How `build_input` fills the neighbour slots (beauty and consistency)."""

    # The fused CUDA kernel where `fused_input.available` says it can run, else PyTorch; should the
    # kernel fail to compile or launch, PyTorch from then on (`fused_input.FALLBACK`). What runs use.
    AUTO = "auto"
    # PyTorch only: the reference the kernel is checked against, and the path on the CPU.
    PYTORCH = "pytorch"
    # The fused kernel only, its failures raised, for checking it (on the CPU it runs under
    # Triton's interpreter only).
    FUSED_KERNEL = "fused kernel"


def _stacked(frames: list[list], device: torch.device) -> torch.Tensor:
    """(len(frames), sum C, H, W) float32 on `device`: each frame's arrays written into one tensor
    (no concatenation temporaries: at 1080p on a 2-core CPU each full-resolution copy costs tens
    of ms)."""
    first = frames[0]
    channels = sum(a.shape[0] for a in first)
    out = torch.empty((len(frames), channels, *first[0].shape[-2:]), device=device)
    for index, arrays in enumerate(frames):
        start = 0
        for array in arrays:
            out[index, start:start + array.shape[0]] = torch.as_tensor(array)
            start += array.shape[0]
    return out


# Pixels per frame that the PyTorch path brings the neighbours to t at a time (`_aligned_slots`), on
# the CPU and on a GPU: band by band of rows, the neighbours' warped beauty and guides and the
# guides' difference never exist for the whole frame (at 4K, for four neighbours, 1.2 and
# 0.8 GB), which lowers `build_input`'s peak memory and, on the CPU, its time (BENCHMARKS.md).
ALIGN_BAND_PIXELS = 2**18
DEVICE_ALIGN_BAND_PIXELS = 2**22
# A band's rows are a multiple of this many: its pixels then fall into the vector steps of the
# CPU's element-wise loops as the whole frame's do, and at the usual frame sizes the input is the
# one built in a single band bit for bit (bands of other heights can round the exp of a few
# pixels per band 1 ulp apart: its vectorised and scalar code differ).
ALIGN_BAND_ROWS = 32


class _Stack(NamedTuple):
    """Frames stacked alike (`StackedFrame`) and warped or not alike, in one tensor: `_aligned`
    brings them to t together (the CPU warps one frame per thread)."""

    offsets: list[int]
    images: torch.Tensor  # (len(offsets), C, H, W): their beauty and guides, where `stack` says
    stack: StackedFrame
    moved: bool  # warped by the flow of its offset
    comparable: bool  # whether their guides are compared with t's (`StackedFrame.compares_with`)


def _stacks(frames: dict[int, FrameFeatures], flows: dict[int, torch.Tensor], centre: StackedFrame,
            device: torch.device) -> list[_Stack]:
    """The frames of `frames` in `_Stack`s, each frame once."""
    groups: dict[tuple[StackedFrame, bool], list[int]] = {}
    for offset, frame in frames.items():
        groups.setdefault((StackedFrame.of(frame), offset in flows), []).append(offset)
    return [_Stack(offsets, _stacked([stack.arrays(frames[o]) for o in offsets], device), stack,
                   moved, stack.compares_with(centre))
            for (stack, moved), offsets in groups.items()]


class _Aligned(NamedTuple):
    """A band of rows of a frame brought to t by `_aligned`."""

    image: torch.Tensor  # (1, C, rows, W): its beauty and guides, where `stack` says
    consistency: torch.Tensor  # (1, 1, rows, W)
    stack: StackedFrame
    comparable: bool  # whether its guides were compared with t's (`StackedFrame.compares_with`)


def _aligned(stacks: list[_Stack], flows: dict[int, torch.Tensor], centre_guides: torch.Tensor | None,
             rows: slice) -> dict[int, _Aligned]:
    """Rows `rows` of each frame's beauty and guide channels brought to t (warped by the flow of
    its offset where there is one), its consistency with t, and whether its guides were
    comparable with t's (`centre_guides`: t's guides alone, stacked as t's frame stacks them).

    Consistency: in bounds after warping, times exp(-8 x the mean absolute difference of the
    guides) where the frame has t's guides. Frames stacked alike share one batched warp and one
    pass of each operation; a band of rows at a time, so that no warped copy or difference of the
    whole frame is made (`ALIGN_BAND_PIXELS`). A band is that band of the whole frame's result
    (up to `ALIGN_BAND_ROWS`' rounding): each pixel's sample and comparison read only its own
    position."""
    aligned = {}
    for group in stacks:
        if group.moved:
            flow = torch.cat([flows[o][..., rows, :] for o in group.offsets])
            images, consistency = warp(group.images, flow, top=rows.start)
        else:
            images = group.images[..., rows, :]
            consistency = images.new_ones((images.shape[0], 1, *images.shape[-2:]))
        if group.comparable:
            guides = group.stack.guide_channels
            mismatch = torch.sub(images[:, guides], centre_guides[..., rows, :]).abs_()
            mismatch = mismatch.sum(dim=1, keepdim=True)
            consistency.mul_(mismatch.mul_(-8.0 / (guides.stop - guides.start)).exp_())
        for index, offset in enumerate(group.offsets):
            aligned[offset] = _Aligned(images[index:index + 1], consistency[index:index + 1], group.stack,
                                       group.comparable)
    return aligned


def aligned_aovs(window: dict[int, FrameFeatures], plan: SlotPlan,
                 device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
                 ) -> torch.Tensor:
    """The centre frame's `aovs` layers and each slot's frame of them, warped to t as `build_input`
    warps the beauty: (1, 3 x slots x layers, H, W) of `dtype`, laid out as `AovStack` says; a
    stand-in's (`SlotPlan.stand_ins`) as the stand-in took them. A slot that repeats a frame
    holds it unwarped (its consistency is 0, so no kernel reads it); a slot whose frame lacks a
    layer holds frame t's own of it there, unwarped, for a kernel that does not read it either
    (`layer_slots_lacking`)."""
    device = torch.device(device)
    window = plan.frames(window)
    centre = window[0]
    names = list(centre.aovs)
    slot_frames = [centre, *(window[o] for o in plan.offsets)]
    stack, frame_stack = AovStack(len(slot_frames), len(names)), AovStack(1, len(names))
    warped = {}
    moved = [o for o in plan.firsts if o in plan.flows]
    if moved:
        stacked = _stacked([[window[o].aovs.get(n, centre.aovs[n]) for n in names] for o in moved], device)
        images = sample_at(stacked, torch.cat([plan.flows[o] for o in moved]))
        warped = {o: images[i] for i, o in enumerate(moved)}
    out = torch.empty((1, stack.channels, centre.height, centre.width), device=device, dtype=dtype)
    for slot, frame in enumerate(slot_frames):
        offset = plan.offsets[slot - 1] if slot else 0
        from_warp = slot and plan.firsts.get(offset) == slot - 1 and offset in warped
        for layer, name in enumerate(names):
            channels = stack.slot(layer, slot)
            if name not in frame.aovs:
                out[0, channels] = torch.as_tensor(centre.aovs[name])
                continue
            out[0, channels] = (warped[offset][frame_stack.slot(layer, 0)] if from_warp
                                else torch.as_tensor(frame.aovs[name]))
            if slot and offset in plan.gains:  # exposed as the beauty is (`expose_slots`)
                out[0, channels] *= plan.gains[offset]
    return out


def layer_slots_lacking(window: dict[int, FrameFeatures], plan: SlotPlan) -> tuple[tuple[int, ...], ...]:
    """Per layer of the centre frame's `aovs`, the neighbour slots (`plan.offsets`' indices)
    whose frame lacks that layer (a wildcard's light group left out of its render): each layer's
    own pass reads them as inconsistent (`layer_denoise.denoise_layers`), so its kernels weigh
    the frames that have it, while the beauty and the other layers keep that neighbour. Empty
    where no slot's frame lacks any."""
    window = plan.frames(window)
    lacking = tuple(tuple(index for index, offset in enumerate(plan.offsets)
                          if name not in window[offset].aovs)
                    for name in window[0].aovs)
    return lacking if any(lacking) else ()


def _albedo_sum(albedo, layout: InputLayout, device: torch.device) -> torch.Tensor | None:
    """With `temporal_albedo`, the window's albedo sum and weight (`ALBEDO_SUM_COLOUR`,
    `ALBEDO_SUM_WEIGHT`) as frame t alone gives them (`albedo`: its albedo, an array or a
    tensor, None where it has none); the slots add theirs."""
    if not layout.temporal_albedo or albedo is None:
        return None
    albedo_sum = torch.empty((1, ALBEDO_SUM_WEIGHT.stop, *albedo.shape[-2:]), device=device)
    albedo_sum[:, ALBEDO_SUM_COLOUR] = torch.as_tensor(albedo)
    albedo_sum[:, ALBEDO_SUM_WEIGHT] = 1.0
    return albedo_sum


def _centre_guides(out: torch.Tensor, layout: InputLayout, albedo, normal) -> None:
    """Frame t's albedo and normal (arrays or tensors; None where it lacks one: zeros) into the
    input; the albedo not where the window's mean will replace it (`_albedo_sum`)."""
    for channels, values in ((layout.albedo, albedo), (layout.normal, normal)):
        if values is None:
            out[:, channels] = 0.0
        elif not (layout.temporal_albedo and channels == layout.albedo):
            out[:, channels] = torch.as_tensor(values)


def _fill_slots(out: torch.Tensor, window: dict[int, FrameFeatures], layout: InputLayout,
                plan: SlotPlan, fill: SlotFill) -> torch.Tensor | None:
    """Fill the neighbour slots (beauty and consistency) and frame t's guides by the fused kernel
    or in PyTorch, as `fill` says; the temporal albedo's sum and weight, if the layout has it."""
    if fill is SlotFill.FUSED_KERNEL:
        return _fused_slots(out, window, layout, plan)
    frames = [window[0], *(window[o] for o in plan.firsts)]
    if fill is SlotFill.PYTORCH or not fused_input.available(out, frames):
        return _aligned_slots(out, window, layout, plan)
    return fused_input.FALLBACK.attempt(lambda: _fused_slots(out, window, layout, plan),
                                        lambda: _aligned_slots(out, window, layout, plan))


def _repeated_slot(out: torch.Tensor, layout: InputLayout, index: int, frame: FrameFeatures) -> None:
    """A slot that repeats a frame another slot shows: the frame as it is, consistency 0."""
    beauty_out, valid = layout.neighbour_views(out, index)
    beauty_out[0] = torch.as_tensor(frame.beauty)
    valid.zero_()


def _aligned_slots(out: torch.Tensor, window: dict[int, FrameFeatures], layout: InputLayout,
                   plan: SlotPlan) -> torch.Tensor | None:
    """`_fill_slots` in PyTorch, band by band of rows (`_aligned`). Frame t's guides are converted
    to float32 once, and what reads them (the comparisons, the input's guide channels, the
    albedo sum) reads that."""
    centre = window[0]
    ours = StackedFrame.of(centre)
    centre_guides = _stacked([ours.guide_arrays(centre)], out.device) if ours.guides else None
    albedo = ours.guide_in("albedo", centre_guides)
    _centre_guides(out, layout, albedo, ours.guide_in("normal", centre_guides))
    albedo_sum = _albedo_sum(albedo, layout, out.device)
    stacks = _stacks({o: window[o] for o in plan.firsts}, plan.flows, ours, out.device)
    for index, offset in enumerate(plan.offsets):
        if plan.firsts.get(offset) != index:
            _repeated_slot(out, layout, index, window[offset])
    band = ALIGN_BAND_PIXELS if out.device.type == "cpu" else DEVICE_ALIGN_BAND_PIXELS
    height, step = centre.height, max(1, band // centre.width // ALIGN_BAND_ROWS) * ALIGN_BAND_ROWS
    for rows in (slice(top, min(top + step, height)) for top in range(0, height, step)):
        aligned = _aligned(stacks, plan.flows, centre_guides, rows)
        for index, offset in enumerate(plan.offsets):
            if plan.firsts.get(offset) != index:
                continue
            beauty_out, valid = (view[..., rows, :] for view in layout.neighbour_views(out, index))
            frame = aligned[offset]
            beauty_out.copy_(frame.image[:, frame.stack.beauty])
            valid.copy_(frame.consistency)
            # Only a frame compared with t adds its albedo (taken by name), weighted by that
            # comparison; no stand-in of a short window (`ALBEDO_SUM_COLOUR`).
            if (albedo_sum is not None and frame.comparable and frame.stack.albedo is not None
                    and offset not in plan.stand_ins):
                albedo_sum[:, ALBEDO_SUM_COLOUR, rows].addcmul_(frame.image[:, frame.stack.albedo],
                                                                frame.consistency)
                albedo_sum[:, ALBEDO_SUM_WEIGHT, rows].add_(frame.consistency)
    return albedo_sum


def _fused_slots(out: torch.Tensor, window: dict[int, FrameFeatures], layout: InputLayout,
                 plan: SlotPlan) -> torch.Tensor | None:
    """`_fill_slots` by one Triton kernel per slot (`fused_input`)."""
    centre = window[0]
    _centre_guides(out, layout, centre.albedo, centre.normal)
    albedo_sum = _albedo_sum(centre.albedo, layout, out.device)
    for index, offset in enumerate(plan.offsets):
        if plan.firsts.get(offset) != index:
            _repeated_slot(out, layout, index, window[offset])
            continue
        fused_input.align_slot(*layout.neighbour_views(out, index), window[offset],
                               plan.flows.get(offset), centre,
                               None if offset in plan.stand_ins else albedo_sum)
    return albedo_sum


def build_input(
    window: dict[int, FrameFeatures], layout: InputLayout, device: torch.device | str = "cpu",
    plan: SlotPlan | None = None, dtype: torch.dtype = torch.float32, fill: SlotFill = SlotFill.AUTO,
    covered: torch.Tensor | None = None,
) -> torch.Tensor:
    """Assemble the (1, C, H, W) input for the centre frame (offset 0) of `window`.

    `window` maps frame offsets to features and covers a contiguous range containing 0, as
    `temporal_window.window_reach` sizes it; `plan` (default: `plan_slots`) says which frame each
    slot shows, past the ends of a window too short for every slot, frame t's stand-ins
    (`SlotPlan.stand_ins`). A slot that repeats a frame another slot shows (a frame held for a
    missing one) is marked inconsistent. The result is filled in place into one preallocated
    tensor of `dtype` (the model's: no conversion pass after; the arithmetic stays in float32): at
    1080p every copy costs ~10 ms. `fill` says how the neighbour slots are filled (`SlotFill`): by
    default by the fused CUDA kernel where it can run, else in PyTorch. The neighbour pixels
    `covered` marks (`neighbour_coverage.covered_otherwise`) are inconsistent, before any rule
    reads the consistency.
    """
    device = torch.device(device)
    centre = window[0]
    plan = plan or plan_slots(window, layout, device)
    window = plan.frames(window)
    out = torch.empty((1, layout.in_channels, centre.height, centre.width), device=device,
                      dtype=dtype)
    out[0, layout.slot_beauty(0)] = torch.as_tensor(centre.beauty)
    albedo_sum = _fill_slots(out, window, layout, plan, fill)
    expose_slots(out, layout, plan)
    if covered is not None:
        leave_out_covered_otherwise(out, layout, covered)
    leave_out_relit(out, layout, plan)
    blocks = SlotBlocks(out, layout, plan)
    leave_out_relit_blocks(out, layout, plan, blocks)
    leave_out_other_content(out, layout, plan, blocks)
    del blocks  # its moments: 5 maps a slot, not held through the outlier checks
    peaks = SlotPeaks(out, layout)
    leave_out_outliers(out, layout, plan, peaks)
    bound_own_outliers(out, layout, plan, peaks)
    if albedo_sum is not None:
        torch.div(albedo_sum[:, ALBEDO_SUM_COLOUR], albedo_sum[:, ALBEDO_SUM_WEIGHT],
                  out=out[:, layout.albedo])
    present = {"albedo": centre.albedo is not None, "normal": centre.normal is not None,
               "motion": plan.use_motion}
    for i, name in enumerate(FLAG_NAMES):
        out[:, layout.flags.start + i] = float(present[name])
    if layout.slot_distances:
        for index, offset in enumerate(plan.offsets):
            out[:, layout.neighbour_distance(index)] = abs(offset) / layout.temporal_radius
    return out


class InputByRegion:
    """The network input of the window's centre frame, with its layers' aligned frames after it
    when `with_aovs` (as `build_input` and `aligned_aovs` make them, concatenated), built one
    region at a time for tiles: at 8K the whole input is 4 GB in float32 and building it
    takes three times that.

    Sliced like the tensor it stands for (`[..., y0:y1, x0:x1]`), it builds that region from the
    frames and flows cropped to the region plus `margin`, the farthest any flow reaches, so every
    sample lands where it lands in the whole frame: the region equals the same region of the
    whole input, up to the rounding of sample positions. With `with_coverage`, the neighbour
    pixels covered otherwise than t are inconsistent (`neighbour_coverage`); with
    `alpha_consistency`, the consistency of the input built without that follows, last, for the
    alpha's own pass (`layer_denoise.denoise_layers`)."""

    def __init__(self, window: dict[int, FrameFeatures], layout: InputLayout, plan: SlotPlan,
                 device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32,
                 with_aovs: bool = False, with_coverage: bool = False, alpha_consistency: bool = False):
        self.window, self.layout, self.plan = window, layout, plan
        self.device, self.dtype = torch.device(device), dtype
        centre = window[0]
        layers = len(centre.aovs) if with_aovs else 0
        self.with_aovs, self.with_coverage = layers > 0, with_coverage
        self.alpha_consistency = alpha_consistency and self.with_aovs
        channels = layout.in_channels + AovStack(1 + len(plan.offsets), layers).channels
        channels += len(plan.offsets) if self.alpha_consistency else 0
        self.shape = torch.Size((1, channels, centre.height, centre.width))
        reach = max((float(flow.abs().amax()) for flow in plan.flows.values()), default=None)
        # Bilinear sampling reads one pixel beyond where a flow lands.
        self.margin = 0 if reach is None else math.ceil(reach) + 2

    def __getitem__(self, index: tuple) -> torch.Tensor:
        _, rows, columns = index
        y0, y1, _ = rows.indices(self.shape[-2])
        x0, x1, _ = columns.indices(self.shape[-1])
        # Blocks of the outlier bound lined up with the whole frame's, and reaching past it.
        reach = self.margin + 3 * OUTLIER_BLOCK
        top = max(0, y0 - reach) // OUTLIER_BLOCK * OUTLIER_BLOCK
        left = max(0, x0 - reach) // OUTLIER_BLOCK * OUTLIER_BLOCK
        bottom = min(self.shape[-2], y1 + reach)
        right = min(self.shape[-1], x1 + reach)
        window = {offset: frame.crop(top, left, bottom - top, right - left)
                  for offset, frame in self.window.items()}
        flows = {offset: flow[..., top:bottom, left:right] for offset, flow in self.plan.flows.items()}
        relit = {offset: mask[..., top:bottom, left:right] for offset, mask in self.plan.relit.items()}
        stand_ins = {offset: frame.crop(top, left, bottom - top, right - left)
                     for offset, frame in self.plan.stand_ins.items()}
        plan = replace(self.plan, flows=flows, relit=relit, stand_ins=stand_ins)
        covered = covered_otherwise(window, plan, self.device, self.dtype) if self.with_coverage else None
        x = build_input(window, self.layout, self.device, plan, self.dtype, covered=covered)
        if self.with_aovs:
            x = torch.cat([x, aligned_aovs(window, plan, self.device, self.dtype)], 1)
        if self.alpha_consistency:
            own = build_input(window, self.layout, self.device, plan, self.dtype)
            x = torch.cat([x, own[:, self.layout.consistency]], 1)
        return x[..., y0 - top:y1 - top, x0 - left:x1 - left]
