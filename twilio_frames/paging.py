"""Paging: follow ``next_page_uri``, split date ranges into windows, run them concurrently.

Paging facts (reference ``twilio-wire-format.md`` §2.4, §8): follow ``next_page_uri``
exactly as given and never build ``Page=N`` URLs (token-paged lists refuse them);
stop on a null, empty or missing ``next_page_uri``; ``PageSize`` is at most 1000.
A server that hands back a page URI it already gave would loop for ever: we raise.

Date filters are whole UTC days on the wire (OAI: "Specify a date as ``YYYY-MM-DD`` in
UTC"), and their inequality forms differ per resource (``StartTime<`` is "before",
``DateSent<`` "on and before"). So :func:`date_filters` asks for every day that touches
``[start, end)`` and the caller trims the records to the exact interval.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import pandas as pd

from .errors import ConfigurationError, ParseError
from .parse import Page, parse_page
from .resources import get_resource

__all__ = ["iter_pages", "to_utc", "date_filters", "split_windows", "run_concurrently",
           "list_url"]

T = TypeVar("T")

#: Per resource: (greater-or-equal key, less-than key) of its day-granular date filter.
_RANGE_KEYS = {
    "calls": ("StartTime>", "StartTime<"),
    "messages": ("DateSent>", "DateSent<"),
    "recordings": ("DateCreated>", "DateCreated<"),
}


def to_utc(value: Any) -> pd.Timestamp | None:
    """str, date, datetime or Timestamp -> tz-aware UTC Timestamp; naive means UTC."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"cannot read {value!r} as a date or time: {exc}") from None
    if ts is pd.NaT:
        raise ConfigurationError(f"{value!r} is not a date or time")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _floor_day(ts: pd.Timestamp) -> dt.date:
    return ts.date()


def _ceil_day(ts: pd.Timestamp) -> dt.date:
    """The first midnight at or after ``ts``."""
    day = ts.date()
    return day if ts == ts.normalize() else day + dt.timedelta(days=1)


def date_filters(resource: str, start: pd.Timestamp | None,
                 end: pd.Timestamp | None) -> dict[str, str]:
    """Query filters covering every UTC day that touches ``[start, end)``.

    Calls/Messages/Recordings get ``X>`` = the start day and ``X<`` = the first midnight
    at or after ``end`` (a superset under either reading of ``<``); Usage Records get
    inclusive ``StartDate``/``EndDate`` = [start day, day before that midnight].
    """
    out: dict[str, str] = {}
    if resource == "usage_records":
        if start is not None:
            out["StartDate"] = _floor_day(start).isoformat()
        if end is not None:
            out["EndDate"] = (_ceil_day(end) - dt.timedelta(days=1)).isoformat()
        return out
    keys = _RANGE_KEYS.get(resource)
    if keys is None:
        if start is not None or end is not None:
            raise ConfigurationError(f"{resource} has no date filter; start/end not supported")
        return out
    if start is not None:
        out[keys[0]] = _floor_day(start).isoformat()
    if end is not None:
        out[keys[1]] = _ceil_day(end).isoformat()
    return out


def split_windows(start: pd.Timestamp, end: pd.Timestamp,
                  window: str | pd.Timedelta | dt.timedelta) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Split ``[start, end)`` into consecutive half-open windows of length ``window``."""
    try:
        step = pd.Timedelta(window)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"window={window!r} is not a duration: {exc}") from None
    if step <= pd.Timedelta(0):
        raise ConfigurationError(f"window={window!r} must be positive")
    edges = []
    cur = start
    while cur < end:
        nxt = min(cur + step, end)
        edges.append((cur, nxt))
        cur = nxt
    return edges


def list_url(base_url: str, account_sid: str | None, resource: str, format: str, *,
             params: dict[str, Any], subresource: str | None = None) -> str:
    """The first page URL of a list; later pages come from ``next_page_uri``."""
    res = get_resource(resource)
    path = "/2010-04-01/Accounts"
    if res.name != "accounts":
        path += f"/{account_sid}{res.path}"
    if subresource:
        path += f"/{subresource}"
    path += ".json" if format == "json" else ".xml"
    query = urlencode([(k, v) for k, v in params.items() if v is not None])
    return f"{base_url}{path}" + (f"?{query}" if query else "")


def _next_url(base_url: str, uri: str) -> str:
    if uri.startswith("/"):
        return base_url + uri
    here, there = urlsplit(base_url), urlsplit(uri)
    if (there.scheme, there.netloc) != (here.scheme, here.netloc):
        raise ParseError(f"next_page_uri {uri!r} leaves {base_url}; refusing to follow it")
    return uri


def iter_pages(get: Callable[[str], bytes], base_url: str, first_url: str, *, format: str,
               resource: str, limit: int | None = None) -> Iterator[Page]:
    """Yield the pages of one list, following ``next_page_uri`` until it is empty.

    ``get(url) -> bytes`` does the HTTP. With ``limit``, records past the limit are cut
    from the last page and no further page is fetched.
    """
    url, seen, count = first_url, {first_url}, 0
    while True:
        body = get(url)
        try:
            page = parse_page(body, format, resource)
        except ParseError as exc:
            raise ParseError(str(exc), url=url) from None
        count += len(page.records)
        if limit is not None and count >= limit:
            del page.records[len(page.records) - (count - limit):]
            yield page
            return
        yield page
        if not page.next_page_uri:
            return
        url = _next_url(base_url, page.next_page_uri)
        if url in seen:
            raise ParseError(f"server repeated page URI {page.next_page_uri!r}; "
                             "stopping instead of looping", url=url)
        seen.add(url)


def run_concurrently(tasks: Sequence[Callable[[], T]], *, max_workers: int) -> list[T]:
    """Run ``tasks`` on up to ``max_workers`` threads; results in task order.

    The first exception cancels the tasks not yet started and is raised.
    """
    if len(tasks) <= 1 or max_workers <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=min(max_workers, len(tasks)),
                            thread_name_prefix="twilio-frames") as pool:
        futures = [pool.submit(task) for task in tasks]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for f in pending:
            f.cancel()
        for f in futures:
            if f.done() and not f.cancelled() and f.exception() is not None:
                raise f.exception()
        return [f.result() for f in futures]
