"""A simulated account written straight into a store, without HTTP, a few days at a time.

    >>> import tempfile, twilio_frames as tf
    >>> folder = tempfile.mkdtemp() + "/store"
    >>> result = tf.simulator.write_store(folder, seed=1, days=3, subaccounts=1)
    >>> tf.Store(folder).frame("messages").shape[0] == result.rows["messages"]
    True

The store holds what :meth:`Store.sync <twilio_frames.Store.sync>` from
``tf.simulator.running(**options)`` gives from the dataset's ``start`` to its ``now``:
every (resource, account, UTC day) partition, each settled or open as judged at the
dataset's ``now``, the usage records of each (account, month), the phone numbers and the
Accounts list. The traffic is drawn a few days at a time (:meth:`Dataset.traffic`; a
day's events are the same whichever days are drawn with it), so memory is bounded by the
busiest few days, not the history; rows are vectorised into Arrow columns
(:mod:`.arrow_lists`), never made into records.

This is the one simulator module that imports the store (its writer,
:mod:`twilio_frames.store.writer`): the simulator that serves HTTP never loads it.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from twilio_frames.store.writer import BackgroundWrites, StoreWriter, arrow_schema, periods

from . import usage
from .arrow_lists import Pools, calls_columns, messages_columns, recordings_columns
from .dataset import Dataset
from .generate_accounts import number_record
from .generate_times import stream_days

__all__ = ["write_store", "WriteResult"]

#: Resource -> the served column its day filter reads (calls by start, messages by
#: sent, recordings by creation), as the list's date filter does.
_DAY_COLUMN = {"calls": "start", "messages": "sent", "recordings": "created"}
#: Events drawn at once, about: a chunk of days holds this many calls and messages.
_CHUNK_EVENTS = 400_000


@dataclass
class WriteResult:
    """What :func:`write_store` wrote: partitions, rows per resource, open partitions,
    seconds, and the dataset's ``start`` and ``now``."""

    partitions: int = 0
    open: int = 0
    rows: dict = field(default_factory=dict)
    seconds: float = 0.0
    start: pd.Timestamp | None = None
    now: pd.Timestamp | None = None

    def __str__(self) -> str:
        rows = ", ".join(f"{n:,} {r}" for r, n in self.rows.items())
        return (f"wrote {self.partitions} partitions ({rows}; {self.open} still open) "
                f"in {self.seconds:.1f}s")


def write_store(path, *, settle="48h", **options) -> WriteResult:
    """Write the simulated account of ``options`` into a new store at ``path``.

    Parameters
    ----------
    path : path
        A new or empty folder. A file, a folder that is not empty, or a store already
        there is refused (:class:`~twilio_frames.StoreError` naming it) before anything
        is written.
    settle : str or Timedelta
        As :meth:`Store.sync <twilio_frames.Store.sync>`: days that ended less than this
        before ``now`` stay open.
    **options
        The dataset options of :func:`running` (``seed``, ``start``, ``now``, ``days``,
        ``subaccounts``, ``calls_per_day``, ``messages_per_day``, ``currency``, ...);
        an unknown one is a ``TypeError`` naming it.

    Returns
    -------
    WriteResult
    """
    started = time.perf_counter()
    _check_options(options)
    ds = Dataset.without_traffic(**options)
    if not ds.start < ds.now:
        raise ValueError(f"write_store needs a history: start {ds.start.isoformat()} is "
                         f"not before now {ds.now.isoformat()}")
    gone = ds.closing is not None and ds.closing.deleted(int(ds.now.timestamp()))
    if gone:
        # Twilio deleted that subaccount's data (:mod:`.closing`): a sync stores none of
        # it, and this writer does not leave out a subaccount's days one by one
        raise ValueError(f"write_store: closed_at {options['closed_at']!r} is more than "
                         f"30 days before now, so the subaccount's data is deleted; "
                         f"write the store at an earlier now, then sync it")
    result = WriteResult(start=pd.Timestamp(ds.start), now=pd.Timestamp(ds.now))
    with StoreWriter(path, account_sid=ds.master_sid, now=result.now, settle=settle,
                     source="twilio_frames.simulator.write_store") as writer:
        with _Out(writer, result) as out:
            out.records("accounts", None, None, [dict(a) for a in ds.accounts])
            for i, sid in enumerate(ds.account_sids):
                released = ds.closing is not None and i == ds.closing.index and \
                    ds.closing.closed(int(ds.now.timestamp()))      # at its closing
                numbers = [] if released else [number_record(x, sid) for x in ds.numbers
                                               if x.account == i]
                out.records("incoming_phone_numbers", str(sid), None, numbers)
            _write_traffic(ds, out)
            _write_usage(ds, out)
    result.seconds = time.perf_counter() - started
    return result


def _check_options(options: dict) -> None:
    known = [p for p in inspect.signature(Dataset.__init__).parameters if p != "self"]
    bad = sorted(set(options) - set(known))
    if bad:
        raise TypeError(f"write_store: unknown dataset option{'s' * (len(bad) > 1)} "
                        f"{', '.join(map(repr, bad))}; known: {', '.join(known)}")


class _Out(BackgroundWrites):
    """The writer, counting what it wrote; tables are written in the background while
    the next days are drawn (:class:`~twilio_frames.store.writer.BackgroundWrites`)."""

    def __init__(self, writer: StoreWriter, result: WriteResult) -> None:
        super().__init__(lambda written: self._count(*written), name="write_store")
        self.writer, self.result = writer, result

    def _count(self, resource: str, rows: int, settled: bool) -> None:
        self.result.partitions += 1
        self.result.open += not settled
        self.result.rows[resource] = self.result.rows.get(resource, 0) + rows

    def records(self, resource, sid, period, records) -> None:
        self._count(resource, len(records),
                    self.writer.write_records(resource, sid, period, records))

    def table(self, resource, sid, period, table: pa.Table) -> None:
        def write():
            return resource, table.num_rows, self.writer.write(resource, sid, period, table)
        self.submit(write)


def _write_traffic(ds: Dataset, out: _Out) -> None:
    """Calls, messages and recordings, chunk by chunk of days; each UTC day's partitions
    are written once every day whose events can fall in it has been drawn (an event of
    local day ``d`` falls in UTC day ``d - 1``, ``d`` or ``d + 1``)."""
    now_s = int(ds.now.timestamp())
    days = [usage.day_number(d) for d in periods("calls", out.result.start, out.result.now)]
    first, last = days[0], days[-1]
    drawn = stream_days(ds.window_start, now_s)
    step = int(np.clip(_CHUNK_EVENTS // max(1.0, ds._rates[0] + ds._rates[1]), 1, 31))
    pools, sids = Pools(ds), [str(s) for s in ds.account_sids]
    schemas = {r: arrow_schema(r) for r in _DAY_COLUMN}
    pending: dict[tuple, list[pa.Table]] = {}
    cube, stored = usage.empty_cube(ds), 0
    written = first
    for at in range(0, len(drawn), step):
        chunk = drawn[at:at + step]
        lists = ds.traffic(chunk, extra=at == 0)
        usage.add_traffic(cube, lists["calls"], lists["messages"], lists["recordings"])
        stored = stored + usage.stored_minutes(cube, lists["recordings"], ds)
        _split(pools, lists, schemas, first, last, pending)
        done = last if at + step >= len(drawn) else min(last, int(chunk[-1]) - 1)
        for day in range(written, done + 1):
            _flush(out, pending, sids, schemas, day)
        written = max(written, done + 1)
        for key, parts in pending.items():    # carried days: let the chunk's buffers go
            pending[key] = [_merged(parts, copy=True)]
    ds._usage = usage.finish_cube(cube, ds, stored)


def _split(pools, lists, schemas, first, last, pending) -> None:
    """Each list's rows of the UTC days ``first..last`` as Arrow tables, by (account,
    day), appended to ``pending``."""
    for resource, column in _DAY_COLUMN.items():
        cols = lists[resource]
        t = cols[column]
        day = np.where(t >= 0, t // 86400, -1)
        rows = np.flatnonzero((day >= first) & (day <= last))
        # the client's order inside a day: newest first, ties by sid descending (the
        # served order is by the sids' bodies; "SM..." sorts after "MM..." on a tie)
        mms = cols["mms"][rows] if resource == "messages" else np.zeros(len(rows), bool)
        rows = rows[np.lexsort((mms, -cols["created"][rows], day[rows], cols["acct"][rows]))]
        if resource == "calls":
            table = calls_columns(pools, cols, rows, schemas[resource])
        elif resource == "messages":
            table = messages_columns(pools, cols, rows, schemas[resource])
        else:
            table = recordings_columns(pools, cols, rows, lists["calls"]["sid"],
                                       schemas[resource])
        keys = cols["acct"][rows].astype(np.int64) * 10**6 + day[rows]
        cuts = np.flatnonzero(np.diff(keys)) + 1
        for lo, hi in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [len(rows)]])):
            if hi > lo:
                acct, d = divmod(int(keys[lo]), 10**6)
                pending.setdefault((resource, acct, d), []).append(table.slice(lo, hi - lo))


def _flush(out: _Out, pending: dict, sids: list[str], schemas: dict, day: int) -> None:
    """Write every account's partitions of UTC ``day`` (empty ones too, as a sync does)."""
    period = pd.Timestamp(day * 86400, unit="s").date()
    for resource, schema in schemas.items():
        for i, sid in enumerate(sids):
            parts = pending.pop((resource, i, day), [])
            out.table(resource, sid, period, _merged(parts, copy=False) if parts
                      else schema.empty_table())


def _merged(parts: list[pa.Table], *, copy: bool) -> pa.Table:
    """Pieces of one partition (each in the client's order) as one table in that order,
    newest first by ``date_created``, ties by ``sid`` descending; with ``copy`` never a
    view of the chunks the pieces were cut from (so they can go)."""
    table = pa.concat_tables(parts)
    if len(parts) == 1:
        return table.take(np.arange(table.num_rows)) if copy else table
    return table.take(pc.sort_indices(table, sort_keys=[("date_created", "descending"),
                                                        ("sid", "descending")]))


def _write_usage(ds: Dataset, out: _Out) -> None:
    """Each account's own daily usage records, by month (as the store keeps them)."""
    for month in periods("usage_records", out.result.start, out.result.now):
        last = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()
        for sid in ds.account_sids:
            records = ds.usage_records(str(sid), "daily", start_date=month, end_date=last,
                                       include_subaccounts=False)
            out.records("usage_records", str(sid), month, records)

