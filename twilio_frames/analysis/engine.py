"""One analysis, any engine (DESIGN §8): partial aggregates per partition, one combine.

A summary is written once as a *partial* (a vectorised function of one pandas
partition that returns a small pandas result: exact integer sums, counts, minima,
histograms) and a *combine* step over the list of partials. A pandas frame is one
partition. A Dask DataFrame is many: only the columns the summary needs are selected
(so a Parquet store reads only those), each partition's partial runs as one task on
Dask's scheduler (threads, processes, or a ``distributed.Client`` when one is active)
and only the partials travel back to be combined here.

Dask is imported lazily, only when a Dask frame is given: ``import twilio_frames``
never loads it, and pandas users need not have it installed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from ..errors import ConfigurationError
from ..money import require_columns

__all__ = ["ARROW", "MAX_PARTITIONS_PER_TASK", "MIN_TASKS", "SIZED", "arrow_twin", "attrs_of",
           "check_frame", "concat",
           "group_rows", "histogram_stats", "is_dask", "partials", "partitions_per_task",
           "regroup", "to_pandas"]


def is_dask(frame) -> bool:
    """True for a Dask DataFrame (checked without importing Dask)."""
    dd = sys.modules.get("dask.dataframe")
    return dd is not None and isinstance(frame, dd.DataFrame)


def check_frame(name: str, frame) -> None:
    """Raise ConfigurationError unless ``frame`` is a pandas or a Dask DataFrame."""
    if not (isinstance(frame, pd.DataFrame) or is_dask(frame)):
        raise ConfigurationError(f"{name} must be a DataFrame (pandas or Dask), "
                                 f"got {type(frame).__name__}")


def attrs_of(frame) -> dict:
    """``frame.attrs`` (a Dask frame carries its meta's, usually empty)."""
    if is_dask(frame):
        return dict(getattr(frame._meta, "attrs", {}) or {})
    return dict(getattr(frame, "attrs", {}) or {})


def _present(frame, columns: Sequence[str]) -> list[str]:
    seen = set()
    return [c for c in columns if c in frame.columns and not (c in seen or seen.add(c))]


def partials(frame, fn: Callable, *, columns: Sequence[str], needed: Sequence[str] = (),
             what: str = "", **options) -> list:
    """``fn(partition, **options)`` for every partition of ``frame``, in order.

    Parameters
    ----------
    frame : pandas or Dask DataFrame
    fn : callable
        The partial: a module-level function (picklable for a cluster) of one pandas
        frame that returns a small result.
    columns : sequence of str
        The columns ``fn`` may read; those present are selected before a Dask frame is
        computed (Parquet reads only them).
    needed : sequence of str
        The columns that must be there: a missing one raises the same
        ConfigurationError as for pandas, naming ``what``, before anything runs.
    """
    require_columns(frame, needed, what or "the")
    if not is_dask(frame):
        return [fn(frame, **options)]
    import dask

    frame = frame[_present(frame, [*needed, *columns])]
    sized = bool(attrs_of(frame).get(SIZED))
    source = _arrow_source(frame, fn, options)
    if source is not None:
        reader, batches, kwargs = source
        size = partitions_per_task(len(batches), sized=sized)
        task = dask.delayed(_run_arrow, pure=True)
        return list(dask.compute(*[
            task(_ARROW[fn][0], reader, _Items([p for b in batches[i:i + size] for p in b]),
                 kwargs, options) for i in range(0, len(batches), size)]))
    parts = frame.to_delayed()
    size = partitions_per_task(len(parts), sized=sized)
    task = dask.delayed(_run, pure=True)
    return list(dask.compute(*[task(fn, parts[i:i + size], options)
                               for i in range(0, len(parts), size)]))


#: ``attrs`` key of a Dask frame's meta holding ``(pandas_reader, arrow_reader)``:
#: its partitions are ``pandas_reader(items, **kwargs)`` of ``dd.from_map`` and
#: ``arrow_reader`` reads the same rows as an Arrow table (``Store.dask`` sets it), taking
#: the ``read`` keywords of :func:`arrow_twin` too.
ARROW = "twilio_frames.arrow_reader"
#: partial -> (its twin computing on an Arrow table, whether the twin takes options,
#: the keywords its reads add to the Arrow reader's).
_ARROW: dict[Callable, tuple[Callable, Callable[..., bool], dict]] = {}


def arrow_twin(fn: Callable, twin: Callable, accepts: Callable[..., bool], *,
               read: dict | None = None) -> None:
    """Register ``twin(table, **options)``: the partial ``fn`` computed on the Arrow
    table of a partition (same result), used where ``accepts(**options)`` is true and
    the frame's partitions can be read as Arrow (:data:`ARROW`). ``read``: keywords
    for the Arrow reader (``store.read.read_arrow``'s ``numbers`` and ``fallbacks``:
    columns the twin reads only in part, left out where the files prove them moot)."""
    _ARROW[fn] = (twin, accepts, dict(read or {}))


def _arrow_source(frame, fn: Callable, options: dict):
    """``(arrow_reader, batches, kwargs)`` when ``frame`` is still the ``dd.from_map``
    of :data:`ARROW` (only columns selected) and ``fn`` has an Arrow twin, else None."""
    hook = attrs_of(frame).get(ARROW)
    if hook is None or fn not in _ARROW or not _ARROW[fn][1](**options):
        return None
    expr = frame.optimize(fuse=False).expr
    if type(expr).__name__ == "Projection":          # columns not pushed into the read
        expr = expr.operand("frame")
    if not type(expr).__name__.startswith("FromMap"):
        return None
    operand, wanted = expr.operand, list(frame.columns)
    read = operand("columns")
    if (operand("func") is not hook[0] or operand("_partitions") is not None
            or operand("args") or len(operand("iterables")) != 1
            or not (read is None or set(wanted) <= set(read))):
        return None
    kwargs = dict(operand("kwargs") or {}, columns=list(frame.columns), **_ARROW[fn][2])
    return hook[1], list(operand("iterables")[0]), kwargs


class _Items:
    """A task's stored partitions, opaque to Dask: a list of thousands of them would be
    walked item by item for collections and tokenized (~0.3 s a graph at 10M)."""

    __slots__ = ("items",)

    def __init__(self, items: list):
        self.items = items

    def __dask_tokenize__(self):
        return "twilio_frames-items", "\n".join(map(str, self.items))


def _run_arrow(twin: Callable, reader: Callable, items: _Items, kwargs: dict, options: dict):
    """One task: the rows of ``items`` read as one Arrow table, then the partial's twin."""
    return twin(reader(items.items, **kwargs), **options)


#: Most partitions one task concatenates (bounds a task's memory).
MAX_PARTITIONS_PER_TASK = 16
#: Fewest tasks worth having (keeps a cluster's threads busy).
MIN_TASKS = 64
#: ``attrs`` key of a Dask frame's meta saying its partitions are already sized for a
#: task (``Store.dask`` sets it: each of its partitions reads up to ``partition_size``
#: of Parquet), so they are not batched: a task's memory stays one partition's.
SIZED = "twilio_frames.sized_partitions"


def partitions_per_task(npartitions: int, *, sized: bool = False) -> int:
    """How many consecutive partitions one task runs the partial on, concatenated.

    A partial costs a few milliseconds whatever its size (pandas' fixed costs), so a
    frame of many small partitions is run in batches: at least :data:`MIN_TASKS`
    tasks, at most :data:`MAX_PARTITIONS_PER_TASK` partitions each; ``sized``
    partitions (:data:`SIZED`) one per task. Dask config
    ``twilio_frames.partitions_per_task`` overrides it.
    """
    import dask
    chosen = dask.config.get("twilio_frames.partitions_per_task", None)
    if chosen is not None:
        return max(1, int(chosen))
    if sized:
        return 1
    return int(min(MAX_PARTITIONS_PER_TASK, max(1, -(-npartitions // MIN_TASKS))))


def _run(fn: Callable, parts: list[pd.DataFrame], options: dict):
    """One task: its partitions as one frame, then ``fn``. Dask's string conversion is
    undone first (``dataframe.convert-string`` turns the ``str`` columns a pandas frame
    had into ``string[pyarrow]``, whose missing value is ``pd.NA``), so the rows look as
    they look in pandas."""
    frames = [_plain_strings(p) for p in parts]
    return fn(frames[0] if len(frames) == 1 else concat(frames, ignore_index=True), **options)


def _plain_strings(part: pd.DataFrame) -> pd.DataFrame:
    strings = [c for c, t in part.dtypes.items()
               if isinstance(t, pd.StringDtype) and t.na_value is pd.NA]
    return part.astype(dict.fromkeys(strings, "str")) if strings else part


def to_pandas(frame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A small frame as pandas (a Dask one is computed; only ``columns`` if given)."""
    if not is_dask(frame):
        return frame
    if columns is not None:
        frame = frame[_present(frame, columns)]
    return _plain_strings(frame.compute())


def _categorical_union(pieces: list[pd.Series]) -> pd.Categorical:
    """The pieces as one categorical: categories the prefix all pieces share, then the
    rest sorted. Frames list the known values of an enum first, then the unknown values
    present, sorted (fetch/frames.py, the store), so the union of such partitions has
    the categories the whole frame would have; sorted categories (currencies) stay
    sorted."""
    lists = [list(p.cat.categories) for p in pieces]
    prefix = []
    for values in zip(*lists):
        if any(v != values[0] for v in values):
            break
        prefix.append(values[0])
    rest = sorted({v for cats in lists for v in cats} - set(prefix))
    dtype = pd.CategoricalDtype(pd.Index([*prefix, *rest], dtype=pieces[0].cat.categories.dtype))
    return union_categoricals([p.astype(dtype).array for p in pieces])


def concat(parts: list[pd.DataFrame], *, ignore_index: bool = False) -> pd.DataFrame:
    """Concatenate frames; empty ones are dropped (unless all are) and categorical
    columns stay categorical (the union of the parts' categories, sorted if each was)."""
    kept = [p for p in parts if len(p)] or parts[:1]
    if len(kept) == 1:
        return kept[0]
    out = pd.concat(kept, ignore_index=ignore_index)
    lost = [col for col, dtype in kept[0].dtypes.items()
            if isinstance(dtype, pd.CategoricalDtype)
            and not isinstance(out.dtypes[col], pd.CategoricalDtype)
            and all(isinstance(p.dtypes[col], pd.CategoricalDtype) for p in kept)]
    for col in lost:
        out[col] = pd.Series(_categorical_union([p[col] for p in kept]), index=out.index)
    return out


def regroup(parts: list[pd.DataFrame], keys: list[str], how: str | dict = "sum"
            ) -> pd.DataFrame:
    """Combine partials keyed by ``keys`` (columns) with ``how`` per value column.

    One partial (a pandas frame) is returned as it is: it is already the result. NA is
    a key of its own, as in the partials (``dropna=False``); groups come out sorted as a
    pandas groupby sorts them, and each group keeps its first partial's key values
    (so ``pd.NA`` stays ``pd.NA``).
    """
    kept = [p for p in parts if len(p)] or parts[:1]
    if len(kept) == 1:
        return kept[0].reset_index(drop=True)
    frame = concat(kept).reset_index(drop=True)
    ids = frame.groupby(keys, observed=True, dropna=False, sort=True).ngroup().to_numpy()
    _, first = np.unique(ids, return_index=True)
    labels = frame[keys].iloc[first].reset_index(drop=True)
    values = frame.drop(columns=keys).groupby(ids, sort=True).agg(how)
    return pd.concat([labels, values.reset_index(drop=True)], axis=1)


def group_rows(table: pd.DataFrame, detail: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """For each row of ``detail``, the row of ``table`` (unique ``keys``) it belongs to."""
    both = pd.concat([table[keys], detail[keys]], ignore_index=True)
    ids = both.groupby(keys, observed=True, dropna=False, sort=True).ngroup().to_numpy()
    where = np.full(int(ids.max()) + 1 if len(ids) else 0, -1, np.int64)
    where[ids[:len(table)]] = np.arange(len(table))
    return where[ids[len(table):]]


def histogram_stats(rows: np.ndarray, values: np.ndarray, counts: np.ndarray, size: int,
                    q: float) -> dict[str, np.ndarray]:
    """Exact statistics per group from a histogram (``counts`` of each value per row).

    Returns float64 arrays ``n``, ``sum``, ``mean``, ``median``, ``quantile`` (``q``,
    linear interpolation) and ``max``, computed as pandas computes them on the raw
    values (NaN for a group without values), so partials of histograms combine exactly.
    """
    order = np.lexsort((values, rows))
    rows, values, counts = rows[order], values[order].astype(np.float64), counts[order]
    n = np.bincount(rows, counts, size).astype(np.int64)
    total = np.bincount(rows, values * counts, size)
    cum = np.cumsum(counts)
    start = np.cumsum(n) - n
    last = len(values) - 1

    def nth(k: np.ndarray) -> np.ndarray:
        at = np.searchsorted(cum, start + np.maximum(k, 0), side="right")
        return values[np.minimum(at, last)] if len(values) else np.zeros(size)

    h = q * (n - 1).astype(np.float64)
    low = h.astype(np.int64)
    frac = h % 1
    low_value = nth(low)
    quantile = np.where(frac == 0.0, low_value, low_value + (nth(low + 1) - low_value) * frac)
    half = n // 2
    median = np.where(n % 2 == 1, nth(half), (nth(half - 1) + nth(half)) / 2)
    empty = n == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
    nan = np.full(size, np.nan)
    return {"n": n, "sum": total, "mean": np.where(empty, nan, mean),
            "median": np.where(empty, nan, median),
            "quantile": np.where(empty, nan, quantile),
            "max": np.where(empty, nan, nth(n - 1))}
