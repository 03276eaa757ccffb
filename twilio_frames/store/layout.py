"""The store's layout on disk: paths, partitions, the Arrow schema, the atomic write.

A store is a folder::

    <root>/twilio-frames-store.json                     marker: layout version, account
    <root>/calls/account_sid=AC.../day=2026-10-01/data.parquet
    <root>/messages/account_sid=AC.../day=2026-10-01/data.parquet
    <root>/recordings/account_sid=AC.../day=2026-10-01/data.parquet
    <root>/usage_records/account_sid=AC.../month=2026-10/data.parquet    (daily records)
    <root>/incoming_phone_numbers/account_sid=AC.../data.parquet
    <root>/accounts/data.parquet

Hive partitioning, so pyarrow.dataset, DuckDB, Dask and Polars read each resource folder
without this package. A file holds the frame's columns with the frames' Arrow types
(:func:`arrow_schema`) *except* the partition columns: ``account_sid`` lives in the path
only (Dask refuses files that hold some of the partition columns but not all,
reference/sync-and-scale.md §4), and ``day``/``month`` are not frame columns.

Each file carries its own metadata (Parquet key-value metadata, key ``twilio_frames``,
JSON): resource, account, period, rows, layout and schema versions, and what the writer
passes as ``meta`` (when and how it was fetched, settled or open and why). The files are
the truth; nothing else is needed to read or plan a sync.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import StoreError
from ..resources import get_resource

__all__ = ["LAYOUT_VERSION", "SCHEMA_VERSION", "MARKER", "DATA_FILE", "META_KEY", "PERIOD",
           "Partition", "arrow_schema", "partition_path", "period_key", "create_store",
           "open_store", "write_partition", "write_table", "read_meta", "iter_partitions"]

#: Version of the folder layout; a store of a newer version is refused.
LAYOUT_VERSION = 1
#: Version of the per-partition file schema (bump when resources.py changes a column).
SCHEMA_VERSION = 1
MARKER = "twilio-frames-store.json"
DATA_FILE = "data.parquet"
META_KEY = b"twilio_frames"
#: resource -> partition period below the account: "day", "month", None (whole per
#: account), or "whole" (one file for the resource: the Accounts list).
PERIOD: dict[str, str | None] = {
    "calls": "day", "messages": "day", "recordings": "day", "usage_records": "month",
    "incoming_phone_numbers": None, "accounts": "whole",
}
_ARROW = {
    "str": pa.large_string(), "datetime": pa.timestamp("us", tz="UTC"),
    "date": pa.timestamp("us", tz="UTC"), "int": pa.int64(), "float": pa.float64(),
    "bool": pa.bool_(), "category": pa.dictionary(pa.int32(), pa.large_string()),
    "money": pa.float64(), "micros": pa.int64(),
}
_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")


@dataclass(frozen=True)
class Partition:
    """One partition file: ``period`` is a ``datetime.date`` (day; a month's first day
    for usage records) or None."""

    resource: str
    account_sid: str | None
    period: dt.date | None
    path: Path

    def __dask_tokenize__(self) -> tuple:
        """Dask names a graph after its inputs: the fields as text (tokenizing a
        dataclass field by field costs ~0.1 ms, a store has thousands)."""
        return (self.resource, self.account_sid, str(self.period), str(self.path))


def arrow_schema(resource: str, extra: tuple[str, ...] = ()) -> pa.Schema:
    """The Arrow schema of a partition file of ``resource``: the frame's columns in
    order (``extra``: fields the table does not know, strings, after them), without
    ``account_sid`` when the account is a partition column."""
    res = get_resource(resource)
    fields = [pa.field(c.name, _ARROW[c.kind]) for c in res.columns]
    fields += [pa.field(name, pa.large_string()) for name in extra]
    if PERIOD[resource] != "whole":
        fields = [f for f in fields if f.name != "account_sid"]
    return pa.schema(fields)


def period_key(resource: str, period: Any) -> str | None:
    """``period`` (date, Timestamp or ISO text) as its folder value: ``2026-10-01``
    for days, ``2026-10`` for months, None for resources without a period."""
    kind = PERIOD[resource]
    if kind not in ("day", "month"):
        if period is not None:
            raise StoreError(f"{resource} is stored whole; period must be None, not {period!r}")
        return None
    try:
        day = pd.Timestamp(period).date()
    except (TypeError, ValueError):
        raise StoreError(f"{resource} period {period!r} is not a date") from None
    return day.isoformat() if kind == "day" else day.isoformat()[:7]


def partition_path(root, resource: str, account_sid: str | None, period: Any = None) -> Path:
    """Where the partition of ``(resource, account_sid, period)`` lives."""
    path = Path(root) / resource
    if PERIOD[resource] != "whole":
        if not (isinstance(account_sid, str) and _SID.match(account_sid)):
            raise StoreError(f"{resource} partition needs an account SID, not {account_sid!r}")
        path /= f"account_sid={account_sid}"
    key = period_key(resource, period)
    if key is not None:
        path /= f"{PERIOD[resource]}={key}"
    return path / DATA_FILE


# ------------------------------------------------------------------ the marker

def create_store(root, *, account_sid: str) -> Path:
    """Make ``root`` a store of ``account_sid`` (its master account), or check that it
    is one already; returns the root. A non-empty folder that is not a store, a store
    of a newer layout or of another account raises :class:`StoreError` before anything
    is written."""
    root = Path(root)
    if not (isinstance(account_sid, str) and _SID.match(account_sid)):
        raise StoreError(f"a store needs its account SID (AC + 32 hex), not {account_sid!r}")
    if (root / MARKER).exists() or (root.exists() and not root.is_dir()):
        marker = open_store(root)
        if marker["account_sid"] != account_sid:
            raise StoreError(f"this store holds account {marker['account_sid']}, not "
                             f"{account_sid}; use another folder", path=root)
        return root
    if root.exists() and any(p.name != "twilio-frames-store.lock" for p in root.iterdir()):
        raise StoreError("folder is not empty and is not a twilio-frames store "
                         f"(no {MARKER}); refusing to write into it", path=root)
    root.mkdir(parents=True, exist_ok=True)
    body = {"format": "twilio-frames store", "layout_version": LAYOUT_VERSION,
            "account_sid": account_sid}
    _atomic_bytes(root / MARKER, (json.dumps(body, indent=1) + "\n").encode())
    return root


def open_store(root) -> dict:
    """The marker of the store at ``root``; :class:`StoreError` if it is not one."""
    root = Path(root)
    path = root / MARKER
    if not root.is_dir():
        raise StoreError("not a folder", path=root)
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreError(f"not a twilio-frames store (no {MARKER})", path=root) from None
    except (OSError, ValueError) as exc:
        raise StoreError(f"unreadable store marker: {exc}", path=path) from None
    version = marker.get("layout_version") if isinstance(marker, dict) else None
    if not isinstance(version, int) or not isinstance(marker.get("account_sid"), str):
        raise StoreError("store marker lacks layout_version/account_sid", path=path)
    if version > LAYOUT_VERSION:
        raise StoreError(f"store layout version {version} is newer than this twilio-frames "
                         f"reads ({LAYOUT_VERSION}); upgrade twilio-frames", path=root)
    return marker


# ------------------------------------------------------------------ writing

def write_partition(root, resource: str, account_sid: str | None, period: Any,
                    frame: pd.DataFrame, *, meta: Mapping[str, Any]) -> Path:
    """Replace one partition whole and atomically: write aside, fsync, rename.

    Parameters
    ----------
    root : path
        The store (see :func:`create_store`; this function does not check the marker).
    resource, account_sid, period
        The partition (``account_sid`` None only for ``accounts``; ``period`` a day, a
        month's day for ``usage_records``, None for whole resources).
    frame : DataFrame
        The partition's rows as ``Client.<resource>()`` gives them (same columns and
        dtypes). Every row's ``account_sid`` must be ``account_sid``.
    meta : mapping
        JSON-able facts kept in the file: at least ``fetched_at`` (ISO text),
        ``settled`` (bool) and ``why`` (text). ``resource``, ``account_sid``, ``period``,
        ``rows``, ``layout_version`` and ``schema_version`` are added.

    Returns the partition file's Path. A crash leaves the old file or the new one.
    """
    return write_table(root, resource, account_sid, period,
                       _to_table(resource, account_sid, frame), meta=meta)


def write_table(root, resource: str, account_sid: str | None, period: Any, table: pa.Table,
                *, meta: Mapping[str, Any]) -> Path:
    """:func:`write_partition` of an Arrow table already in the file's schema
    (:func:`arrow_schema`, no ``account_sid`` column unless ``accounts``)."""
    path = partition_path(root, resource, account_sid, period)
    expected = arrow_schema(resource, tuple(table.column_names[len(arrow_schema(resource)):]))
    if not table.schema.equals(expected, check_metadata=False):
        got = dict(zip(table.column_names, table.schema.types))
        bad = next((f"{f.name} is {got.get(f.name, 'missing')}, not {f.type}" for f in expected
                    if got.get(f.name) != f.type), "columns out of order")
        raise StoreError(f"{resource} table does not have the partition schema: {bad}",
                         path=path)
    info = {**dict(meta), "resource": resource, "account_sid": account_sid,
            "period": period_key(resource, period), "rows": table.num_rows,
            "layout_version": LAYOUT_VERSION, "schema_version": SCHEMA_VERSION}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           META_KEY: json.dumps(info, default=str).encode()})
    path.parent.mkdir(parents=True, exist_ok=True)
    # snappy: zstd took ~8x the time per small file
    _atomic_write(path, lambda fh: pq.write_table(table, fh, compression="snappy"))
    return path


def _to_table(resource: str, account_sid: str | None, frame: pd.DataFrame) -> pa.Table:
    res = get_resource(resource)
    missing = [c for c in res.column_names if c not in frame.columns]
    if missing:
        raise StoreError(f"{resource} frame lacks columns {missing}")
    if PERIOD[resource] != "whole":
        other = frame["account_sid"].dropna()
        other = other[other != account_sid]
        if len(other):
            raise StoreError(f"{resource} rows of account {other.iloc[0]} cannot go into the "
                             f"partition of {account_sid}")
        frame = frame.drop(columns="account_sid")
    extra = tuple(c for c in frame.columns if c not in res.column_names)
    return pa.Table.from_pandas(frame, schema=arrow_schema(resource, extra),
                                preserve_index=False)


def _atomic_bytes(path: Path, data: bytes) -> None:
    _atomic_write(path, lambda fh: fh.write(data))


def _atomic_write(path: Path, write) -> None:
    """``write(file)`` into a temporary beside ``path``, fsync, rename over ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ------------------------------------------------------------------ finding, metadata

def read_meta(path) -> dict:
    """The ``twilio_frames`` metadata of a partition file; :class:`StoreError` naming
    the file when it is truncated, not Parquet, or lacks the metadata."""
    try:
        kv = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(f"unreadable partition (truncated or not Parquet: {exc})",
                         path=path) from None
    try:
        return json.loads(kv[META_KEY])
    except (KeyError, ValueError):
        raise StoreError("partition lacks its twilio_frames metadata", path=path) from None


def iter_partitions(root, resource: str) -> Iterator[Partition]:
    """Every partition file of ``resource`` under ``root``, by account then period
    (leftover ``.tmp`` files of an interrupted write are not partitions)."""
    base = Path(root) / resource
    kind = PERIOD[resource]
    if kind == "whole":
        if (base / DATA_FILE).is_file():
            yield Partition(resource, None, None, base / DATA_FILE)
        return
    for acct in _subdirs(base, "account_sid"):
        folder = base / f"account_sid={acct}"
        if kind is None:
            if (folder / DATA_FILE).is_file():
                yield Partition(resource, acct, None, folder / DATA_FILE)
            continue
        for key in _subdirs(folder, kind):
            path = folder / f"{kind}={key}" / DATA_FILE
            if path.is_file():
                day = dt.date.fromisoformat(key if kind == "day" else key + "-01")
                yield Partition(resource, acct, day, path)


def _subdirs(folder: Path, name: str) -> list[str]:
    pattern = re.compile(rf"^{name}=(AC[0-9a-fA-F]{{32}}|\d{{4}}-\d{{2}}(?:-\d{{2}})?)$")
    try:
        names = [e.name for e in os.scandir(folder) if e.is_dir()]
    except FileNotFoundError:
        return []
    return sorted(m.group(1) for m in map(pattern.match, names) if m)
