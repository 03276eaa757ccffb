"""read_arrow leaves out the columns a partial reads only in part, where the files'
Parquet statistics prove them moot (store.statistics), and reads them otherwise."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import twilio_frames as tf
from twilio_frames.store import read, statistics
from twilio_frames.store.layout import iter_partitions

COLUMNS = ["account_sid", "status", "to", "from", "date_sent", "date_created",
           "price_micros"]
OPTIONS = {"numbers": ("to", "from"), "fallbacks": {"date_created": "date_sent"}}


def meta_of(tmp_path, **columns) -> pq.FileMetaData:
    path = tmp_path / "f.parquet"
    pq.write_table(pa.table(columns), path, row_group_size=2)
    return pq.ParquetFile(path).metadata


@pytest.mark.parametrize("values, proven", [
    (["+14155550100", "+447700900123", "+33612345678"], True),
    (["+1", None, "+2"], True),
    ([None, None, None], True),                       # a row group of missing values only
    (["+14155550100", "whatsapp:+1415", "+1"], False),
    (["+1", "+2", "messenger-page"], False),          # in the second row group only
    (["", "+1", "+2"], False),
    ([",", "+1", "+2"], False),                        # just past '+' in byte order
])
def test_only_prefixed_reads_min_and_max_of_each_row_group(tmp_path, values, proven):
    meta = meta_of(tmp_path, to=pa.array(values, pa.large_string()))
    assert meta.num_row_groups == 2
    assert statistics.only_prefixed(meta, "to", "+") is proven
    assert not statistics.only_prefixed(meta, "from", "+")        # no such column


def test_without_statistics_nothing_is_proven(tmp_path):
    path = tmp_path / "f.parquet"
    pq.write_table(pa.table({"to": ["+1", "+2"], "date_sent": pa.array([1, 2], pa.int64())}),
                   path, write_statistics=False)
    meta = pq.ParquetFile(path).metadata
    assert not statistics.only_prefixed(meta, "to", "+")
    assert not statistics.no_nulls(meta, "date_sent")


def test_no_nulls(tmp_path):
    assert statistics.no_nulls(meta_of(tmp_path, d=pa.array([1, 2, 3])), "d")
    assert not statistics.no_nulls(meta_of(tmp_path, d=pa.array([1, 2, None])), "d")


def test_left_out_takes_the_numbers_together_and_keeps_what_trimming_needs(tmp_path):
    good = meta_of(tmp_path, to=["+1", "+2"], **{"from": ["+3", "+4"]},
                   date_sent=pa.array([1, 2]), date_created=pa.array([1, 2]))
    (tmp_path / "f.parquet").rename(tmp_path / "g.parquet")
    bad_from = meta_of(tmp_path, to=["+1", "+2"], **{"from": ["+3", "page"]},
                       date_sent=pa.array([1, None]), date_created=pa.array([1, 2]))
    cols = ["to", "from", "date_sent", "date_created"]
    assert statistics.left_out([good], cols, **OPTIONS) == {
        "numbers": ["to", "from"], "fallbacks": ["date_created"]}
    # one file of the batch with a channel address, or a missing date_sent: read them all
    assert statistics.left_out([good, bad_from], cols, **OPTIONS) == {
        "numbers": [], "fallbacks": []}
    assert statistics.left_out([good], cols, **OPTIONS, keep=["date_created", "to"]) == {
        "numbers": [], "fallbacks": []}
    assert statistics.left_out([good], ["to", "date_created"], **OPTIONS) == {
        "numbers": ["to"], "fallbacks": []}     # primary not read: nothing proven about it


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("stats") / "s"
    tf.simulator.write_store(path, seed=3, now="2026-11-01T00:00:00Z", days=3,
                             subaccounts=1, messages_per_day=50)
    return tf.Store(path)


def message_parts(store):
    return sorted(iter_partitions(store.path, "messages"), key=lambda p: str(p.path))


def rewrite(part, change) -> None:
    """Rewrite one stored file with ``change(table) -> table`` (schema and metadata kept)."""
    table = pq.read_table(part.path)
    pq.write_table(change(table).replace_schema_metadata(table.schema.metadata), part.path,
                   compression="snappy")


def set_column(table: pa.Table, name: str, values) -> pa.Table:
    at = table.column_names.index(name)
    return table.set_column(at, name, pa.array(values, table.schema.field(name).type))


def test_read_arrow_leaves_out_what_the_statistics_prove_and_says_so(store):
    parts = message_parts(store)
    whole = read.read_arrow(parts, columns=COLUMNS)
    lean = read.read_arrow(parts, columns=COLUMNS, **OPTIONS)
    assert lean.column_names == ["account_sid", "status", "date_sent", "price_micros"]
    assert json.loads(lean.schema.metadata[statistics.LEFT_OUT]) == {
        "numbers": ["to", "from"], "fallbacks": ["date_created"]}
    assert lean.equals(whole.select(lean.column_names))
    assert statistics.LEFT_OUT not in (whole.schema.metadata or {})
    # a range, trimmed by date_sent: the rows are the same either way
    span = ("2026-10-30T06:00:00Z", "2026-10-31T00:00:00Z")
    trimmed = read.read_arrow(parts, *span, columns=COLUMNS, **OPTIONS)
    assert trimmed.column_names == lean.column_names
    assert 0 < trimmed.num_rows < whole.num_rows
    assert trimmed.equals(read.read_arrow(parts, *span, columns=COLUMNS).select(
        lean.column_names))
    # the primary not asked for: nothing is proven to the caller, the fallback is read
    alone = read.read_arrow(parts, *span, columns=["status", "date_created"], **OPTIONS)
    assert alone.column_names == ["status", "date_created"]


def test_read_arrow_reads_every_file_of_the_call_when_one_file_needs_it(tmp_path_factory):
    path = tmp_path_factory.mktemp("stats") / "s"
    tf.simulator.write_store(path, seed=4, now="2026-11-01T00:00:00Z", days=3,
                             subaccounts=0, messages_per_day=40)
    parts = message_parts(tf.Store(path))
    rewrite(parts[1], lambda t: set_column(t, "to", ["whatsapp:+14155550100"]
                                           + t.column("to").to_pylist()[1:]))
    rewrite(parts[2], lambda t: set_column(t, "date_sent",
                                           [None] + t.column("date_sent").to_pylist()[1:]))
    got = read.read_arrow(parts, columns=COLUMNS, **OPTIONS)
    assert got.column_names == COLUMNS
    assert statistics.LEFT_OUT not in (got.schema.metadata or {})
    assert got.column("to").to_pylist().count("whatsapp:+14155550100") == 1
    alone = read.read_arrow(parts[:1], columns=COLUMNS, **OPTIONS)
    assert alone.column_names == ["account_sid", "status", "date_sent", "price_micros"]
