"""JSON-equivalent records built from the dataset's columns, one page of rows at a time.

Each builder takes the dataset and an int array of global row indices (in served order)
and returns dicts with the fields in the OpenAPI schema's order, ``None`` for null, and
relative ``*uri*`` values (``media_url`` is absolute, as Twilio sends it).

Records are built column by column: every value of a field is computed for the whole page
(numpy lookups, one ``tolist``), then each record is a copy of a template holding the
constant fields, filled in field by field. That keeps the per-record Python work to dict
stores, so a 1000-record page costs well under what a client takes to parse it.
"""

from __future__ import annotations

import numpy as np

from .enums import CALL_STATUS, MESSAGE_DIRECTION, MESSAGE_STATUS, RECORDING_SOURCE
from .generate_calls import ANSWERED_BY, DIRECTIONS
from .generate_messages import ERRORS
from .generate_recordings import REC_STATUS
from .text import rfc2822_array

__all__ = ["call_records", "message_records", "recording_records"]

API = "/2010-04-01/Accounts"
_CALL_KEYS = ("sid", "date_created", "date_updated", "parent_call_sid", "account_sid", "to",
              "to_formatted", "from", "from_formatted", "phone_number_sid", "status",
              "start_time", "end_time", "duration", "price", "price_unit", "direction",
              "answered_by", "api_version", "forwarded_from", "group_sid", "caller_name",
              "queue_time", "trunk_sid", "uri", "subresource_uris")
_CALL_SUB = {"notifications": "/Notifications.json", "recordings": "/Recordings.json",
             "payments": "/Payments.json", "events": "/Events.json",
             "siprec": "/Siprec.json", "streams": "/Streams.json",
             "transcriptions": "/Transcriptions.json",
             "user_defined_message_subscriptions": "/UserDefinedMessageSubscriptions.json",
             "user_defined_messages": "/UserDefinedMessages.json"}
_MSG_KEYS = ("body", "num_segments", "direction", "from", "to", "date_updated", "price",
             "error_message", "uri", "account_sid", "num_media", "status",
             "messaging_service_sid", "sid", "date_sent", "date_created", "error_code",
             "price_unit", "api_version", "subresource_uris")
_MSG_SUB = {"media": "/Media.json", "feedback": "/Feedback.json"}
_REC_KEYS = ("account_sid", "api_version", "call_sid", "conference_sid", "date_created",
             "date_updated", "start_time", "duration", "sid", "price", "price_unit", "status",
             "channels", "source", "error_code", "uri", "encryption_details",
             "subresource_uris", "media_url")
_REC_SUB = {"add_on_results": "/AddOnResults.json",
            "transcriptions": "/Transcriptions.json"}
# Constant fields (None unless given); price_unit is set per dataset.
_CALL_TEMPLATE = dict.fromkeys(_CALL_KEYS) | {"api_version": "2010-04-01"}
_MSG_TEMPLATE = dict.fromkeys(_MSG_KEYS) | {"api_version": "2010-04-01"}
_REC_TEMPLATE = dict.fromkeys(_REC_KEYS) | {"api_version": "2010-04-01"}


def _objects(values) -> np.ndarray:
    """A 1-D object array of ``values`` (code -> value lookups that keep Python objects)."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


_CALL_STATUS, _DIRECTIONS, _ANSWERED_BY = map(_objects, (CALL_STATUS, DIRECTIONS, ANSWERED_BY))
_MSG_STATUS, _MSG_DIRECTION = _objects(MESSAGE_STATUS), _objects(MESSAGE_DIRECTION)
_REC_STATUS, _REC_SOURCE = _objects(REC_STATUS), _objects(RECORDING_SOURCE)


def _assemble(template: dict, n: int, columns: dict) -> list[dict]:
    """``n`` copies of ``template`` with each field of ``columns`` (key -> n values) set.

    The template fixes the key order; a column only replaces values.
    """
    copy = template.copy
    out = [copy() for _ in range(n)]
    for key, values in columns.items():
        for record, value in zip(out, values):
            record[key] = value
    return out


def _uri_maps(bases: list[str], suffixes: dict[str, str]) -> list[dict]:
    """``subresource_uris`` of each record: key -> its base URI + the key's suffix."""
    columns = {key: [base + suffix for base in bases] for key, suffix in suffixes.items()}
    return _assemble(dict.fromkeys(suffixes), len(bases), columns)


def _strs(values: np.ndarray, null: np.ndarray | None = None) -> list:
    out = values.tolist()
    if null is not None:
        for i in np.flatnonzero(null).tolist():
            out[i] = None
    return out


def _ints_as_str(values: np.ndarray) -> list[str | None]:
    """Counts and durations as the strings Twilio sends; negative = null."""
    out = list(map(str, values.tolist()))
    for i in np.flatnonzero(values < 0).tolist():
        out[i] = None
    return out


def _pick(values: list, codes: np.ndarray) -> list:
    """``values[i]`` for each code (``values``: a Python list, e.g. party numbers)."""
    return list(map(values.__getitem__, codes.tolist()))


def _bases(acct: list[str], segment: str, sid: list[str]) -> list[str]:
    return [f"{API}/{a}/{segment}/{s}" for a, s in zip(acct, sid)]


def call_records(ds, idx: np.ndarray) -> list[dict]:
    """Call records for global rows ``idx`` of ``ds.calls``."""
    c, parties = ds.calls, ds.parties
    acct = ds.account_sids[c["acct"][idx]].tolist()
    sid = c["sid"][idx].tolist()
    parent, own = c["parent"][idx], c["own"][idx]
    to_i, fr_i = c["to"][idx], c["frm"][idx]
    bases = _bases(acct, "Calls", sid)
    columns = {
        "sid": sid, "date_created": rfc2822_array(c["created"][idx]),
        "date_updated": rfc2822_array(c["updated"][idx]),
        "parent_call_sid": _strs(c["sid"][np.maximum(parent, 0)], parent < 0),
        "account_sid": acct,
        "to": _pick(parties.value_list, to_i), "to_formatted": _pick(parties.formatted, to_i),
        "from": _pick(parties.value_list, fr_i),
        "from_formatted": _pick(parties.formatted, fr_i),
        "phone_number_sid": _strs(ds.number_sids[np.maximum(own, 0)], own < 0),
        "status": _CALL_STATUS[c["status"][idx]].tolist(),
        "start_time": rfc2822_array(c["start"][idx]), "end_time": rfc2822_array(c["end"][idx]),
        "duration": _ints_as_str(c["duration"][idx]), "price": ds.prices.format(c["price"][idx]),
        "direction": _DIRECTIONS[c["direction"][idx]].tolist(),
        "answered_by": _ANSWERED_BY[c["answered_by"][idx]].tolist(),
        "queue_time": _ints_as_str(c["queue_ms"][idx]),
        "uri": [b + ".json" for b in bases], "subresource_uris": _uri_maps(bases, _CALL_SUB),
    }
    return _assemble(_CALL_TEMPLATE | {"price_unit": ds.currency}, len(sid), columns)


def message_records(ds, idx: np.ndarray) -> list[dict]:
    """Message records for global rows ``idx`` of ``ds.messages``."""
    m, parties = ds.messages, ds.parties
    acct_i = m["acct"][idx]
    acct = ds.account_sids[acct_i].tolist()
    sid = m["sid"][idx].tolist()
    body, err, svc = m["body"][idx], m["error"][idx].tolist(), m["service"][idx]
    bases = _bases(acct, "Messages", sid)
    columns = {
        "body": _pick(ds.bodies + [""], np.where(body < 0, len(ds.bodies), body)),
        "num_segments": _ints_as_str(m["segments"][idx]),
        "direction": _MSG_DIRECTION[m["direction"][idx]].tolist(),
        "from": _pick(parties.value_list, m["frm"][idx]),
        "to": _pick(parties.value_list, m["to"][idx]),
        "date_updated": rfc2822_array(m["updated"][idx]),
        "price": ds.prices.format(m["price"][idx]),
        "error_message": list(map(ERRORS.get, err)), "uri": [b + ".json" for b in bases],
        "account_sid": acct, "num_media": _ints_as_str(m["media"][idx]),
        "status": _MSG_STATUS[m["status"][idx]].tolist(),
        "messaging_service_sid": _strs(ds.service_sids[acct_i, np.maximum(svc, 0)], svc < 0),
        "sid": sid, "date_sent": rfc2822_array(m["sent"][idx]),
        "date_created": rfc2822_array(m["created"][idx]),
        "error_code": [e or None for e in err], "subresource_uris": _uri_maps(bases, _MSG_SUB),
    }
    return _assemble(_MSG_TEMPLATE | {"price_unit": ds.currency}, len(sid), columns)


def recording_records(ds, idx: np.ndarray) -> list[dict]:
    """Recording records for global rows ``idx`` of ``ds.recordings``."""
    r = ds.recordings
    acct = ds.account_sids[r["acct"][idx]].tolist()
    sid = r["sid"][idx].tolist()
    bases = _bases(acct, "Recordings", sid)
    columns = {
        "account_sid": acct, "call_sid": ds.calls["sid"][r["call"][idx]].tolist(),
        "date_created": rfc2822_array(r["created"][idx]),
        "date_updated": rfc2822_array(r["updated"][idx]),
        "start_time": rfc2822_array(r["start"][idx]),
        "duration": _ints_as_str(r["duration"][idx]), "sid": sid,
        "price": ds.prices.format(r["price"][idx]),
        "status": _REC_STATUS[r["status"][idx]].tolist(),
        "channels": r["channels"][idx].tolist(),
        "source": _REC_SOURCE[r["source"][idx]].tolist(),
        "error_code": [e or None for e in r["error"][idx].tolist()],
        "uri": [b + ".json" for b in bases], "subresource_uris": _uri_maps(bases, _REC_SUB),
        "media_url": ["https://api.twilio.com" + b for b in bases],
    }
    return _assemble(_REC_TEMPLATE | {"price_unit": ds.currency}, len(sid), columns)
