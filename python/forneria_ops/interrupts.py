"""SIGTERM and Ctrl-C during long engine work: stop cleanly, say so, exit 128 + signal.

Engine calls run under ``run_interruptible`` (``src/py/cancel.rs``), which runs Python signal
handlers every 100 ms; the exception a handler raises cancels the engine, which removes its
temp files and rolls back before the exception reaches the command. ``Interrupted`` is a
``BaseException`` (like ``KeyboardInterrupt``) so that no ``except Exception`` on the way
swallows it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived while the work ran."""

    def __init__(self, signum: int):
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


@contextmanager
def raise_on_signals(exception: type[Interrupted] = Interrupted) -> Iterator[None]:
    """Turn SIGTERM and SIGINT into ``exception(signum)`` inside the block (main thread only;
    elsewhere Python cannot install handlers and the block runs as it is)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise exception(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
