"""The client's row order for frames read from many files, computed cheaply.

Each partition file is stored in served order (newest first by ``date_created``, ties
by ``sid`` descending), so the whole frame is a merge of sorted runs: a stable sort of
the dates (timsort: near linear on runs) and sid order only inside runs of tied dates
give the same permutation as a full two-key sort.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["served_order"]


def served_order(table: pa.Table) -> np.ndarray | None:
    """Positions putting rows newest first by ``date_created``, ties by ``sid``
    descending. Each file is already in that order, so a stable sort of the dates
    merges runs (timsort: near linear); only rows tied on a date across files are then
    ordered by sid. None when already in order."""
    dates = table.column("date_created")
    if dates.null_count or table.column("sid").null_count:
        return pc.sort_indices(table, sort_keys=[("date_created", "descending"),
                                                 ("sid", "descending")]).to_numpy()
    t = dates.combine_chunks().cast(pa.int64()).to_numpy()
    if len(t) < 2 or bool((t[1:] <= t[:-1]).all()) and _ties_ok(table, t, None):
        return None
    order = np.argsort(-t, kind="stable")
    return order if _ties_ok(table, t, order) else _fix_ties(table, t, order)


def _ties_ok(table: pa.Table, t: np.ndarray, order) -> bool:
    s = t if order is None else t[order]
    tied = np.flatnonzero(s[1:] == s[:-1])
    if not len(tied):
        return True
    rows = tied if order is None else order[tied]
    after = tied + 1 if order is None else order[tied + 1]
    sid = table.column("sid")
    return bool(pc.all(pc.greater(pc.take(sid, rows), pc.take(sid, after))).as_py())


def _fix_ties(table: pa.Table, t: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Re-order each run of equal dates by sid descending."""
    s = t[order]
    tied = np.zeros(len(s), bool)
    eq = s[1:] == s[:-1]
    tied[1:] |= eq
    tied[:-1] |= eq
    at = np.flatnonzero(tied)
    sub = pa.table({"d": pa.array(s[at]), "sid": pc.take(table.column("sid"), order[at])})
    inner = pc.sort_indices(sub, sort_keys=[("d", "descending"), ("sid", "descending")])
    order = order.copy()
    order[at] = order[at][inner.to_numpy()]
    return order
