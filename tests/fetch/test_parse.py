"""parse_page on recorded bodies (tests/data/pages, sources in its README)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import twilio_frames as tf
from twilio_frames.fetch.parse import snake_case

PAGES = Path(__file__).parent.parent / "data" / "pages"


def body(name: str) -> bytes:
    return (PAGES / name).read_bytes()


@pytest.mark.parametrize("name,resource,count", [
    ("oai_ListCall_readFullPage1.json", "calls", 2),
    ("oai_ListCall_readFullPage2.json", "calls", 2),
    ("oai_ListCall_readEmptyDatesGreater.json", "calls", 0),
    ("oai_ListMessage_readFullPage1.json", "messages", 2),
    ("oai_ListRecording_readFull.json", "recordings", 1),
    ("oai_ListRecording_readIncludeSoftDeleted.json", "recordings", 2),
    ("oai_ListUsageRecordDaily_readFull.json", "usage_records", 1),
    ("oai_ListAccount_readFull.json", "accounts", 1),
    ("oai_ListIncomingPhoneNumber_readFull.json", "incoming_phone_numbers", 1),
])
def test_oai_examples_parse_with_their_envelope(name, resource, count):
    raw = json.loads(body(name))
    page = tf.parse_page(body(name), "json", resource)
    assert len(page.records) == count
    assert page.records == raw[tf.RESOURCES[resource].json_key]
    assert page.next_page_uri == raw.get("next_page_uri")
    assert page.page == raw["page"] and page.page_size == raw["page_size"]
    assert page.uri == raw["uri"]


def test_oai_next_page_uri_is_kept_verbatim():
    page = tf.parse_page(body("oai_ListCall_readFullPage1.json"), "json", "calls")
    assert page.next_page_uri.endswith("&PageSize=2&Page=1&PageToken=PACAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa0")
    assert page.previous_page_uri is None


def test_xml_legacy_page_equals_its_json_twin():
    xml = tf.parse_page(body("calls_legacy.xml"), "xml", "calls")
    js = tf.parse_page(body("calls_legacy.json"), "json", "calls")
    assert (xml.num_pages, xml.total, xml.page, xml.page_size, xml.start, xml.end) == (2, 3, 0, 2, 0, 1)
    assert xml.last_page_uri.endswith("Calls?Page=1&PageSize=2")
    assert xml.previous_page_uri is None           # previouspageuri="" is null
    assert xml.next_page_uri.endswith("AfterSid=CA92d4405c9237c4ea04b56cbda88e128c")
    first = xml.records[0]
    assert first["date_updated"] == "Mon, 04 Apr 2011 08:11:02 +0000"   # whitespace trimmed
    assert first["flags"] == ["outbound-api"]                            # one <Flag> still a list
    assert xml.records[1]["flags"] == ["outbound-api", "forwarded"]
    assert first["subresource_uris"]["notifications"].endswith("/Notifications")
    assert first["forwarded_from"] is None and js.records[0]["forwarded_from"] == ""
    # Same records apart from what XML cannot say: "" vs null and the .json extension.
    def norm(rec):
        return {k: (v.replace(".json", "") if isinstance(v, str) else v) or None
                for k, v in rec.items() if k != "subresource_uris"}
    assert [norm(r) for r in xml.records] == [norm(r) for r in js.records]


def test_xml_one_record_page_is_a_list():
    page = tf.parse_page(body("calls_one_record.xml"), "xml", "calls")
    assert len(page.records) == 1 and page.records[0]["status"] == "queued"
    assert page.records[0]["price"] is None and page.next_page_uri is None
    assert page.start is None and page.total is None     # absent attributes


def test_xml_self_closing_empty_list():
    page = tf.parse_page(body("calls_empty.xml"), "xml", "calls")
    assert page.records == [] and page.first_page_uri is None and page.total == 0


def test_xml_capabilities_and_booleans_match_the_json_example():
    xml = tf.parse_page(body("incoming_phone_numbers.xml"), "xml", "incoming_phone_numbers")
    js = tf.parse_page(body("oai_ListIncomingPhoneNumber_readFull.json"), "json",
                       "incoming_phone_numbers")
    rec = xml.records[0]
    assert rec["capabilities"] == {"voice": True, "sms": False, "mms": True, "fax": False}
    assert rec["voice_caller_id_lookup"] is False and rec["beta"] is None
    jrec = js.records[0]
    for key, value in jrec.items():
        expected = value.replace(".json", "") if isinstance(value, str) else value
        assert rec.get(key) == (expected if expected != "" else None), key


def test_xml_legacy_usage_records():
    page = tf.parse_page(body("usage_records_legacy.xml"), "xml", "usage_records")
    assert [r["category"] for r in page.records] == ["calleridlookups", "totalprice"]
    assert page.records[1]["count"] is None and page.records[1]["count_unit"] is None
    assert page.records[0]["subresource_uris"]["all_time"].startswith("/2010-04-01/")
    assert page.records[0]["uri"].endswith("EndDate=2012-11-05")


def test_xml_integers_are_coerced_like_json():
    xml = (b"<TwilioResponse><Recordings nextpageuri=''><Recording><Sid>RE1</Sid>"
           b"<Channels>2</Channels><ErrorCode/><Price>-0.0025</Price></Recording>"
           b"</Recordings></TwilioResponse>")
    rec = tf.parse_page(xml, "xml", "recordings").records[0]
    assert rec == {"sid": "RE1", "channels": 2, "error_code": None, "price": "-0.0025"}


def test_xml_bad_integer_or_boolean_names_the_field_and_the_sid():
    xml = (b"<TwilioResponse><Recordings nextpageuri=''><Recording><Sid>RE1</Sid>"
           b"<Channels>two</Channels></Recording></Recordings></TwilioResponse>")
    with pytest.raises(tf.ParseError) as info:
        tf.parse_page(xml, "xml", "recordings")
    assert str(info.value) == "XML field 'channels': 'two' is not an integer (record sid 'RE1')"
    xml = (b"<TwilioResponse><IncomingPhoneNumbers><IncomingPhoneNumber><Sid>PN1</Sid>"
           b"<Capabilities><SMS>yes</SMS></Capabilities></IncomingPhoneNumber>"
           b"</IncomingPhoneNumbers></TwilioResponse>")
    with pytest.raises(tf.ParseError, match=r"'capabilities.sms': 'yes' is not a boolean .*'PN1'"):
        tf.parse_page(xml, "xml", "incoming_phone_numbers")


def test_xml_keeps_a_body_as_sent_and_strips_indentation_elsewhere():
    xml = (b"<TwilioResponse>\n  <Messages page='0' nextpageuri=''>\n    <Message>\n"
           b"      <Sid>\n        SM1\n      </Sid>\n      <Body>  hi there\n</Body>\n"
           b"      <ErrorCode> 30007 </ErrorCode>\n      <NumMedia>   </NumMedia>\n"
           b"    </Message>\n    <Message><Sid>SM2</Sid><Body>   </Body><ErrorCode/></Message>\n"
           b"  </Messages>\n</TwilioResponse>")
    js = json.dumps({"messages": [
        {"sid": "SM1", "body": "  hi there\n", "error_code": 30007, "num_media": None},
        {"sid": "SM2", "body": "   ", "error_code": None}], "next_page_uri": None, "page": 0})
    page = tf.parse_page(xml, "xml", "messages")
    assert page.records == tf.parse_page(js, "json", "messages").records
    assert page.next_page_uri is None and page.page == 0


def test_snake_case_of_acronyms():
    assert snake_case("SMS") == "sms" and snake_case("MMS") == "mms"
    assert snake_case("SMSMessages") == "sms_messages"
    assert snake_case("DateCreated") == "date_created" and snake_case("Sid") == "sid"


# A "billion laughs" bomb cut to 10**5 expansions (300 kB if expanded): refusing it is
# what is tested, and a parser that did expand it would still return quickly and fail
# the test instead of hanging it. Speed is not asserted here (bench/ measures speed).
BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                   for i in range(1, 6))
        + b"]><TwilioResponse><Calls><Call><Sid>&lol5;</Sid></Call></Calls></TwilioResponse>")


def test_entity_expansion_bomb_is_refused():
    with pytest.raises(tf.ParseError, match="refused") as info:
        tf.parse_page(BOMB, "xml", "calls")
    assert info.value.url is None


def test_external_entity_is_refused():
    xxe = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b"<TwilioResponse><Calls><Call><Sid>&x;</Sid></Call></Calls></TwilioResponse>")
    with pytest.raises(tf.ParseError, match="refused"):
        tf.parse_page(xxe, "xml", "calls")


@pytest.mark.parametrize("raw,fmt,what", [
    (b"<html><body>502 Bad Gateway</body></html>", "xml", "TwilioResponse"),
    (b"", "json", "not JSON"),
    (b"[1, 2]", "json", "list"),
    (b'{"messages": []}', "json", "'calls'"),
    (b'{"calls": [1]}', "json", "list of objects"),
    (b"<TwilioResponse><Messages/></TwilioResponse>", "xml", "<Calls>"),
    (b"<TwilioResponse><Calls><Call>", "xml", "well-formed"),
    (b'{"calls": [], "page": "x"}', "json", "page"),
])
def test_a_body_that_is_not_a_page_raises_parse_error(raw, fmt, what):
    with pytest.raises(tf.ParseError, match=what) as info:
        tf.parse_page(raw, fmt, "calls")
    assert info.value.url is None          # the parser never knows the URL


@pytest.mark.parametrize("fmt", ["csv", "JSON", None])
def test_unknown_format_is_a_configuration_error_listing_the_accepted_ones(fmt):
    with pytest.raises(tf.ConfigurationError) as info:
        tf.parse_page(b"{}", fmt, "calls")
    assert str(info.value) == f"format must be one of 'json', 'xml', not {fmt!r}"
