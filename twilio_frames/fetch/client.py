"""The front door: :class:`Client` = credentials + HTTP + paging + frames.

Frame order (documented, the same whatever ``window``, ``page_size``, ``format`` or
``max_workers``): calls, messages, recordings and incoming phone numbers come newest
first by ``date_created``, ties by ``sid`` descending, which is the order the API serves
one account in; records fetched twice (overlapping windows, pages shifting while new
records arrive) appear once. Usage records come account by account (the order of
``accounts``) and, within an account, in the order the API serves them. Accounts come as
the API serves them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from functools import partial
from typing import Any, NamedTuple

import pandas as pd

from .config import (DEFAULT_DEADLINE, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_RETRIES,
                     DEFAULT_MAX_RETRY_TIME, DEFAULT_MAX_WORKERS, DEFAULT_PAGE_SIZE,
                     DEFAULT_TIMEOUT, FORMATS, check_bounds, check_limit, resolve_base_url,
                     resolve_credentials)
from . import gcpause
from .dates import in_interval
from .progress_bars import advance_bar, open_bar
from ..errors import ConfigurationError, TwilioFramesError
from .assemble import FrameBuilder, kept_sids
from .filters import wire_filters
from .http import RetryPolicy, Transport
from .plan_build import plan_chains
from .plan_chains import parse_account, record_time
from .plan_map import USAGE_CATEGORY
from .scheduler import iter_chains, parsing_threads
from .paging import (PageChain, date_filters, fetch_page, iter_pages, list_url,
                     split_windows, to_utc)
from ..resources import USAGE_SUBRESOURCES, get_resource

__all__ = ["Client"]

_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
#: Records converted to a partial frame at a time (whichever lists they come from):
#: bounds the record dicts alive on long fetches.
BATCH_RECORDS = 5_000


class Client:
    """A read-only client for the Twilio REST API 2010-04-01 list endpoints.

    Parameters
    ----------
    account_sid, auth_token : str, optional
        Credentials; default ``TWILIO_ACCOUNT_SID`` / ``TWILIO_AUTH_TOKEN``.
    api_key, api_secret : str, optional
        An API key pair instead of the auth token (``TWILIO_API_KEY`` /
        ``TWILIO_API_SECRET``); the account SID is still needed.
    base_url : str, optional
        API root; default ``TWILIO_API_BASE`` or ``https://api.twilio.com``. Plain
        ``http://`` is accepted only for loopback hosts.
    format : {"json", "xml"}
        Wire format of the pages. Both give equal frames.
    page_size : int
        ``PageSize`` (1..1000).
    max_retries : int
        Retries after the first attempt (connection errors, 429, 5xx).
    timeout : float or (float, float)
        Connect/read timeouts in seconds.
    max_workers : int
        Threads fetching pages (of every window and account at once), and the cap on
        requests in flight (shared by every request this client makes).
    progress : bool or None
        tqdm progress bars, one per fetch, named after the resource: records received
        and ``pages=N``; None shows them only in terminals and notebooks (a widget
        where ipywidgets is installed, else text, never a warning).
    max_body_bytes : int
        Largest decoded response body accepted (default 64 MiB; a 1000-record page is
        2-3 MB): a bigger one, such as a gzip bomb, raises ParseError once the cap is
        passed, without reading further.
    deadline : float
        Seconds one attempt may take, from request to last body byte (default 120),
        enforced while the headers and body are read: a server trickling bytes fails
        the attempt (retried like a read timeout) instead of holding it for ever.

    Examples
    --------
    >>> import twilio_frames as tf
    >>> with tf.simulator.running(seed=1) as sim:                # doctest: +SKIP
    ...     client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url)
    ...     calls = client.calls(start="2026-10-01", end="2026-11-01", window="7D")
    """

    def __init__(self, account_sid: str | None = None, auth_token: str | None = None, *,
                 api_key: str | None = None, api_secret: str | None = None,
                 base_url: str | None = None, format: str = "json",
                 page_size: int = DEFAULT_PAGE_SIZE, max_retries: int = DEFAULT_MAX_RETRIES,
                 timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
                 max_workers: int = DEFAULT_MAX_WORKERS, progress: bool | None = None,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 deadline: float = DEFAULT_DEADLINE) -> None:
        if format not in FORMATS:
            raise ConfigurationError(f"format must be 'json' or 'xml', not {format!r}")
        if not (isinstance(page_size, int) and 1 <= page_size <= 1000):
            raise ConfigurationError(f"page_size must be an integer in 1..1000, not {page_size!r}")
        if not (isinstance(max_workers, int) and max_workers >= 1):
            raise ConfigurationError(f"max_workers must be a positive integer, not {max_workers!r}")
        check_bounds(max_body_bytes, deadline)
        self._credentials = resolve_credentials(account_sid, auth_token, api_key=api_key,
                                                api_secret=api_secret)
        self.base_url = resolve_base_url(base_url)
        self.format, self.page_size, self.max_workers = format, page_size, max_workers
        self.progress = progress
        #: The retry policy; its ``sleep`` can be replaced (tests do).
        self.retry = RetryPolicy(max_retries=max_retries, max_total=DEFAULT_MAX_RETRY_TIME)
        self.transport = Transport(self._credentials, timeout=timeout, retry=self.retry,
                                   max_in_flight=max_workers, max_body_bytes=max_body_bytes,
                                   deadline=deadline)
        #: Account creation times seen in the Accounts list (they bound automatic windows).
        self._created: dict[str, pd.Timestamp | None] = {}

    @property
    def account_sid(self) -> str:
        return self._credentials.account_sid

    def __repr__(self) -> str:
        return (f"Client(account_sid={self.account_sid!r}, auth={self._credentials.kind!r}, "
                f"base_url={self.base_url!r}, format={self.format!r})")

    def close(self) -> None:
        """Close the pooled HTTP connections."""
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ public fetchers

    def calls(self, start=None, end=None, *, accounts=None, window=None, limit=None,
              **filters) -> pd.DataFrame:
        """Calls whose ``start_time`` is in ``[start, end)`` as a typed DataFrame.

        ``start``/``end``: str, date, datetime or Timestamp, naive = UTC. ``accounts``:
        None (this account), ``"all"`` (every account the Accounts list shows) or a list
        of SIDs. With ``start`` or ``end`` and no ``window``, the range is split
        automatically into whole-day windows fetched concurrently, sized from the
        account's density as it is learnt (a list of one page costs one request);
        ``window`` ("1D", "7D", a Timedelta) fixes the windows instead. With neither
        ``start`` nor ``end`` the list is followed page by page: it also holds records
        without a date (a call never started), which no date filter returns. ``limit``
        keeps the first ``limit`` rows (in the frame's order) of those inside
        ``[start, end)``. ``filters`` are the list's query
        parameters, in twilio-python's names or the API's (``status="busy"`` or
        ``Status="busy"``, ``to=``, ``from_=``, ``parent_call_sid=``,
        ``end_time_before=``...); an unknown one is refused with the valid ones listed
        (see ``tf.RESOURCES["calls"].filters``). Rows in the module's documented order.
        """
        return self._list_frame("calls", start, end, accounts, window, limit, filters)

    def messages(self, start=None, end=None, *, accounts=None, window=None, limit=None,
                 **filters) -> pd.DataFrame:
        """Messages whose ``date_sent`` is in ``[start, end)``; see :meth:`calls`."""
        return self._list_frame("messages", start, end, accounts, window, limit, filters)

    def recordings(self, start=None, end=None, *, accounts=None, window=None, limit=None,
                   **filters) -> pd.DataFrame:
        """Recordings whose ``date_created`` is in ``[start, end)``; see :meth:`calls`."""
        return self._list_frame("recordings", start, end, accounts, window, limit, filters)

    def usage_records(self, subresource: str | None = None, *, category: str | None = None,
                      start=None, end=None, include_subaccounts: bool | None = None,
                      accounts=None) -> pd.DataFrame:
        """Usage records (``/Usage/Records`` or a subresource such as ``"daily"``).

        ``start``/``end`` become inclusive ``StartDate``/``EndDate`` = [start's day, the
        day before ``end``] (a partial last day counts). With ``accounts=None`` the
        API's ``IncludeSubaccounts`` applies (default true: a master's figures include
        its subaccounts). With ``accounts="all"`` or a list, every account is asked for
        its own usage only (``IncludeSubaccounts=false``), so nothing is counted twice;
        ``include_subaccounts=True`` is then refused. The frame's
        ``attrs["include_subaccounts"]`` says what was asked: True, False, or None when
        left to the API's default (:func:`twilio_frames.reconcile` reads it).
        """
        seg = self._usage_segment(subresource)
        sids = self._account_sids(accounts)
        if accounts is not None:
            if include_subaccounts:
                raise ConfigurationError("include_subaccounts=True with accounts= would "
                                         "count subaccount usage twice")
            include_subaccounts = False
        params = {"Category": category}
        if include_subaccounts is not None:
            params["IncludeSubaccounts"] = "true" if include_subaccounts else "false"
        params.update(date_filters("usage_records", to_utc(start, name="start"),
                                   to_utc(end, name="end")))
        specs = [_Spec(sid, params, None, seg) for sid in sids]
        frame = self._run("usage_records", specs, limit=None, sort=False)
        frame.attrs["include_subaccounts"] = include_subaccounts
        return frame

    def accounts(self, **filters) -> pd.DataFrame:
        """The Accounts list (this account and its subaccounts); ``auth_token`` left out.

        ``filters``: ``status=``, ``friendly_name=`` (or ``Status=``, ``FriendlyName=``).
        """
        return self._run("accounts", [_Spec(None, self._params("accounts", filters))],
                         limit=None, sort=False)

    def incoming_phone_numbers(self, *, accounts=None, **filters) -> pd.DataFrame:
        """Phone numbers of this account (or ``accounts``), capabilities flattened.

        ``filters``: ``phone_number=``, ``friendly_name=``, ``origin=``, ``beta=``
        (or the API's ``PhoneNumber=``...).
        """
        params = self._params("incoming_phone_numbers", filters)
        specs = [_Spec(sid, params) for sid in self._account_sids(accounts)]
        return self._run("incoming_phone_numbers", specs, limit=None, sort=True)

    def iter_records(self, resource: str, start=None, end=None, *, accounts=None,
                     limit: int | None = None, subresource: str | None = None,
                     **filters) -> Iterator[dict[str, Any]]:
        """Yield the raw JSON-equivalent records, lazily, account by account, as served.

        The same filters and ``[start, end)`` trimming as the frame methods, without
        sorting or de-duplication; nested objects (``subresource_uris``) and every
        field are kept. Use it when a frame leaves out something you need.
        """
        res = get_resource(resource)
        start, end = to_utc(start, name="start"), to_utc(end, name="end")
        params = {**self._params(resource, filters), **date_filters(resource, start, end)}
        seg = self._usage_segment(subresource) if resource == "usage_records" else None
        sids = [None] if resource == "accounts" else self._account_sids(accounts)
        left = check_limit(limit)
        if left == 0:
            return
        for sid in sids:       # pages are fetched lazily: none past the limit
            for page in self._redacted(self._pages(resource, sid, params, seg)):
                for rec in page.records:
                    if in_interval(rec.get(res.date_field), start, end, resource):
                        yield rec
                        if left is not None:
                            left -= 1
                            if left == 0:
                                return

    # ------------------------------------------------------------ machinery

    def _list_frame(self, resource, start, end, accounts, window, limit, filters):
        start, end = to_utc(start, name="start"), to_utc(end, name="end")
        if window is not None and (start is None or end is None):
            raise ConfigurationError("window= needs both start and end")
        if start is not None and end is not None and not start < end:
            raise ConfigurationError(f"start {start} must be before end {end}")
        limit = check_limit(limit)
        base = self._params(resource, filters)
        sids = self._account_sids(accounts)
        if window is None and limit is None and self.max_workers > 1 and (
                start is not None or end is not None):
            return self._run(resource, *self._auto(resource, sids, start, end, base),
                             limit=None, sort=True)
        spans = split_windows(start, end, window) if window is not None else [(start, end)]
        specs = [_Spec(sid, {**base, **date_filters(resource, s, e)}, (s, e))
                 for sid in sids for s, e in spans]
        return self._run(resource, specs, limit=limit, sort=True)

    def _auto(self, resource, sids, start, end, base):
        """Automatic windows (:mod:`twilio_frames.fetch.plan`): per account, one chain
        over the range that a plan splits once it proves to hold more than a page.

        Only for a range with a start or an end: an open range also holds the records
        without a date (a message never sent has no ``date_sent``), which no date
        filter returns, so it stays one list followed page by page."""
        specs = [_Spec(sid, {**base, **date_filters(resource, start, end)}, (start, end))
                 for sid in sids]
        chains, source = plan_chains(
            specs, start, end, base_url=self.base_url, page_size=self.page_size,
            max_workers=self.max_workers, created=self._created,
            first_url=partial(self._first_url, resource),
            window_url=lambda spec, span: self._first_url(resource, spec._replace(
                params={**base, **date_filters(resource, *span)})),
            fetch=partial(self._fetch_page, resource),
            fetch_account=lambda url: parse_account(self._get(url), self.format),
            ext=".json" if self.format == "json" else ".xml",
            usage_url=None if base else self._usage_map_url(resource, start, end),
            fetch_usage=partial(self._fetch_page, "usage_records"),
            field=get_resource(resource).date_field)
        return specs, chains, source

    def _usage_map_url(self, resource, start, end):
        """``spec -> URL`` of an account's daily usage counts for the range (the plan's
        map, :mod:`twilio_frames.fetch.plan_map`), None for a resource without one. Not
        with other filters: the counts would be of every record, not of those asked."""
        category = USAGE_CATEGORY.get(resource)
        if category is None:
            return None
        params = {"Category": category, "IncludeSubaccounts": "false",
                  **date_filters("usage_records", start, end), "PageSize": 1000}
        return lambda spec: list_url(self.base_url, spec.sid, "usage_records", self.format,
                                     params=params, subresource="Daily")

    def _run(self, resource: str, specs: list[_Spec], chains=None, source=None, *, limit,
             sort: bool) -> pd.DataFrame:
        """Fetch every (account, window) list page by page on one pool; build the frame.

        Records are converted in batches on this thread while the workers fetch; the
        frame never depends on which page arrived first (see :class:`FrameBuilder`).
        With ``limit``, a list stops once ``limit`` of its records fall inside its
        window (records outside are trimmed and never count); each list is served in
        the frame's order, so the first ``limit`` rows of the sorted frame are among
        them, whatever the windows, workers or page size.
        """
        if chains is None:
            chains = [PageChain(self.base_url, self._first_url(resource, spec), limit=limit,
                                counted=partial(kept_sids, resource, span=spec.span))
                      for spec in specs]
        builder = FrameBuilder(resource, [spec.span for spec in specs], batch=BATCH_RECORDS)
        fetch = partial(self._fetch_page, resource)
        pages = 0
        with open_bar(resource, self.progress) as bar, self._redacting():
            with gcpause.paused():            # records make no cycles (fetch/gcpause.py)
                for index, page in iter_chains(fetch, chains, max_workers=self.max_workers,
                                               threads=parsing_threads(self.max_workers),
                                               source=source):
                    chain = chains[index]
                    if getattr(chain, "skipped", False):
                        continue              # a window the plan no longer needed
                    pages += 1
                    into = getattr(chain, "list_index", index)
                    if into is not None:      # None: a planning request (the account)
                        builder.add(into, page.records, url=page.url)
                    if bar is not None:
                        advance_bar(bar, pages, len(page.records) if into is not None else 0,
                                    source)
            frame = builder.frame(sort=sort)
            if bar is not None:               # records seen twice (a plan's overlaps) once
                bar.total = bar.n = len(frame)
                bar.set_postfix(pages=pages)
        return frame.head(limit).copy() if limit is not None else frame

    def _redacted(self, pages: Iterator) -> Iterator:
        """``pages``, with this client's secrets scrubbed from any error they raise
        (a server may echo them in a body or a next_page_uri)."""
        with self._redacting():
            yield from pages

    @contextlib.contextmanager
    def _redacting(self):
        """Scrub this client's secrets from any library error raised inside."""
        try:
            yield
        except TwilioFramesError as exc:
            raise self.transport.redact.scrub(exc)

    def _fetch_page(self, resource: str, url: str):
        return fetch_page(self._get, url, format=self.format, resource=resource, columns=True)

    def _get(self, url: str) -> bytes:
        return self.transport.get(url).body

    def _first_url(self, resource: str, spec: _Spec) -> str:
        return list_url(self.base_url, spec.sid, resource, self.format,
                        params={**spec.params, "PageSize": self.page_size},
                        subresource=spec.subresource)

    def _pages(self, resource, sid, params, subresource):
        url = self._first_url(resource, _Spec(sid, params, None, subresource))
        return iter_pages(self._get, self.base_url, url, format=self.format,
                          resource=resource)

    def _account_sids(self, accounts) -> list[str]:
        if accounts is None:
            return [self.account_sid]
        if isinstance(accounts, str):
            if accounts != "all":
                accounts = [accounts]
            else:
                records = list(self.iter_records("accounts"))
                self._created.update((r["sid"], record_time(r)) for r in records)
                return [r["sid"] for r in records]
        sids = list(dict.fromkeys(accounts))
        bad = [s for s in sids if not isinstance(s, str) or not _SID.match(s)]
        if bad or not sids:
            raise ConfigurationError(f"accounts must be 'all' or account SIDs (AC + 32 hex); got {bad or sids}")
        return sids

    @staticmethod
    def _usage_segment(subresource: str | None) -> str | None:
        if subresource is None:
            return None
        try:
            return USAGE_SUBRESOURCES[subresource]
        except KeyError:
            known = ", ".join(USAGE_SUBRESOURCES)
            raise ConfigurationError(f"unknown usage subresource {subresource!r}; expected one of: {known}") from None

    @staticmethod
    def _params(resource: str, filters: dict[str, Any]) -> dict[str, str]:
        return wire_filters(resource, filters)


class _Spec(NamedTuple):
    """One list to fetch: the account, its query, the window to trim to, the subresource."""

    sid: str | None
    params: dict[str, str]
    span: tuple[pd.Timestamp | None, pd.Timestamp | None] | None = None
    subresource: str | None = None
