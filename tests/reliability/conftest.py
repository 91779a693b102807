"""Fixtures for reliability tests: a small real shot, engine settings and the real CLI."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from vfxdenoise.core.engine import EngineConfig
from vfxdenoise.core.io.sequence import FramePattern, parse_pattern


@pytest.fixture
def shot(sequence_factory) -> FramePattern:
    """Six frames (1-6), 32x48, every canonical AOV."""
    return parse_pattern(sequence_factory(frames=range(1, 7)))


@pytest.fixture
def config(tiny_weights) -> Callable[..., EngineConfig]:
    """EngineConfig on the CPU with the tiny test weights; keyword arguments override."""
    return lambda **kwargs: EngineConfig(**{"model": str(tiny_weights), "device": "cpu", **kwargs})


@pytest.fixture
def cli(tiny_weights) -> Callable[..., Result]:
    """Run `vfxdenoise seq ARGS --model tiny --device cpu` in this process (click's CliRunner)."""
    from vfxdenoise.cli.main import cli as group

    def invoke(*args: object, model: object = tiny_weights) -> Result:
        argv = ["seq", *map(str, args), "--model", str(model), "--device", "cpu"]
        return CliRunner().invoke(group, argv, catch_exceptions=False)
    return invoke
