"""A run's warnings, gathered for its summary (`RunSummary.warnings`) apart from any other run's.

The engine's modules log their warnings (`logging`, under the `vfxdenoise` logger), which the CLI
prints; a host running several denoises in one process (a daemon, a review tool) needs each run's
own, whatever its logging is set to. `gathered()` collects them for the run of the calling thread:
- `warn` logs a warning and adds it to the run's list, also where the host quieted the logger (its
  level above WARNING): the way a module warns of something a run's result should say;
- the other warnings logged under `vfxdenoise` within the run (`logger.warning`) are added as
  they are logged: those the host's logging lets through.
A warning is the run's whose context the thread logging it is in: each run's list is a
`ContextVar`'s value, set on the run's thread and, for the work it hands to a pool's threads
(reading, writing, --resume's checks), where that work is handed over `carried`; not a thread's,
as a pool thread serves no run of its own and logs for whichever run handed it the work. Other
threads' runs gather their own. Only the standard library: the run's modules import it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TypeVar

LOGGER = "vfxdenoise"  # the modules of the engine log under it (vfxdenoise.core...)
_GATHERED = "vfxdenoise_gathered"  # a record's attribute: `warn` has added it already

_current: ContextVar[list[str] | None] = ContextVar("vfxdenoise_run_warnings", default=None)

T = TypeVar("T")


def warn(logger: logging.Logger, message: str, *args: object) -> None:
    """Log `message % args` as a warning on `logger`, and add it to the warnings of the run
    gathering them in this thread (`gathered`), if any, whatever the logger's level."""
    logger.warning(message, *args, extra={_GATHERED: True}, stacklevel=2)  # logged as the caller's
    found = _current.get()
    if found is not None:
        found.append(message % args if args else message)


def carried(call: Callable[..., T]) -> Callable[..., T]:
    """`call`, to run on another thread (a pool's, which starts from a context of its own) as part
    of the calling thread's run: the warnings it gives, through `warn` or logged plainly under
    `vfxdenoise`, join that run's."""
    found = _current.get()

    def in_run(*args: object, **kwargs: object) -> T:
        token = _current.set(found)
        try:
            return call(*args, **kwargs)
        finally:
            _current.reset(token)
    return in_run


@contextlib.contextmanager
def gathered() -> Iterator[list[str]]:
    """The warnings of the run in the calling thread, in the order they came, while it lasts."""
    found: list[str] = []
    token = _current.set(found)
    handler = _RunsWarnings(found)
    logging.getLogger(LOGGER).addHandler(handler)
    try:
        yield found
    finally:
        logging.getLogger(LOGGER).removeHandler(handler)
        _current.reset(token)


class _RunsWarnings(logging.Handler):
    """The warnings logged within one run that `warn` has not added already: by a thread whose
    context is the run's (`_current` is its list: its own thread, and the pool threads running
    work it handed over `carried`), told apart in the thread logging them, where `emit` runs."""

    def __init__(self, found: list[str]):
        super().__init__(logging.WARNING)
        self.found = found

    def emit(self, record: logging.LogRecord) -> None:
        if _current.get() is self.found and not getattr(record, _GATHERED, False):
            self.found.append(record.getMessage())
