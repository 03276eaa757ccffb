"""The line-item arrays of :func:`.billing.arrays`, computed on an Arrow table.

A partition of ``Store.dask`` is read into an Arrow table first; converting it to the
pandas frame (categoricals, nullable integers) cost about a third of a partial's time
(bench/scale.py). Partials that need only the :func:`.billing.arrays` of messages and
a plain column or two as group keys compute them here, from the table's buffers, with
the same rules and the same values (tests/analysis/test_arrow_arrays.py compares them
with the pandas path on every column): codes of dictionary columns (the store's
categories and its ``account_sid``) come out of the dictionary, not out of hashing.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import StoreError
from .billing import _CAT, _MSG_BILLED, _MSG_NOT_PENDING, currency_codes

__all__ = ["codes_of", "group_sums", "left_out_of", "message_arrays", "plain_column"]

_NAT = np.iinfo(np.int64).min


def _chunks(column: pa.ChunkedArray) -> list[pa.Array]:
    return column.chunks or [pa.array([], column.type)]


def _dictionary_codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    """Codes (-1 missing) into the values of all chunks' dictionaries, unified (one
    concatenation: Arrow unifies the files' dictionaries in C++)."""
    chunks = _chunks(column)
    array = chunks[0] if len(chunks) == 1 else pa.concat_arrays(chunks)
    idx = array.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return idx.astype(np.int64, copy=False), array.dictionary.to_pylist()


def codes_of(column: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    """Codes (-1 missing) of a column into the list of its distinct values."""
    if pa.types.is_dictionary(column.type):
        return _dictionary_codes(column)
    return _dictionary_codes(pc.dictionary_encode(column))


def plain_column(table: pa.Table, name: str) -> bool:
    """True for a column :func:`codes_of` takes as a group key (strings, dictionaries)."""
    if name not in table.column_names:
        return False
    t = table.schema.field(name).type
    return pa.types.is_dictionary(t) or pa.types.is_string(t) or pa.types.is_large_string(t)


def _in(coded: tuple[np.ndarray, list], values) -> np.ndarray:
    """``column in values`` of a column's :func:`codes_of` (missing: False)."""
    codes, words = coded
    lut = np.append(np.isin(np.array(words, dtype=object), list(values)), False)
    return lut[codes]


def _filled(column: pa.ChunkedArray, value) -> np.ndarray:
    column = column.fill_null(value) if column.null_count else column
    return np.asarray(column.to_numpy(), dtype=np.int64)


def _ints(column: pa.ChunkedArray) -> np.ndarray:
    return _filled(column, 0)


def _micros(column: pa.ChunkedArray) -> np.ndarray:
    return _filled(column.cast(pa.int64()), _NAT)


def _when(table: pa.Table, first: str, fallback: str) -> np.ndarray:
    when = _micros(table.column(first))
    missing = when == _NAT
    if not missing.any():
        return when
    if fallback in left_out_of(table)["fallbacks"]:
        raise StoreError(f"{first} has missing values the files' Parquet statistics did "
                         f"not show ({fallback} was left out of the read): rewrite the "
                         "partition")
    return np.where(missing, _micros(table.column(fallback)), when)


#: The schema metadata key of ``store.read.read_arrow`` naming the columns it left out.
_LEFT_OUT = b"twilio_frames.left_out"


def left_out_of(table: pa.Table) -> dict[str, list[str]]:
    """What the store's Arrow reader left out of ``table`` (its ``numbers`` and
    ``fallbacks`` options): the ``numbers`` columns, proven to hold only values starting
    with '+' or none, and the ``fallbacks``, whose primaries were proven complete."""
    raw = (table.schema.metadata or {}).get(_LEFT_OUT)
    found = json.loads(raw) if raw else {}
    return {"numbers": list(found.get("numbers", [])),
            "fallbacks": list(found.get("fallbacks", []))}


def _not_number(column: pa.ChunkedArray) -> np.ndarray:
    """Present and not starting with '+' (as billing._not_number)."""
    starts = pc.fill_null(pc.starts_with(column, "+"), True)
    return ~np.asarray(starts.to_numpy(zero_copy_only=False), dtype=bool)


def _colon(column: pa.ChunkedArray) -> np.ndarray:
    found = pc.match_substring(pc.fill_null(column, ""), ":")
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _currency(table: pa.Table) -> tuple[np.ndarray, list[str]]:
    """As billing._currency, on the table's dictionary codes."""
    codes, words = codes_of(table.column("price_unit"))
    return currency_codes(codes, words, lambda: codes_of(table.column("account_sid"))[0])


def message_arrays(table: pa.Table, *, category: bool = True) -> dict:
    """:func:`.billing.arrays` of a messages table (same keys, same values)."""
    status = codes_of(table.column("status"))
    billed = _in(status, _MSG_BILLED)
    mms = _ints(table.column("num_media")) >= 1
    inbound = _in(codes_of(table.column("direction")), ["inbound"])
    cat = None
    if category:
        cat = np.where(mms, np.where(inbound, _CAT["mms-inbound"], _CAT["mms-outbound"]),
                       np.where(inbound, _CAT["sms-inbound"], _CAT["sms-outbound"]))
        if not {"to", "from"} <= set(left_out_of(table)["numbers"]):
            to, frm = table.column("to"), table.column("from")
            channel = _not_number(to) | _not_number(frm)
            if channel.any():        # else every address is a number: none is 'other'
                colon = _colon(to) | _colon(frm)
                cat = np.where(channel & colon, _CAT["other"], cat)
        cat[_in(status, ["failed"])] = _CAT["failed-message-processing-fee"]
    usage = np.where(billed, np.where(mms, 1, _ints(table.column("num_segments"))), 0)
    price = table.column("price_micros")
    priced = np.asarray(price.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    parts = {"product": np.where(mms, 2, 1).astype(np.int8), "category": cat,
             "billable": billed, "usage": usage, "unit": np.where(mms, 2, 1).astype(np.int8),
             "inbound": inbound, "when": _when(table, "date_sent", "date_created"),
             "priced": priced, "cost": -_ints(price)}
    parts["unrated"] = ~_in(status, _MSG_NOT_PENDING) & ~priced
    parts["currency"], parts["currencies"] = _currency(table)
    return parts


def group_sums(keys: dict[str, np.ndarray], values: dict[str, np.ndarray]
               ) -> dict[str, np.ndarray]:
    """Rows (``count``) and exact int64 sums of ``values`` per distinct combination of
    the integer ``keys`` (no missing values): Arrow's hash aggregation, in C++ without
    the GIL, so the threads of a Dask worker run it side by side. Returns the keys of
    each group and ``count`` and the sums under the values' names, in any order."""
    table = pa.table({**{f"k{i}": v for i, v in enumerate(keys.values())},
                      **{f"v{i}": v.astype(np.int64, copy=False)
                         for i, v in enumerate(values.values())}})
    out = table.group_by([f"k{i}" for i in range(len(keys))], use_threads=False).aggregate(
        [([], "count_all"), *((f"v{i}", "sum") for i in range(len(values)))])
    result = {name: out.column(f"k{i}").to_numpy() for i, name in enumerate(keys)}
    result["count"] = out.column("count_all").to_numpy()
    for i, name in enumerate(values):
        result[name] = out.column(f"v{i}_sum").fill_null(0).to_numpy()
    return result
