"""Paging: follow ``next_page_uri``, split date ranges into windows, fetch pages concurrently.

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
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pandas as pd

from . import prefetch
from ..errors import ConfigurationError, ParseError
from .dates import parse_duration, to_utc
from .parse import Page, parse_page, parse_page_columns
from .progress import ProgressGuard
from ..resources import get_resource

__all__ = ["iter_pages", "PageChain", "fetch_page", "to_utc", "date_filters",
           "split_windows", "list_url"]

#: Per resource: (greater-or-equal key, less-than key) of its day-granular date filter.
_RANGE_KEYS = {
    "calls": ("StartTime>", "StartTime<"),
    "messages": ("DateSent>", "DateSent<"),
    "recordings": ("DateCreated>", "DateCreated<"),
}


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
    """Split ``[start, end)`` into consecutive half-open windows of length ``window``
    (read by :func:`~twilio_frames.fetch.dates.parse_duration`)."""
    step = parse_duration(window)
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


class PageChain:
    """One list stream (an account, a window): its pages, each known only from the last.

    :meth:`follow` applies ``limit`` to a page that just arrived and names the next URL;
    a server that hands back a URI it already gave, or pages that bring no new record
    (:class:`~twilio_frames.fetch.progress.ProgressGuard`), raises instead of looping.

    Without ``counted``, every record counts towards ``limit`` and the records past it
    are cut from the last page. With ``counted(records) -> keys`` (the keys, such as
    sids, of the records that will end up in the result: those inside the caller's
    exact interval), only distinct counted keys count and no page is cut: the chain
    stops once ``limit`` of them have arrived, and the caller keeps the first ``limit``
    rows in its own order.

    ``fetch``, when a subclass sets it, fetches this chain's pages instead of the
    scheduler's ``fetch`` (a planning request of :mod:`twilio_frames.fetch.plan`).
    """

    fetch: Callable[[str], Page] | None = None
    #: The next page of an eager chain goes before the first pages of new chains.
    eager = False
    #: The scheduler may ask for the next page while this one is parsed (its follow()
    #: goes on to the page's next_page_uri but for a limit: fetch/prefetch.py).
    early_next = True

    def __init__(self, base_url: str, first_url: str, *, limit: int | None = None,
                 counted: Callable[[list[dict[str, Any]]], Iterable[Any]] | None = None,
                 ) -> None:
        self.base_url, self.first_url, self.limit = base_url, first_url, limit
        self.counted = counted
        self.count, self._seen, self._keys = 0, {first_url}, set()
        self._progress = ProgressGuard()

    def has_seen(self, url: str) -> bool:
        """``url`` is a page this chain already asked for (following it would loop)."""
        return url in self._seen

    def level(self) -> int:
        """Pages this chain is expected still to take, its next one included (1 when
        nothing is known). The scheduler sends the page of the longest expected rest
        first (fetch/scheduler.py)."""
        return 1

    def follow(self, page: Page) -> str | None:
        """Apply the limit to ``page``; return the next page's URL or None."""
        if self.limit is not None and self._reached_limit(page):
            return None
        if not page.next_page_uri:
            return None
        self._progress.check(page.records, page.next_page_uri, page.url)
        url = _next_url(self.base_url, page.next_page_uri)
        if url in self._seen:
            raise ParseError(f"server repeated page URI {page.next_page_uri!r}; "
                             "stopping instead of looping", url=url)
        self._seen.add(url)
        return url

    def close(self) -> None:
        """The chain has ended: let go of what it kept to check its pages (the hashes of
        every record it brought, about 60 bytes each: 60 MB over a million records,
        otherwise held until the frame is built, when memory peaks)."""
        self._progress = ProgressGuard()
        self._seen, self._keys = set(), set()

    def _reached_limit(self, page: Page) -> bool:
        if self.counted is None:
            self.count += len(page.records)
            if self.count >= self.limit:
                del page.records[len(page.records) - (self.count - self.limit):]
                return True
            return False
        try:
            self._keys.update(self.counted(page.records))
        except ParseError as exc:
            if exc.url is not None or page.url is None:
                raise
            raise ParseError(str(exc), url=page.url) from None
        self.count = len(self._keys)
        return self.count >= self.limit


def fetch_page(get: Callable[[str], bytes], url: str, *, format: str, resource: str,
               columns: bool = False) -> Page:
    """GET ``url`` and parse it; a :class:`ParseError` names the URL, and so does the
    page (``page.url``). ``columns``: records as Arrow columns where the body allows
    (:func:`~twilio_frames.fetch.parse.parse_page_columns`), for a frame builder."""
    early = prefetch.take_hook()
    body = get(url)
    if early is not None and format == "json":
        hint = prefetch.next_uri_hint(body)
        if hint:
            early(hint)
    try:
        page = (parse_page_columns if columns else parse_page)(body, format, resource)
    except ParseError as exc:
        raise ParseError(str(exc), url=url) from None
    page.url = url
    return page


def iter_pages(get: Callable[[str], bytes], base_url: str, first_url: str, *, format: str,
               resource: str, limit: int | None = None) -> Iterator[Page]:
    """Yield the pages of one list, following ``next_page_uri`` until it is empty.

    ``get(url) -> bytes`` does the HTTP. With ``limit``, records past the limit are cut
    from the last page and no further page is fetched.
    """
    chain, url = PageChain(base_url, first_url, limit=limit), first_url
    while url is not None:
        page = fetch_page(get, url, format=format, resource=resource)
        url = chain.follow(page)
        yield page
