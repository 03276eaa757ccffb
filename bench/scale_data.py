"""Synthetic messages written straight into the store layout, fast, for bench/scale.py.

The store layout (docs/store.md): ``messages/account_sid=AC.../day=YYYY-MM-DD/data.parquet``
without ``account_sid`` in the file, the frames' Arrow types, and daily usage records
under ``usage_records/account_sid=AC.../month=YYYY-MM/data.parquet``. Rows are drawn with
numpy (vectorised, one day at a time, so memory stays bounded); the usage records are
the exact daily totals of those rows by Twilio's rules (reference/billing-rules.md §2),
so reconcile() matches. Each file carries the store's key-value metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import twilio_frames as tf

_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)
_STATUS = np.array(["delivered", "sent", "undelivered", "failed", "received"], object)
_BILLED = np.array([True, True, True, False, True])
_BODIES = np.array(["Your code is 1234", "Meeting moved to 3pm, see you there",
                    "Votre colis arrive demain", "Привет! Как дела?", "ok",
                    "Order #88213 shipped " * 4], object)
_ARROW = {"str": pa.large_string(), "datetime": pa.timestamp("us", tz="UTC"),
          "date": pa.timestamp("us", tz="UTC"), "int": pa.int64(), "float": pa.float64(),
          "category": pa.dictionary(pa.int32(), pa.large_string()), "money": pa.float64(),
          "micros": pa.int64(), "bool": pa.bool_()}


def sids(rng, prefix: str, n: int) -> np.ndarray:
    """``n`` random sids (prefix + 32 hex digits) as an ``S34`` array."""
    raw = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    out = np.empty((n, 34), np.uint8)
    out[:, :2] = np.frombuffer(prefix.encode(), np.uint8)
    out[:, 2::2], out[:, 3::2] = _HEX[raw >> 4], _HEX[raw & 15]
    return out.view("S34").ravel()


def schema(resource: str) -> pa.Schema:
    cols = tf.RESOURCES[resource].columns
    return pa.schema([pa.field(c.name, _ARROW[c.kind]) for c in cols if c.name != "account_sid"])


def _write(path: Path, table: pa.Table, meta: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = table.replace_schema_metadata({b"twilio_frames": json.dumps(meta).encode()})
    pq.write_table(table, path, compression="snappy")


def message_day(rng, account: str, day: np.datetime64, n: int) -> tuple[pa.Table, dict]:
    """One account-day of messages and its daily usage totals per category."""
    start = day.astype("datetime64[us]").astype(np.int64)
    created = np.sort(start + rng.integers(0, 86_400_000_000 - 2_000_000, n))[::-1]
    inbound = rng.random(n) < 0.3
    status = np.where(inbound, 4, rng.choice(4, n, p=[0.9, 0.03, 0.04, 0.03]))
    mms = rng.random(n) < 0.05
    segments = np.where(mms, 1, rng.choice([1, 2, 3], n, p=[0.8, 0.15, 0.05]))
    sent = np.where(status == 3, np.iinfo(np.int64).min, created + 2_000_000)
    micros = np.where(mms, -20_000, -7_900 * segments).astype(np.int64)
    priced = status != 3
    ours = np.char.add("+1415555", rng.integers(1000, 1100, n).astype("U4"))
    theirs = np.char.add("+4479111", rng.integers(10_000, 99_999, n).astype("U5"))
    sid = sids(rng, "SM", n).astype(str)
    ts = pa.timestamp("us", tz="UTC")
    columns = {
        "sid": sid, "messaging_service_sid": None,
        "date_created": pa.array(created, ts), "date_updated": pa.array(created, ts),
        "date_sent": pa.array(sent, ts, mask=status == 3),
        "direction": np.where(inbound, "inbound", "outbound-api"),
        "status": _STATUS[status], "from": np.where(inbound, theirs, ours),
        "to": np.where(inbound, ours, theirs),
        "body": _BODIES[rng.integers(0, len(_BODIES), n)],
        "num_segments": segments, "num_media": mms.astype(np.int64),
        "price": pa.array(micros / 1e6, mask=~priced),
        "price_micros": pa.array(micros, mask=~priced), "price_unit": np.full(n, "USD"),
        "error_code": pa.array(np.full(n, 30003), mask=status < 2),
        "error_message": None, "api_version": np.full(n, "2010-04-01"),
        "uri": np.char.add(f"/2010-04-01/Accounts/{account}/Messages/", sid)}
    sch = schema("messages")
    arrays = [_column(columns[f.name], f.type, n) for f in sch]
    table = pa.Table.from_arrays(arrays, schema=sch)
    billed = _BILLED[status]
    usage = {}
    for name, mask, units in [("sms-inbound", ~mms & inbound, segments),
                              ("sms-outbound", ~mms & ~inbound, segments),
                              ("mms-inbound", mms & inbound, 1), ("mms-outbound", mms & ~inbound, 1)]:
        rows = mask & billed
        usage[name] = (int(rows.sum()), int((units * rows).sum()), int(-micros[rows & priced].sum()))
    return table, usage


def _column(values, typ: pa.DataType, n: int) -> pa.Array:
    if values is None:
        return pa.nulls(n, typ)
    if isinstance(values, pa.Array):
        return values if values.type == typ else values.cast(typ)
    arr = pa.array(values)
    if pa.types.is_dictionary(typ):
        return arr.cast(pa.large_string()).dictionary_encode().cast(typ)
    return arr.cast(typ)


def usage_month(account: str, month: str, days: dict) -> pa.Table:
    """Daily usage records of one account and month from the per-day totals."""
    rows = []
    for day, cats in sorted(days.items()):
        for parent, (a, b) in {"sms": ("sms-inbound", "sms-outbound"),
                               "mms": ("mms-inbound", "mms-outbound")}.items():
            cats[parent] = tuple(x + y for x, y in zip(cats[a], cats[b]))
        total = cats["sms"][2] + cats["mms"][2]          # every priced category once
        for cat, (count, usage, cost) in sorted(cats.items()):
            unit = "segments" if cat.startswith("sms") else "messages"
            rows.append({"category": cat, "description": cat, "start_date": day,
                         "end_date": day, "count": count, "count_unit": unit,
                         "usage": float(usage), "usage_unit": unit, "price": cost / 1e6,
                         "price_micros": cost, "price_unit": "USD",
                         "as_of": np.datetime64("2030-01-01T00:00:00", "us"),
                         "api_version": "2010-04-01", "uri": None})
        # totalprice as Twilio gives it: no count, usage = price, unit = the currency
        rows.append({"category": "totalprice", "description": "Total Price",
                     "start_date": day, "end_date": day, "count": None, "count_unit": "",
                     "usage": total / 1e6, "usage_unit": "usd", "price": total / 1e6,
                     "price_micros": total, "price_unit": "USD",
                     "as_of": np.datetime64("2030-01-01T00:00:00", "us"),
                     "api_version": "2010-04-01", "uri": None})
    sch = schema("usage_records")
    arrays = [_column([r[f.name] for r in rows], f.type, len(rows))
              if f.name not in ("start_date", "end_date", "as_of")
              else pa.array(np.array([r[f.name] for r in rows], "datetime64[us]"), f.type)
              for f in sch]
    return pa.Table.from_arrays(arrays, schema=sch)


def write_messages_store(root, *, messages: int, accounts: int, days: int, seed: int = 1,
                         end: str = "2026-11-01") -> dict:
    """Write ``messages`` messages over ``accounts`` accounts and ``days`` days."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    acct = sids(rng, "AC", accounts).astype(str)
    share = rng.dirichlet(np.full(accounts, 2.0))
    first = np.datetime64(end, "D") - days
    per_day = rng.multinomial(messages, np.full(days, 1 / days))
    (root / "twilio-frames-store.json").parent.mkdir(parents=True, exist_ok=True)
    (root / "twilio-frames-store.json").write_text(json.dumps(
        {"format": "twilio-frames store", "layout_version": 1, "account_sid": acct[0]}))
    usage: dict = {}
    for d, total in enumerate(per_day):
        day = first + d
        for a, n in zip(acct, rng.multinomial(total, share)):
            table, totals = message_day(rng, a, day, int(n))
            meta = {"resource": "messages", "account_sid": a, "period": str(day),
                    "rows": int(n), "settled": True, "why": "synthetic",
                    "fetched_at": "2026-11-01T00:00:00+00:00", "layout_version": 1,
                    "schema_version": 1}
            _write(root / "messages" / f"account_sid={a}" / f"day={day}" / "data.parquet",
                   table, meta)
            usage.setdefault((a, str(day)[:7]), {})[np.datetime64(day, "us")] = totals
    for (a, month), per in usage.items():
        _write(root / "usage_records" / f"account_sid={a}" / f"month={month}" / "data.parquet",
               usage_month(a, month, per), {"resource": "usage_records", "account_sid": a,
                                            "period": month, "settled": True})
    return {"accounts": list(acct), "first": str(first), "end": end}


_CATS: dict = {}


def own_partition(path: str, columns=None, resource: str = "messages"):
    """One stored partition as the frame's dtypes (what Store.dask's partitions give):
    only ``columns`` read, ``account_sid`` from the path, categories the known values
    then any other present (remapped on the Arrow side: pandas' set_categories costs
    more than reading the file)."""
    import pandas as pd
    res = tf.RESOURCES[resource]
    read = None if columns is None else [c for c in columns if c != "account_sid"]
    table = pq.ParquetFile(path).read(columns=read, use_threads=False)  # Dask runs threads
    for i, name in enumerate(table.column_names):
        col = res.column(name) if hasattr(res, "column") else next(
            c for c in res.columns if c.name == name)
        if col.kind == "category":
            table = table.set_column(i, name, _known_first(table.column(i), col.values))
    account = Path(path).parent.parent.name.split("=", 1)[1]
    if columns is None or "account_sid" in columns:
        ids = pa.array(np.zeros(table.num_rows, np.int32))
        table = table.append_column("account_sid", pa.DictionaryArray.from_arrays(
            ids, pa.array([account], pa.large_string())).dictionary_decode())
    frame = table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    names = [c.name for c in res.columns if c.name in frame.columns]
    return frame[names if columns is None else list(columns)]


def _known_first(column: pa.ChunkedArray, known: tuple) -> pa.DictionaryArray:
    arr = column.combine_chunks()
    values = arr.dictionary.to_pylist()
    cats = _CATS.setdefault((known, tuple(sorted(set(values) - set(known)))), None)
    if cats is None:
        extra = tuple(sorted(set(values) - set(known)))
        cats = _CATS[(known, extra)] = pa.array([*known, *extra], pa.large_string())
    where = {v: i for i, v in enumerate(cats.to_pylist())}
    lookup = pa.array([where[v] for v in values], pa.int32())
    indices = lookup.take(arr.indices) if len(values) else arr.indices.cast(pa.int32())
    return pa.DictionaryArray.from_arrays(indices, cats)
