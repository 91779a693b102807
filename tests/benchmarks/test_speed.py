"""benchmarks/speed.py times ours and OIDN alike: in turn, round by round, by one statistic."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def speed(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.delitem(sys.modules, "speed", raising=False)
    import speed

    return speed


def test_the_calls_are_timed_in_turn_and_each_by_the_median_of_its_rounds(speed, monkeypatch):
    clock = [0.0]  # seconds, advanced by the calls alone: the machine's load plays no part
    monkeypatch.setattr(speed, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    order: list[str] = []
    seconds = iter([0, 0, 0.09, 0.01, 0.01])  # two warm-ups, then a round slowed by the machine

    def call(name: str, taking: float | None = None):
        def run() -> None:
            order.append(name)
            clock[0] += next(seconds) if taking is None else taking
        return run

    calls = {"engine": (call("engine", 0.03), 3), "network": (call("network", 0.002), 1),
             "oidn": (call("oidn"), 1)}
    timed = speed._interleaved_ms(calls, repeats=3)
    assert order == ["engine"] * 2 + ["network"] * 2 + ["oidn"] * 2 + [
        "engine", "network", "oidn", "network", "oidn", "engine", "oidn", "engine", "network"]
    assert timed == pytest.approx({"engine": 10, "network": 2, "oidn": 10})  # not oidn's mean, 37
