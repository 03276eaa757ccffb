"""JSON pages read into Arrow columns (fetch/parse_arrow.py) give what the dict parser gives.

The Arrow reader is only a faster road to the same frame: every body it takes must give
the frame, records and envelope of :func:`parse_page`, and every body it declines must
reach the general parser, which then decides (same records, or the same error).
"""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twilio_frames as tf
from twilio_frames.errors import ParseError
from twilio_frames.fetch.assemble import FrameBuilder
from twilio_frames.fetch.parse import parse_page, parse_page_columns
from twilio_frames.fetch.parse_arrow import ArrowRecords, read_columns
from twilio_frames.resources import get_resource

from conftest import in_forked_child

NEXT = "/2010-04-01/Accounts/AC1/Calls.json?PageSize=2&Page=1&PageToken=PASCb"


def _body(records, key="calls", **envelope) -> bytes:
    page = {key: records, "next_page_uri": NEXT, "page": 0, "page_size": 2,
            "start": 0, "end": len(records) - 1, "uri": "/2010-04-01/Accounts/AC1/Calls.json",
            "first_page_uri": "/2010-04-01/Accounts/AC1/Calls.json?PageSize=2&Page=0",
            "previous_page_uri": None, **envelope}
    return json.dumps(page).encode()


def _call(i: int, **fields) -> dict:
    return {"sid": f"CA{i:032x}", "account_sid": "AC" + "1" * 32,
            "date_created": "Tue, 01 Dec 2026 10:00:00 +0000",
            "start_time": "Tue, 01 Dec 2026 10:00:05 +0000", "duration": "13",
            "price": "-0.0085", "price_unit": "USD", "status": "completed",
            "direction": "outbound-api", "uri": f"/2010-04-01/Accounts/AC1/Calls/CA{i}.json",
            "subresource_uris": {"notifications": "/n.json", "recordings": "/r.json"},
            **fields}


def _frame(resource, records):
    builder = FrameBuilder(resource, [None])
    builder.add(0, records)
    return builder.frame(sort=False)


def _same_everywhere(body: bytes, resource: str = "calls") -> ArrowRecords | None:
    """The page and its frame through both parsers are equal; the Arrow records, if
    Arrow took the body."""
    general = parse_page(body, "json", resource)
    fast = parse_page_columns(body, "json", resource)
    for key in ("next_page_uri", "previous_page_uri", "first_page_uri", "uri", "page",
                "page_size", "start", "end", "num_pages", "total", "last_page_uri"):
        assert getattr(fast, key) == getattr(general, key), key
    try:
        expected = _frame(resource, general.records)
    except ParseError as exc:                   # a bad value: the same error either way
        with pytest.raises(ParseError) as got:
            _frame(resource, fast.records)
        assert str(got.value) == str(exc)
    else:
        pd.testing.assert_frame_equal(_frame(resource, fast.records), expected)
    names = {c.name for c in get_resource(resource).columns}
    for mine, theirs in zip(fast.records, general.records):      # record by record too
        assert {k: v for k, v in mine.items() if k in names and v is not None} == \
            {k: v for k, v in theirs.items() if k in names and v is not None}
    return fast.records if isinstance(fast.records, ArrowRecords) else None


def test_a_plain_page_is_read_by_arrow_and_gives_the_dict_parsers_frame():
    body = _body([_call(1), _call(2, duration=None, price=None, price_unit="usd",
                                  caller_name="", status="busy")])
    records = _same_everywhere(body)
    assert records is not None and len(records) == 2
    assert records.field("duration") == ["13", None]
    assert records[1]["caller_name"] == "" and records[-1]["sid"] == _call(2)["sid"]


def test_messages_keep_integer_error_codes_and_free_text_exactly():
    msgs = [{"sid": f"SM{i:032x}", "body": b, "error_code": code, "num_segments": "1",
             "date_sent": "Tue, 01 Dec 2026 10:00:00 +0000", "price": "-0.00790",
             "subresource_uris": {"media": "/m.json"}}
            for i, (b, code) in enumerate([("  a \u00e9\n", 30007), ("\U0001F44D \"q\" \\ /", None),
                                           ("", 0), ("\u0000nul\ttab", 21610)])]
    body = _body(msgs, key="messages")
    records = _same_everywhere(body, "messages")
    assert records is not None
    assert records.field("error_code") == [30007, None, 0, 21610]
    assert records.field("body")[0] == "  a \u00e9\n"


@pytest.mark.parametrize("change", [
    {"duration": 13},                        # a number where Twilio sends a string
    {"price": -0.0085},
    {"duration": True},
    {"status": {"a": 1}},
    {"brand_new_field": "x"},                # a field the table does not know: an extra column
    {"tags": {"campaign": "spring"}},        # a dropped object
    {"subresource_uris": {"new_kind": "/x.json"}},
])
def test_a_body_arrow_cannot_take_exactly_goes_to_the_general_parser(change):
    body = _body([_call(1), _call(2, **change)])
    assert read_columns(body, "calls") is None
    assert _same_everywhere(body) is None


@pytest.mark.parametrize("body", [
    b'{"calls":[{"sid":"CA1","duration":"\\ud83d x"}],"page":0}',      # lone surrogate
    b'{"calls":[{"sid":"CA1","sid":"CA2"}],"page":0}',                  # duplicated key
    b'\xef\xbb\xbf{"calls":[{"sid":"CA1"}],"page":0}',                  # BOM
    b' {"calls":[{"sid":"CA1"}],"page":0}',
    b'{"calls":[{"sid":"CA1"}],"page":"0"}',
    b'{"calls":[{"sid":"CA1"}],"page":1.0}',
    b'{"calls":[{"sid":"CA1"}],"page":0,"surprise":1}',
    b'{"calls":[{"sid":"\xed\xa0\x80"}],"page":0}',       # an encoded surrogate (json takes it)
])
def test_odd_but_valid_bodies_are_left_to_the_general_parser(body):
    assert read_columns(body, "calls") is None
    general = parse_page(body, "json", "calls")
    assert parse_page_columns(body, "json", "calls").records == general.records


@pytest.mark.parametrize("body", [
    b'{"calls":[{"sid":"\xff"}],"page":0}',               # not UTF-8 (Arrow does not check)
    b'{"calls":[{"sid":"CA1"}],"page":0}\n{"calls":[],"page":1}',      # two documents
    b'{"calls":[{"sid":"CA1",}],"page":0}',
    b'{"calls":[{"sid":"a\nb"}],"page":0}',
    b'{"calls":[{"sid":"CA1"}],"page":007}',
    b'{"calls":[{"sid":"CA1"}],"pa',
    b'{"calls":null,"page":0}',
    b'{"page":0}',
    b'{"calls":[null],"page":0}',
    b'{"calls":["x"],"page":0}',
    b'[]',
    b'',
])
def test_bad_bodies_get_the_general_parsers_error(body):
    assert read_columns(body, "calls") is None
    with pytest.raises(ParseError) as general:
        parse_page(body, "json", "calls")
    with pytest.raises(ParseError) as fast:
        parse_page_columns(body, "json", "calls")
    assert str(fast.value) == str(general.value)


def test_deep_nesting_never_reaches_arrows_recursive_inference():
    # Arrow's reader, left to infer an unknown value nested 100,000 deep, crashes the
    # process (seen with pyarrow 26); the strict schema stops at the first bracket.
    def check():
        for deep in (b"[" * 1_000_000 + b"]" * 1_000_000,
                     b'{"a":' * 200_000 + b"1" + b"}" * 200_000):
            for body in (b'{"calls":[{"sid":"CA1","zz":' + deep + b'}],"page":0}',
                         b'{"calls":[{"sid":' + deep + b'}],"page":0}',
                         b'{"calls":[],"page":0,"zz":' + deep + b'}'):
                if read_columns(body, "calls") is not None:
                    return False
                try:
                    parse_page_columns(body, "json", "calls")
                except ParseError:
                    pass
        return True
    assert in_forked_child(check)


def test_records_cut_at_a_limit_and_joined_stay_columns():
    body = _body([_call(i) for i in range(5)])
    records = parse_page_columns(body, "json", "calls").records
    assert isinstance(records, ArrowRecords)
    del records[3:]
    assert len(records) == 3 and records.field("sid") == [_call(i)["sid"] for i in range(3)]
    with pytest.raises(TypeError):
        del records[0]
    joined = ArrowRecords.concat([records, records[1:2]])
    assert joined.field("sid")[-1] == _call(1)["sid"] and len(joined) == 4
    with pytest.raises(IndexError):
        records[3]


def test_a_batch_of_arrow_and_dict_pages_gives_one_frame():
    # a page Arrow declines (a number) between two it takes: one batch, dicts and columns
    bodies = [_body([_call(1), _call(2)]), _body([_call(3, duration=7)]), _body([_call(4)])]
    pages = [parse_page_columns(b, "json", "calls").records for b in bodies]
    assert [isinstance(p, ArrowRecords) for p in pages] == [True, False, True]
    builder = FrameBuilder("calls", [None])
    for p in pages:
        builder.add(0, p)
    every = [r for b in bodies for r in parse_page(b, "json", "calls").records]
    pd.testing.assert_frame_equal(builder.frame(sort=False), tf.to_frame("calls", every))


text = st.one_of(st.none(), st.just(""), st.text(max_size=12),
                 st.sampled_from(["Tue, 01 Dec 2026 10:00:00 +0000", "Mon, 30 Nov 2026 23:59:59 -0500",
                                  "13", "-0.0085", "USD", "usd", "completed", "queued"]))
dates = st.one_of(st.none(), st.just(""),
                  st.sampled_from(["Tue, 01 Dec 2026 10:00:00 +0000", "Wed, 31 Dec 2025 23:00:00 +0100",
                                   "not a date"]))
numbers = st.one_of(st.none(), st.just(""), st.sampled_from(["0", "13", "-1", "1.5", "x"]))
prices = st.one_of(st.none(), st.just(""), st.sampled_from(["-0.0085", "0", "-1.000000", "-0.0000001", "abc"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries(
    {"sid": st.sampled_from([f"CA{i:032x}" for i in range(4)])},
    optional={"date_created": dates, "start_time": dates, "end_time": dates,
              "duration": numbers, "queue_time": numbers, "price": prices, "price_unit": text,
              "status": text, "direction": text, "to": text, "from": text, "uri": text,
              "caller_name": text, "annotation": text}), min_size=1, max_size=6),
    st.booleans())
def test_any_page_of_strings_gives_one_frame_whichever_parser(records, ascii_only):
    body = json.dumps({"calls": records, "next_page_uri": None, "page": 0},
                      ensure_ascii=ascii_only).encode()
    try:
        general = _frame("calls", parse_page(body, "json", "calls").records)
    except ParseError as exc:
        with pytest.raises(ParseError) as fast:
            _frame("calls", parse_page_columns(body, "json", "calls").records)
        assert str(fast.value) == str(exc)
        return
    fast_records = parse_page_columns(body, "json", "calls").records
    if not any("\ud800" <= ch <= "\udfff" for r in records for v in r.values()
               if isinstance(v, str) for ch in v):
        assert isinstance(fast_records, ArrowRecords)         # strings only: Arrow takes it
    pd.testing.assert_frame_equal(_frame("calls", fast_records), general)


def test_the_simulators_pages_come_as_columns_and_frames_match_xml(sim):
    client = dict(account_sid=sim.account_sid, auth_token=sim.auth_token,
                  base_url=sim.base_url, progress=False)
    for resource in ("calls", "messages", "recordings"):
        url = (f"{sim.base_url}/2010-04-01/Accounts/{sim.account_sid}/"
               f"{get_resource(resource).path.lstrip('/')}.json?PageSize=50")
        import requests
        body = requests.get(url, auth=(sim.account_sid, sim.auth_token), timeout=30).content
        assert isinstance(parse_page_columns(body, "json", resource).records, ArrowRecords)
        _same_everywhere(body, resource)
        pd.testing.assert_frame_equal(getattr(tf.Client(format="json", **client), resource)(),
                                      getattr(tf.Client(format="xml", **client), resource)())


def test_arrow_strings_take_integers_as_their_text_and_empty_as_missing():
    from twilio_frames.fetch.columns import string_array
    assert string_array(pa.array([30007, None], pa.int64())).to_pylist() == ["30007", None]
    assert string_array(pa.array(["", "a", None])).to_pylist() == [None, "a", None]
    assert string_array(pa.array([None, None], pa.null())).to_pylist() == [None, None]
    assert string_array(pa.array([1.5])) is None


def test_a_batch_read_between_pages_takes_more_pages_of_either_kind():
    from twilio_frames.fetch.batch import Fields
    arrow = parse_page_columns(_body([_call(1), _call(2)]), "json", "calls").records
    dicts = parse_page(_body([_call(3, duration=7)]), "json", "calls").records
    fields = Fields(get_resource("calls"))
    fields.add(arrow)
    assert fields.values["sid"].to_pylist() == [_call(1)["sid"], _call(2)["sid"]]
    fields.add(arrow)                                   # still columns
    assert len(fields.values["sid"]) == 4
    fields.add(dicts)                                   # now lists, nothing lost
    assert fields.values["sid"] == [_call(i)["sid"] for i in (1, 2, 1, 2, 3)]
    assert fields.values["duration"][-1] == 7 and fields.n == 5



def test_page_columns_are_allocated_by_malloc_not_arrows_default_pool():
    """The columns of a page live in the system pool (fetch/parse_arrow.py POOL: Arrow's
    default mimalloc pool zeroed huge pages on first touch, 41% of a first fetch's CPU)."""
    body = _body([_call(i, status="x" * 200) for i in range(500)])
    system, default = pa.system_memory_pool(), pa.default_memory_pool()
    assert system.backend_name == "system"
    s0, d0 = system.bytes_allocated(), default.bytes_allocated()
    records, _ = read_columns(body, "calls")
    grown = system.bytes_allocated() - s0
    assert grown >= 500 * 200                 # the status strings at least
    assert default.bytes_allocated() - d0 < grown // 10
    assert records.field("status")[0] == "x" * 200
    del records
    assert system.bytes_allocated() - s0 < grown // 10       # freed with the page
