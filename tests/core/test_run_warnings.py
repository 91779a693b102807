"""A run's warnings gathered apart from other runs' (`run_warnings`): from its own thread and from
the pool threads it hands work to, whether logged through `warn` or plainly under `vfxdenoise`."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import OpenEXR
from exr_sequences import write_sequence

from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.run_warnings import carried, gathered, warn

log = logging.getLogger("vfxdenoise.core.tests")


def _plainly(message: str) -> None:
    log.warning("%s", message)


def test_a_warning_logged_plainly_on_a_pool_thread_is_the_run_that_handed_it_over_carried(caplog):
    """A pool thread serves no run of its own: its plain `logger.warning` was taken by no run
    (the runs took their own thread's alone). It is the run's whose context the work was handed
    over in (`carried`); work handed over otherwise is no run's."""
    with caplog.at_level(logging.WARNING, logger="vfxdenoise"), gathered() as found, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="pool") as pool:
        pool.submit(carried(_plainly), "carried").result()
        pool.submit(carried(warn), log, "carried through warn").result()
        pool.submit(_plainly, "handed over without the run").result()
        _plainly("on the run's thread")
    assert found == ["carried", "carried through warn", "on the run's thread"]
    assert [r.threadName for r in caplog.records if r.getMessage() == "carried"] == ["pool_0"]


def test_two_runs_in_threads_each_gather_their_own_pool_threads_warnings():
    """A daemon's runs at once, each handing work to a pool (one pool shared, as threads are
    reused): each run's list holds what its own work logged, and nothing of the other's."""
    lists: dict[str, list[str]] = {}
    both_started = threading.Barrier(2)

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="shared") as pool:
        def run(name: str) -> None:
            with gathered() as found:
                both_started.wait()
                for index in range(5):
                    pool.submit(carried(_plainly), f"{name} {index}").result()
                lists[name] = found

        threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert lists == {name: [f"{name} {index}" for index in range(5)] for name in ("a", "b")}


def test_plain_warnings_on_a_runs_reader_writer_and_resume_check_threads_reach_its_summary(
        tmp_path, tiny_weights, monkeypatch, caplog):
    """A plain `logger.warning` under `vfxdenoise` on the threads a real run reads, writes and
    checks its outputs on was logged, but missing from the run's `warnings` (the handler took the
    run's own thread's alone). Here OpenEXR's module, which those threads decode and encode
    through, logs one on each call from such a thread, naming it."""
    real = OpenEXR.File

    def file(*args, **options):
        name = threading.current_thread().name
        if name.startswith("exr-"):
            logging.getLogger("vfxdenoise.core.io.exr").warning("OpenEXR called on %s", name.split("_")[0])
        return real(*args, **options)

    monkeypatch.setattr(OpenEXR, "File", file)
    pattern = write_sequence(tmp_path / "shot", frames=range(1, 6), height=16, width=16)
    out = str(tmp_path / "out" / "o.####.exr")
    config = EngineConfig(model=str(tiny_weights), device="cpu", io_threads=2)
    with caplog.at_level(logging.WARNING, logger="vfxdenoise"):
        first = denoise_sequence(pattern, out, config=config)
        resumed = denoise_sequence(pattern, out, config=EngineConfig(
            model=str(tiny_weights), device="cpu", io_threads=2, existing="resume"))
    logged = {r.threadName.split("_")[0] for r in caplog.records if r.getMessage().startswith("OpenEXR")}
    assert {"exr-read", "exr-write", "exr-check"} <= logged  # the premise: logged on those threads
    assert {"OpenEXR called on exr-read", "OpenEXR called on exr-write"} <= set(first.warnings)
    assert "OpenEXR called on exr-check" in resumed.warnings  # its outputs' check
    assert all(w.startswith("OpenEXR called on exr-") for w in first.warnings + resumed.warnings)
    assert resumed.frames("skipped") == [1, 2, 3, 4, 5]
