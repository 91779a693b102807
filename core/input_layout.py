"""Where things lie in the tensors the network sees: the network input's channels (`InputLayout`,
and `channel_sources` for a model whose input widens), a frame's beauty and guides as they are
stacked to be brought to frame t (`StackedFrame`), and the layers' aligned frames (`AovStack`);
`network_input` builds these tensors.

The network input's channels (all at frame t's resolution), defined once here and recorded in
model cards:

| channels            | content                                                                  |
|---------------------|--------------------------------------------------------------------------|
| 3                   | noisy beauty of t (linear HDR; the model applies its own transfer)        |
| 3 per neighbour     | beauty of t-1..t-k then t+1..t+k, warped to t by motion when available    |
| 1 per neighbour     | consistency in [0,1]: in-bounds and same albedo/normal after warping;     |
|                     | 0 for a slot that repeats another frame (sequence ends, --missing hold)   |
| 3 + 3               | albedo and normal of t (zeros when the render lacks them); with           |
|                     | `temporal_albedo`, the albedo is the consistency-weighted mean of the     |
|                     | window's albedo warped to t                                               |
| 3                   | flags: albedo present, normal present, motion present                     |
| 1 per neighbour     | with `slot_distances`: how many frames from t the slot's frame lies,      |
|                     | / radius (2 for t+4 shown in slot t-2 at a shot's first frame, radius 2)  |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vfxdenoise.core.io.feature_table import FEATURE_TABLE, NETWORK_FEATURES

if TYPE_CHECKING:
    import torch

    from vfxdenoise.core.features import FrameFeatures

# The presence flags: one per feature the networks read that a render may lack (all but the beauty).
FLAG_NAMES = tuple(name for name in NETWORK_FEATURES if name != "beauty")
# The guides: what should match between a pixel and its warped neighbour, in the order a frame's
# are stacked after its beauty (`StackedFrame`).
GUIDE_NAMES = tuple(feature.name for feature in FEATURE_TABLE if feature.guide)


@dataclass(frozen=True)
class InputLayout:
    """The shape of a model's input: how many neighbours on each side it sees; whether its
    albedo is frame t's own or the window's mean (`temporal_albedo`: at 4-16 spp each frame's
    albedo at a texture edge is a fresh sample of the edge's coverage, so a network that
    multiplies its output by the albedo flickers with it; the mean over the consistent frames
    is steadier); and whether it is told how far from t each slot's frame lies
    (`slot_distances`: at a shot's ends the t-1 slot may show t+3, whose moving reflections
    the motion vectors do not align, and which the network should then trust less)."""

    temporal_radius: int = 2
    temporal_albedo: bool = False
    slot_distances: bool = False

    @property
    def slots(self) -> list[int]:
        """Frame offsets in channel order: t, then t-1..t-k, then t+1..t+k."""
        k = self.temporal_radius
        return [0, *range(-1, -k - 1, -1), *range(1, k + 1)]

    @property
    def beauty_channels(self) -> int:
        return 3 * (2 * self.temporal_radius + 1)

    @property
    def beauties(self) -> slice:
        """Every slot's beauty channels, in `slots` order: the channels shown as radiance."""
        return slice(0, self.beauty_channels)

    def slot_beauty(self, slot: int) -> slice:
        """The beauty channels of the frame in `slots[slot]` (slot 0: frame t)."""
        return slice(3 * slot, 3 * slot + 3)

    @property
    def consistency(self) -> slice:
        """One consistency channel per neighbour slot (`slots[1:]` order), after the beauties."""
        return slice(self.beauty_channels, self.albedo_start)

    def neighbour_consistency(self, neighbour: int) -> int:
        """The consistency channel of neighbour slot `neighbour` (`slots[1 + neighbour]`)."""
        return self.beauty_channels + neighbour

    def neighbour_distance(self, neighbour: int) -> int:
        """The slot-distance channel of neighbour slot `neighbour` (with `slot_distances`)."""
        return self.distance_start + neighbour

    def neighbour_views(self, x: torch.Tensor, neighbour: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Neighbour slot `neighbour`'s beauty and consistency channels of an input `x` (views:
        writing them writes `x`)."""
        valid = self.neighbour_consistency(neighbour)
        return x[:, self.slot_beauty(1 + neighbour)], x[:, valid:valid + 1]

    @property
    def albedo_start(self) -> int:
        """Index of frame t's first albedo channel (after the beauty and consistency channels)."""
        return self.beauty_channels + 2 * self.temporal_radius

    @property
    def albedo(self) -> slice:
        """Frame t's albedo channels (the window's mean albedo with `temporal_albedo`)."""
        return slice(self.albedo_start, self.albedo_start + 3)

    @property
    def normal(self) -> slice:
        """Frame t's normal channels, after the albedo."""
        return slice(self.albedo.stop, self.albedo.stop + 3)

    @property
    def flags(self) -> slice:
        """The presence flags (`FLAG_NAMES`, in order), after the normal."""
        return slice(self.normal.stop, self.normal.stop + len(FLAG_NAMES))

    @property
    def distance_start(self) -> int:
        """Index of the first slot-distance channel (after the flags)."""
        return self.flags.stop

    @property
    def in_channels(self) -> int:
        return self.distance_start + (2 * self.temporal_radius if self.slot_distances else 0)


def channel_sources(old: InputLayout, new: InputLayout) -> list[tuple[int, float] | None]:
    """For each of `new`'s input channels, the channel of `old` that holds the same thing and the
    factor that makes a weight on it see the same value (the slot distances are divided by the
    radius), or None where `old` has no such channel (a slot beyond its radius, the distances
    it was built without): what a fine-tune that widens a loaded model's input starts from."""
    sources: list[tuple[int, float] | None] = [None] * new.in_channels
    for new_index, slot in enumerate(new.slots):
        if slot in old.slots:
            old_index = old.slots.index(slot)
            for c in range(3):
                sources[new.slot_beauty(new_index).start + c] = (old.slot_beauty(old_index).start + c, 1.0)
            if slot:  # consistency, and the distance the slot's frame lies from t
                sources[new.neighbour_consistency(new_index - 1)] = (
                    old.neighbour_consistency(old_index - 1), 1.0)
                if new.slot_distances and old.slot_distances:
                    sources[new.neighbour_distance(new_index - 1)] = (
                        old.neighbour_distance(old_index - 1), new.temporal_radius / old.temporal_radius)
    for k in range(new.distance_start - new.albedo_start):  # albedo, normal, flags
        sources[new.albedo_start + k] = (old.albedo_start + k, 1.0)
    return sources


def named_guides(frame: FrameFeatures) -> dict[str, object]:
    """The guides the frame has, by name, in `GUIDE_NAMES` order (its albedo and normal arrays)."""
    return {name: getattr(frame, name) for name in GUIDE_NAMES if getattr(frame, name) is not None}


@dataclass(frozen=True)
class StackedFrame:
    """Where a frame's beauty and guides lie in the tensor `network_input` stacks them in: the
    beauty's 3 channels, then each guide the frame has, in `GUIDE_NAMES` order. A guide the frame
    lacks has no channels (its slice is None) and those after it move up: a frame with a normal
    alone holds it where another frame's albedo lies, so the channels are read by name."""

    guides: tuple[tuple[str, int], ...]  # (name, channels) of each guide the frame has, stacked order

    @classmethod
    def of(cls, frame: FrameFeatures) -> StackedFrame:
        return cls(tuple((name, values.shape[0]) for name, values in named_guides(frame).items()))

    @property
    def beauty(self) -> slice:
        return slice(0, 3)

    def _guide(self, name: str) -> slice | None:
        start = self.beauty.stop
        for guide, channels in self.guides:
            if guide == name:
                return slice(start, start + channels)
            start += channels
        return None

    @property
    def albedo(self) -> slice | None:
        return self._guide("albedo")

    @property
    def normal(self) -> slice | None:
        return self._guide("normal")

    @property
    def guide_channels(self) -> slice:
        """Every guide's channels (none when the frame has no guide), after the beauty."""
        return slice(self.beauty.stop, self.beauty.stop + sum(channels for _, channels in self.guides))

    def guide_in(self, name: str, guides: torch.Tensor | None) -> torch.Tensor | None:
        """Guide `name`'s channels of `guides` (N, guide channels, H, W: a frame's guides alone,
        stacked in this order), a view; None where the frame lacks that guide."""
        channels = self._guide(name)
        if channels is None or guides is None:
            return None
        start = self.guide_channels.start
        return guides[:, channels.start - start:channels.stop - start]

    def guide_arrays(self, frame: FrameFeatures) -> list:
        """`frame`'s arrays of this stack's guides, in its order (`frame`: one stacked so)."""
        return [getattr(frame, name) for name, _ in self.guides]

    def arrays(self, frame: FrameFeatures) -> list:
        """`frame`'s beauty and guides in this order, as they are stacked (`frame`: one stacked so)."""
        return [frame.beauty, *self.guide_arrays(frame)]

    def compares_with(self, centre: StackedFrame) -> bool:
        """Whether a frame stacked so has guides to compare with frame t's (stacked as `centre`):
        t has guides, and the frame has the same ones, at the same channels."""
        return bool(centre.guides) and self == centre


@dataclass(frozen=True)
class AovStack:
    """Where `network_input.aligned_aovs` puts the layers' frames: layer after layer, each as the
    network input holds its beauties (3 channels per slot, in `InputLayout.slots` order), so that
    one layer's channels stand in for them (`layer_denoise.with_beauty`). With one slot: a frame's
    layers stacked one after another (the warped frames `network_input.aligned_aovs` reads)."""

    slots: int
    layers: int

    @classmethod
    def of(cls, aovs: torch.Tensor, layout: InputLayout) -> AovStack:
        """How `aovs`, `network_input.aligned_aovs`' output for a model of `layout`, is stacked."""
        return cls(len(layout.slots), aovs.shape[1] // layout.beauty_channels)

    @property
    def channels(self) -> int:
        return 3 * self.slots * self.layers

    def layer(self, layer: int) -> slice:
        """Every slot of layer `layer`."""
        return slice(3 * self.slots * layer, 3 * self.slots * (layer + 1))

    def slot(self, layer: int, slot: int) -> slice:
        """Layer `layer` of the frame in slot `slot` (slot 0: frame t)."""
        start = self.layer(layer).start + 3 * slot
        return slice(start, start + 3)
