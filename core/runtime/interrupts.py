"""Interrupts held off while the main thread does what an exception raised in its midst would
break: frame locks created but not yet recorded (one would be left behind), a command's modules
imported (torch's start-up swallows an exception raised while it imports numpy, so a cancel then
was lost, or left numpy half imported and failed the run with exit 1)."""

from __future__ import annotations

import signal
import threading

# SIGHUP (a terminal closed, an ssh session dropped); None where there is none (Windows).
HANGUP: signal.Signals | None = getattr(signal, "SIGHUP", None)
# The signals the `vfxdenoise` command takes as a cancel (`cli.main`).
CANCEL_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM, *([HANGUP] if HANGUP else []))


class InterruptsHeld:
    """Ctrl-C and SIGTERM held off (in the main thread, where Python runs its signal handlers)
    over a stretch an exception must not cut short, and SIGHUP where a Python function takes it
    (the command's cancel; one ignored, or a host's own, is left alone); the first that came
    meanwhile goes to its handler on leaving, the others still held then, so none can come
    before it. Their handlers were put back one by one first, and a second cancel coming in
    between (a farm engine's SIGTERM repeated every few ms after a Ctrl-C) went to its own handler
    ahead of the first's (exit 143 for a Ctrl-C)."""

    def __enter__(self) -> InterruptsHeld:
        self.pending: list[int] = []
        self.saved = {}
        if threading.current_thread() is threading.main_thread():
            for number in CANCEL_SIGNALS:
                if number == HANGUP and not callable(signal.getsignal(number)):
                    continue
                self.saved[number] = signal.signal(number, self._hold)
        return self

    def _hold(self, number: int, frame: object) -> None:
        self.pending.append(number)

    def __exit__(self, *exc) -> None:
        try:
            if self.pending:
                self._deliver(self.pending[0])
        finally:
            self._put_back(list(self.saved))

    def _deliver(self, number: int) -> None:
        """The held signal `number` to the handler it had: called, or raised again where that
        is the default (which ends the process: the one signal put back first)."""
        handler = self.saved[number]
        if callable(handler):
            handler(number, None)
        elif handler == signal.SIG_DFL:
            signal.signal(number, handler)
            signal.raise_signal(number)

    def _put_back(self, numbers: list[int]) -> None:
        """The handlers of `numbers` put back, each where it is still held (the delivered one's
        handler may have set another, as the command's sets SIG_IGN), every one of them though
        a handler run meanwhile raises."""
        if not numbers:
            return
        try:
            if signal.getsignal(numbers[0]) == self._hold:
                signal.signal(numbers[0], self.saved[numbers[0]])
        finally:
            self._put_back(numbers[1:])
