"""Records -> typed DataFrames, one column at a time with vectorised pandas conversions.

The schema (column order and kind) is the table in :mod:`twilio_frames.resources`; this
module only knows how to turn each kind into its dtype. Conventions (DESIGN §4):

* ``""`` and null are both missing (XML cannot tell them apart);
* datetimes are parsed with their offset (RFC 2822 ``+0100`` included) into UTC;
* ``price`` keeps Twilio's sign; ``price_micros`` is the exact price in 10**-6 units;
  ``price_unit`` is upper-cased;
* enums are categoricals whose categories are the known values first, then any unknown
  value seen, sorted;
* ``uri`` is written without its format extension, so XML and JSON frames agree
  (XML URIs never carry ``.json``, reference §3.3);
* a field the table does not know is kept as a string column after the known ones
  (sorted by name); nested objects are left out; ``capabilities`` is flattened;
  ``auth_token`` never reaches a frame;
* a lone UTF-16 surrogate in a string (JSON may carry ``"\ud83d"``, which no UTF-8
  text can hold) becomes U+FFFD, as a decoder's ``errors="replace"`` would: one odd
  character in a message body must not stop a fetch.

Building is split in two so a long fetch never holds every record in memory:
:func:`partial_frame` converts a batch of records (categoricals still plain strings) and
:func:`combine_frames` concatenates batches and sets the categories. :func:`to_frame`
does both. Building one frame page by page from several lists, trimming it and sorting
it in served order is :mod:`twilio_frames.fetch.assemble`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import batch, columns
from .parse_arrow import values_of
from ..errors import ParseError
from ..resources import DTYPES, RESOURCES, Column, get_resource

__all__ = ["to_frame", "partial_frame", "combine_frames", "schema_table"]

def to_frame(resource: str, records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Turn JSON-equivalent records of ``resource`` into its typed DataFrame.

    Parameters
    ----------
    resource : str
        ``calls``, ``messages``, ``recordings``, ``usage_records``, ``accounts`` or
        ``incoming_phone_numbers``.
    records : sequence of dict
        Records as :func:`twilio_frames.parse_page` returns them (JSON or XML alike).

    Returns
    -------
    pandas.DataFrame
        Columns and dtypes as in ``docs/schemas.md``, rows in the order given.

    Examples
    --------
    >>> df = to_frame("calls", [{"sid": "CA1", "price": "-0.0075", "price_unit": "usd",
    ...                          "start_time": "Tue, 31 Aug 2010 20:36:28 +0100"}])
    >>> df.loc[0, "price_micros"], df.loc[0, "price_unit"], str(df.loc[0, "start_time"])
    (np.int64(-7500), 'USD', '2010-08-31 19:36:28+00:00')
    """
    return combine_frames(resource, [partial_frame(resource, records)])


def partial_frame(resource: str, records: Sequence[dict[str, Any]], *,
                  trim: tuple[str, pd.Timestamp | None, pd.Timestamp | None] | None = None,
                  ) -> pd.DataFrame:
    """Convert one batch of records; enum columns stay strings until :func:`combine_frames`.

    ``trim=(column, start, end)`` keeps rows with ``start <= column < end`` (either bound
    may be None).
    """
    try:
        frame = _build(get_resource(resource), records)
    except _RowError as err:
        raise err.parse_error(resource, [_sid(r) for r in records]) from None
    return _trim(frame, trim) if trim else frame


def _build(res, records: Sequence[dict[str, Any]], *, fast: bool = True,
           final: bool = False) -> pd.DataFrame:
    """One batch -> its partial frame: every field read in one pass, the date-time
    columns parsed together (:mod:`~twilio_frames.fetch.batch`), each column built as an
    array and the frame once. ``final``: the only batch, so enum columns become
    categoricals now (what :func:`combine_frames` of it alone gives). ``fast=False``
    takes every column through its general conversion: the reference the tests hold
    the fast paths to."""
    fields = batch.Fields(res)
    fields.add(records)
    return _build_fields(res, fields, fast=fast, final=final)


def _build_fields(res, batch_fields: batch.Fields, *, fast: bool = True,
                  final: bool = False) -> pd.DataFrame:
    """:func:`_build` from the values :class:`~twilio_frames.fetch.batch.Fields` read."""
    fields, extra, n = batch_fields.values, batch_fields.extra, batch_fields.n
    if not n:
        fields = {name: [] for name in res.column_names}
    done = batch.datetime_columns(res, fields) if fast else {}
    data: dict[str, Any] = {}
    for col in res.columns:
        if col.kind == "micros":
            continue
        try:
            if col.name in done:
                data[col.name] = done[col.name]
            elif col.kind == "money":
                data[col.name], data["price_micros"] = batch.money(fields[col.name], fast=fast)
            else:
                data[col.name] = _convert(col, fields[col.name], fast=fast)
            if final and col.kind == "category":
                data[col.name] = _categorical(pd.Series(data[col.name]), col.values)
        except columns.BadValue as bad:
            raise _RowError(col.name, bad) from None
    for name in extra:
        data[name] = batch.strings(fields[name])
    frame = pd.DataFrame(data, index=pd.RangeIndex(n), copy=False)
    order = [*res.column_names, *extra]
    return frame if list(frame.columns) == order else frame[order]


class _RowError(Exception):
    """A column's :class:`~twilio_frames.fetch.columns.BadValue`, before the resource, the
    sid of its row and the page URL are known."""

    def __init__(self, column: str, bad: columns.BadValue) -> None:
        super().__init__(column, bad)
        self.column, self.bad = column, bad

    def parse_error(self, resource: str, sids: Sequence | None, url: str | None = None,
                    ) -> ParseError:
        """One line: resource, column, the value, what it should be, the row's sid
        (``sids``: the batch's, by row)."""
        at = self.bad.position
        sid = sids[at] if sids is not None and 0 <= at < len(sids) else None
        return ParseError(f"{resource} column {self.column!r}: {_quote(self.bad.value)} is not "
                          f"{self.bad.expected} (first bad row: sid {_quote(sid, bare=True)})",
                          url=url)


def _sid(record: Any) -> Any:
    return record.get("sid") if isinstance(record, dict) else None


def _quote(value: Any, *, bare: bool = False, width: int = 60) -> str:
    """A value for a one-line message: repr (newlines escaped), shortened; a plain
    word (a sid) without quotes when ``bare``."""
    if bare and isinstance(value, str) and value.isalnum():
        return value[:width]
    text = repr(value)
    return text if len(text) <= width else text[:width - 4] + "...'"


def _values(records: Sequence[dict], name: str) -> list:
    """One field's values (a flattened ``capabilities_*`` one from its object)."""
    outer, _, inner = name.partition("_")
    if outer in batch.NESTED_FLATTENED and inner in batch.NESTED_FLATTENED[outer]:
        return [(r.get(outer) or {}).get(inner) for r in records]
    return values_of(records, name)       # Arrow columns have no nested objects


def _convert(col: Column, values: list, *, fast: bool = True):
    """One column (a Series, or an array for strings): the Arrow fast path of
    :mod:`columns` when the values have Twilio's usual shape, else the general
    conversion (same result, or BadValue)."""
    if col.kind == "bool":
        return columns.general_booleans(values)
    arr = columns.string_array(values) if fast else None
    if arr is None:
        return _convert_general(col, batch.strings(values))
    out = _convert_fast(col, arr)
    return out if out is not None else _convert_general(col, columns.as_strings(arr))


def _convert_fast(col: Column, arr):
    if col.kind == "str":
        return columns.string_values(columns.strip_format(arr) if col.name == "uri" else arr)
    if col.kind == "category":
        return columns.string_values(pc.utf8_upper(arr) if col.name == "price_unit" else arr)
    if col.kind == "datetime" and len(arr):
        return columns.rfc2822(arr)
    if col.kind == "int":
        return columns.integers(arr)
    return None


def _convert_general(col: Column, s: pd.Series) -> pd.Series:
    kind = col.kind
    if kind == "str":
        return _strip_format(s) if col.name == "uri" else s
    if kind in ("category",):
        return s.str.upper() if col.name == "price_unit" else s
    if kind == "datetime":
        return columns.general_datetimes(s)
    if kind == "date":
        return columns.general_dates(s)
    if kind in ("int", "float", "money"):
        return columns.general_numbers(s, DTYPES[kind])
    raise ValueError(f"unknown column kind {kind!r} for {col.name}")


def _strip_format(s: pd.Series) -> pd.Series:
    # \Z, not $: Python's $ also matches before a final newline, Arrow's (RE2) does not
    return s.str.replace(r"\.(?:json|xml)(?=\?|\Z)", "", regex=True)


def _trim(frame: pd.DataFrame, trim) -> pd.DataFrame:
    column, start, end = trim
    keep = pd.Series(True, index=frame.index)
    if start is not None:
        keep &= (frame[column] >= start).fillna(False)
    if end is not None:
        keep &= (frame[column] < end).fillna(False)
    return frame if bool(keep.all()) else frame[keep.to_numpy()]


def combine_frames(resource: str, parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate partial frames of ``resource`` and give enum columns their categories."""
    res = get_resource(resource)
    parts = [p for p in parts]
    if not parts:
        parts = [partial_frame(resource, [])]
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    extra = sorted(set(frame.columns) - set(res.column_names))
    kinds = {col.name: col for col in res.columns}
    data = {}
    for name in [*res.column_names, *extra]:     # one frame built, not one per column set
        values = frame[name]
        if name in kinds and kinds[name].kind == "category":
            data[name] = _categorical(values, kinds[name].values)
        elif name not in kinds and values.dtype != DTYPES["str"]:
            data[name] = values.astype(DTYPES["str"]).array
        else:
            data[name] = values.array
    out = pd.DataFrame(data, copy=False)
    out.attrs = frame.attrs
    return out


def _categorical(s: pd.Series, known: tuple[str, ...]) -> pd.Categorical:
    """Codes looked up in Arrow: the known values, then the unknown ones present, sorted."""
    if s.dtype != DTYPES["str"]:
        s = s.astype(DTYPES["str"])
    arr = pa.array(s.array)                        # an Array, or chunks after a concat
    cats = list(known)
    codes = pc.index_in(arr, value_set=pa.array(cats, arr.type))
    unknown = pc.and_(pc.is_null(codes), pc.is_valid(arr))
    if pc.any(unknown).as_py():
        cats += sorted(set(pc.unique(pc.filter(arr, unknown)).to_pylist()))
        codes = pc.index_in(arr, value_set=pa.array(cats, arr.type))
    return pd.Categorical.from_codes(pc.fill_null(codes, -1).to_numpy(),
                                     dtype=_categories(tuple(cats)), validate=False)


@functools.lru_cache(maxsize=256)
def _categories(cats: tuple[str, ...]) -> pd.CategoricalDtype:
    """The dtype of an enum's categories (validated once, not once per batch)."""
    return pd.CategoricalDtype(pd.Index(cats, dtype=DTYPES["str"]))


def schema_table() -> str:
    """A Markdown table per resource: column, dtype, notes (for ``docs/schemas.md``)."""
    out = []
    for res in RESOURCES.values():
        out.append(f"### {res.name}\n\n| column | dtype | notes |\n|---|---|---|")
        for col in res.columns:
            notes = col.doc or (f"categories: {', '.join(col.values)} (+ unknown, sorted)"
                                if col.values else "")
            out.append(f"| `{col.name}` | `{DTYPES[col.kind]}` | {notes} |")
        out.append(f"\nLeft out: {', '.join(res.dropped)}.\n")
    return "\n".join(out)
