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
    (the command's cancel; one ignored, or a host's own, is left alone); one that came meanwhile
    goes to its handler on leaving."""

    def __enter__(self) -> InterruptsHeld:
        self.pending: list[int] = []
        self.saved = {}
        if threading.current_thread() is threading.main_thread():
            for number in CANCEL_SIGNALS:
                if number == HANGUP and not callable(signal.getsignal(number)):
                    continue
                self.saved[number] = signal.signal(number, lambda n, _: self.pending.append(n))
        return self

    def __exit__(self, *exc) -> None:
        for number, handler in self.saved.items():
            signal.signal(number, handler)
        if self.pending:
            handler = self.saved[self.pending[0]]
            if callable(handler):
                handler(self.pending[0], None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(self.pending[0])
