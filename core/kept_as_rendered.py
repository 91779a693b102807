"""What a denoised frame carries as rendered: every channel but each view's beauty and --aov
layers (and alpha, with --alpha denoise), which the network's result replaces, and --keep-noisy's
copies of the beauty; and the NaN and Inf those bring into a run's outputs, counted as its frames
are read (`frame_source`) and said once for the run. Apart from `denoised_frame`, which brings the
denoiser (and PyTorch) with it: a frame's reader needs none (`vfxdenoise info` decodes frames with
it to check the shot's motion)."""

from __future__ import annotations

import threading

from vfxdenoise.core.io.aovs import LayerMap
from vfxdenoise.core.io.exr import ExrImage
from vfxdenoise.core.io.sequence import format_frames


def noisy_names(image: ExrImage, view: str, channels: tuple[str, ...]) -> list[str]:
    """The names --keep-noisy keeps `channels` (a view's beauty, or its alpha) under: `noisy.R`,
    or `noisy.right.R` for a view named in the channels' own names (`right.R`)."""
    names = []
    for channel in channels:
        parts = image.part_channel_name(channel).split(".")
        named_view = [view] if view and len(parts) > 1 and parts[-2] == view else []
        names.append(".".join(["noisy", *named_view, parts[-1]]))
    return names


def written_as_rendered(image: ExrImage, views: dict[str, LayerMap], keep_noisy: bool,
                        alpha_denoised: bool) -> dict[str, str]:
    """The channels the denoised frame of `image` (as read) carries as rendered, by name in the
    output -> the channel of `image` whose values it holds: every channel but each view's beauty
    and --aov layers (and alpha, with --alpha denoise), which `denoised_image` replaces, and with
    `keep_noisy` the beauty's (and that alpha's) copies, `noisy.*` (docs/denoising.md: the beauty
    as rendered). What NaN or Inf these hold reaches the output (`NonFiniteWritten`)."""
    replaced, kept = set(), {}
    for view, layers in views.items():
        denoised = [layers.beauty, *(channels for _, channels in layers.aovs)]
        if alpha_denoised and layers.alpha is not None:
            denoised.append(layers.alpha)
        replaced.update(channel for channels in denoised for channel in channels)
        if keep_noisy:
            copied = [layers.beauty, *([layers.alpha] if alpha_denoised and layers.alpha else [])]
            for channels in copied:
                kept.update(zip(noisy_names(image, view, channels), channels))
    return {**{name: name for name in image.channel_names if name not in replaced}, **kept}


class NonFiniteWritten:
    """NaN and Inf that a run's outputs carry as rendered (`written_as_rendered`: data passes,
    AOVs not denoised, --keep-noisy's beauty), by channel and frame, to be said once for the run
    (`warning`): the network never sees them (`sanitize` replaces them for it), but every channel
    is written as the render has it, so a comp reading one gets them. Added to from the reader
    threads (`add`)."""

    LISTED = 6  # channels named in the warning; the rest counted

    def __init__(self):
        self._lock = threading.Lock()
        self.counts: dict[str, dict[int, int]] = {}  # output channel -> frame -> values

    def add(self, frame: int, counts: dict[str, int]) -> None:
        """`counts` (output channel -> NaN or Inf values) of the output made from `frame`."""
        with self._lock:
            for channel, count in counts.items():
                self.counts.setdefault(channel, {})[frame] = count

    def warning(self) -> str:
        """The run's warning ('' for none): which frames, which channels, how many values."""
        if not self.counts:
            return ""
        frames = sorted({frame for by_frame in self.counts.values() for frame in by_frame})
        listed = [f"{channel} {sum(by_frame.values())} in frame(s) {format_frames(by_frame)}"
                  for channel, by_frame in sorted(self.counts.items())[:self.LISTED]]
        more = len(self.counts) - self.LISTED
        return (f"the outputs of frame(s) {format_frames(frames)} carry NaN or Inf values as "
                f"rendered, in channels written as the render has them (all but the denoised "
                f"beauty and layers; --keep-noisy's copy of the beauty too): {', '.join(listed)}"
                f"{f' and {more} more channel(s)' if more > 0 else ''}. The network saw none of them "
                "(replaced for it), but a comp reading these channels gets them: fix them in the "
                "render, or clamp them in the comp")
