"""JSON-equivalent records built from the dataset's columns, one page of rows at a time.

Each builder takes the dataset and an int array of global row indices (in served order)
and returns dicts with the fields in the OpenAPI schema's order, ``None`` for null, and
relative ``*uri*`` values (``media_url`` is absolute, as Twilio sends it).
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
_CALL_SUB = (("notifications", "Notifications"), ("recordings", "Recordings"),
             ("payments", "Payments"), ("events", "Events"), ("siprec", "Siprec"),
             ("streams", "Streams"), ("transcriptions", "Transcriptions"),
             ("user_defined_message_subscriptions", "UserDefinedMessageSubscriptions"),
             ("user_defined_messages", "UserDefinedMessages"))
_CALL_SUB = tuple((k, f"/{p}.json") for k, p in _CALL_SUB)
_MSG_KEYS = ("body", "num_segments", "direction", "from", "to", "date_updated", "price",
             "error_message", "uri", "account_sid", "num_media", "status",
             "messaging_service_sid", "sid", "date_sent", "date_created", "error_code",
             "price_unit", "api_version", "subresource_uris")
_REC_KEYS = ("account_sid", "api_version", "call_sid", "conference_sid", "date_created",
             "date_updated", "start_time", "duration", "sid", "price", "price_unit", "status",
             "channels", "source", "error_code", "uri", "encryption_details",
             "subresource_uris", "media_url")


def _strs(values: np.ndarray, null: np.ndarray | None = None) -> list:
    out = values.tolist()
    if null is not None:
        for i in np.nonzero(null)[0].tolist():
            out[i] = None
    return out


def _ints_as_str(values: np.ndarray) -> list[str | None]:
    return [None if v < 0 else str(v) for v in values.tolist()]


def call_records(ds, idx: np.ndarray) -> list[dict]:
    """Call records for global rows ``idx`` of ``ds.calls``."""
    c, parties = ds.calls, ds.parties
    acct = ds.account_sids[c["acct"][idx]].tolist()
    sid = c["sid"][idx].tolist()
    parent = c["parent"][idx]
    psid = _strs(c["sid"][np.maximum(parent, 0)], parent < 0)
    to_i, fr_i = c["to"][idx].tolist(), c["frm"][idx].tolist()
    own = c["own"][idx]
    pn = _strs(ds.number_sids[np.maximum(own, 0)], own < 0)
    n = len(idx)
    unit = [ds.currency] * n
    cols = (
        sid, rfc2822_array(c["created"][idx]), rfc2822_array(c["updated"][idx]), psid, acct,
        [parties.value_list[i] for i in to_i], [parties.formatted[i] for i in to_i],
        [parties.value_list[i] for i in fr_i], [parties.formatted[i] for i in fr_i], pn,
        [CALL_STATUS[s] for s in c["status"][idx].tolist()],
        rfc2822_array(c["start"][idx]), rfc2822_array(c["end"][idx]),
        _ints_as_str(c["duration"][idx]), ds.prices.format(c["price"][idx]), unit,
        [DIRECTIONS[d] for d in c["direction"][idx].tolist()],
        [ANSWERED_BY[a] for a in c["answered_by"][idx].tolist()], ["2010-04-01"] * n,
        [None] * n, [None] * n, [None] * n, [str(q) for q in c["queue_ms"][idx].tolist()],
        [None] * n,
    )
    out = []
    for row, a, s in zip(zip(*cols), acct, sid):
        base = f"{API}/{a}/Calls/{s}"
        rec = dict(zip(_CALL_KEYS, row))
        rec["uri"] = base + ".json"
        rec["subresource_uris"] = {k: base + suffix for k, suffix in _CALL_SUB}
        out.append(rec)
    return out


def message_records(ds, idx: np.ndarray) -> list[dict]:
    """Message records for global rows ``idx`` of ``ds.messages``."""
    m, parties = ds.messages, ds.parties
    acct_i = m["acct"][idx]
    acct = ds.account_sids[acct_i].tolist()
    sid = m["sid"][idx].tolist()
    body = m["body"][idx].tolist()
    err = m["error"][idx].tolist()
    svc = m["service"][idx]
    mg = _strs(ds.service_sids[acct_i, np.maximum(svc, 0)], svc < 0)
    n = len(idx)
    cols = (
        ["" if b < 0 else ds.bodies[b] for b in body], _ints_as_str(m["segments"][idx]),
        [MESSAGE_DIRECTION[d] for d in m["direction"][idx].tolist()],
        [parties.value_list[i] for i in m["frm"][idx].tolist()],
        [parties.value_list[i] for i in m["to"][idx].tolist()],
        rfc2822_array(m["updated"][idx]), ds.prices.format(m["price"][idx]),
        [ERRORS[e] if e else None for e in err], [None] * n, acct,
        _ints_as_str(m["media"][idx]), [MESSAGE_STATUS[s] for s in m["status"][idx].tolist()],
        mg, sid, rfc2822_array(m["sent"][idx]), rfc2822_array(m["created"][idx]),
        [e or None for e in err], [ds.currency] * n, ["2010-04-01"] * n,
    )
    out = []
    for row, a, s in zip(zip(*cols), acct, sid):
        base = f"{API}/{a}/Messages/{s}"
        rec = dict(zip(_MSG_KEYS, row))
        rec["uri"] = base + ".json"
        rec["subresource_uris"] = {"media": f"{base}/Media.json",
                                   "feedback": f"{base}/Feedback.json"}
        out.append(rec)
    return out


def recording_records(ds, idx: np.ndarray) -> list[dict]:
    """Recording records for global rows ``idx`` of ``ds.recordings``."""
    r = ds.recordings
    acct = ds.account_sids[r["acct"][idx]].tolist()
    sid = r["sid"][idx].tolist()
    n = len(idx)
    err = r["error"][idx].tolist()
    cols = (
        acct, ["2010-04-01"] * n, ds.calls["sid"][r["call"][idx]].tolist(), [None] * n,
        rfc2822_array(r["created"][idx]), rfc2822_array(r["updated"][idx]),
        rfc2822_array(r["start"][idx]), _ints_as_str(r["duration"][idx]), sid,
        ds.prices.format(r["price"][idx]), [ds.currency] * n,
        [REC_STATUS[s] for s in r["status"][idx].tolist()], r["channels"][idx].tolist(),
        [RECORDING_SOURCE[s] for s in r["source"][idx].tolist()], [e or None for e in err],
    )
    out = []
    for row, a, s in zip(zip(*cols), acct, sid):
        base = f"{API}/{a}/Recordings/{s}"
        rec = dict(zip(_REC_KEYS, row))
        rec["uri"] = base + ".json"
        rec["encryption_details"] = None
        rec["subresource_uris"] = {"add_on_results": f"{base}/AddOnResults.json",
                                   "transcriptions": f"{base}/Transcriptions.json"}
        rec["media_url"] = f"https://api.twilio.com{base}"
        out.append(rec)
    return out
