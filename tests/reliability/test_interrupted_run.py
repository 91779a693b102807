"""Interrupted runs: `kill -9` mid-run or a full disk leave no partial frame under a final name;
the next run cleans temp and lock files, and --resume finishes the shot bit-identically."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability.runs import cli_argv, files_in, run_cli, started_with

from vfxdenoise.core.engine import denoise_sequence
from vfxdenoise.core.io.exr import TEMP_SUFFIX, read_exr
from vfxdenoise.core.io.frame_locks import LOCK_SUFFIX
from vfxdenoise.core.io.sequence import parse_pattern

FRAMES = range(1, 13)


@pytest.fixture
def long_shot(sequence_factory):
    return parse_pattern(sequence_factory(frames=FRAMES, height=48, width=48))


def _finished(folder):
    return sorted(p for p in folder.glob("o.*.exr") if not p.name.endswith(TEMP_SUFFIX))


def _leftovers(folder):
    return {n for n in files_in(folder) if n.endswith((TEMP_SUFFIX, LOCK_SUFFIX))}


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_gives_the_uninterrupted_result(long_shot, tmp_path,
                                                                   tiny_weights, config):
    reference = denoise_sequence(long_shot, str(tmp_path / "ref" / "o.####.exr"), config=config())
    out = tmp_path / "out"
    args = (long_shot.text, "-o", out / "o.####.exr")
    run = subprocess.Popen(cli_argv(*args, model=tiny_weights), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not _finished(out) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    run.send_signal(signal.SIGKILL)
    assert run.wait() == -signal.SIGKILL
    done = _finished(out)
    assert 1 <= len(done) < len(FRAMES), "the run must be killed part-way through the shot"
    for path in done:  # whatever carries a final name is a whole frame
        read_exr(path)
    assert any(n.endswith(LOCK_SUFFIX) for n in files_in(out))  # the killed run held locks
    # a temp file of the killed writer, as if it died inside write_exr (hidden), and one of the
    # shape earlier versions wrote (not hidden), as if a run of one had been killed before it
    (out / f".o.0012.exr.{run.pid}-0badc0de{TEMP_SUFFIX}").write_bytes(b"half a frame")
    (out / f"o.0011.exr.{run.pid}-0badc0de{TEMP_SUFFIX}").write_bytes(b"half a frame")

    resumed = run_cli(*args, "--resume", model=tiny_weights)
    assert resumed.returncode == 0, resumed.stderr
    assert f"skipped (already done): {len(done)} frame(s)" in resumed.stderr
    assert _leftovers(out) == set()
    for frame in FRAMES:
        assert ((out / f"o.{frame:04d}.exr").read_bytes()
                == reference.output_pattern.path(frame).read_bytes()), frame


def test_a_terminated_run_releases_its_frame_locks(long_shot, tmp_path, tiny_weights):
    """Farm engines cancel and pre-empt with SIGTERM; locks left behind would refuse the task
    requeued on another host (a lock there cannot be checked for a live process)."""
    out = tmp_path / "out"
    run = subprocess.Popen(cli_argv(long_shot.text, "-o", out / "o.####.exr", model=tiny_weights),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(n.endswith(LOCK_SUFFIX) for n in files_in(out)) and time.monotonic() < deadline:
        time.sleep(0.002)
    run.send_signal(signal.SIGTERM)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    assert not any(n.endswith(LOCK_SUFFIX) for n in files_in(out))


def test_a_cancelled_run_ends_its_json_events_saying_so(long_shot, tmp_path, tiny_weights):
    """A pipeline reading the events learns the run was cancelled, and which frames are on disk."""
    out = tmp_path / "out"
    run = subprocess.Popen(cli_argv(long_shot.text, "-o", out / "o.####.exr", model=tiny_weights,
                                    progress="json"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert json.loads(run.stdout.readline())["event"] == "start"  # a frame is on disk: cancel now
    run.send_signal(signal.SIGTERM)
    stdout, stderr = run.communicate(timeout=120)
    events = [json.loads(line) for line in stdout.splitlines()]
    assert events[-1]["event"] == "error" and events[-1]["message"].startswith("cancelled by signal")
    assert "run again with --resume" in events[-1]["message"] and "error: cancelled" in stderr
    assert all(Path(event["path"]).is_file() for event in events if event["event"] == "frame")
    assert run.returncode == 128 + signal.SIGTERM


@pytest.mark.slow
def test_sigterm_while_a_frame_is_denoised_stops_it_at_once_and_resume_finishes(sequence_factory, tmp_path,
                                                                                tiny_weights):
    """A farm's SIGTERM coming while a frame was denoised on the network's thread waited for the
    rest of that frame's denoise (seconds of a CPU frame, minutes of a big one) before the task
    ended. It now unwinds in a fraction of a frame's time (to its error event: the process's exit
    after it, a second or more on a loaded machine, is as long as before), exit 143 and the
    cancel's words, frame 1 on disk and reported, frame 2 not half-written (no temp file or lock
    left), and --resume writes it. Frame 2 is slow of itself: the real network over 36 tiles of
    128 px."""
    pattern = sequence_factory(frames=range(1, 3), height=768, width=768)
    out = tmp_path / "out"
    args = (pattern, "-o", out / "o.####.exr", "--tile", "128")
    run = subprocess.Popen(cli_argv(*args, model=tiny_weights, progress="json"), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    events = [json.loads(run.stdout.readline())]
    while events[-1]["event"] != "frame":  # frame 1 is on disk: frame 2 is being denoised
        events.append(json.loads(run.stdout.readline()))
    sent = time.monotonic()
    run.send_signal(signal.SIGTERM)
    while events[-1]["event"] != "error":  # the run has unwound (the process's exit comes after)
        events.append(json.loads(run.stdout.readline()))
    unwound_in = time.monotonic() - sent
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 128 + signal.SIGTERM, stderr
    frame_1 = next(e for e in events if e["event"] == "frame")
    assert unwound_in < frame_1["seconds"] / 2, (unwound_in, frame_1["seconds"])
    assert stdout == "" and [e["frame"] for e in events if e["event"] == "frame"] == [1]
    assert events[-1]["message"].startswith("cancelled by signal (exit status 143)")
    assert files_in(out) == {"o.0001.exr"}
    resumed = run_cli(*args, "--resume", model=tiny_weights)
    assert resumed.returncode == 0, resumed.stderr
    assert "skipped (already done): 1 frame(s)" in resumed.stderr
    assert files_in(out) == {"o.0001.exr", "o.0002.exr"}


_STUCK_ON_THE_WAY_OUT = """
import signal, sys, threading
from vfxdenoise.cli import main
main.CANCEL_GRACE_SECONDS = 1.0
signal.signal(signal.SIGTERM, main._Cancels().take)
try:
    print("ready", flush=True)  # in the try: a SIGTERM sent on reading it may come before the wait
    threading.Event().wait(60)
except SystemExit:
    threading.Event().wait(60)  # an unwind that does not end
"""


def test_a_cancel_whose_unwind_hangs_still_ends_and_says_where(tmp_path):
    """A farm task must end when cancelled: a process still running CANCEL_GRACE_SECONDS after
    SIGTERM exits with the cancel's status, each thread's stack on stderr."""
    run = subprocess.Popen([sys.executable, "-c", _STUCK_ON_THE_WAY_OUT], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    assert run.stdout.readline() == "ready\n"
    started = time.monotonic()
    run.send_signal(signal.SIGTERM)
    _, stderr = run.communicate(timeout=30)
    assert run.returncode == 128 + signal.SIGTERM, stderr
    assert 1.0 <= time.monotonic() - started < 30
    assert "error: still running 1 s after the cancel" in stderr
    assert 'File "<string>", line 10 in <module>' in stderr  # where the main thread hung


_INTERRUPTED_WHILE_IMPORTING = """
import os, signal, sys
from vfxdenoise.cli import main


class InterruptNumpysImport:  # a cancel while torch imports numpy, as one in the first second
    def find_spec(self, name, path=None, target=None):
        if name == "numpy":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), int(os.environ["CANCEL_SIGNAL"]))


assert "numpy" not in sys.modules
sys.meta_path.insert(0, InterruptNumpysImport())
sys.argv[0] = "vfxdenoise"
main.main()
"""


@pytest.mark.parametrize(("cancel", "said"), [(signal.SIGINT, "Ctrl-C"),
                                              (signal.SIGTERM, "signal (exit status 143)")])
def test_a_cancel_while_the_command_imports_torch_ends_the_run_saying_so(long_shot, tmp_path, tiny_weights,
                                                                         cancel, said):
    """torch's start-up swallows an exception raised while it imports numpy: a Ctrl-C or SIGTERM
    then was lost (the run went on to the end, exit 0) or failed it later with exit 1. A cancel
    then, before the run's own code, exited 130 or 143 with no `error:` line and no `error` event,
    where a pipeline reading the events learns every cancel from one."""
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-c", _INTERRUPTED_WHILE_IMPORTING, *cli_argv(
        long_shot.text, "-o", out / "o.####.exr", model=tiny_weights, progress="json")[1:]],
        capture_output=True, text=True, timeout=120, env={**os.environ, "CANCEL_SIGNAL": str(int(cancel))})
    assert run.returncode == 128 + cancel, run.stderr
    assert not out.exists() and "Traceback" not in run.stderr
    message = (f"cancelled by {said} before any frame was reported written: run the command again "
               "(--resume keeps any frame it finds written whole)")
    events = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(e["event"], e["error_class"]) for e in events] == [("error", "DenoiseCancelled")], events
    assert events[0]["message"].startswith(message)
    assert run.stderr.count("error: cancelled") == 1 and f"error: {message}" in run.stderr


_OTHER_COMMANDS = {
    "train": ["train", "--data", "{data}", "--out", "{out}"],
    "eval": ["eval", "--data", "{data}", "--out", "{out}"],
    "classic train": ["classic", "train", "--data", "{data}", "--out", "{out}"],
    "classic eval": ["classic", "eval", "--data", "{data}", "--out", "{out}"],
    "make-dataset": ["make-dataset", "{out}"],
    "demo": ["demo", "--out", "{out}"],
    "farm openjd": ["farm", "openjd", "{data}/render.####.exr", "--bundle", "{out}"],
    "farm opencue": ["farm", "opencue", "{data}/render.####.exr"],
    "denoise-image": ["denoise-image", "{data}/in.png", "{out}/out.png"],
}


_CANCELS = ((signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "signal (exit status 143)"))


# Each command cancelled by one of the two, in turn: both come through the same handling.
@pytest.mark.parametrize(("command", "cancel"), [(command, _CANCELS[number % 2])
                                                 for number, command in enumerate(_OTHER_COMMANDS)])
def test_a_cancel_while_any_command_imports_torch_is_said(tmp_path, command, cancel):
    """Only seq said a cancel landing while its modules imported (PyTorch's start-up): train, eval,
    classic, make-dataset, demo, farm and denoise-image exited 130 or 143 saying nothing. Each says
    it in one `error:` line, with what a training run's --out keeps and how to go on, and that a
    dataset's run is finished by running it again."""
    (number, said), out = cancel, tmp_path / "out"
    args = [arg.format(data=tmp_path / "data", out=out) for arg in _OTHER_COMMANDS[command]]
    run = subprocess.run([sys.executable, "-c", _INTERRUPTED_WHILE_IMPORTING, *args], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "CANCEL_SIGNAL": str(int(number))})
    assert run.returncode == 128 + number, run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""
    line = f"error: cancelled by {said}"
    if command.endswith("train"):
        line += f": no checkpoint was written in {out} yet: run the same command with --resume"
    if command == "make-dataset":
        line += ": the frames rendered so far are kept: run the same command again to render the rest"
    assert run.stderr.startswith(line) and run.stderr.count("\n") == 1, run.stderr


def test_ctrl_c_again_while_a_cancelled_run_unwinds_changes_nothing(long_shot, tmp_path, tiny_weights):
    """An impatient second (and third) Ctrl-C, coming while the first's unwind ends the run or the
    interpreter shuts down, mostly ended the process killed by SIGINT (Python's default handler
    restored by then), or with a traceback from a library's exit hook, not with exit 130."""
    out = tmp_path / "out"
    run = subprocess.Popen(cli_argv(long_shot.text, "-o", out / "o.####.exr", model=tiny_weights,
                                    progress="json"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    events = [json.loads(run.stdout.readline())]
    while events[-1]["event"] != "frame":
        events.append(json.loads(run.stdout.readline()))
    run.send_signal(signal.SIGINT)
    while events[-1]["event"] != "error":  # the run has unwound: the process is ending
        events.append(json.loads(run.stdout.readline()))
    run.send_signal(signal.SIGINT)
    time.sleep(0.2)
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 128 + signal.SIGINT, stderr
    assert stdout == "" and stderr.count("error: cancelled by Ctrl-C") == 1 and "Traceback" not in stderr
    assert not _leftovers(out)


def _past_its_first_frame(shot, out: Path, weights: Path, hang_up: signal.Handlers) -> subprocess.Popen:
    """A seq run of `shot` into `out` (json progress) started with SIGHUP's disposition `hang_up`,
    once it has said its first frame written."""
    argv = cli_argv(shot.text, "-o", out / "o.####.exr", model=weights, progress="json")
    disposition = {"ignored" if hang_up == signal.SIG_IGN else "default": [signal.SIGHUP]}
    run = subprocess.Popen(started_with(argv, **disposition), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    while json.loads(run.stdout.readline())["event"] != "frame":
        pass
    return run


@pytest.mark.parametrize(("first", "again", "said"), [
    (signal.SIGTERM, signal.SIGTERM, "signal (exit status 143)"),
    (signal.SIGINT, signal.SIGTERM, "Ctrl-C"),
    (signal.SIGHUP, signal.SIGHUP, "signal (exit status 129)"),  # a terminal closed: died, locks left
    # Python runs the handlers of signals pending together lowest number first: a hang-up (1) a few
    # ms after a Ctrl-C (2) may be taken as the first cancel, so here the hang-up comes first.
    (signal.SIGHUP, signal.SIGINT, "signal (exit status 129)")])
def test_cancels_repeated_while_a_cancelled_run_unwinds_change_nothing(long_shot, tmp_path, tiny_weights,
                                                                       first, again, said):
    """A farm engine's SIGTERM repeated while the run unwinds from a first cancel (SIGTERM, or
    Ctrl-C in the artist's terminal) raised again wherever it landed: in a library's exit hook (a
    traceback), after the interpreter restored the default handler (killed by SIGTERM) or in
    torch's threads' teardown (abort). The first cancel decides: its exit status, its one `error`
    event and line, no temp file or lock left, every output on disk whole. A hang-up (SIGHUP: the
    terminal closed, an ssh session dropped) is such a cancel too: it killed the run at once,
    leaving every lock and no `error` event."""
    out = tmp_path / "out"
    # A hang-up heard as from a terminal, even where the tests run under nohup (which a run keeps).
    run = _past_its_first_frame(long_shot, out, tiny_weights, hang_up=signal.SIG_DFL)
    run.send_signal(first)
    while run.poll() is None:  # another every few ms, over the unwind and the interpreter's end
        run.send_signal(again)
        time.sleep(0.003)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 128 + first, stderr
    events = [json.loads(line) for line in stdout.splitlines()]
    assert [e["event"] for e in events if e["event"] != "frame"] == ["error"], events
    assert events[-1]["message"].startswith(f"cancelled by {said}: the frames reported written")
    assert stderr.count("error: cancelled") == 1 and "Traceback" not in stderr, stderr
    assert not _leftovers(out)
    for path in _finished(out):
        read_exr(path)


# `vfxdenoise seq ARGS` cancelled by FIRST at the audit event LANDING (its argument ON), and repeated by
# AGAIN right after each signal handler swapped, where the first's handler, ignoring the others,
# or the hold of the command's imports, putting handlers back, swaps them (a few repeats in all).
_REPEATED_WHILE_THE_FIRST_IS_TAKEN = """
import os, signal, sys
import torch  # imported before the profile function is set: it follows the command's imports alone

first, again, landing, on = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
repeats = []


def repeating(frame, event, arg):
    if repeats and event == "return" and frame.f_code is signal.signal.__code__ and len(repeats) < 5:
        repeats.append(again)
        os.kill(os.getpid(), again)


def landing_here(event, args):
    if event == landing and str(args[0]) == on and not repeats:
        repeats.append(first)
        os.kill(os.getpid(), first)


landing_here.__cantrace__ = True  # the first's handler, run in this hook, followed too
sys.addaudithook(landing_here)
sys.setprofile(repeating)
sys.argv = ["vfxdenoise", *sys.argv[5:]]
from vfxdenoise.cli import main
main.main()
"""


# Landing in the command's imports (held, `InterruptsHeld`), and in its run, listing the shot's frames.
@pytest.mark.parametrize("landing", ["import", "os.scandir"])
@pytest.mark.parametrize(("first", "again", "said"), [
    (signal.SIGINT, signal.SIGTERM, "Ctrl-C"), (signal.SIGHUP, signal.SIGINT, "signal (exit status 129)")])
def test_a_cancel_repeated_while_the_first_is_taken_changes_nothing(long_shot, tmp_path, tiny_weights, first,
                                                                    again, said, landing):
    """A repeat landing in the first cancel's handler before it had ignored the others ran its own
    handler there, which raised over the first's: a Ctrl-C followed by a farm engine's SIGTERM
    every 3 ms exited 143, a hang-up followed by Ctrl-Cs 130
    (test_cancels_repeated_while_a_cancelled_run_unwinds_change_nothing, now and then). One held
    while the command's modules imported went the same way where a repeat came between the
    handlers' putting back and the first's being acted on. The first decides."""
    on = "vfxdenoise.cli.cancels" if landing == "import" else str(Path(long_shot.text).parent)
    args = [str(int(first)), str(int(again)), landing, on, *cli_argv(
        long_shot.text, "-o", tmp_path / "out" / "o.####.exr", model=tiny_weights, progress="json")[1:]]
    run = subprocess.run(started_with([sys.executable, "-c", _REPEATED_WHILE_THE_FIRST_IS_TAKEN, *args],
                                      default=[signal.SIGHUP]), capture_output=True, text=True, timeout=120)
    assert run.returncode == 128 + first, run.stderr
    assert run.stderr.count("error: cancelled") == 1 and f"error: cancelled by {said}" in run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    events = [json.loads(line) for line in run.stdout.splitlines()]
    assert [e["event"] for e in events] == ["error"]
    assert events[0]["message"].startswith(f"cancelled by {said}")


def test_a_hang_up_changes_nothing_where_the_parent_left_it_ignored(long_shot, tmp_path, tiny_weights):
    """`nohup vfxdenoise seq ...` (a farm job, a run left going after its ssh session) asks for a
    hang-up to change nothing: the run goes on to the end of the shot."""
    out = tmp_path / "out"
    run = _past_its_first_frame(long_shot, out, tiny_weights, hang_up=signal.SIG_IGN)
    run.send_signal(signal.SIGHUP)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 0, stderr
    assert json.loads(stdout.splitlines()[-1])["event"] == "done"
    assert len(_finished(out)) == len(FRAMES) and not _leftovers(out)


def test_sigint_stops_a_run_whose_parent_ignores_it(long_shot, tmp_path, tiny_weights):
    """The host plugins cancel with SIGINT; a process started where SIGINT is ignored (a shell's
    background job, a host application) inherits that, and ran on to the end of the shot."""
    out = tmp_path / "out"
    argv = cli_argv(long_shot.text, "-o", out / "o.####.exr", model=tiny_weights, progress="json")
    run = subprocess.Popen(started_with(argv, ignored=[signal.SIGINT]), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    first = run.stdout.readline()
    assert first, (run.wait(timeout=120), run.stderr.read())  # ended before its start event: say why
    assert json.loads(first)["event"] == "start"
    run.send_signal(signal.SIGINT)
    stdout, _ = run.communicate(timeout=120)
    assert run.returncode == 128 + signal.SIGINT  # as shells read an interrupt; click's was 1
    assert json.loads(stdout.splitlines()[-1])["event"] == "error"
    assert len(list(out.glob("o.*.exr"))) < len(long_shot.frames_on_disk())


@pytest.mark.slow
def test_a_full_disk_leaves_no_partial_frame_and_resume_finishes(shot, tmp_path, tiny_weights,
                                                                 config):
    out = tmp_path / "out"
    args = (shot.text, "-o", out / "o.####.exr")
    # writes past 4 kB fail with EFBIG, as on a full disk (no SIGXFSZ kill)
    full = subprocess.run(started_with(cli_argv(*args, model=tiny_weights), ignored=[signal.SIGXFSZ],
                                       file_size=4096), capture_output=True, text=True, timeout=300)
    assert full.returncode == 1
    assert f"error: {out / 'o.0001.exr'}: writing" in full.stderr
    assert "check free space" in full.stderr
    assert "Traceback" not in full.stderr
    assert files_in(out) == set()  # no partial frame, temp file or lock
    resumed = denoise_sequence(shot, str(out / "o.####.exr"), config=config(existing="resume"))
    assert resumed.frames("written") == [1, 2, 3, 4, 5, 6]
    reference = denoise_sequence(shot, str(tmp_path / "ref" / "o.####.exr"), config=config())
    for frame in range(1, 7):
        assert ((out / f"o.{frame:04d}.exr").read_bytes()
                == reference.output_pattern.path(frame).read_bytes()), frame
