"""Errors of host integrations: what a Nuke or Houdini artist sees when a denoise cannot run."""

from __future__ import annotations

from vfxdenoise.core.errors import VfxDenoiseError


class PluginError(VfxDenoiseError):
    """A host request cannot be turned into a denoise (bad layer choice, no frame token, no ROP output)."""


class RunnerError(PluginError):
    """The denoiser could not be started, or it stopped with an error (its message is included).
    `reason` is what the artist needs to read; `exit_note`, for a run that failed, its exit status
    and command line ('vfxdenoise exited with status 2: <command> ...'), what a host writes to its
    log rather than its artist's message. The error's text holds both."""

    def __init__(self, reason: str, exit_note: str | None = None):
        super().__init__(f"{reason} ({exit_note})" if exit_note else reason)
        self.reason = reason
        self.exit_note = exit_note


class DenoiseCancelled(PluginError):
    """The artist cancelled a running denoise; frames finished before the cancel stay on disk."""
