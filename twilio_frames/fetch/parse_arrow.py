"""JSON list pages of the large resources read straight into Arrow columns.

A page of 1,000 calls is about 2 MB of JSON. ``orjson`` turns it into 1,000 dicts in
3-5 ms, but it holds the GIL all that time, and so do reading those dicts back into
columns and encoding their strings again for Arrow: on a fetch of 55,000 calls that
was about 60% of the client's GIL time, and with 16 pages in flight the workers and the
frame builder queue for it. Arrow's JSON reader (C++) parses the same bytes into string
columns with the GIL released, so pages are parsed on the workers in parallel with
the frame building, and the columns go to the converters of
:mod:`~twilio_frames.fetch.columns` as they are.

The reader is used only where it gives exactly what :mod:`json` gives, and the body
is otherwise parsed as before (:func:`~twilio_frames.fetch.parse.parse_page`), which
then decides what is accepted and how it is reported. The schema given to Arrow is
strict (``unexpected_field_behavior="error"``): every record field a string (or an
integer where the wire sends one, :data:`~twilio_frames.fetch.parse.WIRE_TYPES`),
``subresource_uris`` an object of strings, the envelope's counts integers and its URIs
strings, and nothing else. So a number where a string belongs (its text could differ
from Python's), a field the table does not know (it becomes an extra column), a lone
surrogate, a duplicated key, two documents or a deeply nested value all stop Arrow at
once and take the general path. The strict schema also bounds the nesting Arrow ever
walks at four levels: its inference of unknown values recurses without limit (a value
nested 100,000 deep crashes the process; tested).

:class:`ArrowRecords` is the page's records as columns: a read-only sequence of dicts
for the code that wants a record (the plan reads the first and last), and
:meth:`ArrowRecords.field` / :attr:`ArrowRecords.columns` for the code that wants
columns (the frame builder, the stalled-chain guard, the limit's count).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.json as pj

from ..resources import get_resource

__all__ = ["ARROW_RESOURCES", "ArrowRecords", "read_columns", "values_of"]

#: Resources whose pages are read by Arrow: the large ones, whose fields are all
#: strings or wire integers (no booleans, no flattened objects).
ARROW_RESOURCES = frozenset({"calls", "messages", "recordings"})

#: Keys of ``subresource_uris`` accepted (union of the simulator's, OAI's and the
#: twilio-python fixtures', reference ``twilio-wire-format.md`` §5); another key takes
#: the general path, which drops the object whatever it holds.
SUBRESOURCE_KEYS = ("add_on_results", "events", "feedback", "feedback_summaries", "media",
                    "notifications", "payments", "recordings", "siprec", "streams",
                    "transcriptions", "user_defined_message_subscriptions",
                    "user_defined_messages")

_URI_META = ("first_page_uri", "next_page_uri", "previous_page_uri", "uri", "last_page_uri")
_INT_META = ("page", "page_size", "start", "end", "num_pages", "total")


class ArrowRecords(Sequence):
    """The records of one page as Arrow arrays, one per table column, all of one length.

    ``records[i]`` is record ``i`` as a dict of the table's fields (None where the page
    had null or nothing), which is what the JSON dict gives for those fields.
    """

    __slots__ = ("columns", "_n")

    def __init__(self, columns: dict[str, pa.Array], n: int) -> None:
        self.columns, self._n = columns, n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, step = i.indices(self._n)
            if step != 1:
                raise ValueError("ArrowRecords slices take a step of 1")
            stop = max(start, stop)
            return ArrowRecords({k: v.slice(start, stop - start) for k, v in self.columns.items()},
                                stop - start)
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("record index out of range")
        return {k: v[i].as_py() for k, v in self.columns.items()}

    def __delitem__(self, i) -> None:
        """Only ``del records[k:]`` (a limit cuts the end of a page)."""
        if not isinstance(i, slice) or i.stop is not None or i.step not in (None, 1):
            raise TypeError("ArrowRecords only drops its tail: del records[k:]")
        keep = self[: i.start if i.start is not None else 0]
        self.columns, self._n = keep.columns, keep._n

    def field(self, name: str) -> list:
        """One field's values as Python objects (None where null or absent)."""
        arr = self.columns.get(name)
        return [None] * self._n if arr is None else arr.to_pylist()

    @classmethod
    def concat(cls, parts: Sequence[ArrowRecords]) -> ArrowRecords:
        """Several pages' records end to end (the same table: the same columns)."""
        names = list(parts[0].columns)
        return cls({k: pa.concat_arrays([p.columns[k] for p in parts]) for k in names},
                   sum(len(p) for p in parts))


def values_of(records: Sequence, name: str) -> list:
    """One field's values of a page's records, Arrow columns or dicts alike (None where
    a record lacks it)."""
    if isinstance(records, ArrowRecords):
        return records.field(name)
    return [r.get(name) for r in records]


def read_columns(body: Any, resource: str) -> tuple[ArrowRecords, dict[str, Any]] | None:
    """``(records, envelope)`` of a JSON list page of ``resource`` read by Arrow, the
    envelope's keys those of :data:`~twilio_frames.fetch.parse.META_KEYS` (None where
    absent); None whenever the general parser must decide (see the module notes)."""
    if resource not in ARROW_RESOURCES or not isinstance(body, bytes) or body[:1] != b"{":
        return None
    key = get_resource(resource).json_key
    try:
        table = pj.read_json(io.BytesIO(body), read_options=_read_options(len(body)),
                             parse_options=_parse_options(resource), memory_pool=POOL)
    except (pa.ArrowException, ValueError, UnicodeDecodeError):
        return None
    if table.num_rows != 1:
        return None
    lists = table.column(key).chunk(0)
    if lists.null_count:
        return None                            # no list, or null: the general message
    records = lists.values
    if records.null_count:
        return None                            # a null record: the general message
    columns = {name: records.field(name) for name in _columns(resource)}
    try:       # Arrow's reader does not check UTF-8; json refuses what is not UTF-8
        for arr in columns.values():
            arr.validate(full=True)
    except pa.ArrowInvalid:
        return None
    meta = {k: (table.column(k)[0].as_py() if k in table.column_names else None)
            for k in (*_URI_META, *_INT_META)}
    return ArrowRecords(columns, len(records)), meta


#: Where the pages' columns are allocated: the C library's ``malloc``, not Arrow's default
#: pool. Profiled with ``perf record`` on a process's first 54,766-call fetch (the
#: ``adaptive`` bench row), mimalloc, the default in the Linux wheels, spent 41% of the
#: fetch's CPU zeroing the transparent huge pages it asks for on first touch
#: (``clear_page_erms`` under ``mi_page_free_list_extend``); with ``malloc`` the fetch's
#: system time fell from 0.63-0.83 s to 0.21-0.31 s, its peak RSS from about 440 to 290
#: MB, and the 1,000,000-call ``accounts="all"`` peak from 2.17x to 1.94x the frame
#: (docs/benchmarks.md). ``malloc_trim`` (fetch/trim.py) hands its freed memory back.
#: It exists in every build, unlike jemalloc (which measured the same).
POOL = pa.system_memory_pool()


def _read_options(size: int) -> pj.ReadOptions:
    # the whole body is one block (a block boundary inside a document is an error);
    # no thread pool: the fetch's workers already parse pages side by side
    return pj.ReadOptions(use_threads=False, block_size=max(size + 64, 1 << 16))


@functools.lru_cache(maxsize=None)
def _columns(resource: str) -> tuple[str, ...]:
    """The record fields kept as columns: the table's, but the computed ones."""
    return tuple(c.name for c in get_resource(resource).columns if c.kind != "micros")


@functools.lru_cache(maxsize=None)
def _parse_options(resource: str) -> pj.ParseOptions:
    from .parse import WIRE_TYPES             # parse imports this module
    res = get_resource(resource)
    wire = WIRE_TYPES.get(resource, {})
    fields = [pa.field(name, pa.int64() if wire.get(name) == "int" else pa.large_string())
              for name in _columns(resource)]
    for name in res.dropped:
        if name == "subresource_uris":
            fields.append(pa.field(name, pa.struct([(k, pa.string()) for k in SUBRESOURCE_KEYS])))
        else:                                  # only null passes (an object: general path)
            fields.append(pa.field(name, pa.struct([])))
    schema = pa.schema([(res.json_key, pa.list_(pa.struct(fields))),
                        *((k, pa.string()) for k in _URI_META),
                        *((k, pa.int64()) for k in _INT_META)])
    return pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
