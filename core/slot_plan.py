"""Which frame each neighbour slot of the network input shows, and how it is brought to frame t
(`SlotPlan`, `plan_slots`): the offsets a window's slots show (`slot_offsets`: at a shot's ends,
frames beyond the radius on the other side; past the ends of a window too short for that,
stand-ins), the flows that warp them to t, and where each is lit or exposed otherwise than t
(`neighbour_patches`); and the stand-ins for a frame with no usable neighbour (`with_stand_ins`:
itself, each pixel from nearby where the guides match).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch

from vfxdenoise.core.engine_config import BRIGHTNESS_JUMP
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.io.feature_table import FEATURES
from vfxdenoise.core.neighbour_patches import neighbour_light
from vfxdenoise.core.stand_ins import slot_candidates, stand_ins
from vfxdenoise.core.warp import flows_from_motion


@dataclass
class SlotPlan:
    """Which frame each neighbour slot shows and how it is brought to t: shared by the network
    input and the layers denoised along with the beauty (`network_input.aligned_aovs`), so both
    see the same frames through the same flows."""

    offsets: list[int]  # the frame offset each neighbour slot (`layout.slots[1:]`) shows
    firsts: dict[int, int]  # offset -> the slot showing it first; other slots showing it repeat it
    flows: dict[int, torch.Tensor]  # offset -> flow from t, for the offsets motion reaches
    use_motion: bool
    # offset -> (1, 1, H, W) bool: where that frame is lit otherwise than t
    # (`neighbour_patches.lighting_changes`)
    relit: dict[int, torch.Tensor] = field(default_factory=dict)
    # offset -> what that frame's radiance is multiplied by to be exposed as t is
    # (`neighbour_patches.exposure_gains`)
    gains: dict[int, torch.Tensor] = field(default_factory=dict)
    # whether neighbours are looked at for light changes at all (`brightness_jump` finite): also
    # block by block (`neighbour_patches.leave_out_relit_blocks`)
    judges_light: bool = True
    # offset -> the stand-in shown at it: the slots past the ends of a window too short to give
    # them a frame of their own show frame t's stand-ins at their own offsets (`short_stand_ins`)
    stand_ins: dict[int, FrameFeatures] = field(default_factory=dict)

    def frames(self, window: dict[int, FrameFeatures]) -> dict[int, FrameFeatures]:
        """The frames the slots show, by offset: the window's, and the stand-ins it lacks."""
        return {**window, **self.stand_ins} if self.stand_ins else window

    def own_slots(self) -> list[int]:
        """The neighbour slots (indices into `offsets`) each showing its frame first, in slot order:
        those a check of the neighbours reads (the others repeat them)."""
        return [index for index, offset in enumerate(self.offsets) if self.firsts.get(offset) == index]


def plan_slots(window: dict[int, FrameFeatures], layout: InputLayout,
               device: torch.device | str = "cpu", brightness_jump: float = BRIGHTNESS_JUMP) -> SlotPlan:
    """The slots' frames for the window's centre (offset 0), the flows that warp them to it, and
    where each is lit or exposed otherwise than it (`neighbour_light`, with `brightness_jump`).
    Slots past the window's ends that would repeat a frame show stand-ins (`short_stand_ins`)."""
    device = torch.device(device)
    offsets = slot_offsets(layout, min(window), max(window))
    stand_ins = short_stand_ins(window, layout, offsets)
    offsets = [slot if slot in stand_ins else offset for slot, offset in zip(layout.slots[1:], offsets)]
    moving = [offset for offset in offsets if offset in window]
    back, forward = max(0, -min(moving, default=0)), max(0, max(moving, default=0))
    use_motion = all(window[d].motion is not None for d in window)
    flows = {}
    if use_motion and (back or forward):
        motions = {d: _tensor(window[d].motion, device) for d in range(1 - back, forward + 1)}
        flows = flows_from_motion(motions, back, forward)
    frames = {**window, **stand_ins}
    firsts = _first_slots(frames, layout, offsets)
    relit, gains = neighbour_light(frames, flows, list(firsts), device, brightness_jump)
    return SlotPlan(offsets, firsts, flows, use_motion, relit, gains, math.isfinite(brightness_jump),
                    stand_ins)


def _first_slots(frames: dict[int, FrameFeatures], layout: InputLayout, offsets: list[int]) -> dict[int, int]:
    """Offset -> the slot showing its frame first (`SlotPlan.firsts`), a slot showing its own
    offset before one showing it from past an end; none for frame t's: a slot repeating a frame
    adds nothing."""
    firsts: dict[int, int] = {}
    seen = {id(frames[0])}
    for index in sorted(range(len(offsets)), key=lambda i: offsets[i] != layout.slots[i + 1]):
        offset = offsets[index]
        if id(frames[offset]) not in seen:
            seen.add(id(frames[offset]))
            firsts[offset] = index
    return firsts


def slot_offsets(layout: InputLayout, lo: int, hi: int) -> list[int]:
    """The frame offset each neighbour slot (`layout.slots[1:]`) shows, for a window spanning
    offsets lo..hi (lo <= 0 <= hi). A slot past one end shows a frame beyond `radius` on the other
    side (t+3 and t+4 at a shot's first frame for radius 2), and where the window has no such
    frame, the nearest one again (`short_stand_ins` finds such repeats, which show stand-ins)."""
    offsets = []
    for slot in layout.slots[1:]:
        if lo <= slot <= hi:
            offsets.append(slot)
            continue
        own_side = -lo if slot < 0 else hi
        far = (abs(slot) - own_side + layout.temporal_radius) * (1 if slot < 0 else -1)
        offsets.append(max(lo, min(hi, far)))
    return offsets


# A frame with no usable neighbour (a flash or a cut on both sides, a one-frame shot,
# --temporal-radius 0) has its neighbour slots filled with itself, as neighbours with no motion:
# each slot's pixels taken from a few pixels away, where the guides match
# (`stand_ins.stand_in_sources`), else shifted this many pixels, each slot another way. The
# kernels then pool 33 of its pixels instead of 9, of its own material. 2 scored best of 1, 2
# and 3 as a plain shift (BENCHMARKS.md, "A frame without neighbours").
LONE_FRAME_SHIFT = 2
# A short window's stand-in pixel whose albedo and normal differ from frame t's by more than this
# (mean absolute difference per channel; exp(-8 x it) = 0.5: a consistency under 0.5) shows
# frame t's own pixel (`_own_where_unmatched`).
UNMATCHED = math.log(2) / 8


def with_stand_ins(window: dict[int, FrameFeatures], layout: InputLayout) -> dict[int, FrameFeatures]:
    """The window as the network gets it: a window that shows no frame but its centre (alone,
    or with held copies of itself: --missing hold) becomes `lone_frame_window`."""
    if len({id(frame) for frame in window.values()}) > 1:
        return window
    return lone_frame_window(window[0], layout)


def lone_frame_window(centre: FrameFeatures, layout: InputLayout) -> dict[int, FrameFeatures]:
    """A window for a frame that has no usable neighbour: itself, and in each neighbour slot
    itself with each pixel taken from the slot's candidate offset whose guides best match
    (`stand_ins`; edge pixels repeated), none with motion."""
    still = replace(centre, motion=None)
    return {0: still, **_stand_ins_at(still, layout, sorted(layout.slots[1:]))}


def short_stand_ins(window: dict[int, FrameFeatures], layout: InputLayout,
                    offsets: list[int]) -> dict[int, FrameFeatures]:
    """Offset -> stand-in, for the slots of a window of two frames or more (a shot or a cut's
    segment shorter than the slots, or a window stopped at a flash) whose own offset lies past
    its ends and whose `offsets` entry repeats a frame another slot, or t, shows: each shows,
    at its own offset, the stand-in a lone frame's window has there (`lone_frame_window`) but
    for frame t's own pixels where its guides match t's poorly (`_own_where_unmatched`), not a
    copy the network reads as inconsistent and never saw in training. On the 18 held-out 3-frame
    shot-levels +8.87 dB summed over those copies, the worst -0.02 (BENCHMARKS.md, "Short shots'
    repeated slots"). A lone frame's window is `with_stand_ins`' already; none for a full window,
    nor for a slot within the window repeating a frame held for a missing one (--missing hold)."""
    lo, hi = min(window), max(window)
    if len({id(frame) for frame in window.values()}) < 2:
        return {}
    firsts = _first_slots(window, layout, offsets)
    repeated = [slot for index, (slot, offset) in enumerate(zip(layout.slots[1:], offsets))
                if firsts.get(offset) != index and not lo <= slot <= hi]
    if not repeated:
        return {}
    still = replace(window[0], motion=None)
    return {slot: _own_where_unmatched(stand_in, still)
            for slot, stand_in in _stand_ins_at(still, layout, repeated).items()}


def _own_where_unmatched(stand_in: FrameFeatures, centre: FrameFeatures) -> FrameFeatures:
    """`stand_in` with `centre`'s own pixel (every feature) wherever their albedo and normal differ
    by more than UNMATCHED: there the stand-in shows other material, whose beauty the network
    would divide by a mean albedo that holds none of its own (the stand-ins add nothing to it,
    `network_input.ALBEDO_SUM_COLOUR`): on a two-frame test shot whose blue albedo is 0 and 1 in
    squares, the denoised frame's squared error was 2.5 times the noisy frame's without this
    (0.58 against 0.23), 0.022 with it (`test_denoiser`'s two-frame shot)."""
    guides = [(torch.as_tensor(getattr(stand_in, name)), torch.as_tensor(getattr(centre, name)))
              for name in ("albedo", "normal") if getattr(centre, name) is not None]
    if not guides:
        return stand_in
    difference = sum((ours.float() - theirs.float()).abs().sum(0) for ours, theirs in guides)
    unmatched = difference > UNMATCHED * sum(len(ours) for ours, _ in guides)
    if not bool(unmatched.any()):
        return stand_in
    named = {name: _where(unmatched, getattr(centre, name), getattr(stand_in, name))
             for name in FEATURES if getattr(stand_in, name) is not None}
    layers = {name: _where(unmatched, centre.aovs[name], values) for name, values in stand_in.aovs.items()}
    return replace(stand_in, **named, aovs=layers)


def _where(mask: torch.Tensor, own, taken):
    """`own` where `mask`, else `taken`, in `taken`'s kind (array or tensor) and type."""
    values = torch.as_tensor(taken)
    chosen = torch.where(mask.to(values.device), torch.as_tensor(own), values)
    return chosen if isinstance(taken, torch.Tensor) else chosen.numpy()


def _stand_ins_at(still: FrameFeatures, layout: InputLayout, slots: list[int]) -> dict[int, FrameFeatures]:
    """Offset -> `still`'s stand-in for each of the neighbour `slots` (offsets), each slot the
    candidates it has in every window (`slot_candidates`, by its place among the slots in order)."""
    order = sorted(layout.slots[1:])
    candidates = [slot_candidates(order.index(slot), LONE_FRAME_SHIFT) for slot in slots]
    return dict(zip(slots, stand_ins(still, candidates)))


def _tensor(array, device: torch.device) -> torch.Tensor:
    """(1, C, H, W) float32 on `device` from a (C, H, W) array or tensor (no copy if already there)."""
    return torch.as_tensor(array).to(device=device, dtype=torch.float32).unsqueeze(0)
