"""Every JSON list (and fetch) response of the simulator validates against Twilio's OpenAPI
spec (``twilio-oai`` ``twilio_api_v2010.json``), with ``$ref``s resolved through a
``referencing`` registry holding the whole spec document.

Where the spec and the wire disagree, the test follows the wire and names the exception:

* ``PRICE_AS_STRING``: usage-record and call-recording ``price`` is ``number`` in the spec,
  a decimal string in every SDK fixture (wire-format notes sections 7 and 9.4).
* ``EMPTY_STRING_SIDS``: IncomingPhoneNumber ``sms_application_sid`` and
  ``voice_application_sid`` carry ``""`` when unset in the fixtures
  (``"voice_application_sid": ""``, wire-format notes section 5.6), which the spec's
  ``^AP[0-9a-fA-F]{32}$`` pattern rejects.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

# A copy of twilio/twilio-oai spec/json/twilio_api_v2010.json (MIT, LICENSE beside it).
SPEC_PATH = Path(__file__).resolve().parent.parent / "data" / "twilio-oai" / "twilio_api_v2010.json"
SPEC_URI = "urn:twilio-oai:api_v2010"
API = "/2010-04-01"

#: schema -> (field, the wire's type): spec says number, the wire sends a decimal string.
USAGE_SCHEMAS = ["api.v2010.account.usage.usage_record"] + [
    f"api.v2010.account.usage.usage_record.usage_record_{s}"
    for s in ("all_time", "daily", "last_month", "monthly", "this_month", "today", "yearly",
              "yesterday")]
PRICE_AS_STRING = [*USAGE_SCHEMAS, "api.v2010.account.call.call_recording"]
NUMBER_SCHEMAS = ["api.v2010.account.incoming_phone_number"] + [
    f"api.v2010.account.incoming_phone_number.incoming_phone_number_{s}"
    for s in ("local", "mobile", "toll_free")]
EMPTY_STRING_SIDS = {name: ("sms_application_sid", "voice_application_sid")
                     for name in NUMBER_SCHEMAS}


@pytest.fixture(scope="module")
def spec() -> dict:
    doc = json.loads(SPEC_PATH.read_text())
    schemas = doc["components"]["schemas"]
    for name in PRICE_AS_STRING:
        prop = schemas[name]["properties"]["price"]
        assert prop["type"] == "number"          # the disagreement is still there
        prop["type"] = "string"
    for name, fields in EMPTY_STRING_SIDS.items():
        for field in fields:
            prop = schemas[name]["properties"][field]
            assert prop["minLength"] == 34       # the disagreement is still there
            schemas[name]["properties"][field] = {"anyOf": [prop, {"type": "string",
                                                                   "enum": [""]}]}
    return doc


@pytest.fixture(scope="module")
def registry(spec) -> Registry:
    return Registry().with_resource(SPEC_URI, Resource.from_contents(spec,
                                                                     default_specification=DRAFT4))


def _pointer(path: str) -> str:
    return path.replace("~", "~0").replace("/", "~1")


def validate(registry, spec_path: str, body: dict) -> None:
    where = (f"{SPEC_URI}#/paths/{_pointer(spec_path)}/get/responses/200/content/"
             "application~1json/schema")
    OAS30Validator({"$ref": where}, registry=registry).validate(body)


def fetch(sim, http, path: str, **params) -> dict:
    response = http.get(sim.base_url + path, params=params or None,
                        auth=(sim.account_sid, sim.auth_token))
    assert response.status_code == 200, response.text
    return response.json()


ACCOUNT_LISTS = ["Calls", "Messages", "Recordings", "IncomingPhoneNumbers",
                 "IncomingPhoneNumbers/Local", "IncomingPhoneNumbers/TollFree",
                 "IncomingPhoneNumbers/Mobile", "Usage/Records", "Usage/Records/Daily",
                 "Usage/Records/Monthly", "Usage/Records/Yearly", "Usage/Records/AllTime",
                 "Usage/Records/Today", "Usage/Records/Yesterday", "Usage/Records/ThisMonth",
                 "Usage/Records/LastMonth"]
FILTERED = {"Calls": {"Status": "completed", "StartTime>": "2026-11-01"},
            "Messages": {"DateSent<": "2026-11-10"},
            "Recordings": {"DateCreated>": "2026-11-01"},
            "IncomingPhoneNumbers": {"PhoneNumber": "1"},
            "Usage/Records/Daily": {"Category": "calls", "StartDate": "-7days"}}


@pytest.mark.parametrize("segment", ACCOUNT_LISTS)
def test_list_pages_validate(sim, http, registry, segment):
    spec_path = f"{API}/Accounts/{{AccountSid}}/{segment}.json"
    path = f"{API}/Accounts/{sim.account_sid}/{segment}.json"
    first = fetch(sim, http, path, PageSize=1000)
    validate(registry, spec_path, first)
    key = [k for k in first if isinstance(first[k], list)][0]
    if segment in FILTERED:
        validate(registry, spec_path, fetch(sim, http, path, PageSize=20, **FILTERED[segment]))
    small = fetch(sim, http, path, PageSize=2)
    validate(registry, spec_path, small)
    if small["next_page_uri"]:
        validate(registry, spec_path, fetch(sim, http, small["next_page_uri"]))
    empty = fetch(sim, http, path, **_empty_filter(segment))
    validate(registry, spec_path, empty)
    assert empty[key] == [] or segment.startswith(("IncomingPhoneNumbers/", "Usage/Records/A"))


def _empty_filter(segment: str) -> dict:
    if segment.startswith("Usage"):
        return {"Category": "no-such-category"}
    return {"Calls": {"To": "+10000000000"}, "Messages": {"To": "+10000000000"},
            "Recordings": {"DateCreated<": "2001-01-01"}}.get(segment, {"FriendlyName": "\x01"})


def test_accounts_list_validates(sim, http, registry):
    validate(registry, f"{API}/Accounts.json", fetch(sim, http, f"{API}/Accounts.json"))
    validate(registry, f"{API}/Accounts.json",
             fetch(sim, http, f"{API}/Accounts.json", FriendlyName="nobody"))


def test_call_recordings_list_validates(sim, http, registry):
    call_sid = sim.dataset.records("recordings", sim.account_sid)[0]["call_sid"]
    path = f"{API}/Accounts/{sim.account_sid}/Calls/{call_sid}/Recordings.json"
    body = fetch(sim, http, path)
    assert body["recordings"]
    validate(registry, f"{API}/Accounts/{{AccountSid}}/Calls/{{CallSid}}/Recordings.json", body)


@pytest.mark.parametrize("segment,resource", [
    ("Calls", "calls"), ("Messages", "messages"), ("Recordings", "recordings"),
    ("IncomingPhoneNumbers", "incoming_phone_numbers")])
def test_fetched_records_validate(sim, http, registry, segment, resource):
    sid = sim.dataset.records(resource, sim.account_sid)[0]["sid"]
    body = fetch(sim, http, f"{API}/Accounts/{sim.account_sid}/{segment}/{sid}.json")
    spec_segment = {"IncomingPhoneNumbers": "IncomingPhoneNumbers/{Sid}"}.get(segment,
                                                                             f"{segment}/{{Sid}}")
    validate(registry, f"{API}/Accounts/{{AccountSid}}/{spec_segment}.json", body)


@pytest.mark.parametrize("name, schema", [
    ("CALL_STATUS", "call_enum_status"), ("MESSAGE_STATUS", "message_enum_status"),
    ("MESSAGE_DIRECTION", "message_enum_direction"),
    ("RECORDING_SOURCE", "recording_enum_source")])
def test_simulator_enums_are_the_specs(spec, name, schema):
    """The simulator's own enum tuples (it imports no client code) are the spec's, in order."""
    from twilio_frames.simulator import enums
    assert getattr(enums, name) == tuple(spec["components"]["schemas"][schema]["enum"])


def test_simulator_usage_subresources_are_spec_paths(spec):
    from twilio_frames.simulator.enums import USAGE_SUBRESOURCES
    for segment in USAGE_SUBRESOURCES.values():
        assert f"{API}/Accounts/{{AccountSid}}/Usage/Records/{segment}.json" in spec["paths"]


def test_open_records_validate(registry, http):
    """Records still open at ``now`` (calls queued, ringing or talking, recordings in
    progress, prices not in yet) validate too; the newest page of a busy hour holds them."""
    from twilio_frames import simulator
    with simulator.running(seed=7, start="2026-11-17", now="2026-11-18T15:00:00Z",
                           calls_per_day=4000, messages_per_day=1000, subaccounts=0) as sim:
        seen = {}
        for segment in ("Calls", "Messages", "Recordings"):
            path = f"{API}/Accounts/{sim.account_sid}/{segment}.json"
            body = fetch(sim, http, path, PageSize=1000)
            validate(registry, f"{API}/Accounts/{{AccountSid}}/{segment}.json", body)
            key = segment.lower()
            seen[segment] = {(r["status"], r["price"] is None) for r in body[key]}
        assert {("queued", True), ("ringing", True), ("in-progress", True),
                ("completed", True)} <= seen["Calls"]
        assert ("delivered", True) in seen["Messages"]
        assert ("in-progress", True) in seen["Recordings"]
        live = next(r for r in sim.dataset.records("recordings", sim.account_sid)
                    if r["status"] == "in-progress")
        assert live["duration"] is None
        path = f"{API}/Accounts/{sim.account_sid}/Calls/{live['call_sid']}/Recordings.json"
        validate(registry, f"{API}/Accounts/{{AccountSid}}/Calls/{{CallSid}}/Recordings.json",
                 fetch(sim, http, path))
