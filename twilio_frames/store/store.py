"""The front door of the store: :class:`Store` = layout + sync + read."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import StoreError
from . import read, sync
from .layout import PERIOD, iter_partitions, open_store, read_meta

__all__ = ["Store"]

_STATUS_COLUMNS = ["resource", "account_sid", "period", "rows", "fetched_at", "settled",
                   "why", "path"]


class Store:
    """A local ledger of an account's history: hive-partitioned Parquet under ``path``.

    Calls, messages and recordings are kept per account and UTC day, daily usage
    records per account and month, phone numbers per account, the Accounts list whole
    (``docs/store.md``). A folder becomes a store on its first :meth:`sync`; reading
    needs no network and no credentials (none are ever written).

    Parameters
    ----------
    path : str or Path
        The store's folder. A folder that is not empty and not a store, a store of a
        newer layout, or (when syncing) a store of another account is refused with a
        :class:`~twilio_frames.StoreError` before anything is written.

    Examples
    --------
    >>> import twilio_frames as tf
    >>> with tf.simulator.running(seed=1, days=7) as sim:      # doctest: +SKIP
    ...     client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url)
    ...     store = tf.Store("history")
    ...     print(store.sync(client, start="2026-11-08"))
    ...     calls = store.frame("calls", start="2026-11-10")
    """

    def __init__(self, path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def sync(self, client, start=None, end=None, *, resources=None, accounts="all",
             settle="48h", refresh: bool = False, progress=None) -> sync.SyncResult:
        """Fetch what the store is missing and what is still open.

        Every (resource, account, day) touching ``[start, end)`` is a unit of work on
        the client's page scheduler (daily usage records: (account, month); accounts and
        phone numbers: whole). A partition is fetched when it is missing, unreadable or
        open; settled partitions are skipped unless ``refresh``. A day is open until it
        ended more than ``settle`` ago (server time) and while it holds a row that may
        still change (unpriced, not final: :mod:`twilio_frames.store.ledger`).

        ``start`` defaults to the first day already stored (the first sync needs it),
        ``end`` to the server's now. ``resources``: names (default all six).
        ``accounts``: ``"all"`` (every account the Accounts list shows) or SIDs.
        ``progress``: a bar of partitions (default: the client's setting).

        Returns a :class:`~twilio_frames.store.sync.SyncResult`: partitions fetched,
        skipped as settled, records written, requests, refused units, seconds.
        """
        return sync.sync(self.path, client, start, end, resources=resources,
                         accounts=accounts, settle=settle, refresh=refresh, progress=progress)

    def frame(self, resource: str, start=None, end=None, *, accounts=None,
              columns=None) -> pd.DataFrame:
        """What ``Client.<resource>(start, end, accounts=...)`` returns from the same
        server state: same rows, order and dtypes (usage records: the ``daily``
        subresource, each account's own). ``accounts`` None means every account in
        the store (``"all"``); ``columns`` keeps those columns only."""
        self._check()
        return read.read_frame(self.path, resource, start, end, accounts=accounts,
                               columns=columns)

    def dask(self, resource: str, start=None, end=None, *, accounts=None, columns=None,
             partition_size=read.PARTITION_SIZE):
        """A lazy Dask DataFrame of the same rows as :meth:`frame` (pruned by range and
        accounts; only ``columns``, or those a computation selects, are read); rows
        are in stored order, not sorted. Each Dask partition reads consecutive stored
        partitions (by account, then period) up to ``partition_size`` of Parquet
        (``"32MiB"``, or bytes; ``None``: one stored partition each). Needs the
        ``dask`` extra."""
        self._check()
        return read.read_dask(self.path, resource, start, end, accounts=accounts,
                              columns=columns, partition_size=partition_size)

    def status(self) -> pd.DataFrame:
        """One row per partition: resource, account_sid, period, rows, fetched_at,
        settled, why, path. An unreadable partition has ``rows`` missing and ``why``
        saying what is wrong (the next sync fetches it again)."""
        self._check()
        rows = []
        for resource in PERIOD:
            for part in iter_partitions(self.path, resource):
                rows.append(_status_row(part))
        frame = pd.DataFrame(rows, columns=_STATUS_COLUMNS)
        frame["rows"] = frame["rows"].astype("Int64")
        frame["settled"] = frame["settled"].astype("boolean")
        frame["fetched_at"] = pd.to_datetime(frame["fetched_at"], utc=True)
        return frame

    def source(self):
        """A stand-in for a :class:`~twilio_frames.Client` that answers its read methods
        (``calls``, ``messages``, ``recordings``, ``usage_records("daily")``,
        ``accounts``, ``incoming_phone_numbers``) from this store: hand it to
        :func:`~twilio_frames.write_report` to build a report with no network."""
        from .source import StoreSource
        return StoreSource(self.path)

    def _check(self) -> None:
        open_store(self.path)


def _status_row(part) -> dict:
    row = {"resource": part.resource, "account_sid": part.account_sid,
           "period": part.period, "path": str(part.path)}
    try:
        meta = read_meta(part.path)
    except StoreError as exc:
        return {**row, "rows": None, "fetched_at": None, "settled": None,
                "why": f"unreadable: {exc}"}
    return {**row, "rows": meta.get("rows"), "fetched_at": meta.get("fetched_at"),
            "settled": meta.get("settled"), "why": meta.get("why")}
