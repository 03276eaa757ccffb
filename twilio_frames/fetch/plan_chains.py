"""The chains of an automatic plan (:mod:`twilio_frames.fetch.plan`) and what they read.

:class:`ProbeChain` is the whole range of one account and tells the plan about its
first two pages; :class:`WindowChain` is one window (its first page feeds the plan);
:class:`InfoChain` asks for the account itself (its creation date bounds its history);
:class:`UsageChain` for its daily usage counts (:mod:`twilio_frames.fetch.plan_map`).
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import ParseError, TwilioFramesError
from .paging import PageChain
from .parse import Page, _load_json
from .xmlsafe import fields, load_twilio_xml, snake_case

if TYPE_CHECKING:
    from .plan import AccountPlan

__all__ = ["ProbeChain", "WindowChain", "InfoChain", "UsageChain", "parse_account", "record_time",
           "page_span", "page_density", "expected_pages", "DAY", "Span"]

DAY = pd.Timedelta(days=1)
#: The shortest page span used for a density (a page of records from one second
#: would otherwise give an infinite density).
MIN_SPAN_DAYS = 1 / 24
Span = tuple[pd.Timestamp | None, pd.Timestamp | None]

def expected_pages(predicted: float, page_size: int) -> int:
    """Pages a window expected to hold ``predicted`` records takes (at least one)."""
    return max(1, math.ceil(predicted / page_size))


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


def page_span(page: Page) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """(newest, oldest) ``date_created`` of a page served newest first."""
    if not page.records:
        return None
    newest, oldest = record_time(page.records[0]), record_time(page.records[-1])
    if newest is None or oldest is None or oldest > newest:
        return None
    return newest, oldest


def page_density(page: Page) -> float | None:
    """Records per day of a full page, from its span."""
    span = page_span(page)
    if span is None:
        return None
    days = max((span[0] - span[1]) / DAY, MIN_SPAN_DAYS)
    return len(page.records) / days


class ProbeChain(PageChain):
    """The whole range of one account; tells its plan about pages 1 and 2 (page 2 goes
    out before the plan's windows: a list of two pages ends in two rounds)."""

    eager = True
    early_next = False                       # its second page may end it (see follow)

    def __init__(self, plan: AccountPlan, base_url: str, first_url: str) -> None:
        super().__init__(base_url, first_url)
        self.plan, self.list_index, self.pages, self.planned = plan, plan.list_index, 0, False

    def follow(self, page: Page) -> str | None:
        url = super().follow(page)
        self.pages += 1
        if self.pages == 1:
            self.planned = self.plan.first_page(page, url is not None)
            if self.planned == "stop":
                return None                  # a usage map planned every window
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
        self._fetch, self.skipped, self.stretch = fetch, False, None
        #: Records a usage map expected in the window (None: planned without a map).
        self.predicted: float | None = None
        self.fetched = 0                      # pages followed so far

    @property
    def early_next(self) -> bool:     # noqa: D102 - see PageChain.early_next
        # a first page planned without a map is often split (observe): no early next
        return not self.first or self.predicted is not None

    def level(self) -> int:
        """The map's expected pages of the window less those fetched (at least 1)."""
        if self.predicted is None:
            return 1
        return max(1, expected_pages(self.predicted, self.plan.page_size) - self.fetched)

    def fetch(self, url: str) -> Page:        # noqa: D102 - see PageChain.fetch
        if self.first and self.plan.moot:
            self.skipped = True
            return Page([])
        return self._fetch(url)

    def follow(self, page: Page) -> str | None:
        url = super().follow(page)
        self.fetched += 1
        if self.first:
            self.first = False
            if self.plan.observe(self, page, url is not None):
                return None                   # split: its days come as smaller windows
        return url


class InfoChain(PageChain):
    """``GET /Accounts/{sid}``: the account's creation date bounds its history."""

    list_index = None
    early_next = False

    def __init__(self, plan: AccountPlan, url: str, fetch: Callable[[str], Page]) -> None:
        super().__init__(url, url)
        self.plan, self.fetch = plan, fetch

    def follow(self, page: Page) -> str | None:
        self.plan.set_created(record_time(page.records[0]) if page.records else None)
        return None


class UsageChain(PageChain):
    """``GET .../Usage/Records/Daily``: the usage map of :mod:`~twilio_frames.fetch.plan_map`.

    A hint only: any library error (a 403 on a subaccount, a 404, a 5xx or 429 past the
    retries, an unreadable body) gives the plan no map instead of failing the fetch."""

    list_index = None
    early_next = False

    def __init__(self, plan: AccountPlan, url: str, fetch: Callable[[str], Page],
                 counts: Callable[[Page], Any]) -> None:
        super().__init__(url, url)
        self.plan, self._fetch, self._counts, self.failed = plan, fetch, counts, None

    def fetch(self, url: str) -> Page:        # noqa: D102 - see PageChain.fetch
        try:
            return self._fetch(url)
        except TwilioFramesError as exc:
            self.failed = exc
            return Page([])

    def follow(self, page: Page) -> str | None:
        self.plan.set_usage(None if self.failed is not None else self._counts(page))
        return None
