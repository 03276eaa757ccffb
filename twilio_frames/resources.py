"""The resource table: the one place every client layer reads a resource's shape from.

Per resource: its URL path under an account, the JSON list key, the XML list and item
element names, the date field its ``start``/``end`` filter uses, and the frame schema
(column order and kind). Field names and enums come from Twilio's OpenAPI spec of the
2010-04-01 API (``twilio-oai`` ``twilio_api_v2010.json``); the XML names from the wire
format notes (``TwilioResponse`` > ``Calls`` > ``Call`` ...).

Column kinds and the pandas dtype each becomes:

========== ======================= ==================================================
kind       dtype                   notes
========== ======================= ==================================================
str        ``str``                 sids, numbers, text; missing is NaN
datetime   ``datetime64[us, UTC]`` RFC 2822 on the wire, parsed with its offset
date       ``datetime64[us, UTC]`` ``YYYY-MM-DD`` (usage start/end): midnight UTC
int        ``Int64``               counts and durations (strings on the wire)
float      ``float64``             usage amounts that may be fractional
bool       ``boolean``             nullable
category   ``category``            known enum values first, unknown values kept after
money      ``float64``             ``price`` with Twilio's sign; see ``price_micros``
micros     ``Int64``               exact price in millionths of the currency unit
========== ======================= ==================================================

Every resource with a ``price`` also gets ``price_micros`` right after it: the same
amount as an exact integer count of 10**-6 currency units, so totals equal the decimal
sum of the strings Twilio sent. ``price_unit`` is upper-cased.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Column", "Filter", "Resource", "RESOURCES", "DTYPES", "get_resource",
           "USAGE_SUBRESOURCES"]

#: pandas dtype for each column kind.
DTYPES: dict[str, str] = {
    "str": "str",
    "datetime": "datetime64[us, UTC]",
    "date": "datetime64[us, UTC]",
    "int": "Int64",
    "float": "float64",
    "bool": "boolean",
    "category": "category",
    "money": "float64",
    "micros": "Int64",
}


@dataclass(frozen=True)
class Column:
    """One frame column: its JSON name, kind (see module doc) and known enum values."""

    name: str
    kind: str = "str"
    values: tuple[str, ...] = ()
    doc: str = ""


_RESERVED = frozenset({"from", "in", "is", "not", "and", "or"})


@dataclass(frozen=True)
class Filter:
    """One query parameter of a list (OpenAPI ``twilio_api_v2010.json``, paging left out).

    ``param`` is the API's spelling (``StartTime<``); :attr:`name` is the one
    twilio-python users write: snake_case, ``<`` -> ``_before``, ``>`` -> ``_after``,
    a Python keyword gets a trailing ``_`` (``From`` -> ``from_``). ``kind`` is
    ``str``, ``bool``, ``date`` (``YYYY-MM-DD``) or ``datetime``. ``range`` marks the
    date filter that ``start``/``end`` set, which is refused as a filter.
    """

    param: str
    kind: str = "str"
    range: bool = False

    @property
    def name(self) -> str:
        base = self.param.rstrip("<>")
        snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", base).lower()
        snake += {"<": "_before", ">": "_after"}.get(self.param[-1:], "")
        return snake + "_" if snake in _RESERVED else snake


def _dates(param: str, *, range: bool = False) -> tuple[Filter, ...]:
    """A date-time filter and its ``<`` / ``>`` forms."""
    return tuple(Filter(param + op, "datetime", range) for op in ("", "<", ">"))


@dataclass(frozen=True)
class Resource:
    """How one list resource looks on the wire and as a frame."""

    name: str                  # "calls"
    path: str                  # path under /2010-04-01/Accounts/{AccountSid}, "" for accounts
    json_key: str              # "calls"
    xml_list: str              # "Calls"
    xml_item: str              # "Call"
    date_field: str | None     # record field that start/end filter on
    date_param: str | None     # API filter parameter for that field ("StartTime")
    columns: tuple[Column, ...] = field(default_factory=tuple)
    dropped: tuple[str, ...] = ()   # fields never put in the frame (nested objects, secrets)
    filters: tuple[Filter, ...] = ()  # the list's query parameters, paging left out

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def dtypes(self) -> dict[str, str]:
        return {c.name: DTYPES[c.kind] for c in self.columns}


def _c(name: str, kind: str = "str", values: tuple[str, ...] = (), doc: str = "") -> Column:
    return Column(name, kind, values, doc)


CALL_STATUS = ("queued", "ringing", "in-progress", "completed", "busy", "failed",
               "no-answer", "canceled")
CALL_DIRECTION = ("inbound", "outbound-api", "outbound-dial", "trunking-terminating",
                  "trunking-originating")
MESSAGE_STATUS = ("queued", "sending", "sent", "failed", "delivered", "undelivered",
                  "receiving", "received", "accepted", "scheduled", "read",
                  "partially_delivered", "canceled")
MESSAGE_DIRECTION = ("inbound", "outbound-api", "outbound-call", "outbound-reply")
RECORDING_STATUS = ("in-progress", "paused", "stopped", "processing", "completed", "absent",
                    "deleted")
RECORDING_SOURCE = ("DialVerb", "Conference", "OutboundAPI", "Trunking", "RecordVerb",
                    "StartCallRecordingAPI", "StartConferenceRecordingAPI")
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CAD", "AUD", "BRL", "INR")

#: Usage Records subresources: frame/argument name -> URL segment.
USAGE_SUBRESOURCES: dict[str, str] = {
    "daily": "Daily", "monthly": "Monthly", "yearly": "Yearly", "all_time": "AllTime",
    "today": "Today", "yesterday": "Yesterday", "this_month": "ThisMonth",
    "last_month": "LastMonth",
}

_PRICE = (
    _c("price", "money", doc="charge with Twilio's sign (negative on calls/messages)"),
    _c("price_micros", "micros", doc="exact price in 10**-6 currency units"),
    _c("price_unit", "category", CURRENCIES, doc="ISO 4217, upper-cased"),
)

CALLS = Resource(
    "calls", "/Calls", "calls", "Calls", "Call", "start_time", "StartTime",
    columns=(
        _c("sid"), _c("account_sid"), _c("parent_call_sid"),
        _c("date_created", "datetime"), _c("date_updated", "datetime"),
        _c("start_time", "datetime"), _c("end_time", "datetime"),
        _c("direction", "category", CALL_DIRECTION), _c("status", "category", CALL_STATUS),
        _c("from"), _c("from_formatted"), _c("to"), _c("to_formatted"),
        _c("phone_number_sid"), _c("duration", "int", doc="seconds"), *_PRICE,
        _c("answered_by"), _c("forwarded_from"), _c("caller_name"), _c("group_sid"),
        _c("queue_time", "int", doc="milliseconds"), _c("trunk_sid"), _c("annotation"),
        _c("api_version"), _c("uri"),
    ),
    dropped=("subresource_uris",),
    filters=(Filter("To"), Filter("From"), Filter("ParentCallSid"), Filter("Status"),
             *_dates("StartTime", range=True), *_dates("EndTime")),
)

MESSAGES = Resource(
    "messages", "/Messages", "messages", "Messages", "Message", "date_sent", "DateSent",
    columns=(
        _c("sid"), _c("account_sid"), _c("messaging_service_sid"),
        _c("date_created", "datetime"), _c("date_updated", "datetime"),
        _c("date_sent", "datetime"),
        _c("direction", "category", MESSAGE_DIRECTION),
        _c("status", "category", MESSAGE_STATUS),
        _c("from"), _c("to"), _c("body"),
        _c("num_segments", "int"), _c("num_media", "int"), *_PRICE,
        _c("error_code", "int"), _c("error_message"), _c("api_version"), _c("uri"),
    ),
    dropped=("subresource_uris", "tags"),
    filters=(Filter("To"), Filter("From"), *_dates("DateSent", range=True)),
)

RECORDINGS = Resource(
    "recordings", "/Recordings", "recordings", "Recordings", "Recording",
    "date_created", "DateCreated",
    columns=(
        _c("sid"), _c("account_sid"), _c("call_sid"), _c("conference_sid"),
        _c("date_created", "datetime"), _c("date_updated", "datetime"),
        _c("start_time", "datetime"), _c("duration", "int", doc="seconds"), *_PRICE,
        _c("status", "category", RECORDING_STATUS), _c("channels", "int"),
        _c("source", "category", RECORDING_SOURCE), _c("error_code", "int"),
        _c("track"), _c("media_url"), _c("api_version"), _c("uri"),
    ),
    dropped=("subresource_uris", "encryption_details"),
    filters=(*_dates("DateCreated", range=True), Filter("CallSid"), Filter("ConferenceSid"),
             Filter("IncludeSoftDeleted", "bool")),
)

USAGE_RECORDS = Resource(
    "usage_records", "/Usage/Records", "usage_records", "UsageRecords", "UsageRecord",
    "start_date", "StartDate",
    columns=(
        _c("account_sid"), _c("category", "category"), _c("description"),
        _c("start_date", "date"), _c("end_date", "date"),
        _c("count", "int"), _c("count_unit"), _c("usage", "float"), _c("usage_unit"),
        *_PRICE, _c("as_of", "datetime"), _c("api_version"), _c("uri"),
    ),
    dropped=("subresource_uris",),
    filters=(Filter("Category"), Filter("StartDate", "date", True),
             Filter("EndDate", "date", True), Filter("IncludeSubaccounts", "bool")),
)

ACCOUNTS = Resource(
    "accounts", "", "accounts", "Accounts", "Account", None, None,
    columns=(
        _c("sid"), _c("owner_account_sid"), _c("friendly_name"),
        _c("status", "category", ("active", "suspended", "closed")),
        _c("type", "category", ("Trial", "Full")),
        _c("date_created", "datetime"), _c("date_updated", "datetime"), _c("uri"),
    ),
    # The auth token is in every Accounts list item; it never goes into a frame.
    dropped=("subresource_uris", "auth_token"),
    filters=(Filter("FriendlyName"), Filter("Status")),
)

INCOMING_PHONE_NUMBERS = Resource(
    "incoming_phone_numbers", "/IncomingPhoneNumbers", "incoming_phone_numbers",
    "IncomingPhoneNumbers", "IncomingPhoneNumber", None, None,
    columns=(
        _c("sid"), _c("account_sid"), _c("phone_number"), _c("friendly_name"),
        _c("type"), _c("origin"), _c("status"),
        _c("capabilities_voice", "bool"), _c("capabilities_sms", "bool"),
        _c("capabilities_mms", "bool"), _c("capabilities_fax", "bool"),
        _c("date_created", "datetime"), _c("date_updated", "datetime"),
        _c("address_requirements", "category", ("none", "any", "local", "foreign")),
        _c("beta", "bool"), _c("voice_caller_id_lookup", "bool"),
        _c("voice_receive_mode", "category", ("voice", "fax")),
        _c("emergency_status", "category", ("Active", "Inactive")),
        _c("emergency_address_status", "category",
           ("registered", "unregistered", "pending-registration", "registration-failure",
            "pending-unregistration", "unregistration-failure")),
        _c("voice_url"), _c("voice_method"), _c("voice_fallback_url"),
        _c("voice_fallback_method"), _c("voice_application_sid"),
        _c("sms_url"), _c("sms_method"), _c("sms_fallback_url"), _c("sms_fallback_method"),
        _c("sms_application_sid"), _c("status_callback"), _c("status_callback_method"),
        _c("trunk_sid"), _c("address_sid"), _c("identity_sid"), _c("bundle_sid"),
        _c("emergency_address_sid"), _c("api_version"), _c("uri"),
    ),
    # ``capabilities`` is flattened into the capabilities_* columns.
    dropped=("subresource_uris", "capabilities"),
    filters=(Filter("Beta", "bool"), Filter("FriendlyName"), Filter("PhoneNumber"),
             Filter("Origin")),
)

RESOURCES: dict[str, Resource] = {
    r.name: r for r in (CALLS, MESSAGES, RECORDINGS, USAGE_RECORDS, ACCOUNTS,
                        INCOMING_PHONE_NUMBERS)
}


def get_resource(name: str) -> Resource:
    """Return the :class:`Resource` called ``name``; a clear error lists the known ones."""
    try:
        return RESOURCES[name]
    except KeyError:
        from .errors import ConfigurationError
        known = ", ".join(sorted(RESOURCES))
        raise ConfigurationError(f"unknown resource {name!r}; expected one of: {known}") from None
