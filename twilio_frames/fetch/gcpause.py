"""Automatic garbage collection paused while pages are fetched and read.

A page of 1,000 calls decodes into 1,000 record dicts, each holding a nested
``subresource_uris`` dict, so every record is a container the cyclic garbage collector
tracks; with up to ``2 * max_workers`` fetched pages waiting for the consumer, each
collection of the older generations walks tens of thousands of them, though records
hold only strings, numbers and None and never form a cycle (they are freed by
reference counting as soon as their fields are read). Measured on a 54,766-call
fetch with 16 workers (bench/fetch.py ``--sections adaptive``, 2 shared cores): about
200 collections took 0.5-0.8 s of the client's 1.2-1.7 s of CPU.

:func:`paused` turns automatic collection off for the duration and restores it after.
It counts nested and concurrent fetches (threads of one process share one collector):
collection comes back when the last of them ends, and only if it was on when the first
began. Nothing is lost: cyclic garbage made meanwhile (by the caller's other threads,
or an exception's traceback) is collected by the first automatic collection after.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Iterator

__all__ = ["paused"]

_lock = threading.Lock()
_depth = 0
_was_enabled = False


def _after_fork() -> None:
    """A child forked during a fetch has no fetch running: collection back as it was."""
    global _lock, _depth
    _lock = threading.Lock()
    if _depth and _was_enabled:
        gc.enable()
    _depth = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Automatic garbage collection off inside the block (see the module docstring)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
