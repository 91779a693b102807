"""Convolutional denoising autoencoder (after Vincent et al. 2010).

An encoder of strided convolutions squeezes the image into a smaller feature map and a decoder of
transposed convolutions rebuilds the clean image from it. There are no skip connections: all that
reaches the output passes the bottleneck, which is what makes it an autoencoder (and what limits
how much fine detail it keeps, compared with DnCNN).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _conv(in_ch: int, out_ch: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1), nn.ReLU(inplace=True)]


class DenoisingAutoencoder(nn.Module):
    """Predicts the clean image directly; inputs of any size are padded to a multiple of 2**levels."""

    def __init__(self, channels: int = 1, widths: tuple[int, ...] = (32, 64)):
        super().__init__()
        widths = tuple(widths)
        if not widths or min(widths) < 1:  # () failed with an IndexError, a 0 at the first image
            raise ValueError(f"the DAE needs one width or more, each at least 1, got widths={list(widths)}")
        encoder: list[nn.Module] = _conv(channels, widths[0])
        previous = widths[0]
        for width in widths:
            encoder += _conv(previous, width, stride=2) + _conv(width, width)
            previous = width
        decoder: list[nn.Module] = []
        for width in reversed((widths[0], *widths[:-1])):
            decoder += [nn.ConvTranspose2d(previous, width, 4, stride=2, padding=1), nn.ReLU(inplace=True)]
            decoder += _conv(width, width)
            previous = width
        decoder.append(nn.Conv2d(previous, channels, 3, padding=1))
        self.encoder, self.decoder = nn.Sequential(*encoder), nn.Sequential(*decoder)
        self.channels = channels
        self.multiple = 2 ** len(widths)
        self.receptive_radius = 8 * self.multiple

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        pad_h, pad_w = -height % self.multiple, -width % self.multiple
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        return self.decoder(self.encoder(x))[..., :height, :width]
