"""Batches of records, arriving page by page, -> one frame in the API's served order.

:class:`FrameBuilder` converts the records of several lists as they arrive (through
:mod:`twilio_frames.fetch.frames`), trims each list to its date span and restores fetch order;
:func:`kept_sids` tells paging which records that trim keeps (so a ``limit`` counts
them); :func:`sort_frame` puts rows newest first and drops duplicate sids. Imports flow
one way (DESIGN §2): frames -> assemble -> client.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import columns
from .batch import Fields
from .dedupe import first_of_each
from .parse_arrow import values_of
from .frames import _build_fields, _convert, _RowError, _sid, _values, combine_frames
from .trim import give_back
from ..resources import get_resource

__all__ = ["FrameBuilder", "kept_sids", "sort_frame"]

#: Batches converted between two calls of :func:`~twilio_frames.fetch.trim.give_back`.
GIVE_BACK_EVERY = 20


class FrameBuilder:
    """Records of several lists, arriving page by page in any interleaving -> one frame.

    ``trims[i]`` is ``(start, end)`` for list ``i`` (rows of that list are kept when
    ``start <= date_column < end``; either bound may be None) or None (keep all). Records
    are converted ``batch`` at a time whichever list they come from, so at most one
    batch of record dicts is alive and conversion keeps pace with the fetching. Each row
    remembers its (list, page) so :meth:`frame` gives the same rows in the same order
    as fetching the lists one after the other would.
    """

    def __init__(self, resource: str, trims: Sequence[tuple | None], *,
                 batch: int = 5_000) -> None:
        self.resource, self.batch_size = resource, batch
        self.column = get_resource(resource).date_field
        self.trimmed = np.array([t is not None and t != (None, None) for t in trims])
        self.lo = np.array([_bound_us(t and t[0], -1) for t in trims], dtype=np.int64)
        self.hi = np.array([_bound_us(t and t[1], 1) for t in trims], dtype=np.int64)
        self.pages = [0] * len(trims)
        self.res = get_resource(resource)
        self.fields = Fields(self.res)        # the pending batch, read page by page
        self.keys: list[np.ndarray] = []      # per pending page: (list << 32 | page) per row
        self.parts: list[tuple[pd.DataFrame, np.ndarray]] = []
        self.urls: dict[int, str] = {}        # page key -> URL, for error messages
        self.nested: set[str] = set()         # extra fields holding an object in some batch

    def add(self, index: int, records: list[dict[str, Any]], *, url: str | None = None) -> None:
        """The records of the next page of list ``index`` (fetched from ``url``, which
        a value error then names)."""
        key = index << 32 | self.pages[index]
        if url is not None:
            self.urls[key] = url
        self.keys.append(np.full(len(records), key, np.int64))
        self.pages[index] += 1
        self.fields.add(records)
        if self.fields.n >= self.batch_size:
            self._flush()

    def _flush(self, *, final: bool = False) -> None:
        keys = np.concatenate(self.keys) if self.keys else np.zeros(0, np.int64)
        try:
            frame = _build_fields(self.res, self.fields, final=final)
            self.nested |= self.fields.nested
        except _RowError as err:
            url = self.urls.get(int(keys[err.bad.position]))
            raise err.parse_error(self.resource, self.fields.sids(), url) from None
        keep = self._keep(frame, keys >> 32)
        if not keep.all():
            frame, keys = frame[keep], keys[keep]
            if final:     # an unknown enum value may have gone with the rows cut
                frame = combine_frames(self.resource, [frame.reset_index(drop=True)])
        self.parts.append((frame, keys))
        self.fields, self.keys = Fields(self.res), []
        self.urls.clear()                     # a page's records are all in one batch
        if len(self.parts) % GIVE_BACK_EVERY == 0:
            give_back(GIVE_BACK_EVERY * self.batch_size)   # the pages these batches came from

    def _keep(self, frame: pd.DataFrame, lists: np.ndarray) -> np.ndarray:
        trimmed = self.trimmed[lists]
        if not trimmed.any():
            return np.ones(len(frame), bool)
        return ~trimmed | _inside(frame[self.column], self.lo[lists], self.hi[lists])

    def frame(self, *, sort: bool) -> pd.DataFrame:
        """Every row, categories set; with ``sort``, :func:`sort_frame` order. Call once:
        the partial frames are released as they are combined."""
        alone = not self.parts                  # one batch: built with its categories
        if self.fields.n or alone:
            self._flush(final=alone)
        keys = np.concatenate([k for _, k in self.parts])
        frames = [f for f, _ in self.parts]
        self.parts = []                         # the parts go column by column
        give_back(len(keys))                    # what fetching and parsing let go
        frame = _concat_columns(frames)
        if not alone:     # a field holding an object in any batch is left out of all
            frame = combine_frames(self.resource, [frame.drop(columns=sorted(
                self.nested & set(frame.columns)))])
        arrived_in_order = bool(np.all(keys[1:] >= keys[:-1]))
        if sort:       # one take: dedupe in fetch order and sort on positions, not frames
            positions = _sorted_positions(frame, None if arrived_in_order else keys)
            give_back(len(positions))
            held, frame = [frame], None
            return _take_columns(held, positions)
        if not arrived_in_order:
            held, frame = [frame], None
            frame = _take_columns(held, np.argsort(keys, kind="stable"))
        return frame


def _concat_columns(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The partial frames end to end, one column at a time, each column dropped from the
    parts once copied: peak memory is the parts plus one column, not twice the frame.
    Empties ``frames``. Parts whose columns differ (a field only some pages had) go
    through ``pd.concat``, which aligns them.

    The parts' columns are taken out as arrays first (the frames then dropped) and joined
    with their own ``_concat_same_type``: deleting a column from a frame rebuilds its
    block index, and 27 columns x 11 parts of a 54,766-call fetch took 130-230 ms that
    way against 16-18 ms (2 shared cores)."""
    if len(frames) == 1:
        return frames.pop().reset_index(drop=True)
    names = list(frames[0].columns)
    if any(list(f.columns) != names for f in frames):
        out = pd.concat(frames, ignore_index=True)
        frames.clear()
        return out
    parts = [{name: f[name].array for name in names} for f in frames]
    frames.clear()
    data = {}
    for name in names:
        data[name] = _join([part.pop(name) for part in parts])
    return pd.DataFrame(data, copy=False)


def _join(arrays: list) -> Any:
    """Arrays of one column end to end (as ``pd.concat`` of their Series would give)."""
    first = arrays[0]
    if all(a.dtype == first.dtype for a in arrays):
        return type(first)._concat_same_type(arrays)
    return pd.concat([pd.Series(a, copy=False) for a in arrays], ignore_index=True).array


def _take_columns(held: list[pd.DataFrame], positions: np.ndarray) -> pd.DataFrame:
    """``frame.take(positions)`` with a fresh index, ``frame`` popped from ``held`` (the
    caller's only reference), built one column at a time and each source column let go
    once taken. The columns are taken out as arrays and the frame dropped at once:
    deleting them one by one rebuilt the frame's block index 27 times (15-20 ms of a
    54,766-call fetch's 50-65 ms take)."""
    frame = held.pop()
    if len(positions) == len(frame) and bool(np.all(positions == np.arange(len(frame)))):
        return frame.reset_index(drop=True)
    data, attrs = {}, frame.attrs
    columns = {name: frame[name].array for name in frame.columns}
    del frame
    for name in list(columns):
        data[name] = columns.pop(name).take(positions)
        give_back(len(positions), malloc=False)   # its source's Arrow buffers, not kept
    out = pd.DataFrame(data, copy=False)
    out.attrs = attrs
    return out


def _inside(times: pd.Series, lo, hi) -> np.ndarray:
    """``lo <= times < hi`` on epoch microseconds; a missing time is outside."""
    t = times.to_numpy(dtype="datetime64[us]").view(np.int64)
    return (t != np.iinfo(np.int64).min) & (t >= lo) & (t < hi)


def kept_sids(resource: str, records: Sequence[dict[str, Any]],
              span: tuple[pd.Timestamp | None, pd.Timestamp | None] | None) -> list:
    """The sids of the ``records`` that :class:`FrameBuilder` keeps for a list trimmed
    to ``span`` (``start <= date field < end``; None keeps every record), decided by
    the same conversion and comparison. Paging counts a ``limit`` with it."""
    sids = values_of(records, "sid")
    res = get_resource(resource)
    if span is None or span == (None, None) or res.date_field is None:
        return sids
    col = next(c for c in res.columns if c.name == res.date_field)
    try:
        times = _convert(col, _values(records, col.name))
    except columns.BadValue as bad:
        raise _RowError(col.name, bad).parse_error(resource, [_sid(r) for r in records]) from None
    keep = _inside(times, _bound_us(span[0], -1), _bound_us(span[1], 1))
    return [sid for sid, k in zip(sids, keep) if k]


def _bound_us(ts: pd.Timestamp | None, side: int) -> int:
    """A bound as epoch microseconds, rounded up (exact for ``>=`` and ``<`` on
    microsecond data); a missing bound is the far end on ``side``."""
    if ts is None:
        return np.iinfo(np.int64).min if side < 0 else np.iinfo(np.int64).max
    return -(-pd.Timestamp(ts).as_unit("ns").value // 1000)


def _sorted_positions(frame: pd.DataFrame, keys: np.ndarray | None) -> np.ndarray:
    """Row positions of :func:`sort_frame`'s result, as if the rows were first put in
    ``keys`` order (fetch order; None: already in it): the first of each sid in that
    order is kept. Only positions and the dates are copied, never the frame: every row
    is sorted and the kept ones picked out in that order (their keys are distinct, so
    the order among them is the one a sort of them alone would give)."""
    order = np.argsort(keys, kind="stable") if keys is not None else None
    first = first_of_each(frame["sid"], order)
    keep = np.flatnonzero(first) if order is None else np.sort(order[first])
    if _in_served_order(frame, keep):
        return keep
    ranked = _served_order(frame)
    kept = np.zeros(len(frame), dtype=bool)
    kept[keep] = True
    return ranked[kept[ranked]]


def sort_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows newest first by ``date_created``, ties by ``sid`` descending (the API's
    served order), duplicates of a ``sid`` dropped. A frame already in that order is
    returned without sorting."""
    dup = ~first_of_each(frame["sid"])
    if dup.any():
        frame = frame[~dup]
    if not _in_served_order(frame):
        frame = frame.take(_served_order(frame))
    return frame.reset_index(drop=True)


def _served_order(frame: pd.DataFrame) -> np.ndarray:
    """Positions sorting ``frame`` by ``date_created`` then ``sid``, both descending,
    missing last: Arrow's sort (about 3x pandas' two-key ``sort_values`` on 100k rows).
    With sids unique this is a total order, so the result is that of any stable sort."""
    table = pa.table({
        "date": pa.array(frame["date_created"].to_numpy(dtype="datetime64[us]"), from_pandas=True),
        "sid": pa.array(frame["sid"].array),
    })
    order = pc.sort_indices(table, sort_keys=[("date", "descending"), ("sid", "descending")])
    return order.to_numpy()


def _in_served_order(frame: pd.DataFrame, rows: np.ndarray | None = None) -> bool:
    """True when the rows (``rows`` of ``frame`` in that order; None: all of them) are
    already newest first, ties by sid descending; a missing date or sid answers False
    (sids cannot be compared with it; the Arrow sort places it)."""
    d = frame["date_created"].to_numpy(dtype="datetime64[us]")   # not to_numpy(): objects when tz-aware
    missing = frame["sid"].isna().to_numpy()
    if rows is not None:
        d, missing = d[rows], missing[rows]
    if np.isnat(d).any() or missing.any():
        return False
    if len(d) < 2:
        return True
    if (d[1:] > d[:-1]).any():
        return False
    ties = np.flatnonzero(d[1:] == d[:-1])
    if not len(ties):
        return True
    after, before = (ties + 1, ties) if rows is None else (rows[ties + 1], rows[ties])
    sid = frame["sid"]
    return bool(np.all(sid.iloc[after].to_numpy(dtype=object) < sid.iloc[before].to_numpy(dtype=object)))
