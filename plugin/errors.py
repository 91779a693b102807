"""Errors of host integrations: what a Nuke or Houdini artist sees when a denoise cannot run."""

from __future__ import annotations

from vfxdenoise.core.errors import VfxDenoiseError

# How a failed `vfxdenoise seq` run's message ends (`seqprocess._failure_message`): its exit status
# and command line, for a TD, after the reason, for the artist.
EXIT_NOTE = " (vfxdenoise exited with status "


class PluginError(VfxDenoiseError):
    """A host request cannot be turned into a denoise (bad layer choice, no frame token, no ROP output)."""


class RunnerError(PluginError):
    """The denoiser could not be started, or it stopped with an error (its message is included)."""

    @property
    def reason(self) -> str:
        """The message without its exit note (`exit_note`): what the artist needs to read."""
        return self._split()[0]

    @property
    def exit_note(self) -> str | None:
        """'vfxdenoise exited with status 2: <command> ...' where the message ends in one (a run
        that failed), else None: what a host writes to its log rather than its artist's message."""
        return self._split()[1]

    def _split(self) -> tuple[str, str | None]:
        message = str(self)
        reason, note, rest = message.rpartition(EXIT_NOTE)
        if not note or not rest.endswith(")"):
            return message, None
        return reason, note.removeprefix(" (") + rest[:-1]


class DenoiseCancelled(PluginError):
    """The artist cancelled a running denoise; frames finished before the cancel stay on disk."""
