"""The simulator over real loopback HTTP: envelopes, XML == JSON, paging, filters, auth,
errors, faults, determinism, shutdown and the ``sim`` command.

Expected values come from the dataset's ground truth (``sim.dataset.records(...)``) and the
wire-format notes; nothing here imports the client code.
"""

from __future__ import annotations

import http.client as httplib
import io
import json
import re
import socket
import threading
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
import requests
import xmltodict

from conftest import SIM_OPTIONS
from twilio_frames import simulator
from twilio_frames.cli.main import build_parser

API = "/2010-04-01"
LIST_KEYS = {"Calls": "calls", "Messages": "messages", "Recordings": "recordings",
             "IncomingPhoneNumbers": "incoming_phone_numbers"}
PAGING_KEYS = ["end", "first_page_uri", "next_page_uri", "page", "page_size",
               "previous_page_uri", "start", "uri"]
USAGE_SUBS = ["", "/Daily", "/Monthly", "/Yearly", "/AllTime", "/Today", "/Yesterday",
              "/ThisMonth", "/LastMonth"]


# ---------------------------------------------------------------- helpers

def auth_of(sim, who: str = "master"):
    ds = sim.dataset
    if who == "master":
        return (sim.account_sid, sim.auth_token)
    if who == "key":
        return (sim.api_key, sim.api_secret)
    return (who, ds.auth_tokens[who])


def get(sim, http, path: str, *, auth="master", params=None) -> requests.Response:
    creds = auth_of(sim, auth) if isinstance(auth, str) else auth
    return http.get(sim.base_url + path, auth=creds, params=params)


def acct(sim, sid=None) -> str:
    return f"{API}/Accounts/{sid or sim.account_sid}"


def subaccounts(sim) -> list[str]:
    return [a["sid"] for a in sim.dataset.accounts if a["sid"] != sim.account_sid]


def walk(sim, http, path: str, params: dict, *, key: str, auth="master") -> tuple[list, int]:
    """Follow next_page_uri from the first page; return (records, number of pages)."""
    response = get(sim, http, path, auth=auth, params=params)
    records, pages = [], 0
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        records += body[key]
        pages += 1
        if body["next_page_uri"] is None:
            return records, pages
        response = get(sim, http, body["next_page_uri"], auth=auth)


def epoch(rfc2822: str | None) -> float | None:
    return None if rfc2822 is None else parsedate_to_datetime(rfc2822).timestamp()


def midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()


def xml_name_to_json(name: str) -> str:
    return {"SMS": "sms", "MMS": "mms"}.get(name) or re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def xml_item(node) -> dict | None:
    """An xmltodict element -> a dict with JSON field names and text (or None) values."""
    if node is None:
        return None
    return {xml_name_to_json(k): (xml_item(v) if isinstance(v, dict) else v)
            for k, v in node.items()}


def as_xml_text(record: dict, uris: bool = False) -> dict:
    """What a JSON record looks like after XML: text values, null == "", no .json in URIs."""
    out = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out[key] = as_xml_text(value, uris=key.endswith("_uris"))
        elif value is None or value == "":
            out[key] = None
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, str) and (uris or key == "uri" or key.endswith("_uri")):
            out[key] = value.replace(".json", "", 1)
        else:
            out[key] = str(value)
    return out


def parse_xml_list(body: bytes, list_name: str, item_name: str) -> tuple[dict, list[dict]]:
    doc = xmltodict.parse(body, force_list=(item_name,), strip_whitespace=False)
    node = doc["TwilioResponse"][list_name] or {}
    attrs = {k[1:]: v for k, v in node.items() if k.startswith("@")}
    return attrs, [xml_item(item) for item in node.get(item_name, [])]


# ---------------------------------------------------------------- envelopes

@pytest.mark.parametrize("segment", list(LIST_KEYS) + ["IncomingPhoneNumbers/Local"])
def test_json_list_envelope_has_exactly_the_paging_keys(sim, http, segment):
    response = get(sim, http, f"{acct(sim)}/{segment}.json", params={"PageSize": 5})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    key = LIST_KEYS[segment.split("/")[0]]
    assert list(body) == [key, *PAGING_KEYS]
    assert body["page"] == 0 and body["page_size"] == 5
    assert body["previous_page_uri"] is None
    assert body["uri"] == f"{acct(sim)}/{segment}.json?PageSize=5&Page=0"
    assert body["first_page_uri"] == body["uri"]
    assert body["start"] == 0 and body["end"] == max(len(body[key]) - 1, 0)


def test_headers_request_id_and_concurrency(sim, http):
    response = get(sim, http, f"{acct(sim)}/Calls.json", params={"PageSize": 1})
    assert re.fullmatch(r"RQ[0-9a-f]{32}", response.headers["Twilio-Request-Id"])
    assert int(response.headers["Twilio-Concurrent-Requests"]) >= 1


def test_empty_page_is_all_zero_and_null(sim, http):
    params = {"StartTime>": "2001-01-01", "StartTime<": "2001-01-02"}
    body = get(sim, http, f"{acct(sim)}/Calls.json", params=params).json()
    assert body["calls"] == []
    assert (body["start"], body["end"], body["page"]) == (0, 0, 0)
    assert body["next_page_uri"] is None and body["previous_page_uri"] is None
    xml = get(sim, http, f"{acct(sim)}/Calls", params=params).content
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<TwilioResponse><Calls ")
    assert xml.endswith(b'nextpageuri="" start="0" end="0"/></TwilioResponse>')


def test_xml_document_shape(sim, http):
    response = get(sim, http, f"{acct(sim)}/Calls", params={"PageSize": 2})
    assert response.headers["Content-Type"] == "application/xml"
    head, _, rest = response.content.partition(b"\n")
    assert head == b"<?xml version='1.0' encoding='UTF-8'?>"
    assert b"\n" not in rest
    assert rest.startswith(b'<TwilioResponse><Calls page="0" pagesize="2" uri="')
    assert b"previouspageuri=\"\"" in rest and b".json" not in rest
    assert b"&amp;Page=0" in rest     # & in attribute values is escaped


def test_xml_escapes_and_null_elements(sim, http):
    messages = sim.dataset.records("messages", sim.account_sid)
    special = next((m for m in messages if any(c in (m["body"] or "") for c in "&<>\"")), None)
    assert special is not None, "the session dataset should have a body with & < > or quotes"
    body = get(sim, http, f"{acct(sim)}/Messages/{special['sid']}").content
    text = xmltodict.parse(body)["TwilioResponse"]["Message"]["Body"]
    assert text == special["body"]


def test_renderer_escapes_text_and_attributes():
    from twilio_frames.simulator import render
    record = {"friendly_name": 'a & b <c> "d"', "beta": True, "sid": None, "count_unit": "",
              "uri": "/2010-04-01/Accounts/AC1/X.json?A=1&B=2",
              "capabilities": {"voice": False, "sms": True, "mms": None},
              "flags": ["outbound-api"]}
    envelope = {"end": 0, "first_page_uri": "/x.json?a=1&b=<2>", "next_page_uri": None,
                "page": 0, "page_size": 1, "previous_page_uri": None, "start": 0,
                "uri": "/x.json?a=1"}
    body = render.render_list("xml", "items", "Items", "Item", [record], envelope).decode()
    assert body == (
        "<?xml version='1.0' encoding='UTF-8'?>\n<TwilioResponse><Items page=\"0\" "
        'pagesize="1" uri="/x?a=1" firstpageuri="/x?a=1&amp;b=&lt;2&gt;" previouspageuri="" '
        'nextpageuri="" start="0" end="0"><Item>'
        "<FriendlyName>a &amp; b &lt;c&gt; &quot;d&quot;</FriendlyName><Beta>true</Beta><Sid/>"
        "<CountUnit></CountUnit><Uri>/2010-04-01/Accounts/AC1/X?A=1&amp;B=2</Uri>"
        "<Capabilities><Voice>false</Voice><SMS>true</SMS><MMS/></Capabilities>"
        "<Flags><Flag>outbound-api</Flag></Flags></Item></Items></TwilioResponse>")
    parsed = xmltodict.parse(body)["TwilioResponse"]["Items"]["Item"]
    assert parsed["FriendlyName"] == record["friendly_name"]


def test_json_renderer_keeps_order_and_writes_utf8():
    from twilio_frames.simulator import render
    record = {"body": "Grüße 📦\n\"ok\" \\ </b>", "num_segments": "2", "error_code": None,
              "beta": False, "subresource_uris": {"media": "/M.json", "feedback": "/F.json"}}
    envelope = {"end": 0, "first_page_uri": "/x.json?a=1", "next_page_uri": None, "page": 0,
                "page_size": 1, "previous_page_uri": None, "start": 0, "uri": "/x.json"}
    body = render.render_list("json", "messages", "Messages", "Message", [record], envelope)
    assert "Grüße 📦".encode() in body and b"\\u" not in body
    doc = json.loads(body)
    assert list(doc) == ["messages", "end", "first_page_uri", "next_page_uri", "page",
                         "page_size", "previous_page_uri", "start", "uri"]
    assert doc["messages"] == [record] and list(doc["messages"][0]) == list(record)
    assert json.loads(render.render_record("json", "Message", record)) == record


@pytest.mark.parametrize("segment", [*LIST_KEYS, "IncomingPhoneNumbers/TollFree"])
def test_xml_and_json_carry_the_same_records(sim, http, segment):
    name = segment.split("/")[0]
    params = {"PageSize": 40}
    body = get(sim, http, f"{acct(sim)}/{segment}.json", params=params).json()
    attrs, items = parse_xml_list(get(sim, http, f"{acct(sim)}/{segment}", params=params).content,
                                  name, name[:-1])
    assert items == [as_xml_text(r) for r in body[LIST_KEYS[name]]]
    assert attrs["pagesize"] == "40" and attrs["page"] == "0"
    assert attrs["nextpageuri"] == (body["next_page_uri"] or "").replace(".json", "")


@pytest.mark.parametrize("sub", USAGE_SUBS)
def test_usage_xml_and_json_carry_the_same_records(sim, http, sub):
    path = f"{acct(sim)}/Usage/Records{sub}"
    body = get(sim, http, path + ".json", params={"PageSize": 1000}).json()
    _, items = parse_xml_list(get(sim, http, path + ".xml", params={"PageSize": 1000}).content,
                              "UsageRecords", "UsageRecord")
    assert items == [as_xml_text(r) for r in body["usage_records"]]


def test_accounts_xml_and_json_carry_the_same_records(sim, http):
    body = get(sim, http, f"{API}/Accounts.json").json()
    _, items = parse_xml_list(get(sim, http, f"{API}/Accounts").content, "Accounts", "Account")
    assert items == [as_xml_text(r) for r in body["accounts"]]
    assert [a["sid"] for a in body["accounts"]] == [a["sid"] for a in sim.dataset.accounts]


# ---------------------------------------------------------------- paging

@pytest.mark.parametrize("size", [7, 50, 1000])
def test_paging_yields_every_record_once_in_order(sim, http, size):
    truth = [r["sid"] for r in sim.dataset.records("calls", sim.account_sid)]
    records, pages = walk(sim, http, f"{acct(sim)}/Calls.json", {"PageSize": size}, key="calls")
    assert [r["sid"] for r in records] == truth
    assert pages == max(1, -(-len(truth) // size))


def test_paging_size_one_on_a_filtered_list(sim, http):
    truth = [r["sid"] for r in sim.dataset.records("recordings", sim.account_sid)][:25]
    last_day = parsedate_to_datetime(
        sim.dataset.records("recordings", sim.account_sid)[24]["date_created"]).date()
    params = {"PageSize": 1, "DateCreated>": last_day.isoformat()}
    records, pages = walk(sim, http, f"{acct(sim)}/Recordings.json", params, key="recordings")
    sids = [r["sid"] for r in records]
    assert sids[:25] == truth and len(set(sids)) == len(sids) == pages


def test_page_uris_carry_filters_and_previous_goes_back(sim, http):
    params = {"PageSize": 3, "Status": "completed", "StartTime>": "2026-11-01"}
    first = get(sim, http, f"{acct(sim)}/Calls.json", params=params).json()
    assert first["next_page_uri"].startswith(
        f"{acct(sim)}/Calls.json?Status=completed&StartTime%3E=2026-11-01&PageSize=3&Page=1&PageToken=")
    second = get(sim, http, first["next_page_uri"]).json()
    assert (second["page"], second["start"], second["end"]) == (1, 3, 5)
    assert second["uri"] == first["next_page_uri"]
    back = get(sim, http, second["previous_page_uri"]).json()
    assert back["calls"] == first["calls"]


def test_page_without_token_is_refused(sim, http):
    response = get(sim, http, f"{acct(sim)}/Messages.json", params={"Page": 1})
    assert response.status_code == 400
    assert response.json() == {"code": 20001, "message": "PageToken is required for paging.",
                               "more_info": "https://www.twilio.com/docs/errors/20001",
                               "status": 400}


@pytest.mark.parametrize("value,code", [("1001", 20007), ("0", 20001), ("-3", 20001),
                                        ("abc", 20001), ("", 20001), ("2.5", 20001)])
@pytest.mark.parametrize("ext", [".json", ""])
def test_bad_page_size_is_a_400_in_the_requested_format(sim, http, value, code, ext):
    response = get(sim, http, f"{acct(sim)}/Calls{ext}", params={"PageSize": value})
    assert response.status_code == 400
    assert error_of(response) == (code, 400)


def test_bad_page_token_is_a_400(sim, http):
    response = get(sim, http, f"{acct(sim)}/Calls.json",
                   params={"Page": 1, "PageToken": "PAnot-a-token"})
    assert error_of(response) == (20001, 400)


# ---------------------------------------------------------------- filters

def call_day(sim) -> date:
    calls = sim.dataset.records("calls", sim.account_sid)
    return parsedate_to_datetime(calls[len(calls) // 2]["start_time"]).date()


def test_start_time_bounds_are_midnight_utc(sim, http):
    calls = sim.dataset.records("calls", sim.account_sid)
    day = call_day(sim)
    lo, hi = midnight(day), midnight(day + timedelta(days=1))
    cases = {
        "StartTime>": lambda t: t >= lo,
        "StartTime<": lambda t: t < lo,
        "StartTime": lambda t: lo <= t < hi,
    }
    for param, keep in cases.items():
        expected = [c["sid"] for c in calls
                    if epoch(c["start_time"]) is not None and keep(epoch(c["start_time"]))]
        got, _ = walk(sim, http, f"{acct(sim)}/Calls.json",
                      {param: day.isoformat(), "PageSize": 1000}, key="calls")
        assert [c["sid"] for c in got] == expected, param
        assert expected, param


def test_end_time_and_iso_datetime_values(sim, http):
    calls = sim.dataset.records("calls", sim.account_sid)
    day = call_day(sim)
    instant = datetime(day.year, day.month, day.day, 13, 30, tzinfo=timezone.utc)
    params = {"EndTime>": day.isoformat(), "EndTime<": instant.strftime("%Y-%m-%dT%H:%M:%SZ"),
              "PageSize": 1000}
    expected = [c["sid"] for c in calls if c["end_time"] is not None
                and midnight(day) <= epoch(c["end_time"]) < instant.timestamp()]
    got, _ = walk(sim, http, f"{acct(sim)}/Calls.json", params, key="calls")
    assert [c["sid"] for c in got] == expected and expected


def test_call_text_filters(sim, http):
    calls = sim.dataset.records("calls", sim.account_sid)
    sample = calls[3]
    children = [c for c in calls if c["parent_call_sid"]]
    cases = [("To", sample["to"], "to"), ("From", sample["from"], "from"),
             ("Status", "completed", "status")]
    if children:
        cases.append(("ParentCallSid", children[0]["parent_call_sid"], "parent_call_sid"))
    for param, value, field in cases:
        got, _ = walk(sim, http, f"{acct(sim)}/Calls.json", {param: value, "PageSize": 1000},
                      key="calls")
        assert [c["sid"] for c in got] == [c["sid"] for c in calls if c[field] == value]


def test_message_filters(sim, http):
    messages = sim.dataset.records("messages", sim.account_sid)
    sent = [m for m in messages if m["date_sent"]]
    day = parsedate_to_datetime(sent[len(sent) // 2]["date_sent"]).date()
    for param, keep in {"DateSent>": lambda t: t >= midnight(day),
                        "DateSent<": lambda t: t < midnight(day),
                        "DateSent": lambda t: midnight(day) <= t < midnight(day) + 86400}.items():
        got, _ = walk(sim, http, f"{acct(sim)}/Messages.json",
                      {param: day.isoformat(), "PageSize": 1000}, key="messages")
        assert [m["sid"] for m in got] == [m["sid"] for m in sent if keep(epoch(m["date_sent"]))]
    to = messages[0]["to"]
    got, _ = walk(sim, http, f"{acct(sim)}/Messages.json", {"To": to, "PageSize": 1000},
                  key="messages")
    assert [m["sid"] for m in got] == [m["sid"] for m in messages if m["to"] == to]


def test_recording_filters(sim, http):
    recordings = sim.dataset.records("recordings", sim.account_sid)
    day = parsedate_to_datetime(recordings[len(recordings) // 2]["date_created"]).date()
    got, _ = walk(sim, http, f"{acct(sim)}/Recordings.json",
                  {"DateCreated<": day.isoformat(), "PageSize": 1000}, key="recordings")
    assert [r["sid"] for r in got] == [r["sid"] for r in recordings
                                       if epoch(r["date_created"]) < midnight(day)]
    call_sid = recordings[0]["call_sid"]
    got, _ = walk(sim, http, f"{acct(sim)}/Recordings.json", {"CallSid": call_sid},
                  key="recordings")
    assert [r["sid"] for r in got] == [r["sid"] for r in recordings if r["call_sid"] == call_sid]
    per_call, _ = walk(sim, http, f"{acct(sim)}/Calls/{call_sid}/Recordings.json", {},
                       key="recordings")
    assert [r["sid"] for r in per_call] == [r["sid"] for r in got]
    assert per_call[0]["uri"] == f"{acct(sim)}/Calls/{call_sid}/Recordings/{got[0]['sid']}.json"


def test_phone_number_filters(sim, http):
    numbers = sim.dataset.records("incoming_phone_numbers", sim.account_sid)
    target = numbers[0]["phone_number"]
    part = target[3:7]
    pattern = target[2:4] + "*" + target[5:7]
    for value, keep in [(part, lambda n: part in n),
                        (pattern, lambda n: re.search(re.escape(target[2:4]) + r"\d"
                                                      + re.escape(target[5:7]), n))]:
        got = get(sim, http, f"{acct(sim)}/IncomingPhoneNumbers.json",
                  params={"PhoneNumber": value, "PageSize": 1000}).json()
        expected = [n["sid"] for n in numbers if keep(n["phone_number"])]
        assert [n["sid"] for n in got["incoming_phone_numbers"]] == expected and expected
    name = numbers[-1]["friendly_name"]
    got = get(sim, http, f"{acct(sim)}/IncomingPhoneNumbers.json",
              params={"FriendlyName": name}).json()["incoming_phone_numbers"]
    assert [n["sid"] for n in got] == [n["sid"] for n in numbers if n["friendly_name"] == name]


def test_origin_beta_and_include_soft_deleted_filters(sim, http):
    # Every simulated number is Twilio's own and not beta; no recording is soft-deleted.
    numbers = [n["sid"] for n in sim.dataset.records("incoming_phone_numbers", sim.account_sid)]
    recordings = [r["sid"] for r in sim.dataset.records("recordings", sim.account_sid)]

    def sids(path, key, **params):
        r = get(sim, http, f"{acct(sim)}/{path}", params={**params, "PageSize": 1000})
        assert r.status_code == 200, r.text
        return [x["sid"] for x in r.json()[key]]
    ipn = ("IncomingPhoneNumbers.json", "incoming_phone_numbers")
    assert sids(*ipn, Origin="twilio") == numbers and numbers
    assert sids(*ipn, Origin="hosted") == []
    assert sids(*ipn, Beta="false") == sids(*ipn, Beta="true") == numbers
    rec = ("Recordings.json", "recordings")
    assert sids(*rec, IncludeSoftDeleted="true") == sids(*rec, IncludeSoftDeleted="false") \
        == recordings[:1000]
    bad = get(sim, http, f"{acct(sim)}/Recordings.json", params={"IncludeSoftDeleted": "maybe"})
    assert bad.status_code == 400 and bad.json()["code"] == 20001


def test_phone_numbers_by_type(sim, http):
    numbers = sim.dataset.records("incoming_phone_numbers", sim.account_sid)
    seen = []
    for segment in ("Local", "TollFree", "Mobile"):
        got = get(sim, http, f"{acct(sim)}/IncomingPhoneNumbers/{segment}.json",
                  params={"PageSize": 1000}).json()["incoming_phone_numbers"]
        norm = segment.lower()
        assert all(n["type"].replace("-", "").replace("_", "").lower() == norm for n in got)
        seen += [n["sid"] for n in got]
    assert sorted(seen) == sorted(n["sid"] for n in numbers)


def test_account_filters(sim, http):
    sub = sim.dataset.accounts[1]
    got = get(sim, http, f"{API}/Accounts.json",
              params={"FriendlyName": sub["friendly_name"]}).json()["accounts"]
    assert [a["sid"] for a in got] == [a["sid"] for a in sim.dataset.accounts
                                       if a["friendly_name"] == sub["friendly_name"]]
    got = get(sim, http, f"{API}/Accounts.json", params={"Status": "closed"}).json()["accounts"]
    assert [a["sid"] for a in got] == [a["sid"] for a in sim.dataset.accounts
                                       if a["status"] == "closed"]


def test_usage_filters_and_relative_dates(sim, http):
    ds = sim.dataset
    today = ds.now.date()
    params = {"StartDate": "-10days", "EndDate": "+0days", "Category": "calls",
              "IncludeSubaccounts": "false", "PageSize": 1000}
    got = get(sim, http, f"{acct(sim)}/Usage/Records/Daily.json", params=params).json()
    expected = ds.usage_records(sim.account_sid, "daily", category="calls",
                                start_date=today - timedelta(days=10), end_date=today,
                                include_subaccounts=False)
    assert got["usage_records"] == expected
    assert "StartDate=-10days&EndDate=%2B0days" in got["uri"]
    everything = get(sim, http, f"{acct(sim)}/Usage/Records.json",
                     params={"PageSize": 1000}).json()["usage_records"]
    assert everything == ds.usage_records(sim.account_sid)


@pytest.mark.parametrize("params", [{"StartTime>": "yesterday"}, {"StartTime": "2026-13-01"},
                                    {"EndTime<": "2026-02-30"}])
def test_bad_dates_are_400(sim, http, params):
    for ext in (".json", ""):
        assert error_of(get(sim, http, f"{acct(sim)}/Calls{ext}", params=params)) == (20001, 400)


@pytest.mark.parametrize("params", [{"StartDate": "last week"}, {"EndDate": "2026-1-1"},
                                    {"IncludeSubaccounts": "maybe"}])
def test_bad_usage_parameters_are_400(sim, http, params):
    response = get(sim, http, f"{acct(sim)}/Usage/Records/Daily.json", params=params)
    assert error_of(response) == (20001, 400)


# ---------------------------------------------------------------- fetch

@pytest.mark.parametrize("resource,segment,item", [
    ("calls", "Calls", "Call"), ("messages", "Messages", "Message"),
    ("recordings", "Recordings", "Recording"),
    ("incoming_phone_numbers", "IncomingPhoneNumbers", "IncomingPhoneNumber")])
def test_fetch_by_sid_in_both_formats(sim, http, resource, segment, item):
    record = sim.dataset.records(resource, sim.account_sid)[-1]
    path = f"{acct(sim)}/{segment}/{record['sid']}"
    assert get(sim, http, path + ".json").json() == record
    xml = xmltodict.parse(get(sim, http, path).content, strip_whitespace=False)[
        "TwilioResponse"][item]
    assert xml_item(xml) == as_xml_text(record)
    missing = get(sim, http, f"{acct(sim)}/{segment}/{record['sid'][:2]}{'0' * 32}.json")
    assert error_of(missing) == (20404, 404)


def test_fetch_account(sim, http):
    sub = subaccounts(sim)[0]
    body = get(sim, http, f"{API}/Accounts/{sub}.json").json()
    assert body == next(a for a in sim.dataset.accounts if a["sid"] == sub)


# ---------------------------------------------------------------- auth and errors

def error_of(response) -> tuple[int, int]:
    """(code, status) of an error body, checking its exact shape in either format."""
    if response.headers["Content-Type"] == "application/json":
        body = response.json()
        assert list(body) == ["code", "message", "more_info", "status"]
        assert body["more_info"] == f"https://www.twilio.com/docs/errors/{body['code']}"
        assert body["status"] == response.status_code
        return body["code"], body["status"]
    assert response.headers["Content-Type"] == "application/xml"
    exc = xmltodict.parse(response.content)["TwilioResponse"]["RestException"]
    assert list(exc) == ["Code", "Message", "MoreInfo", "Status"]
    assert int(exc["Status"]) == response.status_code
    return int(exc["Code"]), int(exc["Status"])


@pytest.mark.parametrize("ext", [".json", ".xml", ""])
def test_wrong_or_missing_credentials_are_401(sim, http, ext):
    path = f"{acct(sim)}/Calls{ext}"
    assert error_of(get(sim, http, path, auth=(sim.account_sid, "0" * 32))) == (20003, 401)
    assert error_of(http.get(sim.base_url + path)) == (20003, 401)
    assert error_of(get(sim, http, path, auth=(sim.api_key, sim.auth_token))) == (20003, 401)


def test_api_key_acts_for_its_account(sim, http):
    response = get(sim, http, f"{acct(sim)}/Messages.json", auth="key", params={"PageSize": 2})
    assert response.status_code == 200
    sub = subaccounts(sim)[0]
    sub_key = next(k for k, (_, owner) in sim.dataset.api_keys.items() if owner == sub)
    sub_auth = (sub_key, sim.dataset.api_keys[sub_key][0])
    assert get(sim, http, f"{acct(sim, sub)}/Calls.json", auth=sub_auth).status_code == 200
    assert error_of(get(sim, http, f"{acct(sim)}/Calls.json", auth=sub_auth)) == (20003, 401)


def test_account_scope(sim, http):
    first, second = subaccounts(sim)[:2]
    assert get(sim, http, f"{acct(sim, first)}/Calls.json").status_code == 200
    assert error_of(get(sim, http, f"{acct(sim)}/Calls.json", auth=first)) == (20003, 401)
    assert error_of(get(sim, http, f"{acct(sim, second)}/Calls", auth=first)) == (20003, 401)
    own = get(sim, http, f"{API}/Accounts.json", auth=first).json()["accounts"]
    assert [a["sid"] for a in own] == [first]
    assert error_of(get(sim, http, f"{acct(sim, 'AC' + '0' * 32)}/Calls.json")) == (20404, 404)


@pytest.mark.parametrize("path", ["/2010-04-01/Accounts/{sid}/Nope.json",
                                  "/2010-04-01/Accounts/{sid}/Usage/Records/Weekly",
                                  "/2010-04-01/Accounts/{sid}/Calls/x/y/z/w",
                                  "/2010-04-01/Accounts/{sid}/Calls/", "/2008-08-01/Accounts",
                                  "/", "/2010-04-01/Accounts/{sid}/Calls.csv"])
def test_unknown_paths_are_404(sim, http, path):
    assert error_of(get(sim, http, path.format(sid=sim.account_sid))) == (20404, 404)


@pytest.mark.parametrize("method", ["POST", "DELETE", "PUT", "PATCH"])
def test_only_get_is_served(sim, http, method):
    response = http.request(method, f"{sim.base_url}{acct(sim)}/Calls.json",
                            auth=auth_of(sim), data={"To": "+1"})
    assert error_of(response) == (20004, 405)
    assert response.headers["Allow"] == "GET"


def test_no_request_ever_raised_inside_the_app(sim):
    assert sim.app.errors == []


# ---------------------------------------------------------------- faults

def test_latency_is_applied(faulty_sim, http):
    faulty_sim.set_faults(latency=0.05)
    response = get(faulty_sim, http, f"{acct(faulty_sim)}/Calls.json", params={"PageSize": 1})
    assert response.status_code == 200
    assert float(response.headers["Twilio-Request-Duration"]) >= 0.05


@pytest.mark.parametrize("retry_after", [None, 2])
@pytest.mark.parametrize("fmt", [".json", ""])
def test_rate_429_with_and_without_retry_after(faulty_sim, http, retry_after, fmt):
    faulty_sim.set_faults(rate_429=1.0, retry_after=retry_after)
    response = get(faulty_sim, http, f"{acct(faulty_sim)}/Calls{fmt}")
    assert error_of(response) == (20429, 429)
    assert response.headers.get("Retry-After") == (None if retry_after is None else "2")
    assert faulty_sim.stats.faults["429"] == 1


@pytest.mark.parametrize("status,code", [(500, 20500), (503, 20503)])
def test_server_errors(faulty_sim, http, status, code):
    faulty_sim.set_faults(**{f"rate_{status}": 1.0})
    assert error_of(get(faulty_sim, http, f"{acct(faulty_sim)}/Calls.json")) == (code, status)
    assert faulty_sim.stats.statuses[status] == 1


def test_concurrency_limit_and_max_in_flight(faulty_sim):
    faulty_sim.set_faults(concurrency_limit=1, latency=0.5, retry_after=1)
    barrier = threading.Barrier(4)
    statuses = []

    def one():
        with requests.Session() as session:
            barrier.wait()
            statuses.append(get(faulty_sim, session, f"{acct(faulty_sim)}/Calls.json").status_code)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = faulty_sim.stats
    assert stats.max_in_flight >= 2
    assert statuses.count(429) == stats.faults["429-concurrency"] >= 1
    assert statuses.count(200) >= 1


def raw_get(sim, path: str) -> httplib.HTTPResponse:
    import base64
    conn = httplib.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    token = base64.b64encode(f"{sim.account_sid}:{sim.auth_token}".encode()).decode()
    conn.request("GET", path, headers={"Authorization": f"Basic {token}"})
    return conn


def test_truncated_body(faulty_sim):
    faulty_sim.set_faults(rate_truncate=1.0)
    conn = raw_get(faulty_sim, f"{acct(faulty_sim)}/Calls.json?PageSize=20")
    try:
        response = conn.getresponse()
        assert response.status == 200
        with pytest.raises(httplib.IncompleteRead) as info:
            response.read()
        assert len(info.value.partial) == int(response.headers["Content-Length"]) // 2
    finally:
        conn.close()


def test_dropped_connection(faulty_sim, http):
    faulty_sim.set_faults(rate_drop=1.0)
    with pytest.raises(requests.ConnectionError):
        get(faulty_sim, http, f"{acct(faulty_sim)}/Calls.json")
    assert faulty_sim.stats.statuses["drop"] == 1


def test_faults_are_deterministic_for_a_seed(faulty_sim, http):
    def pattern():
        faulty_sim.set_faults(rate_429=0.3, rate_500=0.2, seed=5)
        return [get(faulty_sim, http, f"{acct(faulty_sim)}/Calls.json",
                    params={"PageSize": 1}).status_code for _ in range(30)]
    first = pattern()
    assert first == pattern()
    assert {200, 429, 500} <= set(first)


def test_keep_alive_connection_is_reused(sim):
    conn = raw_get(sim, f"{acct(sim)}/Calls.json?PageSize=1")
    try:
        first = conn.getresponse()
        first.read()
        assert not first.will_close
        sock = conn.sock
        conn.request("GET", f"{acct(sim)}/Calls.json?PageSize=2")
        assert conn.getresponse().status == 401      # no auth header this time
        assert conn.sock is sock
    finally:
        conn.close()


# ---------------------------------------------------------------- determinism, lifecycle, CLI

def test_same_options_same_bytes(sim, http):
    paths = [f"{acct(sim)}/Calls.json?PageSize=200", f"{acct(sim)}/Messages?PageSize=200",
             f"{acct(sim)}/Usage/Records/Daily.json?PageSize=300", f"{API}/Accounts.json",
             f"{acct(sim)}/IncomingPhoneNumbers.xml", f"{acct(sim)}/Recordings.json"]
    with simulator.running(**SIM_OPTIONS) as other:
        assert (other.account_sid, other.auth_token) == (sim.account_sid, sim.auth_token)
        for path in paths:
            mine = http.get(sim.base_url + path, auth=auth_of(sim))
            theirs = http.get(other.base_url + path, auth=auth_of(other))
            assert mine.status_code == 200 and mine.content == theirs.content, path


def test_options_reach_the_dataset_and_the_faults(sim):
    ds = sim.dataset
    assert (ds.seed, ds.days) == (SIM_OPTIONS["seed"], SIM_OPTIONS["days"])
    assert ds.now == datetime(2026, 11, 15, 12, tzinfo=timezone.utc)
    assert len(ds.accounts) == 1 + SIM_OPTIONS["subaccounts"]
    with simulator.running(**SIM_OPTIONS, fault_seed=9, rate_503=0.5, retry_after=3) as other:
        assert other.dataset.seed == SIM_OPTIONS["seed"]
        assert other.faults == simulator.Faults(seed=9, rate_503=0.5, retry_after=3)
    with pytest.raises(TypeError):
        with simulator.running(dataset=ds, days=3):
            pass


def test_running_shuts_down_cleanly():
    with simulator.running(**SIM_OPTIONS) as sim, requests.Session() as session:
        port = sim.port
        assert get(sim, session, f"{acct(sim)}/Calls.json").status_code == 200
        assert "auth_token" not in repr(sim) and sim.auth_token not in repr(sim)
    assert not [t for t in threading.enumerate() if t.name == f"twilio-frames-sim-{port}"]
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_sim_command_prints_url_and_credentials():
    args = build_parser().parse_args(["sim", "--port", "0", "--seed", "3", "--days", "5",
                                      "--subaccounts", "1", "--currency", "EUR",
                                      "--rate-429", "0.1", "--retry-after", "2"])
    assert (args.seed, args.days, args.currency, args.rate_429) == (3, 5, "EUR", 0.1)
    out, stop = io.StringIO(), threading.Event()
    thread = threading.Thread(target=simulator.serve, kwargs={
        "out": out, "stop": stop, "seed": 3, "days": 5, "subaccounts": 1,
        "currency": "EUR", "now": "2026-11-15T12:00:00Z"})
    thread.start()
    try:
        for _ in range(200):
            if "Ctrl-C" in out.getvalue():
                break
            threading.Event().wait(0.05)
        text = out.getvalue()
        base = re.search(r"export TWILIO_API_BASE=(\S+)", text).group(1)
        sid = re.search(r"export TWILIO_ACCOUNT_SID=(\S+)", text).group(1)
        token = re.search(r"export TWILIO_AUTH_TOKEN=(\S+)", text).group(1)
        with requests.Session() as session:
            response = session.get(f"{base}{API}/Accounts/{sid}.json", auth=(sid, token))
        assert response.status_code == 200
    finally:
        stop.set()
        thread.join()


def test_bodies_keep_their_whitespace_in_both_formats(sim, http):
    """Real bodies come back as sent: leading and trailing spaces, line breaks. A share of
    the simulator's bodies has them, counted into segments as they stand."""
    from twilio_frames.simulator.text import num_segments
    records = [r for a in sim.dataset.accounts
               for r in sim.dataset.records("messages", a["sid"])]
    kinds = {"leading": [r for r in records if r["body"] and r["body"][0] == " "],
             "trailing": [r for r in records if r["body"] and r["body"][-1] in " \n"],
             "inner newline": [r for r in records if "\n" in r["body"].strip()]}
    for kind, found in kinds.items():
        assert 0 < len(found) < 0.2 * len(records), kind
        record = found[0]
        assert int(record["num_segments"]) == num_segments(record["body"])
        path = f"{acct(sim, record['account_sid'])}/Messages/{record['sid']}"
        assert get(sim, http, path + ".json").json()["body"] == record["body"]
        xml = xmltodict.parse(get(sim, http, path).content, strip_whitespace=False)
        assert xml["TwilioResponse"]["Message"]["Body"] == record["body"], kind
