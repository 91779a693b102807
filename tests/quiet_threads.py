"""Runs at once in threads of one process, with the host's `vfxdenoise` logger quieted: how a
daemon or review tool runs several denoises (their warnings must stay each run's own)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


def run_at_once_quietly(calls: list[Callable[[], None]]) -> None:
    """Start each of `calls` in a thread of its own with the `vfxdenoise` logger at ERROR (as a
    host quieting it would set it), wait for all, and give the logger its level back."""
    logger = logging.getLogger("vfxdenoise")
    before = logger.level
    logger.setLevel(logging.ERROR)
    try:
        threads = [threading.Thread(target=call) for call in calls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        logger.setLevel(before)
