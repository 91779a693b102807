"""Errors of host integrations: what a Nuke or Houdini artist sees when a denoise cannot run."""

from __future__ import annotations

from vfxdenoise.core.errors import VfxDenoiseError


class PluginError(VfxDenoiseError):
    """A host request cannot be turned into a denoise (bad layer choice, no frame token, no ROP output)."""


class RunnerError(PluginError):
    """The denoiser could not be started, or it stopped with an error (its message is included)."""


class DenoiseCancelled(PluginError):
    """The artist cancelled a running denoise; frames finished before the cancel stay on disk."""
