"""The calls, messages and recordings lists as Arrow columns, vectorised, for writing them
straight into a store (:mod:`.to_store`).

Each field holds what the record of :mod:`.generate_records` says, typed as a list's
frame types it (``docs/schemas.md``): datetimes as UTC microsecond timestamps, counts as
integers, null where the record has null or ``""``, ``price`` with Twilio's sign and
``price_micros`` the same amount in exact micro-units, ``uri`` without its format
extension, enums as dictionaries of their values. Nothing is built per record: sids and
URIs are fixed-width byte matrices turned into Arrow strings without a copy; numbers,
bodies and enum values are taken from small pools. The caller gives the schema (field
names, order and types) and chooses the rows.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .enums import CALL_STATUS, MESSAGE_DIRECTION, MESSAGE_STATUS, RECORDING_SOURCE
from .generate_calls import ANSWERED_BY, DIRECTIONS
from .generate_messages import ERRORS
from .generate_recordings import REC_STATUS
from .pricing import NULL_PRICE

__all__ = ["Pools", "calls_columns", "messages_columns", "recordings_columns"]

API = b"/2010-04-01/Accounts/"
_TS = pa.timestamp("us", tz="UTC")
_STR = pa.large_string()


class Pools:
    """What the columns are taken from: a dataset's parties, bodies, sids and currency."""

    def __init__(self, ds) -> None:
        p = ds.parties
        self.value = pa.array(p.value_list, _STR)
        self.formatted = pa.array(p.formatted, _STR)
        self.bodies = pa.array([b or None for b in ds.bodies] + [None], _STR)
        self.account = _bytes(ds.account_sids, 34)
        self.numbers = pa.array(list(ds.number_sids), _STR)
        self.services = pa.array(list(ds.service_sids.ravel()), _STR)
        self.width = ds.service_sids.shape[1]
        self.currency = ds.currency.upper()
        codes = sorted(ERRORS)
        self.error_codes = np.array(codes, np.int64)
        self.error_text = pa.array([ERRORS[c] for c in codes] + [None], _STR)


def _bytes(values: np.ndarray, width: int) -> np.ndarray:
    """Strings of ``width`` ASCII characters as an ``(n, width)`` uint8 matrix."""
    values = np.ascontiguousarray(values)
    if values.dtype == np.dtype(f"U{width}"):       # UCS-4 code units, narrowed
        return values.view(np.uint32).reshape(-1, width).astype(np.uint8)
    return values.astype(f"S{width}").view(np.uint8).reshape(-1, width)


def _fixed(matrix: np.ndarray) -> pa.Array:
    """Rows of a uint8 matrix as an Arrow string array (one buffer, no per-row work)."""
    n, width = matrix.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets),
                                            pa.py_buffer(np.ascontiguousarray(matrix)))


def _uris(pools: Pools, acct: np.ndarray, segment: str, sid: np.ndarray,
          head: bytes = b"") -> pa.Array:
    """``head + /2010-04-01/Accounts/{AccountSid}/{segment}/{Sid}`` per row."""
    parts = [np.frombuffer(head + API, np.uint8), pools.account[acct],
             np.frombuffer(f"/{segment}/".encode(), np.uint8), sid]
    n = len(acct)
    out = np.empty((n, sum(p.shape[-1] for p in parts)), np.uint8)
    at = 0
    for part in parts:
        out[:, at:at + part.shape[-1]] = part
        at += part.shape[-1]
    return _fixed(out)


def _times(epochs: np.ndarray) -> pa.Array:
    """Epoch seconds (-1: null) as UTC microsecond timestamps."""
    null = epochs < 0
    return pa.array(np.where(null, 0, epochs) * 1_000_000, _TS, mask=null)


def _ints(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    values = np.asarray(values, np.int64)
    return pa.array(values, pa.int64(), mask=null if null is not None and null.any() else None)


def _enum(values: tuple, codes: np.ndarray) -> pa.Array:
    """Codes into ``values`` (None: null) as a dictionary array of the values."""
    known = [v for v in values if v is not None]
    lookup = np.array([known.index(v) if v is not None else -1 for v in values], np.int32)
    idx = lookup[np.asarray(codes, np.int64)]
    return pa.DictionaryArray.from_arrays(pa.array(idx, pa.int32(), mask=idx < 0),
                                          pa.array(known, _STR))


def _take(pool: pa.Array, codes: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    codes = np.asarray(codes, np.int64)
    if null is None or not null.any():
        return pool.take(pa.array(codes))
    return pool.take(pa.array(np.where(null, 0, codes), mask=null))


def _money(pools: Pools, micros: np.ndarray) -> dict[str, pa.Array]:
    null = micros == NULL_PRICE
    exact = np.where(null, 0, micros)
    unit = pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(micros), np.int32)),
                                          pa.array([pools.currency], _STR))
    return {"price": pa.array(exact / 1e6, pa.float64(), mask=null),
            "price_micros": pa.array(exact, pa.int64(), mask=null), "price_unit": unit}


def _constant(text: str, n: int) -> pa.Array:
    return _fixed(np.broadcast_to(np.frombuffer(text.encode(), np.uint8), (n, len(text))))


def _table(columns: dict[str, pa.Array], schema: pa.Schema, n: int) -> pa.Table:
    """The schema's fields in order; a field no record carries is all null."""
    arrays = [columns[f.name] if f.name in columns else pa.nulls(n, f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=pa.schema(
        [pa.field(f.name, a.type) for f, a in zip(schema, arrays)]))


def calls_columns(pools: Pools, c: dict, rows: np.ndarray, schema: pa.Schema) -> pa.Table:
    """The ``rows`` of served call columns ``c`` (its ``parent`` rows index ``c`` too)."""
    acct, sid = c["acct"][rows], _bytes(c["sid"][rows], 34)
    parent, own = c["parent"][rows], c["own"][rows]
    to, frm = c["to"][rows], c["frm"][rows]
    cols = {
        "sid": _fixed(sid),
        "parent_call_sid": pa.array(np.where(parent >= 0, c["sid"][np.maximum(parent, 0)], ""),
                                    _STR, mask=parent < 0),
        "date_created": _times(c["created"][rows]), "date_updated": _times(c["updated"][rows]),
        "start_time": _times(c["start"][rows]), "end_time": _times(c["end"][rows]),
        "direction": _enum(DIRECTIONS, c["direction"][rows]),
        "status": _enum(CALL_STATUS, c["status"][rows]),
        "from": _take(pools.value, frm), "from_formatted": _take(pools.formatted, frm),
        "to": _take(pools.value, to), "to_formatted": _take(pools.formatted, to),
        "phone_number_sid": _take(pools.numbers, own, own < 0),
        "duration": _ints(c["duration"][rows], c["duration"][rows] < 0),
        **_money(pools, c["price"][rows]),
        "answered_by": _enum(ANSWERED_BY, c["answered_by"][rows]).cast(_STR),
        "queue_time": _ints(c["queue_ms"][rows]),
        "api_version": _constant("2010-04-01", len(rows)),
        "uri": _uris(pools, acct, "Calls", sid),
    }
    return _table(cols, schema, len(rows))


def messages_columns(pools: Pools, m: dict, rows: np.ndarray, schema: pa.Schema) -> pa.Table:
    """The ``rows`` of served message columns ``m``."""
    acct, sid = m["acct"][rows], _bytes(m["sid"][rows], 34)
    svc, body, err = m["service"][rows], m["body"][rows], m["error"][rows].astype(np.int64)
    where = np.searchsorted(pools.error_codes, err)
    known = (where < len(pools.error_codes)) & (
        pools.error_codes[np.minimum(where, len(pools.error_codes) - 1)] == err)
    cols = {
        "sid": _fixed(sid),
        "messaging_service_sid": _take(pools.services, acct.astype(np.int64) * pools.width
                                       + np.maximum(svc, 0), svc < 0),
        "date_created": _times(m["created"][rows]), "date_updated": _times(m["updated"][rows]),
        "date_sent": _times(m["sent"][rows]),
        "direction": _enum(MESSAGE_DIRECTION, m["direction"][rows]),
        "status": _enum(MESSAGE_STATUS, m["status"][rows]),
        "from": _take(pools.value, m["frm"][rows]), "to": _take(pools.value, m["to"][rows]),
        "body": _take(pools.bodies, np.where(body < 0, len(pools.bodies) - 1, body)),
        "num_segments": _ints(m["segments"][rows]), "num_media": _ints(m["media"][rows]),
        **_money(pools, m["price"][rows]),
        "error_code": _ints(err, err == 0),
        "error_message": _take(pools.error_text, np.where(known, where, len(pools.error_codes))),
        "api_version": _constant("2010-04-01", len(rows)),
        "uri": _uris(pools, acct, "Messages", sid),
    }
    return _table(cols, schema, len(rows))


def recordings_columns(pools: Pools, r: dict, rows: np.ndarray, call_sids: np.ndarray,
                       schema: pa.Schema) -> pa.Table:
    """The ``rows`` of served recording columns ``r``; ``call_sids``: the served call
    sids its ``call`` column indexes."""
    acct, sid = r["acct"][rows], _bytes(r["sid"][rows], 34)
    err = r["error"][rows]
    cols = {
        "sid": _fixed(sid), "call_sid": _fixed(_bytes(call_sids[r["call"][rows]], 34)),
        "date_created": _times(r["created"][rows]), "date_updated": _times(r["updated"][rows]),
        "start_time": _times(r["start"][rows]),
        "duration": _ints(r["duration"][rows], r["duration"][rows] < 0),
        **_money(pools, r["price"][rows]),
        "status": _enum(REC_STATUS, r["status"][rows]), "channels": _ints(r["channels"][rows]),
        "source": _enum(RECORDING_SOURCE, r["source"][rows]), "error_code": _ints(err, err == 0),
        "media_url": _uris(pools, acct, "Recordings", sid, head=b"https://api.twilio.com"),
        "api_version": _constant("2010-04-01", len(rows)),
        "uri": _uris(pools, acct, "Recordings", sid),
    }
    return _table(cols, schema, len(rows))
