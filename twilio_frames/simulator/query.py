"""Query strings of the simulator: paging parameters, page tokens, filters, page URIs.

Filter semantics (Twilio's OpenAPI spec, ``twilio_api_v2010.json``, and
``reference/billing-rules.md`` section 1.5). The inequality forms are literal keys
(``StartTime<``, ``StartTime>``), so ``StartTime>=2026-10-01`` on the wire is the key
``StartTime>`` with the value ``2026-10-01``. A value is a UTC day ``YYYY-MM-DD`` or an
ISO 8601 datetime (``2026-10-01T00:00:00Z`` as twilio-python sends; naive means UTC).

* ``X>=D``  on or after D 00:00 UTC (spec: "started on or after this date").
* ``X<=D``  strictly before D 00:00 UTC. The Calls spec says "started before this date";
  Twilio's call-log guide says "the date parameter defaults to midnight ... use ``<`` 1st
  day of next month" (billing-rules 1.5). Messages ("on and before") and Recordings ("on or
  before midnight of this date") are worded differently; all three resolve to the same
  instant, midnight, and we exclude the instant itself so that ``X>=a`` + ``X<=b`` is the
  half-open interval [a, b) for every resource. With a datetime T: before T.
* ``X=D``   within the UTC day D, i.e. [D, D+1 day). With a datetime: its UTC day.

Records whose field is null never match a date filter. Text filters match exactly, except
IncomingPhoneNumbers ``PhoneNumber``: a substring, ``*`` standing for any one digit.
IncomingPhoneNumbers ``Beta`` ("whether to include phone numbers new to the Twilio
platform", default true): ``false`` leaves out beta numbers. Recordings
``IncludeSoftDeleted`` must be a boolean; no simulated recording is soft-deleted.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode

import numpy as np

__all__ = ["BadRequest", "Paging", "parse_paging", "decode_token", "encode_token",
           "LIST_FILTERS", "active_filters", "select_rows", "parse_usage_date", "parse_bool",
           "page_envelope", "check_retention", "RETENTION_DAYS"]

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50


class BadRequest(Exception):
    """A request the API refuses: HTTP ``status`` with Twilio ``code`` and ``message``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Paging:
    page_size: int
    page: int
    offset: int


def _int(value: str, name: str) -> int:
    if not re.fullmatch(r"[+-]?\d{1,12}", value.strip()):
        raise BadRequest(400, 20001, f"Invalid value for {name}: {value!r} is not an integer")
    return int(value)


def encode_token(offset: int, previous: bool = False) -> str:
    """An opaque page token for the record at ``offset`` ("PA"/"PB" like Twilio's)."""
    raw = base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")
    return ("PB" if previous else "PA") + raw


def decode_token(token: str) -> int:
    try:
        if token[:2] not in ("PA", "PB"):
            raise ValueError
        raw = token[2:] + "=" * (-len(token[2:]) % 4)
        text = base64.urlsafe_b64decode(raw.encode("ascii")).decode("ascii")
        if not re.fullmatch(r"o\d{1,12}", text):
            raise ValueError
    except (ValueError, UnicodeError):
        raise BadRequest(400, 20001, "Invalid PageToken.") from None
    return int(text[1:])


def parse_paging(params: dict[str, str]) -> Paging:
    """``PageSize`` 1..1000 (default 50), ``Page`` >= 0, and the offset from ``PageToken``."""
    size = DEFAULT_PAGE_SIZE
    if "PageSize" in params:
        size = _int(params["PageSize"], "PageSize")
        if size > MAX_PAGE_SIZE:
            raise BadRequest(400, 20007, "Page size too large. The maximum page size is 1000.")
        if size < 1:
            raise BadRequest(400, 20001, "Invalid value for PageSize: must be at least 1")
    page = _int(params["Page"], "Page") if "Page" in params else 0
    if page < 0:
        raise BadRequest(400, 20001, "Invalid value for Page: must be at least 0")
    token = params.get("PageToken")
    if token:
        return Paging(size, page, decode_token(token))
    if page > 0:
        raise BadRequest(400, 20001, "PageToken is required for paging.")
    return Paging(size, 0, 0)


# ---------------------------------------------------------------- date values

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse_instant(value: str, name: str) -> tuple[int, bool]:
    """Epoch seconds of a day's midnight or of a datetime, and whether it was a day."""
    text = value.strip()
    try:
        if _DAY.fullmatch(text):
            day = date.fromisoformat(text)
            return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()), True
        moment = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        raise BadRequest(400, 20001, f"Invalid value for {name}: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp()), False


def _day_start(epoch: int) -> int:
    return epoch - epoch % 86400


def _date_mask(column: np.ndarray, op: str, value: str, name: str) -> np.ndarray:
    instant, _ = _parse_instant(value, name)
    present = column >= 0
    if op == ">":
        return present & (column >= instant)
    if op == "<":
        return present & (column < instant)
    start = _day_start(instant)
    return present & (column >= start) & (column < start + 86400)


def parse_usage_date(value: str, name: str, today: date) -> date:
    """Usage ``StartDate``/``EndDate``: ``YYYY-MM-DD`` or ``-30days`` / ``+30days``."""
    text = value.strip()
    relative = re.fullmatch(r"([+-]?)(\d{1,5})days?", text)
    if relative:
        days = int(relative.group(2))
        return today + timedelta(days=-days if relative.group(1) == "-" else days)
    try:
        if _DAY.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise BadRequest(400, 20001, f"Invalid value for {name}: {value!r}")


def parse_bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise BadRequest(400, 20001, f"Invalid value for {name}: {value!r} is not a boolean")


# ---------------------------------------------------------------- filters

#: resource -> ordered filter parameters: (param, kind, table column).
LIST_FILTERS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "calls": (("To", "eq", "to"), ("From", "eq", "from"),
              ("ParentCallSid", "eq", "parent_call_sid"), ("Status", "eq", "status"),
              ("StartTime", "date=", "start_time"), ("StartTime<", "date<", "start_time"),
              ("StartTime>", "date>", "start_time"), ("EndTime", "date=", "end_time"),
              ("EndTime<", "date<", "end_time"), ("EndTime>", "date>", "end_time")),
    "messages": (("To", "eq", "to"), ("From", "eq", "from"),
                 ("DateSent", "date=", "date_sent"), ("DateSent<", "date<", "date_sent"),
                 ("DateSent>", "date>", "date_sent")),
    "recordings": (("DateCreated", "date=", "date_created"),
                   ("DateCreated<", "date<", "date_created"),
                   ("DateCreated>", "date>", "date_created"), ("CallSid", "eq", "call_sid"),
                   ("ConferenceSid", "eq", "conference_sid"),
                   ("IncludeSoftDeleted", "bool", "")),
    "incoming_phone_numbers": (("Beta", "beta", "beta"), ("FriendlyName", "eq", "friendly_name"),
                               ("PhoneNumber", "partial", "phone_number"),
                               ("Origin", "eq", "origin")),
    "accounts": (("FriendlyName", "eq", "friendly_name"), ("Status", "eq", "status")),
    "usage_records": (("Category", "raw", ""), ("StartDate", "raw", ""),
                      ("EndDate", "raw", ""), ("IncludeSubaccounts", "raw", "")),
}


def active_filters(resource: str, params: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """The filters present in ``params``, in the spec's order: (param, kind, column, value)."""
    return [(p, kind, col, params[p]) for p, kind, col in LIST_FILTERS[resource] if p in params]


def _phone_mask(column: np.ndarray, pattern: str) -> np.ndarray:
    regex = re.compile(re.escape(pattern).replace(r"\*", r"\d"))
    return np.fromiter((regex.search(v) is not None for v in column), bool, len(column))


def select_rows(table, filters: list[tuple[str, str, str, str]]) -> np.ndarray | slice:
    """Row positions of ``table`` (a contract ``Table``) that pass every filter, in order."""
    if not filters:
        return slice(0, len(table))
    mask = np.ones(len(table), dtype=bool)
    for param, kind, column, value in filters:
        if kind == "bool":        # IncludeSoftDeleted: no simulated recording is soft-deleted
            parse_bool(value, param)
            continue
        values = table.column(column)
        if kind == "eq":
            mask &= values == value
        elif kind == "partial":
            mask &= _phone_mask(values, value)
        elif kind == "beta":      # Beta=false leaves out numbers new to Twilio
            if not parse_bool(value, param):
                mask &= values == "false"
        else:
            mask &= _date_mask(values, kind[-1], value, param)
    return np.flatnonzero(mask)


#: Per resource: how far back (days) its list still serves records. Messages: 400 days;
#: beyond it the API answers 400 / 20004 "outside of retention window of 400 days"
#: (reference/sync-and-scale.md §1; older messages are only in BulkExport).
RETENTION_DAYS = {"messages": 400}


def check_retention(resource: str, params: dict[str, str], now: datetime) -> None:
    """Refuse a date filter of ``resource`` that reaches back past its retention."""
    days = RETENTION_DAYS.get(resource)
    if days is None:
        return
    cutoff = _day_start(int(now.timestamp())) - days * 86400
    for param, kind, _column, value in active_filters(resource, params):
        if kind.startswith("date") and _parse_instant(value, param)[0] < cutoff:
            raise BadRequest(400, 20004, f"{param} {value} is outside of retention window "
                                         f"of {days} days")


# ---------------------------------------------------------------- page URIs

def _uri(path: str, filters: list[tuple[str, str]], size: int, page: int,
         token: str | None) -> str:
    query = [*filters, ("PageSize", str(size)), ("Page", str(page))]
    if token:
        query.append(("PageToken", token))
    return f"{path}?{urlencode(query)}"


def page_envelope(path: str, filters: list[tuple[str, str]], paging: Paging, count: int,
                  total: int) -> dict:
    """The eight JSON paging keys for a page of ``count`` records out of ``total``.

    ``path`` is the list path with the extension the URIs should carry.
    """
    size, page, offset = paging.page_size, paging.page, paging.offset
    this_token = encode_token(offset) if page > 0 or offset > 0 else None
    following = offset + count
    next_uri = (_uri(path, filters, size, page + 1, encode_token(following))
                if count and following < total else None)
    previous_uri = None
    if page > 0 and offset > 0:
        previous_uri = _uri(path, filters, size, page - 1,
                            encode_token(max(offset - size, 0), previous=True))
    return {
        "end": offset + count - 1 if count else 0,
        "first_page_uri": _uri(path, filters, size, 0, None),
        "next_page_uri": next_uri,
        "page": page,
        "page_size": size,
        "previous_page_uri": previous_uri,
        "start": offset if count else 0,
        "uri": _uri(path, filters, size, page, this_token),
    }
