"""The one-pass batch path (fields read at once, date-times parsed together, categories
set while building a lone batch) gives the frames of the plain column-by-column path,
on recorded XML and JSON pages and on pages with odd values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twilio_frames as tf
from twilio_frames.fetch import batch, columns
from twilio_frames.fetch.assemble import FrameBuilder
from twilio_frames.fetch.frames import _build, _RowError, _strip_format
from twilio_frames.resources import DTYPES

PAGES = Path(__file__).parent.parent / "data" / "pages"
RECORDED = [
    ("calls_legacy.json", "json", "calls"), ("calls_legacy.xml", "xml", "calls"),
    ("calls_one_record.xml", "xml", "calls"), ("calls_empty.xml", "xml", "calls"),
    ("oai_ListCall_readFullPage1.json", "json", "calls"),
    ("oai_ListCall_readFullPage2.json", "json", "calls"),
    ("oai_ListCall_readEmptyDatesGreater.json", "json", "calls"),
    ("oai_ListMessage_readFullPage1.json", "json", "messages"),
    ("oai_ListRecording_readFull.json", "json", "recordings"),
    ("oai_ListRecording_readIncludeSoftDeleted.json", "json", "recordings"),
    ("oai_ListUsageRecordDaily_readFull.json", "json", "usage_records"),
    ("usage_records_legacy.xml", "xml", "usage_records"),
    ("oai_ListAccount_readFull.json", "json", "accounts"),
    ("oai_ListIncomingPhoneNumber_readFull.json", "json", "incoming_phone_numbers"),
    ("incoming_phone_numbers.xml", "xml", "incoming_phone_numbers"),
]


def records(name, fmt, resource):
    return tf.parse_page((PAGES / name).read_bytes(), fmt, resource).records


def reference(resource, recs):
    """Every column through its general conversion, fields read one ``dict.get`` at a
    time, categories as ``pd.Categorical`` sets them: the plain path, written out."""
    res = tf.RESOURCES[resource]
    try:
        frame = _build(res, recs, fast=False)
    except _RowError as err:
        raise err.parse_error(resource, [r.get("sid") for r in recs]) from None
    for col in res.columns:
        if col.kind == "category":
            s = frame[col.name].astype(DTYPES["str"])
            unknown = sorted(set(s.dropna()) - set(col.values))
            cats = pd.Index([*col.values, *unknown], dtype=DTYPES["str"])
            frame[col.name] = pd.Categorical(s, categories=cats)
    return frame


def one_pass(resource, recs, *, pages=1, batch_size=5_000):
    """The fetch path: pages of ``recs`` into a FrameBuilder, in served order."""
    builder = FrameBuilder(resource, [None], batch=batch_size)
    size = max(1, -(-len(recs) // pages))
    for k in range(0, max(len(recs), 1), size):
        builder.add(0, recs[k:k + size])
    return builder.frame(sort=False)


def assert_same(got, want):
    pd.testing.assert_frame_equal(got, want, check_exact=True, check_categorical=True)
    assert [str(t) for t in got.dtypes] == [str(t) for t in want.dtypes]
    for name in got.columns:
        if str(got[name].dtype) == "category":
            assert list(got[name].cat.categories) == list(want[name].cat.categories), name


@pytest.mark.parametrize("name, fmt, resource", RECORDED)
def test_the_one_pass_path_equals_the_plain_path_on_recorded_pages(name, fmt, resource):
    recs = records(name, fmt, resource)
    want = reference(resource, recs)
    assert_same(one_pass(resource, recs), want)                  # one batch, categories at once
    assert_same(one_pass(resource, recs, pages=2, batch_size=1), want)   # parts combined
    assert_same(tf.to_frame(resource, recs), want)


def test_fields_read_at_once_equal_one_get_per_field_and_record():
    res = tf.RESOURCES["incoming_phone_numbers"]
    recs = records("incoming_phone_numbers.xml", "xml", "incoming_phone_numbers")
    recs = recs + [{**recs[0], "zeta": "z", "alpha": None}, {"sid": "PN2", "alpha": {"x": 1}}]
    got, extra, nested = batch.field_values(res, recs)
    assert extra == ["zeta"] and nested == {"alpha"}
    for name in res.column_names:
        outer, _, inner = name.partition("_")
        want = ([(r.get("capabilities") or {}).get(inner) for r in recs] if outer == "capabilities"
                else [r.get(name) for r in recs])
        assert got[name] == want, name
    assert got["zeta"] == [None] * (len(recs) - 2) + ["z", None]


def test_fields_added_page_by_page_equal_the_whole_batch_read_at_once():
    res = tf.RESOURCES["calls"]
    recs = records("oai_ListCall_readFullPage1.json", "json", "calls") * 3
    pages = [recs[:2], [{**r, "extra_b": "b"} for r in recs[2:4]],
             [{**r, "extra_c": {"nested": 1}} for r in recs[4:5]], [{**r, "extra_c": "c"} for r in recs[5:]]]
    fields = batch.Fields(res)
    for page in pages:
        fields.add(page)
    whole, extra, nested = batch.field_values(res, [r for page in pages for r in page])
    assert fields.n == len(recs) and fields.extra == extra == ["extra_b"] and nested == {"extra_c"}
    for name in [*res.column_names, *extra]:
        assert fields.values[name] == whole[name], name


ODD_TEXT = st.sampled_from(["", "  padded  ", "ünïcødé ✓", "日本語", "line\nbreak", "a.json",
                            "/x/CA1.json?Page=2", "/x/CA1.xml\n", "emoji 😀"])
ODD_PRICE = st.sampled_from(["", "-0.0075", "123456789012.5", "-999999999.999999", "1e3", "0.1234567",
                             "9223372036854.775807", "-0.00750", "+1.5"])
ODD_TIME = st.sampled_from(["", "Tue, 31 Aug 2010 20:36:28 +0100", "Tue, 1 Aug 2010 20:36:28 +0000",
                            " Tue, 31 Aug 2010 20:36:28 -0700 ", "Sat, 29 Feb 2020 23:59:59 -2359"])
ODD_INT = st.sampled_from(["", "0", "007", "-5", "9007199254740993", "12.0", "1e3", "+4"])
ODD_ENUM = st.sampled_from(["", "completed", "brand-new-status", "Ünknown", "COMPLETED", "zzz"])
EDIT = st.one_of(
    st.tuples(st.just("drop"), st.sampled_from(["price", "start_time", "uri", "to", "status"])),
    st.tuples(st.just("null"), st.sampled_from(["price", "end_time", "duration", "from", "direction"])),
    st.tuples(st.just("extra"), st.sampled_from(["zeta", "alpha", "new_field"]),
              st.one_of(st.none(), ODD_TEXT, st.just({"nested": "object"}))),
    st.tuples(st.just("set"), st.sampled_from(["from", "to", "caller_name", "uri", "annotation"]), ODD_TEXT),
    st.tuples(st.just("set"), st.just("price"), ODD_PRICE),
    st.tuples(st.just("set"), st.sampled_from(["start_time", "date_created"]), ODD_TIME),
    st.tuples(st.just("set"), st.sampled_from(["duration", "queue_time"]), ODD_INT),
    st.tuples(st.just("set"), st.sampled_from(["status", "direction", "price_unit"]), ODD_ENUM),
    st.tuples(st.just("reorder"),),
)


def edited(recs, edits):
    recs = [dict(r) for r in recs]
    for at, edit in edits:
        rec = recs[at % len(recs)]
        kind = edit[0]
        if kind == "drop":
            rec.pop(edit[1], None)
        elif kind == "null":
            rec[edit[1]] = None
        elif kind in ("extra", "set"):
            rec[edit[1]] = edit[2]
        else:
            recs[at % len(recs)] = dict(reversed(list(rec.items())))
    return recs


def outcome(build):
    try:
        return build(), None
    except tf.ParseError as err:
        return None, str(err)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.integers(0, 200), EDIT), max_size=8),
       copies=st.integers(1, 12), pages=st.integers(1, 3))
def test_the_one_pass_path_equals_the_plain_path_on_odd_values(edits, copies, pages):
    base = records("oai_ListCall_readFullPage1.json", "json", "calls")
    recs = edited([{**r, "sid": f"CA{i:032x}"} for i in range(copies) for r in base], edits)
    want, want_error = outcome(lambda: reference("calls", recs))
    for build in (lambda: one_pass("calls", recs, pages=pages),
                  lambda: one_pass("calls", recs, pages=pages, batch_size=7)):
        got, got_error = outcome(build)
        if want_error or got_error:
            assert got_error == want_error
        else:
            assert_same(got, want)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(st.sampled_from(
    ["a", "b", ".", "/", "?", "\n", "é", ".json", ".xml"]), max_size=8).map("".join)), max_size=8))
def test_strip_format_equals_the_regular_expression_and_the_general_path(values):
    arr = pa.array([v or None for v in values], type=pa.large_string())
    regex = pc.replace_substring_regex(arr, r"\.(?:json|xml)(\?|$)", r"\1")
    assert columns.strip_format(arr).to_pylist() == regex.to_pylist()
    general = _strip_format(pd.Series(arr.to_pylist(), dtype=DTYPES["str"]))
    assert [None if pd.isna(v) else v for v in general] == regex.to_pylist()
