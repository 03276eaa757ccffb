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


def served_order(table: pa.Table) -> tuple[np.ndarray | None, bool]:
    """(positions, unique): positions putting rows newest first by ``date_created``,
    ties by ``sid`` descending (None when already in order), and whether the sids are
    unique. Each file is already in that order, so a stable sort of the dates merges
    runs (timsort: near linear); only rows tied on a date are then ordered by sid, and
    only they can repeat a sid (a record's ``date_created`` never changes)."""
    dates, sid = table.column("date_created"), table.column("sid").combine_chunks()
    if dates.null_count or sid.null_count:
        order = pc.sort_indices(table, sort_keys=[("date_created", "descending"),
                                                  ("sid", "descending")]).to_numpy()
        return order, pc.count_distinct(sid, mode="all").as_py() == len(sid)
    t = dates.combine_chunks().cast(pa.int64()).to_numpy()
    if len(t) < 2 or bool((t[1:] <= t[:-1]).all()) and _ties_ok(sid, t, None):
        return None, True
    order = np.argsort(-t, kind="stable")
    return (order, True) if _ties_ok(sid, t, order) else _fix_ties(sid, t, order)


def _ties_ok(sid: pa.Array, t: np.ndarray, order) -> bool:
    """Every pair of neighbours with equal dates has strictly descending sids."""
    s = t if order is None else t[order]
    tied = np.flatnonzero(s[1:] == s[:-1])
    if not len(tied):
        return True
    rows = tied if order is None else order[tied]
    after = tied + 1 if order is None else order[tied + 1]
    return bool(pc.all(pc.greater(pc.take(sid, rows), pc.take(sid, after))).as_py())


def _fix_ties(sid: pa.Array, t: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, bool]:
    """Re-order each run of equal dates by sid descending; report repeated sids."""
    s = t[order]
    tied = np.zeros(len(s), bool)
    eq = s[1:] == s[:-1]
    tied[1:] |= eq
    tied[:-1] |= eq
    at = np.flatnonzero(tied)
    sub = pa.table({"d": pa.array(s[at]), "sid": pc.take(sid, order[at])})
    inner = pc.sort_indices(sub, sort_keys=[("d", "descending"), ("sid", "descending")])
    sub = sub.take(inner)
    d, ids = sub.column("d").to_numpy(), sub.column("sid").combine_chunks()
    same = (d[1:] == d[:-1]) & pc.equal(ids[1:], ids[:-1]).to_numpy(zero_copy_only=False)
    order = order.copy()
    order[at] = order[at][inner.to_numpy()]
    return order, not bool(same.any())
