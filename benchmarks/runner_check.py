"""What a host's check that its `vfxdenoise` command is vfxdenoise costs, before its long work.

    python benchmarks/runner_check.py [--rounds 8]

`runner_setup.check_runner` runs `<command> --version` once per command (a process start), then
remembers the answer for the session. Times, alternating, the first call for the console script
(`.../bin/vfxdenoise`) and for `python -m vfxdenoise.cli.main` (the session's memory cleared before
each), and the remembered call after each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from vfxdenoise.plugin import runner_setup
from vfxdenoise.plugin.runner import RunnerConfig
from vfxdenoise.plugin.runner_setup import check_runner

COMMANDS = {"console script": str(Path(sys.executable).with_name("vfxdenoise")),
            "python -m": f"{sys.executable} -m vfxdenoise.cli.main"}


def _seconds(config: RunnerConfig) -> float:
    started = time.perf_counter()
    check_runner(config)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    rounds = parser.parse_args().rounds
    first: dict[str, list[float]] = {name: [] for name in COMMANDS}
    remembered: list[float] = []
    for _ in range(rounds):
        for name, command in COMMANDS.items():
            os.environ["VFXDENOISE_COMMAND"] = command
            runner_setup._shows_vfxdenoise.cache_clear()
            config = RunnerConfig.from_environment()
            first[name].append(_seconds(config))
            remembered.append(_seconds(config))
    for name, times in first.items():
        print(f"{name}: first call median {statistics.median(times):.3f} s "
              f"({min(times):.3f}-{max(times):.3f})")
    print(f"remembered: median {statistics.median(remembered) * 1000:.2f} ms "
          f"(max {max(remembered) * 1000:.2f})")


if __name__ == "__main__":
    main()
