"""Freed memory handed back to the operating system between the steps of a frame.

Profiling a 1,000,000-call fetch (``bench/fetch_memory.py``) found the live data never
above about 1.3x the final frame, yet peak RSS at 3.2x: the rest was memory already
freed but kept by the allocators. Arrow's pool (mimalloc) keeps the buffers of the
partial frames once their columns are copied into the final one; glibc's ``malloc``,
once a large block has been freed, raises its ``mmap`` threshold and serves later page
bodies and numpy columns from its heaps, where freed space stays in the process.
:func:`give_back` returns both at the few points where a large amount has just been
let go: every 20 batches while fetching, before the final frame is put together, and
(Arrow's pool only) after each of its columns is taken. A call costs a few ms, so
fetches too small to need one make none.
"""

from __future__ import annotations

import ctypes
import sys

import pyarrow as pa

__all__ = ["give_back"]


def _malloc_trim():
    """glibc's ``malloc_trim``, or None (another C library, another system)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_TRIM = _malloc_trim()
#: Fewer rows than this let go at once: too little memory to be worth a call (a few ms,
#: which a small fetch, tens of ms in all, would feel).
MIN_ROWS = 50_000


def give_back(rows: int, *, malloc: bool = True) -> None:
    """Return the memory freed so far that the allocators still hold (best effort), after
    ``rows`` rows' worth has been let go; Arrow's pool only with ``malloc=False``."""
    if rows < MIN_ROWS:
        return
    pa.default_memory_pool().release_unused()
    if malloc and _TRIM is not None:
        _TRIM(0)
