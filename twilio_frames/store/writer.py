"""The store's writer for data made elsewhere: a new store filled partition by partition
from Arrow tables, with the ledger's judgement of each (``tf.simulator.write_store``).

A sync decides what to fetch and writes what it fetched; a :class:`StoreWriter` is told
what each partition holds and writes it by the same rules: the partition schema
(:func:`~twilio_frames.store.layout.arrow_schema`, enums' categories as the frames have
them), the atomic replace, the metadata in each file, settled or open judged by
:func:`~twilio_frames.store.ledger.judge` at the data's ``now``, and the store's lock
held throughout. It only makes new stores: a file, a folder that is not empty or a
store already there is refused before anything is written, so nothing is overwritten.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import StoreError
from ..fetch.assemble import sort_frame
from ..fetch.frames import to_frame
from ..resources import get_resource
from . import ledger
from .layout import MARKER, PERIOD, arrow_schema, create_store, write_partition, write_table
from .lock import store_lock

__all__ = ["BackgroundWrites", "StoreWriter", "PERIOD", "arrow_schema", "periods"]

#: Lists a client sorts newest first (the others keep the served order).
_SORTED = ("calls", "messages", "recordings", "incoming_phone_numbers")


def periods(resource: str, start, end) -> list:
    """The periods (days, months' first days, or ``[None]``) a sync of ``[start, end)``
    covers for ``resource``."""
    return ledger.periods(resource, pd.Timestamp(start), pd.Timestamp(end))


class BackgroundWrites:
    """Partition writes on two threads while the caller makes the next ones (Parquet
    encoding and the fsyncs release the GIL). At most ``limit`` wait; each write's
    result goes to ``done`` on the caller's thread; the first error is raised there,
    and on leaving the block after an error the writes already started finish whole."""

    def __init__(self, done: Callable[[object], None], *, limit: int = 8,
                 name: str = "twilio-frames-store") -> None:
        self.done, self.limit, self.pending = done, limit, set()
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix=name)

    def submit(self, fn: Callable, *args) -> None:
        """Run ``fn(*args)`` on a writer thread; wait for one to finish when ``limit`` do."""
        self.pending.add(self.pool.submit(fn, *args))
        if len(self.pending) >= self.limit:
            finished, self.pending = wait(self.pending, return_when=FIRST_COMPLETED)
            self._collect(finished)

    def _collect(self, finished) -> None:
        for future in finished:
            self.done(future.result())

    def __enter__(self) -> BackgroundWrites:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.pool.shutdown(wait=True)
        if exc_type is None:
            self._collect(self.pending)


class StoreWriter:
    """Write a new store at ``root`` of the master account ``account_sid``.

    ``now`` (aware) is the present the data belongs to: it judges each partition settled
    or open as a sync at that server time would. ``source`` is kept in each file's
    metadata (where the data came from). Use as a context manager: the folder is made a
    store and locked on entry.
    """

    def __init__(self, root, *, account_sid: str, now: pd.Timestamp, settle="48h",
                 source: str) -> None:
        self.root, self.account_sid = Path(root), account_sid
        self.now = pd.Timestamp(now).tz_convert("UTC").floor("s")
        self.settle = ledger.parse_settle(settle)
        self.source = source
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> StoreWriter:
        if self.root.exists() and (not self.root.is_dir() or any(self.root.iterdir())):
            if (self.root / MARKER).is_file():
                raise StoreError("a store is there already; writing a new store needs a "
                                 "new or empty folder (nothing is overwritten)", path=self.root)
        create_store(self.root, account_sid=self.account_sid)
        self._stack.enter_context(store_lock(self.root))
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def write(self, resource: str, account_sid: str | None, period, table: pa.Table) -> bool:
        """Write one partition (``table``: the partition schema's columns in order; enum
        columns may be plain strings); returns whether it is settled."""
        table = _with_categories(resource, table)
        meta = self._meta(resource, period, _judged(resource, table))
        write_table(self.root, resource, account_sid, period, table, meta=meta)
        return meta["settled"]

    def write_records(self, resource: str, account_sid: str | None, period,
                      records: list[dict]) -> bool:
        """Write one partition of JSON-equivalent records (what a list's pages hold),
        made into the frame a client makes of them; returns whether it is settled."""
        frame = to_frame(resource, records)
        if resource in _SORTED:
            frame = sort_frame(frame)
        meta = self._meta(resource, period, frame)
        write_partition(self.root, resource, account_sid, period, frame, meta=meta)
        return meta["settled"]

    def _meta(self, resource: str, period, frame: pd.DataFrame) -> dict:
        settled, why = ledger.judge(resource, period, frame, now=self.now, settle=self.settle)
        return {"fetched_at": pd.Timestamp.now(tz="UTC").isoformat(),
                "server_now": self.now.isoformat(), "settled": settled, "why": why,
                "settle": str(self.settle), "format": None, "page_size": None, "pages": 0,
                "source": self.source}


def _with_categories(resource: str, table: pa.Table) -> pa.Table:
    """Enum columns dictionary-encoded as a frame's categoricals are: the known values
    first, then any other value present, sorted."""
    for col in get_resource(resource).columns:
        if col.kind != "category" or col.name not in table.column_names:
            continue
        at = table.column_names.index(col.name)
        values = table.column(at).combine_chunks()
        if not pa.types.is_dictionary(values.type):
            values = values.cast(pa.large_string()).dictionary_encode()
        words = values.dictionary.cast(pa.large_string()).to_pylist()
        used = set() if set(words) <= set(col.values) else \
            {words[i] for i in pc.unique(values.indices).drop_null().to_pylist()}
        cats = [*col.values, *sorted(used - set(col.values))]
        where = {w: i for i, w in enumerate(cats)}
        lookup = pa.array([where.get(w, -1) for w in words], pa.int32())
        table = table.set_column(at, col.name, pa.DictionaryArray.from_arrays(
            lookup.take(values.indices), pa.array(cats, pa.large_string())))
    return table


def _judged(resource: str, table: pa.Table) -> pd.DataFrame:
    """The rows :func:`ledger.judge` counts (not final, or charged without a price yet),
    as a small frame: the judgement of these rows is that of the whole partition (a
    partition without them is final either way), and a partition of settled days holds
    none, so no frame of the whole partition is built."""
    if resource not in ledger.OPEN_STATUSES:
        return pd.DataFrame(index=pd.RangeIndex(table.num_rows))
    status = table.column("status").combine_chunks()
    if status.null_count:
        return table.select(["status", "price_micros"]).to_pandas()
    words = status.dictionary.to_pylist()
    live = pa.array([w in ledger.OPEN_STATUSES[resource] for w in words])
    charged = pa.array([w in ledger.CHARGED_STATUSES[resource] for w in words])
    unpriced = table.column("price_micros").is_null()
    keep = pc.or_(live.take(status.indices), pc.and_(charged.take(status.indices), unpriced))
    return table.select(["status", "price_micros"]).filter(keep).to_pandas()
