"""to_frame: dtypes, conventions of DESIGN §4, and XML == JSON on recorded pages."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twilio_frames as tf
from twilio_frames.fetch.assemble import FrameBuilder, sort_frame
from twilio_frames.fetch.frames import combine_frames, partial_frame, schema_table
from twilio_frames.money import price_to_micros
from twilio_frames.resources import DTYPES

PAGES = Path(__file__).parent.parent / "data" / "pages"
DOCS = Path(__file__).parents[2] / "docs" / "schemas.md"


def records(name, fmt, resource):
    return tf.parse_page((PAGES / name).read_bytes(), fmt, resource).records


@pytest.mark.parametrize("resource", list(tf.RESOURCES))
def test_zero_rows_keep_columns_and_dtypes(resource):
    df = tf.to_frame(resource, [])
    res = tf.RESOURCES[resource]
    assert list(df.columns) == res.column_names and len(df) == 0
    for col in res.columns:
        assert str(df[col.name].dtype) == DTYPES[col.kind] or col.kind == "category", col.name
        if col.kind == "category":
            assert list(df[col.name].cat.categories) == list(col.values)


def test_xml_and_json_twins_give_equal_frames():
    xml = tf.to_frame("calls", records("calls_legacy.xml", "xml", "calls"))
    js = tf.to_frame("calls", records("calls_legacy.json", "json", "calls"))
    pd.testing.assert_frame_equal(xml, js)
    assert list(xml.columns)[-1] == "uri"            # flags (a list) is left out


def test_ipn_xml_equals_oai_json_and_capabilities_are_flattened():
    xml = tf.to_frame("incoming_phone_numbers",
                      records("incoming_phone_numbers.xml", "xml", "incoming_phone_numbers"))
    js = tf.to_frame("incoming_phone_numbers",
                     records("oai_ListIncomingPhoneNumber_readFull.json", "json",
                             "incoming_phone_numbers"))
    pd.testing.assert_frame_equal(xml, js)
    row = js.iloc[0]
    assert (row.capabilities_voice, row.capabilities_sms, row.capabilities_mms) == (True, False, True)
    assert pd.isna(row.beta) and row.voice_caller_id_lookup is False or row.voice_caller_id_lookup == False  # noqa: E712
    assert pd.isna(row.sms_url) and pd.isna(row.voice_url)     # "" and null both missing
    assert "capabilities" not in js.columns and js.uri[0].endswith("/PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")


def test_datetimes_are_parsed_with_their_offset():
    df = tf.to_frame("recordings", records("oai_ListRecording_readIncludeSoftDeleted.json",
                                           "json", "recordings"))
    assert str(df.date_created.dtype) == "datetime64[us, UTC]"
    assert df.date_created[0] == pd.Timestamp("2022-02-14 21:23:00", tz="UTC")   # +0100
    assert df.start_time[1] == pd.Timestamp("2022-02-14 22:23:00", tz="UTC")     # +0000
    assert df.channels.tolist() == [2, 2] and str(df.channels.dtype) == "Int64"
    assert "encryption_details" not in df.columns and "subresource_uris" not in df.columns


def test_prices_keep_sign_and_exact_micros():
    df = tf.to_frame("calls", records("calls_legacy.json", "json", "calls"))
    assert df.price[0] == -0.03 and df.price_micros[0] == -30000 and pd.isna(df.price_micros[1])
    assert list(df.price_unit) == ["USD", "USD"] and str(df.duration.dtype) == "Int64"
    usage = tf.to_frame("usage_records", records("usage_records_legacy.xml", "xml", "usage_records"))
    assert usage.price_micros.tolist() == [0, 760000] and list(usage.price_unit) == ["USD", "USD"]
    assert usage.start_date[0] == pd.Timestamp("2012-10-26", tz="UTC")
    assert pd.isna(usage["count"][1]) and usage.usage.tolist() == [0.0, 0.76]


def test_price_to_micros_is_exact():
    s = pd.Series(["-0.00750", "2192.84855", None, "", "3", "-.5", "+1.000001", "0.1234560"])
    assert price_to_micros(s).tolist() == [-7500, 2192848550, pd.NA, pd.NA, 3000000, -500000,
                                           1000001, 123456]
    with pytest.raises(tf.ParseError, match="6 decimals"):
        price_to_micros(pd.Series(["0.0000001"]))
    with pytest.raises(tf.ParseError, match="not a decimal"):
        price_to_micros(pd.Series(["1e-3"]))


def test_enums_keep_unknown_values_after_known_ones_sorted():
    recs = [{"sid": "CA3", "status": "zzz-new"}, {"sid": "CA2", "status": "completed"},
            {"sid": "CA1", "status": "aaa-new"}]
    df = tf.to_frame("calls", recs)
    cats = list(df.status.cat.categories)
    assert cats[-2:] == ["aaa-new", "zzz-new"] and cats[:8] == list(tf.RESOURCES["calls"].columns[8].values)
    assert df.status.tolist() == ["zzz-new", "completed", "aaa-new"]


def test_unknown_fields_kept_as_strings_after_known_ones():
    df = tf.to_frame("messages", [{"sid": "SM1", "zeta": 5, "alpha": "x", "tags": {"a": "b"},
                                   "nested_new": {"k": 1}}])
    assert list(df.columns[-2:]) == ["alpha", "zeta"] and df.zeta[0] == "5"
    assert "tags" not in df.columns and "nested_new" not in df.columns


def test_accounts_never_carry_the_auth_token():
    recs = records("oai_ListAccount_readFull.json", "json", "accounts")
    assert "auth_token" in recs[0]
    df = tf.to_frame("accounts", recs)
    assert "auth_token" not in df.columns
    assert recs[0]["auth_token"] not in df.astype(str).to_string()


def test_partial_frames_combine_to_the_same_frame_and_trim():
    recs = records("calls_legacy.json", "json", "calls") * 1
    whole = tf.to_frame("calls", recs)
    parts = [partial_frame("calls", recs[:1]), partial_frame("calls", recs[1:])]
    pd.testing.assert_frame_equal(combine_frames("calls", parts), whole)
    trimmed = partial_frame("calls", recs, trim=("start_time", pd.Timestamp("2011-04-04", tz="UTC"),
                                                 pd.Timestamp("2011-04-05", tz="UTC")))
    assert trimmed.sid.tolist() == [recs[0]["sid"]]      # the null start_time is outside


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), lists=st.integers(1, 4), page=st.integers(1, 40), batch=st.integers(10, 90),
       resource=st.sampled_from(["calls", "usage_records"]))
def test_frame_builder_is_independent_of_arrival_order_and_batching(sim, data, lists, page, batch,
                                                                    resource):
    recs = (sim.dataset.records("calls", sim.account_sid) if resource == "calls"
            else sim.dataset.usage_records(sim.account_sid, "daily"))[:120]
    recs = recs + recs[:10]                            # a record fetched twice
    cut = sorted(data.draw(st.lists(st.integers(0, len(recs)), min_size=lists - 1,
                                    max_size=lists - 1)))
    chunks = [recs[a:b] for a, b in zip([0, *cut], [*cut, len(recs)])]
    day = pd.Timestamp("2026-11-10", tz="UTC")
    trims = [data.draw(st.sampled_from([None, (day, None), (None, day), (day - pd.Timedelta("36h"), day)]))
             if resource == "calls" else None for _ in chunks]
    pages = [[(i, c[k:k + page]) for k in range(0, len(c), page)] for i, c in enumerate(chunks)]
    order = []                                         # any interleaving, each list in order
    while any(pages):
        i = data.draw(st.sampled_from([j for j, p in enumerate(pages) if p]))
        order.append(pages[i].pop(0))
    builder = FrameBuilder(resource, trims, batch=batch)
    for i, records in order:
        builder.add(i, records)
    parts = [partial_frame(resource, c, trim=("start_time", *t) if t else None)
             for c, t in zip(chunks, trims)]
    expected = combine_frames(resource, parts)
    sort = resource == "calls"
    pd.testing.assert_frame_equal(builder.frame(sort=sort), sort_frame(expected) if sort else expected)


def test_sort_frame_orders_newest_first_and_dedupes():
    recs = records("calls_legacy.json", "json", "calls")
    df = combine_frames("calls", [partial_frame("calls", recs[::-1] + recs)])
    out = sort_frame(df)
    assert out.sid.tolist() == [r["sid"] for r in recs]


def test_sort_frame_equals_a_stable_pandas_sort_with_ties_and_missing_dates(sim):
    df = tf.to_frame("calls", sim.dataset.records("calls", sim.account_sid)[:300])
    df.loc[5:9, "date_created"] = df.loc[10, "date_created"]          # ties broken by sid
    df.loc[20:24, "date_created"] = pd.NaT                            # missing: last
    shuffled = df.sample(frac=1, random_state=3).reset_index(drop=True)
    expected = shuffled.sort_values(["date_created", "sid"], ascending=False, na_position="last",
                                    kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(sort_frame(shuffled), expected)


def test_bad_datetime_is_a_parse_error():
    with pytest.raises(tf.ParseError, match="date_created"):
        tf.to_frame("calls", [{"sid": "CA1", "date_created": "yesterday"}])


def test_docs_schema_table_is_current():
    assert schema_table() in DOCS.read_text()


BAD_DATE_SID, BAD_INT_SID = "CAbad0date0000000000000000000001", "CAbad0integer0000000000000000002"


def bad_page():
    return (PAGES / "calls_bad_values.json").read_bytes()


def one_line(err):
    text = str(err)
    assert "\n" not in text and "mixed" not in text and "position" not in text
    return text


def test_a_bad_date_and_a_bad_integer_give_one_line_naming_column_value_and_sid():
    recs = tf.parse_page(bad_page(), "json", "calls").records
    with pytest.raises(tf.ParseError) as info:
        tf.to_frame("calls", recs)
    assert one_line(info.value) == (
        "calls column 'start_time': '2011-04-04 09:10:40' is not an RFC 2822 date-time like "
        f"'Tue, 31 Aug 2010 20:36:28 +0000' (first bad row: sid {BAD_DATE_SID})")
    recs[1]["start_time"] = recs[0]["start_time"]
    with pytest.raises(tf.ParseError) as info:
        tf.to_frame("calls", recs)
    assert one_line(info.value) == ("calls column 'duration': '22s' is not an integer "
                                    f"(first bad row: sid {BAD_INT_SID})")


@pytest.mark.parametrize("resource,record,column,value", [
    ("usage_records", {"sid": None, "as_of": "2019-06-24T22:32:49+00:00"}, "as_of", "2019-06-24T25:00"),
    ("usage_records", {"category": "calls", "start_date": "2026-11-01"}, "start_date", "2026-13-01"),
    ("usage_records", {"category": "calls", "usage": "1.5"}, "usage", "1,5"),
    ("calls", {"sid": "CA1", "price": "-0.0075"}, "price", "-0.00000001"),
    ("calls", {"sid": "CA1", "price": "-0.0075"}, "price", "free"),
    ("calls", {"sid": "CA1", "duration": "5"}, "duration", "2.5"),
    ("incoming_phone_numbers", {"sid": "PN1", "beta": False}, "beta", "maybe"),
    ("messages", {"sid": "SM1", "date_sent": "Tue, 31 Aug 2010 20:36:28 +0000"}, "date_sent",
     "Tue, 31 Aug 2010 20:36:28 +0000\nX-Injected: 1" + "x" * 200),
])
def test_value_errors_of_every_kind_are_one_line(resource, record, column, value):
    bad = {**record, column: value, "sid": "XX0bad"}
    with pytest.raises(tf.ParseError) as info:
        tf.to_frame(resource, [record, record, bad])
    text = one_line(info.value)
    assert text.startswith(f"{resource} column {column!r}: ") and text.endswith("sid XX0bad)")
    assert repr(value)[:30] in text and len(text) < 250


def test_a_fetch_adds_the_url_of_the_page_with_the_bad_value(sim, monkeypatch):
    c = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False)
    asked = []
    monkeypatch.setattr(c, "_get", lambda url: asked.append(url) or bad_page())
    with pytest.raises(tf.ParseError) as info:
        c.calls()
    assert info.value.url == asked[0] and one_line(info.value).endswith(f"(from {asked[0]})")
    assert BAD_DATE_SID in str(info.value)
    asked.clear()
    with pytest.raises(tf.ParseError) as info:       # limit: counted on the workers (paging)
        c.calls("2011-01-01", "2012-01-01", limit=2)
    assert info.value.url == asked[0] and BAD_DATE_SID in one_line(info.value)


def test_frame_builder_names_the_url_of_the_bad_page():
    good = records("calls_legacy.json", "json", "calls")
    bad = tf.parse_page(bad_page(), "json", "calls").records
    builder = FrameBuilder("calls", [None, None], batch=100)
    builder.add(0, good, url="http://127.0.0.1:1/good")
    builder.add(1, bad, url="http://127.0.0.1:1/bad")
    with pytest.raises(tf.ParseError) as info:
        builder.frame(sort=True)
    assert info.value.url == "http://127.0.0.1:1/bad" and BAD_DATE_SID in str(info.value)


@pytest.mark.parametrize("price", ["9300000000000", "12345678901234567890.5",
                                   "9223372036854.775808", "-9223372036854.775809"])
def test_a_price_whose_micros_overflow_int64_is_a_one_line_error_never_wrapped(price):
    with pytest.raises(tf.ParseError) as info:
        tf.to_frame("calls", [{"sid": "CA1", "price": "-0.01"}, {"sid": "CA2", "price": price}])
    assert one_line(info.value) == (f"calls column 'price': {price!r} is not a price whose "
                                    "micros fit in int64 (first bad row: sid CA2)")
    with pytest.raises(tf.ParseError, match="int64"):
        price_to_micros(pd.Series([price]))


def test_prices_at_the_int64_bounds_are_exact():
    df = tf.to_frame("calls", [{"sid": "CA1", "price": "9223372036854.775807"},
                               {"sid": "CA2", "price": "-9223372036854.775808"}])
    assert df.price_micros.tolist() == [2 ** 63 - 1, -2 ** 63]


@pytest.mark.parametrize("number,micros", [(-1e-05, -10), (-0.0075, -7500), (0.76, 760000),
                                           (12, 12_000_000), (2192.84855, 2192848550)])
def test_a_price_sent_as_a_json_number_is_read_as_its_shortest_decimal(number, micros):
    df = tf.to_frame("usage_records", [{"sid": "UR1", "price": number}, {"sid": "UR2"}])
    assert df.price_micros[0] == micros and df.price[0] == number and pd.isna(df.price_micros[1])
    with pytest.raises(tf.ParseError, match="'0.00000015' is not a price with at most 6"):
        tf.to_frame("usage_records", [{"sid": "UR1", "price": 1.5e-07}])


@pytest.mark.parametrize("first", ["CA1", None])
def test_sort_frame_places_a_row_without_a_sid_last_among_its_date_ties(first):
    when = "Tue, 31 Aug 2010 20:36:28 +0000"
    recs = [{"sid": first, "date_created": when},
            {"sid": "CA1" if first is None else None, "date_created": when},
            {"sid": "CA0", "date_created": "Tue, 31 Aug 2010 20:36:27 +0000"}]
    out = sort_frame(tf.to_frame("calls", recs))
    assert out.sid.tolist()[0] == "CA1" and pd.isna(out.sid[1]) and out.sid[2] == "CA0"


def test_a_lone_surrogate_in_json_text_becomes_the_replacement_character():
    recs = [{"sid": "SM1", "body": "hi \ud83d", "status": "sent\udc00", "zz_extra": "\ud83d"},
            {"sid": "SM2", "body": "fine", "price": "-0.0075\ud83d"}]
    with pytest.raises(tf.ParseError, match="column 'price': '-0.0075\uFFFD' .*sid SM2"):
        tf.to_frame("messages", recs)
    df = tf.to_frame("messages", recs[:1])
    assert df.body[0] == "hi \uFFFD" and df.status[0] == "sent\uFFFD"
    assert df.zz_extra[0] == "\uFFFD"


def test_frames_are_the_same_when_memory_is_given_back_at_every_step(sim, monkeypatch):
    from twilio_frames.fetch import assemble, trim
    calls = []
    monkeypatch.setattr(trim, "MIN_ROWS", 0)
    monkeypatch.setattr(assemble, "GIVE_BACK_EVERY", 1)
    monkeypatch.setattr(trim, "_TRIM", lambda pad: calls.append(pad) or 0)
    recs = sim.dataset.records("calls", sim.account_sid)[:150]
    builder = FrameBuilder("calls", [None, None], batch=40)
    for i, part in [(1, recs[60:]), (0, recs[:70])]:          # overlapping, out of order
        for k in range(0, len(part), 25):
            builder.add(i, part[k:k + 25])
    expected = sort_frame(combine_frames("calls", [partial_frame("calls", recs[:70] + recs[60:])]))
    pd.testing.assert_frame_equal(builder.frame(sort=True), expected)
    assert len(calls) >= 5 and len(expected) == 150
