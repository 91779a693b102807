"""The JSON progress events both ends of `seq --progress json` share: their lines as pipelines read
them (ARCHITECTURE.md), and what the runner makes of other lines."""

from __future__ import annotations

from stdlib_only import heavy_modules_after

from vfxdenoise.core.frame_status import FrameStatus
from vfxdenoise.plugin.events import (
    DONE,
    ERROR,
    FRAME,
    SKIPPED,
    START,
    WRITTEN,
    decode,
    done_event,
    encode,
    error_event,
    frame_event,
    kind,
    start_event,
)


def test_each_event_is_the_line_pipelines_read():
    assert encode(start_event(3)) == '{"event": "start", "total": 3}'
    assert encode(frame_event(1001, 1, 3, "written", "/o/d.1001.exr", 1.23456, "")) == (
        '{"event": "frame", "frame": 1001, "index": 1, "total": 3, "status": "written", '
        '"path": "/o/d.1001.exr", "seconds": 1.235, "message": ""}')
    assert encode(done_event("/o/d.####.exr", [1001], [], missing=[], failed=[1002], seconds=2.5)) == (
        '{"event": "done", "output": "/o/d.####.exr", "written": [1001], "skipped": [], '
        '"missing": [], "failed": [1002], "seconds": 2.5}')
    assert encode(error_event('frame 1002: "bad"')) == (
        '{"event": "error", "message": "frame 1002: \\"bad\\""}')


def test_a_line_is_read_back_as_its_event_and_other_lines_as_none():
    for event, name in ((start_event(0), START), (frame_event(1, 1, 1, "failed", "p", 0.0, "why"), FRAME),
                        (done_event("o", [], [1]), DONE), (error_event("no"), ERROR)):
        assert decode(encode(event)) == event and kind(event) == name
    for stray in ("", "Warning: damaged chunk", "[1, 2]", '"done"', "{"):
        assert decode(stray) is None
    assert kind({"total": 1}) is None


def test_frame_statuses_are_the_words_the_events_and_the_cli_print():
    """One name per outcome for the engine, the CLI and the events, printed as the word itself by
    JSON, str() and f-strings alike (a (str, Enum) member's f-string is 'FrameStatus.WRITTEN' from
    Python 3.12 on); the done event lists the frames under their status."""
    statuses = (FrameStatus.WRITTEN, FrameStatus.SKIPPED, FrameStatus.MISSING, FrameStatus.FAILED)
    words = ("written", "skipped", "missing", "failed")
    assert tuple(f"{s}" for s in statuses) == tuple(map(str, statuses)) == words
    assert '"status": "failed"' in encode(frame_event(1, 1, 1, FrameStatus.FAILED, "p", 0.0, ""))
    assert (WRITTEN, SKIPPED) == statuses[:2]


def test_hosts_read_the_events_without_torch_numpy_or_fileseq():
    assert heavy_modules_after("import vfxdenoise.plugin.events, vfxdenoise.plugin.seqprocess") == []


def test_a_held_or_degraded_frame_and_an_errors_class_are_said_only_where_there_are_any():
    assert frame_event(3, 1, 1, "written", "p", 0.0, "", held_from=2, degraded=True) == {
        **frame_event(3, 1, 1, "written", "p", 0.0, ""), "held_from": 2, "degraded": True}
    assert error_event("busy", "OutputLockedError") == {"event": "error", "message": "busy",
                                                        "error_class": "OutputLockedError"}


def test_an_errors_data_is_carried_as_json_and_read_back_as_its_attributes():
    """A subprocess run's OutputLockedError, MissingFramesError and ChannelError lacked the
    attributes an in-process run's has: the `error` event carried the message alone."""
    from pathlib import Path

    from vfxdenoise.core.errors import (
        MAX_MISSING_LISTED,
        ChannelError,
        MissingFramesError,
        OutputLockedError,
        UsageError,
    )
    from vfxdenoise.core.io.sequence import FrameRuns
    from vfxdenoise.plugin.events import error_details, read_details

    locked = OutputLockedError("busy", Path("/o/d.1002.exr"), "pid 7 on node-3")
    missing = MissingFramesError("missing: 5-7", FrameRuns([range(5, 8)]))
    channels = ChannelError("no layer 'beauty'", "name it with --beauty LAYER")
    for error, details in ((locked, {"path": "/o/d.1002.exr", "owner": "pid 7 on node-3"}),
                           (missing, {"missing": [5, 6, 7]}),
                           (channels, {"message": "no layer 'beauty'",
                                       "hint": "name it with --beauty LAYER"})):
        event = decode(encode(error_event(str(error), type(error).__name__, error_details(error))))
        assert event["details"] == details
        read = read_details(event)
        assert {name: getattr(error, name) for name in details} == read
    assert read_details(error_event("x", "OutputLockedError")) == {}  # an older CLI's event
    assert "details" not in error_event("bad", "UsageError", error_details(UsageError("bad")))
    stray = MissingFramesError("20000000 frames missing", FrameRuns([range(1, MAX_MISSING_LISTED + 2)]))
    assert stray.missing is None and error_details(stray) == {}  # not megabytes: the message names them
    assert read_details({"details": {"path": 3, "missing": ["5"], "owner": None, "other": "x"}}) == {}
