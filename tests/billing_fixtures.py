"""Fixture frames for the analysis tests (summaries, reconcile, plots, export).

``frame(resource, records)`` builds a frame from JSON-equivalent records (the field names
and string values Twilio sends). It goes through ``tf.to_frame`` when the client layer
provides it, so fixtures take the real path; the fallback below produces exactly the
columns and dtypes of ``twilio_frames/resources.py`` for the fields the tests use.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from email.utils import format_datetime

import pandas as pd

import twilio_frames as tf
from twilio_frames.resources import get_resource

ACCOUNT = "AC" + "a" * 32
SUB_A = "AC" + "b" * 32
SUB_B = "AC" + "c" * 32


def rfc2822(ts: str | datetime) -> str:
    """``"2024-01-31T23:59:30Z"`` -> ``"Wed, 31 Jan 2024 23:59:30 +0000"``."""
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return format_datetime(ts.astimezone(timezone.utc)).replace("-0000", "+0000")


def _micros(text):
    if text in (None, ""):
        return pd.NA
    return int(Decimal(text).scaleb(6).to_integral_value())


def _fallback_to_frame(resource: str, records: list[dict]) -> pd.DataFrame:
    res = get_resource(resource)
    data = {}
    for col in res.columns:
        raw = [r.get(col.name) for r in records]
        if col.kind in ("datetime", "date"):
            values = pd.to_datetime(
                [None if v in (None, "") else v for v in raw], utc=True,
                format="ISO8601" if col.kind == "date" or col.name == "as_of"
                else "%a, %d %b %Y %H:%M:%S %z").as_unit("us")
        elif col.kind == "micros":
            values = pd.array([_micros(r.get("price")) for r in records], dtype="Int64")
        elif col.kind == "money":
            values = pd.array([None if v in (None, "") else float(v) for v in raw], "float64")
        elif col.kind == "int":
            values = pd.array([None if v in (None, "") else int(v) for v in raw], "Int64")
        elif col.kind == "float":
            values = pd.array([None if v in (None, "") else float(v) for v in raw], "float64")
        elif col.kind == "category":
            if col.name == "price_unit":
                raw = [None if v is None else v.upper() for v in raw]
            known = list(col.values) + sorted({v for v in raw if v and v not in col.values})
            values = pd.Categorical(raw, categories=known)
        elif col.kind == "bool":
            values = pd.array(raw, dtype="boolean")
        else:
            values = pd.array(raw, dtype="str")
        data[col.name] = values
    return pd.DataFrame(data, columns=res.column_names)


def frame(resource: str, records: list[dict]) -> pd.DataFrame:
    """A typed frame for ``records`` (JSON-equivalent dicts) of ``resource``.

    Usage records are marked as fetched per account (``attrs["include_subaccounts"]`` is
    False, as the client records it), which is what these fixture records stand for."""
    to_frame = getattr(tf, "to_frame", None) if "to_frame" in dir(tf) else None
    out = (to_frame(resource, records) if to_frame is not None
           else _fallback_to_frame(resource, records))
    if resource == "usage_records":
        out.attrs["include_subaccounts"] = False
    return out


_counter = iter(range(1, 10**9))


def _sid(prefix: str) -> str:
    return f"{prefix}{next(_counter):032x}"


def call(start: str = "2024-01-10T12:00:00Z", *, duration: int | None = 60,
         price: str | None = "-0.0085", status: str = "completed",
         direction: str = "inbound", to: str = "+14155550100", frm: str = "+16135550123",
         account: str = ACCOUNT, parent: str | None = None, sid: str | None = None,
         unit: str | None = "USD") -> dict:
    """A JSON-equivalent call record."""
    begin = datetime.fromisoformat(start.replace("Z", "+00:00"))
    end = begin + timedelta(seconds=duration or 0)
    return {"sid": sid or _sid("CA"), "account_sid": account, "parent_call_sid": parent,
            "date_created": rfc2822(begin), "date_updated": rfc2822(end),
            "start_time": rfc2822(begin), "end_time": rfc2822(end),
            "direction": direction, "status": status, "from": frm, "from_formatted": frm,
            "to": to, "to_formatted": to, "phone_number_sid": None,
            "duration": None if duration is None else str(duration), "price": price,
            "price_unit": unit if price is not None else unit, "api_version": "2010-04-01",
            "uri": "/2010-04-01/Accounts/x/Calls/y.json"}


def message(sent: str = "2024-01-10T12:00:00Z", *, price: str | None = "-0.00790",
            status: str = "delivered", direction: str = "outbound-api",
            to: str = "+14155550100", frm: str = "+14155550199", segments: str = "1",
            media: str = "0", body: str = "hello", account: str = ACCOUNT,
            unit: str | None = "USD", error_code: int | None = None) -> dict:
    """A JSON-equivalent message record."""
    when = rfc2822(sent)
    return {"sid": _sid("MM" if media != "0" else "SM"), "account_sid": account,
            "messaging_service_sid": None, "date_created": when, "date_updated": when,
            "date_sent": when, "direction": direction, "status": status, "from": frm,
            "to": to, "body": body, "num_segments": segments, "num_media": media,
            "price": price, "price_unit": unit, "error_code": error_code,
            "error_message": None, "api_version": "2010-04-01",
            "uri": "/2010-04-01/Accounts/x/Messages/y.json"}


def recording(created: str = "2024-01-10T12:00:00Z", *, duration: str = "1",
              price: str | None = "-0.0025", status: str = "completed",
              account: str = ACCOUNT, call_sid: str | None = None) -> dict:
    """A JSON-equivalent recording record."""
    when = rfc2822(created)
    return {"sid": _sid("RE"), "account_sid": account, "call_sid": call_sid or _sid("CA"),
            "conference_sid": None, "date_created": when, "date_updated": when,
            "start_time": when, "duration": duration, "price": price,
            "price_unit": "USD", "status": status, "channels": 1, "source": "DialVerb",
            "error_code": None, "api_version": "2010-04-01",
            "uri": "/2010-04-01/Accounts/x/Recordings/y.json"}


def usage(category: str, start: str, end: str | None = None, *, count: str | None = "0",
          usage_: str = "0", unit: str = "minutes", price: str = "0",
          as_of: str = "2024-03-01T00:00:00+00:00", account: str = ACCOUNT) -> dict:
    """A JSON-equivalent usage record (lower-case price_unit, as Twilio sends it)."""
    return {"account_sid": account, "category": category, "description": category,
            "start_date": start, "end_date": end or start, "count": count,
            "count_unit": "calls", "usage": usage_, "usage_unit": unit, "price": price,
            "price_unit": "usd", "as_of": as_of, "api_version": "2010-04-01",
            "uri": "/2010-04-01/Accounts/x/Usage/Records.json"}
