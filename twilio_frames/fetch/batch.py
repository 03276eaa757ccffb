"""A batch of records -> the values of every field, read in one pass.

:func:`twilio_frames.fetch.frames.partial_frame` converts records column by column, so
it first needs each field's values as a list. The records of a Twilio page carry the
same fields in the same order (JSON always; XML when every element is written), so
:func:`field_values` reads them all at once at C speed: ``operator.itemgetter`` of the
first record's keys over every record, then ``zip`` to turn rows into columns. That is
2x cheaper than one ``dict.get`` per field and record, which is what records whose
fields differ (one missing, one extra) get instead; both give the same lists.

:func:`datetime_columns` then parses every date-time column of the batch in one pass of
the RFC 2822 fast path (:func:`~twilio_frames.fetch.columns.rfc2822_micros`): at 1,000
rows a column's numpy work is mostly fixed cost, paid once instead of four times.

Profiled on one page of 1,000 calls (2 shared cores): building its partial frame took
9.6 ms, of which 0.9 ms reading fields and 2.2 ms the four date-time columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import pyarrow as pa

from . import columns

__all__ = ["field_values", "datetime_columns", "NESTED_FLATTENED"]

#: Nested objects flattened into columns: ``capabilities.voice`` -> ``capabilities_voice``.
NESTED_FLATTENED = {"capabilities": ("voice", "sms", "mms", "fax")}


def field_values(res, records: Sequence[dict[str, Any]]) -> tuple[dict[str, list], list[str]]:
    """The values of every column of ``res`` (None where a record lacks the field) and
    of every field the table does not know, by name; and those extra names, sorted.
    Nested objects are not extra fields (they are dropped or flattened)."""
    columns_of = _transposed(records)
    n = len(records)
    if columns_of is not None:
        def get(name: str) -> list:
            return columns_of.get(name) or [None] * n
        present = set(columns_of)
    else:
        def get(name: str) -> list:
            return [r.get(name) for r in records]
        present = set().union(*records) if records else set()
    out: dict[str, list] = {}
    for name in res.column_names:
        outer, _, inner = name.partition("_")
        if outer in NESTED_FLATTENED and inner in NESTED_FLATTENED[outer]:
            out[name] = [(v or {}).get(inner) for v in get(outer)]
        else:
            out[name] = get(name)
    extra = []
    for name in sorted(present - set(res.column_names) - set(res.dropped)):
        values = get(name)
        if not any(isinstance(v, (dict, list)) for v in values):
            out[name] = values
            extra.append(name)
    return out, extra


def _transposed(records: Sequence[dict[str, Any]]) -> dict[str, list] | None:
    """Field -> values when every record has exactly the first one's fields; else None."""
    if not records:
        return None
    keys = tuple(records[0])
    try:
        if len(keys) < 2 or len(set(map(len, records))) != 1:
            return None
        rows = list(map(itemgetter(*keys), records))
    except (KeyError, TypeError):     # a field missing, or not a dict: the general path
        return None
    return dict(zip(keys, map(list, zip(*rows))))


def datetime_columns(res, fields: dict[str, list]) -> dict[str, Any]:
    """Every ``datetime`` column of ``res`` as a ``datetime64[us, UTC]`` array, parsed in
    one pass; {} when any of them is not all in Twilio's RFC 2822 shape (each column
    then takes its own fast or general path, which decide as this one would)."""
    names = [c.name for c in res.columns if c.kind == "datetime"]
    arrays = [columns.string_array(fields[name]) for name in names]
    if len(names) < 2 or any(a is None or not len(a) for a in arrays):
        return {}
    micros = columns.rfc2822_micros(pa.concat_arrays(arrays))
    if micros is None:
        return {}
    n = len(arrays[0])
    return {name: columns.utc_times(micros[i * n:(i + 1) * n]) for i, name in enumerate(names)}
