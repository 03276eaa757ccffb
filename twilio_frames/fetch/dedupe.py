"""The first row of each sid, found without a Python string per row.

Automatic windows always fetch some records twice (pages 1-2 of an account overlap its
windows), so :class:`~twilio_frames.fetch.assemble.FrameBuilder` drops repeated sids
over the whole frame. ``Series.duplicated`` on the Arrow-backed ``sid`` column makes a
Python string per row: on 1,000,000 calls that held about 170 MiB at the very moment
memory peaks (the frame and its copy being assembled). Twilio's sids all have one
width (``CA`` + 32 hex digits), so :func:`first_of_each` reads them as fixed-width
bytes straight from the Arrow buffers, hashes each to 64 bits (FNV-1a, one numpy pass
per byte) and finds the first row of each hash; every row whose hash repeats is then
compared byte for byte with the first, so a hash collision can never merge two sids
(it sends the column through ``Series.duplicated`` instead). Anything else (a missing
sid, sids of different lengths, a column not in Arrow) goes through pandas too: the
answer is the same either way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["first_of_each"]

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


def first_of_each(sid: pd.Series, order: np.ndarray | None = None) -> np.ndarray:
    """``~duplicated()`` of ``sid`` with its rows taken in ``order`` (row positions;
    None: as they are): True at the first row of each sid, in that order."""
    arr = _arrow(sid)
    hashes = _hashes(arr) if arr is not None else None
    if hashes is None:
        return _by_pandas(sid, order)
    if order is not None:
        hashes = hashes[order]
    _, at, group = np.unique(hashes, return_index=True, return_inverse=True)
    first = np.zeros(len(hashes), dtype=bool)
    first[at] = True
    later = np.flatnonzero(~first)
    if len(later):
        rows, firsts = later, at[group.reshape(-1)[later]]
        if order is not None:
            rows, firsts = order[rows], order[firsts]
        if not pc.all(pc.equal(arr.take(rows), arr.take(firsts))).as_py():
            return _by_pandas(sid, order)       # a collision: two sids, one hash
    return first


def _by_pandas(sid: pd.Series, order: np.ndarray | None) -> np.ndarray:
    if order is not None:
        sid = pd.Series(sid.array.take(order))
    return ~sid.duplicated().to_numpy()


def _arrow(sid: pd.Series) -> pa.ChunkedArray | None:
    """The column's Arrow data without a copy, or None when it is not Arrow strings."""
    try:
        arr = pa.array(sid.array)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if isinstance(arr, pa.Array):
        arr = pa.chunked_array([arr])
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    return arr


def _hashes(arr: pa.ChunkedArray) -> np.ndarray | None:
    """A 64-bit hash of each value's bytes, or None unless every value is present and
    all have one non-zero width."""
    if not len(arr) or arr.null_count:
        return None
    offset_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    width, out = None, []
    for chunk in arr.chunks:
        if not len(chunk):
            continue
        _, offsets, data = chunk.buffers()
        ends = np.frombuffer(offsets, offset_type)[chunk.offset:chunk.offset + len(chunk) + 1]
        lengths = np.diff(ends)
        if width is None:
            width = int(lengths[0])
        if width == 0 or bool((lengths != width).any()):
            return None
        rows = np.frombuffer(data, np.uint8, count=len(chunk) * width,
                             offset=int(ends[0])).reshape(-1, width)
        out.append(fnv1a(rows))
    return np.concatenate(out)


def fnv1a(rows: np.ndarray) -> np.ndarray:
    """FNV-1a of each row of a 2-D uint8 array, as uint64 (wrapping, as the hash does)."""
    h = np.full(len(rows), _FNV_OFFSET, dtype=np.uint64)
    for j in range(rows.shape[1]):
        h ^= rows[:, j]
        h *= _FNV_PRIME
    return h
