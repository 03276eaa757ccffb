"""Partitions -> the frames ``Client.<resource>()`` gives, in pandas or Dask.

:func:`read_frame` picks the partitions that touch ``[start, end)`` of the accounts
asked for, reads them with Arrow (only the columns needed), checks each file's schema,
trims rows to the exact interval and puts them in the client's documented order:
newest first by ``date_created``, ties by ``sid`` descending (usage records: account
by account, periods ascending, as served). A truncated file or one of an unexpected
schema is a :class:`~twilio_frames.StoreError` naming it. A frame of calls, messages or
recordings whose range the store holds only in part says which days it holds
(``attrs["stored_days"]``, :mod:`.coverage`). :func:`read_dask` is the
same per partition, lazily: each Dask partition is one stored partition, trimmed,
in stored order.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import ConfigurationError, StoreError
from ..fetch.assemble import sort_frame
from ..fetch.frames import to_frame
from ..fetch.paging import to_utc
from ..resources import get_resource
from . import ledger, statistics
from .coverage import stored_days
from .layout import PERIOD, Partition, arrow_schema, iter_partitions
from .order import served_order

__all__ = ["PARTITION_SIZE", "read_frame", "read_dask", "select", "account_order",
           "read_arrow", "read_partition", "read_partitions"]

_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_SORTED = {"calls", "messages", "recordings", "incoming_phone_numbers"}
_MAPPER = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}.get


def account_order(root) -> list[str]:
    """Accounts in the Accounts list's order (as stored), then any others by SID."""
    order: list[str] = []
    parts = list(iter_partitions(root, "accounts"))
    if parts:
        order = [s for s in _read_table(parts[0], ["sid"]).column("sid").to_pylist() if s]
    seen = {name.split("=", 1)[1] for r in PERIOD if PERIOD[r] != "whole"
            for name in _account_dirs(root, r)}
    return order + sorted(seen - set(order))


def _account_dirs(root, resource: str) -> list[str]:
    from pathlib import Path
    base = Path(root) / resource
    return [p.name for p in base.glob("account_sid=AC*")] if base.is_dir() else []


def select(root, resource: str, start=None, end=None, *, accounts=None) -> list[Partition]:
    """The partitions of ``resource`` touching ``[start, end)``, by account (in
    :func:`account_order`, or the order of ``accounts``) then period."""
    get_resource(resource)
    start, end = to_utc(start), to_utc(end)
    if start is not None and end is not None and not start < end:
        raise ConfigurationError(f"start {start} must be before end {end}")
    parts = list(iter_partitions(root, resource))
    if PERIOD[resource] == "whole":
        return parts
    order = _accounts(root, accounts)
    rank = {sid: i for i, sid in enumerate(order)}
    keep = [p for p in parts if p.account_sid in rank and _touches(p, start, end)]
    return sorted(keep, key=lambda p: (rank[p.account_sid], p.period or dt.date.min))


def _accounts(root, accounts) -> list[str]:
    if accounts is None or accounts == "all":
        return account_order(root)
    sids = [accounts] if isinstance(accounts, str) else list(dict.fromkeys(accounts))
    bad = [s for s in sids if not isinstance(s, str) or not _SID.match(s)]
    if bad or not sids:
        raise ConfigurationError(f"accounts must be 'all' or account SIDs (AC + 32 hex); "
                                 f"got {bad or sids}")
    return sids


def _touches(part: Partition, start, end) -> bool:
    lo, hi = ledger.period_span(part.resource, part.period)
    if lo is None:
        return True
    return (start is None or hi > start) and (end is None or lo < end)


def read_frame(root, resource: str, start=None, end=None, *, accounts=None,
               columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The frame ``Client.<resource>(start, end, accounts=...)`` gives, from the store."""
    daily = PERIOD.get(resource) == "day"
    order = _accounts(root, accounts) if daily else accounts     # the accounts read once
    parts = select(root, resource, start, end, accounts=order)
    start, end = to_utc(start), to_utc(end)
    wanted = _columns(resource, columns)
    needed = _needed(resource, wanted, trim=start is not None or end is not None)
    tables = _read_files(parts, needed)
    if not tables:
        frame = to_frame(resource, [])
    else:
        table = _trim(resource, _concat(resource, parts, tables, needed), start, end)
        frame = _ordered(resource, table)
    if resource == "usage_records":
        frame.attrs["include_subaccounts"] = False
    frame = frame if wanted is None else frame[wanted]
    days = stored_days(root, resource, parts, start, end, order) if daily else None
    if days is not None:                  # the store lacks some asked days: say which it has
        frame.attrs["stored_days"] = days
    return frame


def read_partition(part: Partition, start=None, end=None, columns=None) -> pd.DataFrame:
    """One partition as a frame (trimmed to ``[start, end)``, stored order)."""
    return read_partitions([part], start, end, columns)


def read_partitions(parts: Sequence[Partition], start=None, end=None,
                    columns=None) -> pd.DataFrame:
    """Consecutive partitions of one resource as one frame, each trimmed to ``[start,
    end)``, in stored order (not sorted): what each partition of :func:`read_dask`
    computes. Only ``columns`` are read (plus the date field when trimming); the
    files are concatenated as Arrow tables and converted to pandas once."""
    resource = parts[0].resource
    wanted = _columns(resource, columns)
    start, end = to_utc(start), to_utc(end)
    needed = _needed(resource, wanted, order=False,
                     trim=start is not None or end is not None)
    table = _concat(resource, parts, [_read_file(p, needed) for p in parts], needed)
    frame = _pandas(resource, _trim(resource, table, start, end))
    return frame if wanted is None else frame[wanted]


def read_arrow(parts: Sequence[Partition], start=None, end=None, columns=None, *,
               numbers: Sequence[str] = (), fallbacks: Mapping[str, str] | None = None
               ) -> pa.Table:
    """The rows of :func:`read_partitions` as the Arrow table they are read into (the
    files' types; ``account_sid`` a dictionary): what an analysis that computes on
    Arrow reads for a partition of :func:`read_dask`, without the pandas frame.

    A partial that reads some columns only in part may have them left undecoded where
    the files' Parquet statistics prove they cannot matter (:mod:`.statistics`), for
    all of ``parts`` alike: ``numbers``, all together, when each holds only values
    starting with '+' or missing (a partial that only asks which rows are not phone
    numbers); each ``fallbacks`` column (``{fallback: primary}``) when no ``primary``
    is missing. What was left out is named in the schema metadata
    (:data:`.statistics.LEFT_OUT`); the columns trimming needs are always read.
    """
    resource = parts[0].resource
    wanted = _columns(resource, columns)
    start, end = to_utc(start), to_utc(end)
    trim = start is not None or end is not None
    needed = _needed(resource, wanted, order=False, trim=trim)
    files = [_open_file(p) for p in parts]
    skipped = {"numbers": [], "fallbacks": []}
    if needed is not None and (numbers or fallbacks):
        keep = _needed(resource, [], order=False, trim=trim) or []
        skipped = statistics.left_out([pf.metadata for pf, _ in files], wanted,
                                      numbers=numbers, fallbacks=fallbacks, keep=keep)
        gone = {*skipped["numbers"], *skipped["fallbacks"]}
        needed = [c for c in needed if c not in gone]
    tables = [_read_open(p, pf, names, needed) for p, (pf, names) in zip(parts, files)]
    table = _concat(resource, parts, tables, needed, dictionary=True)
    table = _trim(resource, table, start, end)
    if wanted is not None:
        table = table.select([c for c in wanted if c in table.column_names])
    return statistics.mark(table, skipped)


#: Default on-disk size of the stored partitions one Dask partition reads (Dask's
#: ``partition_size`` convention): a store's quiet account-days are tiny files, and
#: each partition costs a few milliseconds whatever its size.
PARTITION_SIZE = "32MiB"


def read_dask(root, resource: str, start=None, end=None, *, accounts=None, columns=None,
              partition_size=PARTITION_SIZE):
    """A lazy Dask DataFrame: each partition reads consecutive stored partitions (by
    account, then period) touching the range, up to ``partition_size`` bytes of
    Parquet (``None``: one stored partition each)."""
    try:
        import dask
        import dask.dataframe as dd
        from dask.utils import parse_bytes
    except ImportError:
        raise ConfigurationError("Store.dask needs Dask: pip install 'twilio-frames[dask]'") from None
    parts = select(root, resource, start, end, accounts=accounts)
    wanted = _columns(resource, columns)
    meta = to_frame(resource, [])
    meta = meta if wanted is None else meta[wanted]
    limit = _partition_size(partition_size, parse_bytes)
    with dask.config.set({"dataframe.convert-string": False}):   # keep the frames' str
        if not parts:
            return dd.from_pandas(meta, npartitions=1)
        if limit:    # sized for a task: analysis.engine does not batch them (its SIZED)
            meta.attrs["twilio_frames.sized_partitions"] = True
        # analysis.engine's ARROW: partials that compute on Arrow read the partitions
        # with read_arrow instead, when the frame is still this one (columns selected)
        meta.attrs["twilio_frames.arrow_reader"] = (read_partitions, read_arrow)
        return dd.from_map(read_partitions, _batches(parts, limit), start=start, end=end,
                           columns=wanted, meta=meta, enforce_metadata=False)


def _partition_size(size, parse_bytes) -> int:
    if size is None:
        return 0
    try:
        limit = parse_bytes(size) if isinstance(size, str) else int(size)
    except (TypeError, ValueError):
        limit = -1
    if limit < 0:
        raise ConfigurationError(f"partition_size must be a size such as '32MiB' or a "
                                 f"number of bytes, or None; got {size!r}")
    return limit


def _batches(parts: list[Partition], limit: int) -> list[list[Partition]]:
    """Consecutive runs of ``parts`` of at most ``limit`` bytes on disk (at least one
    partition each; ``limit`` 0: one each)."""
    batches: list[list[Partition]] = []
    total = limit
    for part in parts:
        try:
            size = os.stat(part.path).st_size
        except OSError:
            size = 0                # reading it says what is wrong, naming the file
        if not batches or total + size > limit:
            batches.append([])
            total = 0
        batches[-1].append(part)
        total += size
    return batches


def _columns(resource: str, columns) -> list[str] | None:
    if columns is None:
        return None
    names = [columns] if isinstance(columns, str) else list(columns)
    known = get_resource(resource).column_names
    bad = [c for c in names if c not in known]
    if bad:
        raise ConfigurationError(f"{resource} has no columns {bad}; known: {', '.join(known)}")
    return names


def _needed(resource: str, wanted: list[str] | None, *, order: bool = True,
            trim: bool = True) -> list[str] | None:
    """The file columns to read: the wanted ones plus what trimming and order need."""
    if wanted is None:
        return None
    res = get_resource(resource)
    extra = [res.date_field] if res.date_field and trim else []
    if resource in _SORTED and order:
        extra += ["date_created", "sid"]
    keep = set(wanted) | set(extra)
    return [c for c in res.column_names if c in keep]


def _read_files(parts: list[Partition], columns: list[str] | None) -> list[pa.Table]:
    """Read the files on a few threads (Arrow decodes without the GIL), in order."""
    if len(parts) < 8:
        return [_read_file(p, columns) for p in parts]
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 2) * 2)) as pool:
        return list(pool.map(lambda p: _read_file(p, columns), parts))


def _read_table(part: Partition, columns: list[str] | None) -> pa.Table:
    """One file as an Arrow table with the frame's columns (``account_sid`` from the
    path), checked against the resource's schema."""
    return _concat(part.resource, [part], [_read_file(part, columns)], columns)


def _concat(resource: str, parts: Sequence[Partition], tables: list[pa.Table],
            columns: list[str] | None, *, dictionary: bool = False) -> pa.Table:
    """The files' tables as one, with ``account_sid`` (from the paths) when wanted: a
    dictionary of the accounts cast to strings (far cheaper than a string per row), or
    left a dictionary (``dictionary``)."""
    table = tables[0] if len(tables) == 1 else pa.concat_tables(
        tables, promote_options="permissive")
    if PERIOD[resource] == "whole" or not (columns is None or "account_sid" in columns):
        return table
    sids, index = np.unique([p.account_sid for p in parts], return_inverse=True)
    codes = np.repeat(index.astype(np.int32), [t.num_rows for t in tables])
    value = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()),
                                           pa.array(sids, pa.large_string()))
    at = get_resource(resource).column_names.index("account_sid")
    return table.add_column(min(at, table.num_columns), "account_sid",
                            value if dictionary else value.cast(pa.large_string()))


def _read_file(part: Partition, columns: list[str] | None) -> pa.Table:
    """One file's columns (those of ``columns`` it has; all if None), its schema
    checked first. Decoded on the calling thread: a store's files are small (one
    account-day), and Arrow's own thread pool per file cost more than it saved
    (bench/scale.py: 3x the wall time, 1.5x the CPU of a file's read); callers run
    files in parallel instead (a thread pool here, Dask's workers)."""
    pf, names = _open_file(part)
    return _read_open(part, pf, names, columns)


def _open_file(part: Partition) -> tuple[pq.ParquetFile, set[str]]:
    """The file opened (its footer read) and its column names, its schema checked."""
    try:
        pf = pq.ParquetFile(str(part.path), pre_buffer=False)
        return pf, _check_schema(part, pf.schema_arrow)
    except (OSError, pa.ArrowException) as exc:
        raise _unreadable(part, exc) from None


def _read_open(part: Partition, pf: pq.ParquetFile, names: set[str],
               columns: list[str] | None) -> pa.Table:
    try:
        read = None if columns is None else [c for c in columns if c in names]
        return pf.read(columns=read, use_threads=False)
    except (OSError, pa.ArrowException) as exc:
        raise _unreadable(part, exc) from None


def _unreadable(part: Partition, exc: Exception) -> StoreError:
    return StoreError(f"unreadable partition (truncated or corrupt: {exc})", path=part.path)


#: Per resource, file schemas already found good: most files of a store share one, so
#: one comparison in C++ replaces the field-by-field check (done on any other schema).
_GOOD_SCHEMAS: dict[str, list[pa.Schema]] = {}


def _check_schema(part: Partition, schema: pa.Schema) -> set[str]:
    good = _GOOD_SCHEMAS.setdefault(part.resource, [])
    if not any(schema.equals(s) for s in good):
        _check_fields(part, schema)
        if len(good) < 8:
            good.append(schema.remove_metadata())
    return set(schema.names)


def _check_fields(part: Partition, schema: pa.Schema) -> None:
    expected = arrow_schema(part.resource)
    for f in expected:
        if f.name not in schema.names:
            raise StoreError(f"partition of an unexpected schema: no column {f.name!r}",
                             path=part.path)
        if _kind(schema.field(f.name).type) != _kind(f.type):
            raise StoreError(f"partition of an unexpected schema: column {f.name!r} is "
                             f"{schema.field(f.name).type}, expected {f.type}", path=part.path)
    for name in set(schema.names) - set(expected.names):
        if _kind(schema.field(name).type) != "string":
            raise StoreError(f"partition of an unexpected schema: extra column {name!r} is "
                             f"{schema.field(name).type}, expected a string", path=part.path)


def _kind(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_dictionary(t) and _kind(t.value_type) == "string":
        return "category"
    return str(t)


def _trim(resource: str, table: pa.Table, start, end) -> pa.Table:
    """Rows whose date field is in ``[start, end)`` (usage: whose day touches it)."""
    res = get_resource(resource)
    if res.date_field is None or (start is None and end is None):
        return table
    col = table.column(res.date_field)
    if resource == "usage_records":        # StartDate/EndDate are whole days
        start = None if start is None else start.normalize()
        end = None if end is None else (end if end == end.normalize()
                                        else end.normalize() + pd.Timedelta(days=1))
    mask = None
    for bound, op in ((start, pc.greater_equal), (end, pc.less)):
        if bound is not None:
            cond = op(col, pa.scalar(bound.to_pydatetime(), pa.timestamp("us", tz="UTC")))
            mask = cond if mask is None else pc.and_(mask, cond)
    return table.filter(pc.fill_null(mask, False))


def _ordered(resource: str, table: pa.Table) -> pd.DataFrame:
    """The client's order: newest first, ties by sid (dedupe on sid); usage as stored."""
    if resource not in _SORTED or "sid" not in table.column_names:
        return _pandas(resource, table)
    order, unique = served_order(table)
    # repeats can only share a date_created unless a record's date changed: check all
    if not unique or pc.count_distinct(table.column("sid"), mode="all").as_py() != len(table):
        return sort_frame(_pandas(resource, table))
    if order is None or np.array_equal(order, np.arange(len(order))):
        return _pandas(resource, table)
    # one chunk per column first: a take across the files' thousands of chunks is ~10x slower
    return _pandas(resource, table.combine_chunks().take(order))


def _pandas(resource: str, table: pa.Table) -> pd.DataFrame:
    """Arrow -> pandas with the frames' dtypes; categories known values first, then
    unknown values present, sorted (as :func:`~twilio_frames.fetch.frames.combine_frames`)."""
    frame = table.to_pandas(types_mapper=_MAPPER)
    res = get_resource(resource)
    for col in res.columns:
        if col.name in frame.columns and col.kind == "category":
            frame[col.name] = _categorical(frame[col.name], col.values)
    extra = sorted(set(frame.columns) - set(res.column_names))
    for name in extra:
        frame[name] = frame[name].astype("str")
    return frame[[c for c in res.column_names if c in frame.columns] + extra]


def _categorical(s: pd.Series, known: tuple[str, ...]) -> pd.Series:
    if not isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype("category")
    cats = s.cat.categories
    present = np.zeros(len(cats) + 1, bool)
    present[s.cat.codes.to_numpy() + 1] = True          # codes -1 (missing) -> slot 0
    unknown = sorted(set(cats[present[1:]]) - set(known))
    wanted = pd.Index([*known, *unknown], dtype="str")
    same = cats.dtype == wanted.dtype and cats.equals(wanted)
    return s if same else s.cat.set_categories(wanted)
