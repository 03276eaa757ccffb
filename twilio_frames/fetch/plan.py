"""Automatic windows: learn an account's density while fetching, split its range in days.

With no ``window``, a dated list (calls, messages, recordings) starts as one chain over
the whole range, as a plain fetch would: a list that fits in one page costs one request
and nothing else. When the first page has a next page, the account is dense enough to
split, and :class:`AccountPlan` takes over, fed by the pages as they arrive:

1. The first page's ``date_created`` span gives the density (records per day). Page 2
   of the same chain is fetched next (a list of two pages then ends in two rounds, as a
   sequential fetch would) together with windows for the days older than pages 1-2
   should reach, and, when the range has no ``start`` and the account's creation date
   is not known yet, the account itself (``GET /Accounts/{sid}``: nothing is older).
2. If page 2 is the last, the chain holds everything: windows not yet sent are skipped.
   Otherwise the chain stops and windows cover the newest days too.
3. Windows are whole UTC days (the API's filters are, reference ``sync-and-scale.md``
   §1), sized to about one page at the latest density seen, newest first. A window that
   comes back empty doubles the next one (an empty stretch costs a few requests); a
   multi-day window whose first page shows it holds several pages is split in days.

Coverage never depends on the estimates: the newest window is open above (or ends at
``end``) and the oldest open below (or starts at ``start``), so the windows partition
the range whatever the density, and records seen twice (page 1 and a window) are
dropped by sid when the frame is built. A window is a chain of its own; the chains of
every account share the scheduler's pool (:func:`twilio_frames.fetch.paging.iter_chains`).
"""

from __future__ import annotations

import email.utils
import math
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import pandas as pd

from ..errors import ParseError
from .paging import PageChain
from .parse import Page, _load_json
from .xmlsafe import fields, load_twilio_xml, snake_case

__all__ = ["AutoPlan", "AccountPlan", "ProbeChain", "WindowChain", "InfoChain", "parse_account",
           "record_time"]

DAY = pd.Timedelta(days=1)
#: The shortest page span used for a density (a page of records from one second
#: would otherwise give an infinite density).
MIN_SPAN_DAYS = 1 / 24
#: Windows aim at this share of a page (a little under one, so that most of them fit).
TARGET = 0.7
#: A multi-day window is split when its first page says it holds at least this many.
SPLIT_PAGES = 3
Span = tuple[pd.Timestamp | None, pd.Timestamp | None]


def parse_account(body: bytes, format: str) -> Page:
    """An Accounts instance body (``GET /Accounts/{sid}``) as a one-record page."""
    if format == "json":
        data = _load_json(body)
        if not isinstance(data, dict):
            raise ParseError("account body is not a JSON object")
        return Page([data])
    root = load_twilio_xml(body, "Account", strip=True).get("Account") or [{}]
    item = root[0] if isinstance(root[0], dict) else {}
    return Page([{snake_case(k): v for k, v in fields(item)}])


def record_time(record: dict[str, Any], name: str = "date_created") -> pd.Timestamp | None:
    """A record's RFC 2822 date as a UTC Timestamp; None when missing or unreadable."""
    value = record.get(name)
    if not value or not isinstance(value, str):
        return None
    try:
        return pd.Timestamp(email.utils.parsedate_to_datetime(value)).tz_convert("UTC")
    except (TypeError, ValueError, IndexError):
        return None


def _page_span(page: Page) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """(newest, oldest) ``date_created`` of a page served newest first."""
    if not page.records:
        return None
    newest, oldest = record_time(page.records[0]), record_time(page.records[-1])
    if newest is None or oldest is None or oldest > newest:
        return None
    return newest, oldest


def _density(page: Page) -> float | None:
    """Records per day of a full page, from its span."""
    span = _page_span(page)
    if span is None:
        return None
    days = max((span[0] - span[1]) / DAY, MIN_SPAN_DAYS)
    return len(page.records) / days


def _floor(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.normalize()


def _ceil(ts: pd.Timestamp) -> pd.Timestamp:
    day = ts.normalize()
    return day if day == ts else day + DAY


class ProbeChain(PageChain):
    """The whole range of one account; tells its plan about pages 1 and 2."""

    def __init__(self, plan: AccountPlan, base_url: str, first_url: str) -> None:
        super().__init__(base_url, first_url)
        self.plan, self.list_index, self.pages, self.planned = plan, plan.list_index, 0, False

    def follow(self, page: Page) -> str | None:
        url = super().follow(page)
        self.pages += 1
        if self.pages == 1:
            self.planned = self.plan.first_page(page, url is not None)
        elif self.pages == 2 and self.planned:
            self.plan.second_page(url is not None)
            return None                      # covered by windows from here on
        return url


class WindowChain(PageChain):
    """One window ``span`` of an account; its first page feeds the density. A window
    the plan no longer needs is answered empty without a request (``skipped``)."""

    def __init__(self, plan: AccountPlan, base_url: str, first_url: str, span: Span,
                 fetch: Callable[[str], Page]) -> None:
        super().__init__(base_url, first_url)
        self.plan, self.span, self.list_index, self.first = plan, span, plan.list_index, True
        self._fetch, self.skipped = fetch, False

    def fetch(self, url: str) -> Page:        # noqa: D102 - see PageChain.fetch
        if self.first and self.plan.moot:
            self.skipped = True
            return Page([])
        return self._fetch(url)

    def follow(self, page: Page) -> str | None:
        url = super().follow(page)
        if self.first:
            self.first = False
            if self.plan.observe(self, page, url is not None):
                return None                   # split: its days come as smaller windows
        return url


class InfoChain(PageChain):
    """``GET /Accounts/{sid}``: the account's creation date bounds its history."""

    list_index = None

    def __init__(self, plan: AccountPlan, url: str, fetch: Callable[[str], Page]) -> None:
        super().__init__(url, url)
        self.plan, self.fetch = plan, fetch

    def follow(self, page: Page) -> str | None:
        self.plan.set_created(record_time(page.records[0]) if page.records else None)
        return None


class AccountPlan:
    """The windows of one account's range ``[start, end)``, decided as pages arrive.

    ``window(plan, span)`` makes the :class:`WindowChain` of a span and ``info(plan)``
    the :class:`InfoChain` (both built by the client, which knows URLs and formats).
    ``created`` is the account's creation time when already known. Thread-safe: pages
    arrive on worker threads, :meth:`take` is called under the scheduler's lock.
    """

    def __init__(self, list_index: int, start: pd.Timestamp | None, end: pd.Timestamp | None,
                 *, page_size: int, max_workers: int,
                 window: Callable[[AccountPlan, Span], WindowChain],
                 info: Callable[[AccountPlan], InfoChain],
                 created: pd.Timestamp | None = None) -> None:
        self.list_index, self.start, self.end = list_index, start, end
        self.page_size, self.max_workers = page_size, max_workers
        self._window, self._info = window, info
        self._lock = threading.Lock()
        self.lo: pd.Timestamp | None = None           # no record is older (a midnight)
        self.lo_known = start is not None or created is not None
        if self.lo_known:
            self.lo = _floor(start if start is not None else created)
        self.state = "probe"          # probe -> old (page 2 awaited) -> windows -> done
        self.moot = False             # the probe chain turned out to hold everything
        self.density, self.last_days = 0.0, 1
        self.cursor: pd.Timestamp | None = None        # next window ends here
        self.top: pd.Timestamp | None = None           # the newest windows end here
        self.mid: pd.Timestamp | None = None           # windows below mid go first
        self.pending: deque[Span] = deque()
        self.outstanding = 0          # windows whose first page has not arrived
        self.info_state = "known" if self.lo_known else "none"   # none, asked, known
        self.blind = 0                # windows sent before the creation date was known
        self.windows = 0              # windows made (for tests and the estimate)
        self.estimate = 0.0           # expected records in the range
        self.oldest: pd.Timestamp | None = None        # page 1's oldest record
        self.empty = False            # an empty window was seen: reach down at once
        self.final: Span | None = None                 # the oldest window, once made

    # ------------------------------------------------------------ pages arriving
    def first_page(self, page: Page, more: bool) -> bool:
        """Page 1 of the whole range; True when the plan takes over (the chain then
        fetches page 2 and stops)."""
        with self._lock:
            span, density = _page_span(page), _density(page)
            if not more or span is None or density is None or not self._splittable(span[0]):
                self.state = "done"
                return False
            self.density = density
            self.last_days = max(1, math.floor(TARGET * self.page_size / density))
            self.top = max(_floor(span[0]), self._lowest_cut())
            if self.end is not None:
                self.top = min(self.top, _floor(self.end - pd.Timedelta(microseconds=1)))
            # pages 1 and 2 should reach about two page spans back
            reach = span[1] - (span[0] - span[1]) - pd.Timedelta(hours=1)
            self.mid = min(max(_floor(reach), self._lowest_cut()), self.top)
            self.cursor = self.mid if self.mid > self._lowest_cut() else None
            self.state, self.oldest = "old", span[1]
            self._estimate(len(page.records))
            return True

    def second_page(self, more: bool) -> None:
        """Page 2 arrived: the last (the chain held everything), or windows go on."""
        with self._lock:
            if not more:
                self.moot, self.state, self.cursor = True, "done", None
                self.pending.clear()
                return
            self.state = "windows"
            self._plan_recent()

    def observe(self, chain: WindowChain, page: Page, more: bool) -> bool:
        """A window's first page; True when the window is split (its chain stops)."""
        with self._lock:
            self.outstanding -= 1
            if chain.skipped:
                return False
            s, e = chain.span
            days = (e - s) / DAY if s is not None and e is not None else None
            if more:
                density = _density(page) or self.density
            elif days:
                density = len(page.records) / days
            else:
                return False
            self.density = density
            if days:
                self.last_days = max(1, int(days))
            if not page.records:
                self.empty = True         # the next window reaches down to the creation
            if not more or e is None or (s is None and self.lo is None):
                return False
            if chain.span == self.final and self.cursor is None:
                return self._reopen(s, e, density)
            return self._split(s, e, density)

    def set_created(self, created: pd.Timestamp | None) -> None:
        with self._lock:
            self.info_state, self.lo_known = "known", True
            self.lo = _floor(created) if created is not None else None
            if self.cursor is not None and self.lo is not None and self.cursor <= self.lo:
                self.cursor = None        # the blind windows already reach the creation
            self._estimate(0)

    # ------------------------------------------------------------ windows out
    @property
    def exhausted(self) -> bool:
        with self._lock:
            planned = self.state == "done" or (self.state == "windows" and self.cursor is None)
            return planned and not self.pending and self.outstanding == 0 \
                and self.info_state != "asked"

    def take(self, n: int) -> list[PageChain]:
        """Up to ``n`` chains to start now."""
        out: list[PageChain] = []
        with self._lock:
            while len(out) < n and self.state in ("old", "windows") and not self.moot:
                if self.pending:
                    out.append(self._make(self.pending.popleft()))
                elif self.info_state == "none":
                    self.info_state = "asked"
                    out.append(self._info(self))
                elif self.cursor is None:
                    break
                elif not self.lo_known and self.blind >= max(1, self.max_workers // 2 - 2):
                    break                 # wait for the creation date before going on
                else:
                    out.append(self._make(self._next_old()))
        return out

    def _make(self, span: Span) -> WindowChain:
        self.outstanding += 1
        self.windows += 1
        if not self.lo_known:
            self.blind += 1
        return self._window(self, span)

    def _next_old(self) -> Span:
        """The next window below ``cursor``: about one page at the latest density, at
        most twice the last window; the oldest one is open below (or starts at start)."""
        if self.density <= 0:
            days = 2 * self.last_days
        else:
            days = min(max(1, math.floor(TARGET * self.page_size / self.density)), 2 * self.last_days)
        lower = self.cursor - days * DAY
        if self.lo_known and (self.lo is None or self.empty or lower <= self._lowest_cut()):
            span, self.cursor = (self.start, self.cursor), None
            self.final = span
            return span
        span, self.cursor, self.last_days = (lower, self.cursor), lower, days
        return span

    def _plan_recent(self) -> None:
        """Page 2 had a next page: windows for ``[mid, end)``, newest first, join the
        ones below ``mid``."""
        self.pending.append((self.top, self.end))
        days = max(1, math.floor(TARGET * self.page_size / self.density)) if self.density else 1
        hi = self.top
        while hi > self.mid:
            lo = max(hi - days * DAY, self.mid)
            self.pending.append((lo, hi))
            hi = lo
        if self.mid <= self._lowest_cut():       # nothing below mid: open the last one
            lo, hi = self.pending.pop()
            self.pending.append((self.start, hi))

    def _reopen(self, s: pd.Timestamp | None, e: pd.Timestamp, density: float) -> bool:
        """The oldest window (down to the start or the creation) proved dense: go on
        below ``e`` window by window at its density, instead of cutting the whole
        stretch at once (most of it may be empty)."""
        bottom = max(self._lowest_cut(), self.lo) if s is None else s
        if density * (e - bottom) / DAY < SPLIT_PAGES * self.page_size:
            return False
        self.cursor, self.empty, self.final = e, False, None
        self.last_days = max(1, math.floor(TARGET * self.page_size / density))
        return True

    def _split(self, s: pd.Timestamp | None, e: pd.Timestamp, density: float) -> bool:
        """Split a dense multi-day window ``[s, e)`` into windows of about a page each
        (newest first); a window open below is cut down to the account's creation day
        and its oldest part stays open below."""
        days = max(1, math.floor(TARGET * self.page_size / density))
        bottom = max(self._lowest_cut(), self.lo) if s is None else s
        if (e - bottom) / DAY <= days or density * (e - bottom) / DAY < SPLIT_PAGES * self.page_size:
            return False
        hi = e
        while hi > bottom:
            lo = max(hi - days * DAY, bottom)
            self.pending.append((lo, hi))
            hi = lo
        if s is None:
            self.pending[-1] = (None, self.pending[-1][1])
        self.empty = False
        return True

    # ------------------------------------------------------------ helpers
    def _lowest_cut(self) -> pd.Timestamp:
        """Cuts lie above this midnight (the start's, or the account's creation day)."""
        if self.start is not None:
            return _ceil(self.start)
        return self.lo if self.lo is not None else _FAR_PAST

    def _splittable(self, newest: pd.Timestamp) -> bool:
        """Some midnight lies strictly inside the range, at or below ``newest``'s day."""
        high = _floor(newest)
        if self.end is not None:
            high = min(high, _floor(self.end - pd.Timedelta(microseconds=1)))
        return high >= self._lowest_cut() and (self.start is None or high > self.start)

    def _estimate(self, seen: int) -> None:
        """Expected records in the range: page 1 plus the density over the older days."""
        if self.lo_known and self.lo is not None and self.density:
            self.estimate = max(self.estimate, seen + self.density * max(
                0.0, (self.oldest - max(self.lo, self.start or self.lo)) / DAY))


_FAR_PAST = pd.Timestamp("1970-01-01", tz="UTC")


class AutoPlan:
    """The plans of several accounts as one :class:`~twilio_frames.fetch.paging.ChainSource`."""

    def __init__(self, plans: list[AccountPlan]) -> None:
        self.plans = plans

    @property
    def exhausted(self) -> bool:
        return all(p.exhausted for p in self.plans)

    def take(self, n: int) -> list[PageChain]:
        out: list[PageChain] = []
        for plan in self.plans:
            if len(out) >= n:
                break
            out += plan.take(n - len(out))
        return out

    @property
    def estimate(self) -> float:
        return sum(p.estimate for p in self.plans)
