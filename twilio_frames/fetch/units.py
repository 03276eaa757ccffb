"""Units of work: many small lists (a resource, an account, a day) fetched on one scheduler.

This is the store's one seam into fetching. :func:`fetch_units` takes a list of
:class:`Unit` (a resource, an account and a half-open UTC interval) and yields, as each
unit's last page arrives, the frame ``Client.<resource>(start, end, accounts=[sid])``
would give for it: the same query, trimming, order and dtypes. Every unit's pages go
through the client's page scheduler (:func:`~twilio_frames.fetch.scheduler.iter_chains`:
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

import numpy as np
import pandas as pd

from ..errors import APIError, ParseError
from ..resources import get_resource
from .assemble import FrameBuilder, _bound_us, _inside, sort_frame
from .frames import combine_frames, partial_frame
from .parse import Page
from .parse_arrow import ArrowRecords
from .paging import PageChain, date_filters, fetch_page, list_url
from .scheduler import iter_chains, parsing_threads

__all__ = ["Unit", "UnitFrame", "fetch_units", "split_unit", "REFUSED_CODES"]

#: One-page units with fewer records than this are converted together, many at a time.
SMALL = 1000
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
                on_page: Callable[[Unit, Page], None] | None = None,
                wave: int | None = None) -> Iterator[UnitFrame]:
    """Fetch every unit on the client's page scheduler; yield each as it completes.

    ``client`` is a :class:`~twilio_frames.Client`; its format, page size, workers and
    retry policy apply. ``on_page(unit, page)`` is called on this thread for every page
    (progress bars). Units complete in any order; each frame is whole. Units go to the
    scheduler ``wave`` at a time (default ``8 * max_workers``): the scheduler starts
    new lists first, so this bounds the partial frames held at once.
    """
    wave = wave or 8 * client.max_workers
    for at in range(0, len(units), wave):
        yield from _fetch_wave(client, units[at:at + wave], on_page)


def _fetch_wave(client, units, on_page) -> Iterator[UnitFrame]:
    specs = [_spec(client, u) for u in units]
    paths = {_list_path(url): u.resource for u, (url, _, _) in zip(units, specs)}
    dates: dict[str, pd.Timestamp | None] = dict.fromkeys(url for url, _, _ in specs)
    fetch = _fetcher(client, paths, dates)
    builders: dict[int, FrameBuilder] = {}
    small: dict[str, list[_Done]] = {}
    pages = [0] * len(units)
    chains = [PageChain(client.base_url, url) for url, _, _ in specs]
    for index, page in iter_chains(fetch, chains, max_workers=client.max_workers,
                                   threads=parsing_threads(client.max_workers)):
        unit, (url, span, sort) = units[index], specs[index]
        pages[index] += 1
        if on_page is not None:
            on_page(unit, page)
        refused = getattr(page, "refused", None)
        if refused is not None:
            builders.pop(index, None)
            yield UnitFrame(unit, None, refused, pages[index], dates.get(page.url))
            continue
        if pages[index] == 1 and not page.next_page_uri and len(page.records) < SMALL:
            done = small.setdefault(unit.resource, [])
            done.append(_Done(unit, page, span, sort, dates.get(url)))
            if len(done) >= 64 or sum(len(d.page.records) for d in done) >= SMALL * 5:
                yield from _build_small(unit.resource, small.pop(unit.resource))
            continue
        builder = builders.setdefault(index, FrameBuilder(unit.resource, [span]))
        builder.add(0, page.records, url=page.url)
        if not page.next_page_uri:
            frame = _attrs(unit, builders.pop(index).frame(sort=sort))
            yield UnitFrame(unit, frame, None, pages[index], dates.get(url))
    for resource, done in small.items():
        yield from _build_small(resource, done)


class _Done(NamedTuple):
    """A one-page unit waiting to be converted with others of its resource."""

    unit: Unit
    page: Page
    span: tuple | None
    sort: bool
    date: pd.Timestamp | None


def _build_small(resource: str, done: list[_Done]) -> Iterator[UnitFrame]:
    """Convert the records of many one-page units at once (a frame's fixed cost is
    paid once), then split, trim, categorise and sort each unit exactly as
    :class:`FrameBuilder` does. A value error, or a field the table does not know,
    falls back to one unit at a time (which names the page's URL)."""
    pages = [d.page.records for d in done]
    if all(isinstance(p, ArrowRecords) for p in pages):      # columns joined, not rows
        records = ArrowRecords.concat(pages)
    else:
        records = [r for p in pages for r in p]
    try:
        whole = partial_frame(resource, records)
    except ParseError:
        whole = None
    if whole is None or len(whole.columns) != len(get_resource(resource).columns):
        for d in done:
            builder = FrameBuilder(resource, [d.span])
            builder.add(0, d.page.records, url=d.page.url)
            yield UnitFrame(d.unit, _attrs(d.unit, builder.frame(sort=d.sort)), None, 1, d.date)
        return
    res = get_resource(resource)
    combined = combine_frames(resource, [whole])
    # every enum value known: each unit's categories are the known ones, as the batch's
    known = all(len(combined[c.name].cat.categories) == len(c.values)
                for c in res.columns if c.kind == "category")
    at = 0
    for d in done:
        rows = slice(at, at + len(d.page.records))
        at = rows.stop
        part = (combined if known else whole).iloc[rows]
        if d.span is not None and d.span != (None, None):
            part = part[_inside(part[res.date_field], _bound_us(d.span[0], -1),
                                _bound_us(d.span[1], 1))]
        frame = part.reset_index(drop=True) if known else combine_frames(resource, [part])
        frame = sort_frame(frame) if d.sort else frame
        yield UnitFrame(d.unit, _attrs(d.unit, frame), None, 1, d.date)


def split_unit(unit: Unit, frame: pd.DataFrame,
               spans: Sequence[tuple[pd.Timestamp, pd.Timestamp]]) -> list[pd.DataFrame]:
    """The frames of ``unit``'s consecutive sub-intervals ``spans``, cut from the frame
    of the whole unit: each is what a unit of that one interval gives (its rows by the
    date field the API filters on, in the served order, categories from its own values).
    One stable reorder by interval, then each interval is a slice of it."""
    res = get_resource(unit.resource)
    times = frame[res.date_field].to_numpy(dtype="datetime64[us]").view(np.int64)
    edges = np.array([_bound_us(lo, -1) for lo, _ in spans] + [_bound_us(spans[-1][1], 1)])
    where = np.searchsorted(edges, times, side="right") - 1     # interval of each row
    inside = _inside(frame[res.date_field], edges[0], edges[-1])
    where = np.where(inside, where, len(spans))                # outside every span: dropped
    order = np.argsort(where, kind="stable")
    ordered = frame.take(order).reset_index(drop=True)
    cuts = np.searchsorted(where[order], np.arange(len(spans) + 1))
    # categories of a part are the known ones unless the whole has unknown values
    exact = len(ordered.columns) == len(res.columns) and all(
        len(ordered[c.name].cat.categories) == len(c.values)
        for c in res.columns if c.kind == "category")
    parts = []
    for at in range(len(spans)):
        part = ordered.iloc[cuts[at]:cuts[at + 1]].reset_index(drop=True)
        parts.append(_attrs(unit, part if exact else combine_frames(unit.resource, [part])))
    return parts


def _attrs(unit: Unit, frame: pd.DataFrame) -> pd.DataFrame:
    if unit.resource == "usage_records":
        frame.attrs["include_subaccounts"] = False
    return frame


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
        resource = paths.get(_list_path(url))
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
                          resource=resource, columns=True)
    return fetch


def _list_path(url: str) -> str:
    """A list's path without its format suffix (an XML list's ``NextPageUri`` has none)."""
    path = urlsplit(url).path
    return path.removesuffix(".json").removesuffix(".xml")


def _http_date(value: str | None) -> pd.Timestamp | None:
    if not value:
        return None
    try:
        return pd.Timestamp(email.utils.parsedate_to_datetime(value)).tz_convert("UTC")
    except (TypeError, ValueError, IndexError):
        return None
