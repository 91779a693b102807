"""Which frame each neighbour slot of the network input shows, and how it is brought to frame t
(`SlotPlan`, `plan_slots`): the offsets a window's slots show (`slot_offsets`: at a shot's ends,
frames beyond the radius on the other side), the flows that warp them to t, and where each is lit
or exposed otherwise than t (`neighbour_patches`); and the stand-ins for a frame with no usable
neighbour (`with_stand_ins`: itself, each pixel from nearby where the guides match).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch

from vfxdenoise.core.engine_config import BRIGHTNESS_JUMP
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.input_layout import InputLayout
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

    def own_slots(self) -> list[int]:
        """The neighbour slots (indices into `offsets`) each showing its frame first, in slot order:
        those a check of the neighbours reads (the others repeat them)."""
        return [index for index, offset in enumerate(self.offsets) if self.firsts.get(offset) == index]


def plan_slots(window: dict[int, FrameFeatures], layout: InputLayout,
               device: torch.device | str = "cpu", brightness_jump: float = BRIGHTNESS_JUMP) -> SlotPlan:
    """The slots' frames for the window's centre (offset 0), the flows that warp them to it, and
    where each is lit or exposed otherwise than it (`neighbour_light`, with `brightness_jump`)."""
    device = torch.device(device)
    lo, hi = min(window), max(window)
    offsets = slot_offsets(layout, lo, hi)
    back, forward = max(0, -min(offsets)), max(0, max(offsets))
    use_motion = all(window[d].motion is not None for d in window)
    flows = {}
    if use_motion and (back or forward):
        motions = {d: _tensor(window[d].motion, device) for d in range(1 - back, forward + 1)}
        flows = flows_from_motion(motions, back, forward)
    # The slot showing each frame, its own slot first: a slot repeating a frame adds nothing.
    firsts: dict[int, int] = {}
    seen = {id(window[0])}
    for index in sorted(range(len(offsets)), key=lambda i: offsets[i] != layout.slots[i + 1]):
        offset = offsets[index]
        if id(window[offset]) not in seen:
            seen.add(id(window[offset]))
            firsts[offset] = index
    relit, gains = neighbour_light(window, flows, list(firsts), device, brightness_jump)
    return SlotPlan(offsets, firsts, flows, use_motion, relit, gains, math.isfinite(brightness_jump))


def slot_offsets(layout: InputLayout, lo: int, hi: int) -> list[int]:
    """The frame offset each neighbour slot (`layout.slots[1:]`) shows, for a window spanning
    offsets lo..hi (lo <= 0 <= hi). A slot past one end shows a frame beyond `radius` on the other
    side (t+3 and t+4 at a shot's first frame for radius 2), and where the window has no such
    frame, the nearest one again (`network_input.build_input` marks such repeats)."""
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
    window = {0: still}
    offsets = sorted(layout.slots[1:])
    slots = [slot_candidates(index, LONE_FRAME_SHIFT) for index in range(len(offsets))]
    window.update(zip(offsets, stand_ins(still, slots)))
    return window


def _tensor(array, device: torch.device) -> torch.Tensor:
    """(1, C, H, W) float32 on `device` from a (C, H, W) array or tensor (no copy if already there)."""
    return torch.as_tensor(array).to(device=device, dtype=torch.float32).unsqueeze(0)
