"""What the Parquet statistics of a store's files prove about a column, without decoding it.

:func:`~twilio_frames.store.read.read_arrow` uses them to leave out columns a partial
reads only in part (``numbers``, ``fallbacks``): decoding the ``to`` and ``from``
strings of a messages file is about 45% of reading the columns ``reconcile`` needs,
and ``date_created`` another 10%, while all they decide in a store of phone numbers is
nothing. Each answer is "proven" or "not known": missing statistics mean "not known",
so a column is then read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["LEFT_OUT", "left_out", "mark", "no_nulls", "only_prefixed"]

#: Schema metadata key of a table read with columns left out: JSON ``{"numbers":
#: [...], "fallbacks": [...]}`` naming them (analysis.arrow_arrays reads it).
LEFT_OUT = b"twilio_frames.left_out"


def _chunks(meta: pq.FileMetaData, column: str):
    """Each row group's ``(rows, statistics or None)`` of ``column`` (None: no column)."""
    names = [meta.schema.column(i).path for i in range(meta.num_columns)]
    if column not in names:
        return None
    at = names.index(column)
    return [(meta.row_group(g).num_rows, meta.row_group(g).column(at).statistics)
            for g in range(meta.num_row_groups)]


def only_prefixed(meta: pq.FileMetaData, column: str, prefix: str) -> bool:
    """True if every value of the file's ``column`` starts with ``prefix`` or is missing.

    The strings with a given prefix are one interval in byte order, so a row group whose
    minimum and maximum both start with it holds no other value; a row group of missing
    values only holds none at all.
    """
    groups = _chunks(meta, column)
    if groups is None:
        return False
    for rows, st in groups:
        if st is None or not st.has_null_count:
            return False
        if st.null_count == rows:
            continue
        if not st.has_min_max:
            return False
        lo, hi = st.min, st.max
        if not (isinstance(lo, str) and isinstance(hi, str)
                and lo.startswith(prefix) and hi.startswith(prefix)):
            return False
    return True


def no_nulls(meta: pq.FileMetaData, column: str) -> bool:
    """True if the file's ``column`` has no missing value (by its statistics)."""
    groups = _chunks(meta, column)
    if groups is None:
        return False
    return all(st is not None and st.has_null_count and st.null_count == 0
               for _, st in groups)


def left_out(metas: Sequence[pq.FileMetaData], columns: Iterable[str], *,
             numbers: Sequence[str] = (), fallbacks: Mapping[str, str] | None = None,
             keep: Iterable[str] = ()) -> dict[str, list[str]]:
    """The columns of ``columns`` that the files need not decode, all files alike:

    * ``numbers``, all of them together, when each holds only values starting with '+'
      (or missing) in every file;
    * each fallback column of ``fallbacks`` (``{fallback: primary}``) when ``primary``
      has no missing value in any file.

    Columns in ``keep`` (needed whole, e.g. to trim rows) are never left out.
    """
    wanted, keep = set(columns), set(keep)
    out: dict[str, list[str]] = {"numbers": [], "fallbacks": []}
    nums = [c for c in numbers if c in wanted]
    if nums and not keep & set(nums) and all(only_prefixed(m, c, "+") for m in metas
                                             for c in nums):
        out["numbers"] = nums
    for fallback, primary in (fallbacks or {}).items():
        if (fallback in wanted and fallback not in keep and primary in wanted
                and all(no_nulls(m, primary) for m in metas)):
            out["fallbacks"].append(fallback)
    return out


def mark(table: pa.Table, out: dict[str, list[str]]) -> pa.Table:
    """``table`` with :data:`LEFT_OUT` in its schema metadata (if anything was)."""
    if not any(out.values()):
        return table
    meta = dict(table.schema.metadata or {})
    meta[LEFT_OUT] = json.dumps(out).encode()
    return table.replace_schema_metadata(meta)

