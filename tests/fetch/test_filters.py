"""List filters (issue 8.5): twilio-python's names and the API's, checked before fetching."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames.fetch.assemble import sort_frame
from twilio_frames.fetch.filters import wire_filters

SPEC = Path(__file__).parent.parent / "data" / "twilio-oai" / "twilio_api_v2010.json"
PATHS = {
    "calls": "/2010-04-01/Accounts/{AccountSid}/Calls.json",
    "messages": "/2010-04-01/Accounts/{AccountSid}/Messages.json",
    "recordings": "/2010-04-01/Accounts/{AccountSid}/Recordings.json",
    "usage_records": "/2010-04-01/Accounts/{AccountSid}/Usage/Records.json",
    "accounts": "/2010-04-01/Accounts.json",
    "incoming_phone_numbers": "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
}
#: The keyword names of twilio-python's ``<X>List.list()`` for the same parameters
#: (twilio/twilio-python, twilio/rest/api/v2010/account/...: e.g. CallList.page maps
#: ``start_time_before`` to ``StartTime<`` and ``from_`` to ``From``).
TWILIO_PYTHON = {
    "calls": ["to", "from_", "parent_call_sid", "status", "start_time", "start_time_before",
              "start_time_after", "end_time", "end_time_before", "end_time_after"],
    "messages": ["to", "from_", "date_sent", "date_sent_before", "date_sent_after"],
    "recordings": ["date_created", "date_created_before", "date_created_after", "call_sid",
                   "conference_sid", "include_soft_deleted"],
    "usage_records": ["category", "start_date", "end_date", "include_subaccounts"],
    "accounts": ["friendly_name", "status"],
    "incoming_phone_numbers": ["beta", "friendly_name", "phone_number", "origin"],
}


def client(sim, **kw):
    return tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False, **kw)


@pytest.mark.parametrize("resource", sorted(PATHS))
def test_filter_table_is_the_specs_query_parameters_with_twilio_python_names(resource):
    op = json.loads(SPEC.read_text())["paths"][PATHS[resource]]["get"]
    params = [p["name"] for p in op["parameters"]
              if p.get("in") == "query" and p["name"] not in ("PageSize", "Page", "PageToken")]
    filters = tf.RESOURCES[resource].filters
    assert [f.param for f in filters] == params
    assert [f.name for f in filters] == TWILIO_PYTHON[resource]


def test_both_spellings_map_to_the_api_names():
    assert wire_filters("calls", {"status": "busy", "from_": "+15005550006",
                                  "parent_call_sid": "CA1", "To": "+1", "end_time_before":
                                  dt.date(2026, 11, 2), "EndTime>": "2026-11-01T06:30Z"}) == {
        "Status": "busy", "From": "+15005550006", "ParentCallSid": "CA1", "To": "+1",
        "EndTime<": "2026-11-02", "EndTime>": "2026-11-01T06:30:00Z"}
    assert wire_filters("incoming_phone_numbers", {"beta": False, "Origin": "twilio"}) == {
        "Beta": "false", "Origin": "twilio"}
    assert wire_filters("recordings", {"include_soft_deleted": "True", "call_sid": None}) == {
        "IncludeSoftDeleted": "true"}


def test_an_unknown_filter_lists_the_valid_ones():
    with pytest.raises(tf.ConfigurationError) as err:
        wire_filters("calls", {"Bogus": "1"})
    assert str(err.value) == (
        "unknown calls filter 'Bogus'; valid filters: to, from_, parent_call_sid, status, "
        "end_time, end_time_before, end_time_after; or the API's names To, From, "
        "ParentCallSid, Status, EndTime, EndTime<, EndTime> (dates: start/end)")
    with pytest.raises(tf.ConfigurationError, match="valid filters: friendly_name, status"):
        wire_filters("accounts", {"sid": "AC1"})


@pytest.mark.parametrize("resource,name", [
    ("calls", "StartTime>"), ("calls", "start_time_before"), ("calls", "StartTime"),
    ("messages", "date_sent_after"), ("recordings", "DateCreated<"),
    ("usage_records", "start_date"), ("usage_records", "EndDate"),
])
def test_a_filter_start_end_own_says_to_use_them(resource, name):
    with pytest.raises(tf.ConfigurationError, match=r"pass start=\.\.\. and end=\.\.\."):
        wire_filters(resource, {name: "2026-11-01"})


@pytest.mark.parametrize("filters,words", [
    ({"status": "busy", "Status": "failed"}, "Status is given twice"),
    ({"status": ["busy", "failed"]}, "must be one string"),
    ({"beta": "maybe"}, "must be True or False"),
    ({"end_time": "Nov 1"}, "end_time='Nov 1' is not an unambiguous date"),
])
def test_bad_filter_values_are_refused(filters, words):
    resource = "incoming_phone_numbers" if "beta" in filters else "calls"
    with pytest.raises(tf.ConfigurationError, match=words):
        wire_filters(resource, filters)


def test_calls_status_busy_returns_only_busy_calls_over_loopback(sim):
    busy = client(sim).calls(status="busy")
    every = [r for r in sim.dataset.records("calls", sim.account_sid)]
    expected = sort_frame(tf.to_frame("calls", [r for r in every if r["status"] == "busy"]))
    assert 0 < len(busy) < len(every) and set(busy.status) == {"busy"}
    pd.testing.assert_frame_equal(busy, expected)
    pd.testing.assert_frame_equal(client(sim, format="xml").calls(Status="busy"), expected)


def test_snake_case_filters_reach_the_simulator(sim):
    c = client(sim)
    child = c.calls(start="2026-11-01", end="2026-11-15").dropna(subset=["parent_call_sid"]).iloc[0]
    legs = c.calls(parent_call_sid=child.parent_call_sid)
    assert len(legs) >= 1 and set(legs.parent_call_sid) == {child.parent_call_sid}
    sender = c.messages(limit=1)["from"].iloc[0]
    sent = c.messages(from_=sender)
    assert len(sent) >= 1 and set(sent["from"]) == {sender}
    subs = c.accounts(status="active")
    assert len(subs) >= 1 and set(subs.status) == {"active"}
    number = c.incoming_phone_numbers().phone_number.iloc[0]
    assert list(c.incoming_phone_numbers(phone_number=number).phone_number) == [number]
    assert len(c.incoming_phone_numbers(origin="hosted")) == 0     # all simulated: twilio


def test_a_bad_filter_fetches_nothing(faulty_sim):
    c = client(faulty_sim)
    for call in (lambda: c.calls(Bogus="1"), lambda: c.messages(status="sent"),
                 lambda: c.incoming_phone_numbers(accounts="all", sid="PN1"),
                 lambda: list(c.iter_records("calls", start_time_after="2026-11-01"))):
        with pytest.raises(tf.ConfigurationError):
            call()
    assert faulty_sim.stats.requests == 0
