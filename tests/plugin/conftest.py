"""Fixtures of the plugin tests that run requests (test_runner, test_seqprocess)."""

from __future__ import annotations

import pytest


@pytest.fixture
def shot(sequence_factory) -> str:
    """Four frames (1001-1004), 32x32, every canonical AOV: the pattern."""
    return sequence_factory(frames=range(1001, 1005), height=32, width=32)
