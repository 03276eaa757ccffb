"""Units of work: many small lists (a resource, an account, a day) fetched on one scheduler.

This is the store's one seam into fetching. :func:`fetch_units` takes a list of
:class:`Unit` (a resource, an account and a half-open UTC interval) and yields, as each
unit's last page arrives, the frame ``Client.<resource>(start, end, accounts=[sid])``
would give for it: the same query, trimming, order and dtypes. Every unit's pages go
through the client's page scheduler (:func:`~twilio_frames.fetch.paging.iter_chains`:
one pool, the client's cap on requests in flight), so a sync of a thousand days keeps
every worker busy.

A unit the API refuses as a whole (400 / 20004, "outside of retention window";
404 / 20404, an account that no longer exists) is yielded with ``refused`` set and no
frame; every other error stops the fetch and is raised.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple
from urllib.parse import urlsplit

import pandas as pd

from ..errors import APIError, ParseError
from .assemble import FrameBuilder
from .parse import Page
from .paging import PageChain, date_filters, fetch_page, iter_chains, list_url

__all__ = ["Unit", "UnitFrame", "fetch_units", "REFUSED_CODES"]

#: Twilio error codes that mean "this list is no longer served" for one unit.
REFUSED_CODES = (20004, 20404)
_SORTED = {"calls", "messages", "recordings", "incoming_phone_numbers"}


class Unit(NamedTuple):
    """One list: ``resource`` of ``account_sid`` (None for ``accounts``) whose date
    field is in ``[start, end)`` (None: the whole list). ``usage_records`` units are
    daily records, each account's own (``IncludeSubaccounts=false``)."""

    resource: str
    account_sid: str | None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None


class UnitFrame(NamedTuple):
    """What one unit gave: its frame (None when refused), the API error that refused
    it, the pages fetched and the server's ``Date`` of its first page (or None)."""

    unit: Unit
    frame: pd.DataFrame | None
    refused: APIError | None
    pages: int
    server_date: pd.Timestamp | None


def fetch_units(client, units: Sequence[Unit], *,
                on_page: Callable[[Unit, Page], None] | None = None) -> Iterator[UnitFrame]:
    """Fetch every unit on the client's page scheduler; yield each as it completes.

    ``client`` is a :class:`~twilio_frames.Client`; its format, page size, workers and
    retry policy apply. ``on_page(unit, page)`` is called on this thread for every page
    (progress bars). Units complete in any order; each frame is whole.
    """
    specs = [_spec(client, u) for u in units]
    paths = {urlsplit(url).path: u.resource for u, (url, _, _) in zip(units, specs)}
    dates: dict[str, pd.Timestamp | None] = dict.fromkeys(url for url, _, _ in specs)
    fetch = _fetcher(client, paths, dates)
    builders: dict[int, FrameBuilder] = {}
    pages = [0] * len(units)
    chains = [PageChain(client.base_url, url) for url, _, _ in specs]
    for index, page in iter_chains(fetch, chains, max_workers=client.max_workers):
        unit, (url, span, sort) = units[index], specs[index]
        pages[index] += 1
        if on_page is not None:
            on_page(unit, page)
        refused = getattr(page, "refused", None)
        if refused is not None:
            builders.pop(index, None)
            yield UnitFrame(unit, None, refused, pages[index], dates.get(page.url))
            continue
        builder = builders.setdefault(index, FrameBuilder(unit.resource, [span]))
        builder.add(0, page.records, url=page.url)
        if not page.next_page_uri:
            frame = builders.pop(index).frame(sort=sort)
            if unit.resource == "usage_records":
                frame.attrs["include_subaccounts"] = False
            yield UnitFrame(unit, frame, None, pages[index], dates.get(url))


def _spec(client, unit: Unit) -> tuple[str, tuple | None, bool]:
    """(first page URL, trim span, sort) as the Client's own methods build them."""
    resource, sid = unit.resource, unit.account_sid
    params: dict[str, str] = {}
    subresource, span = None, None
    if resource in ("calls", "messages", "recordings"):
        params = date_filters(resource, unit.start, unit.end)
        span = (unit.start, unit.end)
    elif resource == "usage_records":
        subresource = "Daily"
        params = {"IncludeSubaccounts": "false", **date_filters(resource, unit.start, unit.end)}
    url = list_url(client.base_url, sid, resource, client.format,
                   params={**params, "PageSize": client.page_size}, subresource=subresource)
    return url, span, resource in _SORTED


def _fetcher(client, paths: dict[str, str], dates: dict) -> Callable[[str], Page]:
    """``fetch(url) -> Page`` for the scheduler: the resource from the URL's list path,
    the server's Date header kept, a refused unit turned into an empty marked page."""
    def fetch(url: str) -> Page:
        resource = paths.get(urlsplit(url).path)
        if resource is None:
            raise ParseError("next_page_uri leaves the list it belongs to", url=url)
        try:
            response = client.transport.get(url)
        except APIError as exc:
            if exc.code not in REFUSED_CODES:
                raise
            page = Page(records=[])
            page.url, page.refused = url, exc
            return page
        if url in dates:                      # first pages only: bounded
            dates[url] = _http_date(response.headers.get("Date") or response.headers.get("date"))
        return fetch_page(lambda _: response.body, url, format=client.format,
                          resource=resource)
    return fetch


def _http_date(value: str | None) -> pd.Timestamp | None:
    if not value:
        return None
    try:
        return pd.Timestamp(email.utils.parsedate_to_datetime(value)).tz_convert("UTC")
    except (TypeError, ValueError, IndexError):
        return None
