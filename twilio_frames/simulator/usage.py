"""Usage Records derived from the dataset's own events, exactly (integer micro-units).

Every priced event goes into exactly one *leaf* category; the other categories are sums of
leaves (rollups). Leaves are aggregated once into an ``int64`` cube
``[account, UTC day, leaf]`` for count, usage and price; a query sums the cube over the
accounts in scope, then over each period. The rules are written out in ``data/README.md``.
"""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np

from .closing import deleted_by, deleted_recordings, last_rental_day
from .enums import USAGE_SUBRESOURCES
from .pricing import NULL_PRICE, format_amount

__all__ = ["LEAVES", "CATEGORIES", "UsageCube", "build_cube", "empty_cube", "add_traffic",
           "stored_minutes", "finish_cube", "FREE_STORAGE_MINUTES",
           "day_number", "day_date"]

LEAVES = ("calls-inbound-local", "calls-inbound-mobile", "calls-inbound-tollfree",
          "calls-outbound", "calls-client", "sms-inbound", "sms-outbound", "mms-inbound",
          "mms-outbound", "failed-message-processing-fee", "recordings", "recordingstorage",
          "phonenumbers-local", "phonenumbers-mobile", "phonenumbers-tollfree")
_ROLLUPS = {
    "calls-inbound": LEAVES[0:3], "calls": LEAVES[0:4], "sms": LEAVES[5:7],
    "mms": LEAVES[7:9], "phonenumbers": LEAVES[12:15], "totalprice": LEAVES,
}
#: category -> (description, count_unit, usage_unit); totalprice's usage_unit is the currency.
META = {
    "calls": ("Voice Minutes", "calls", "minutes"),
    "calls-client": ("Client Calls", "calls", "minutes"),
    "calls-inbound": ("Inbound Voice Minutes", "calls", "minutes"),
    "calls-inbound-local": ("Inbound Local Calls", "calls", "minutes"),
    "calls-inbound-mobile": ("Inbound Mobile Calls", "calls", "minutes"),
    "calls-inbound-tollfree": ("Inbound Toll Free Calls", "calls", "minutes"),
    "calls-outbound": ("Outbound Voice Minutes", "calls", "minutes"),
    "failed-message-processing-fee": ("Failed Message Processing Fee", "messages",
                                      "messages"),
    "mms": ("MMS", "messages", "messages"),
    "mms-inbound": ("Inbound MMS", "messages", "messages"),
    "mms-outbound": ("Outbound MMS", "messages", "messages"),
    "phonenumbers": ("Phone Numbers", "numbers", "numbers"),
    "phonenumbers-local": ("Local Phone Numbers", "numbers", "numbers"),
    "phonenumbers-mobile": ("Mobile Phone Numbers", "numbers", "numbers"),
    "phonenumbers-tollfree": ("Toll Free Phone Numbers", "numbers", "numbers"),
    "recordings": ("Recordings", "recordings", "minutes"),
    "recordingstorage": ("Recording Storage", "recordings", "minutes"),
    "sms": ("SMS Messages", "messages", "messages"),
    "sms-inbound": ("Inbound SMS Messages", "messages", "messages"),
    "sms-outbound": ("Outbound SMS Messages", "messages", "messages"),
    "totalprice": ("Total Price", "", ""),
}
CATEGORIES = tuple(sorted(META))
FREE_STORAGE_MINUTES = 10_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def day_number(d: date) -> int:
    """Days since 1970-01-01 of a date."""
    return d.toordinal() - _EPOCH_ORDINAL


def day_date(n: int) -> date:
    """The date of a day number."""
    return date.fromordinal(int(n) + _EPOCH_ORDINAL)


def _matrix() -> np.ndarray:
    m = np.zeros((len(CATEGORIES), len(LEAVES)), np.int64)
    for i, cat in enumerate(CATEGORIES):
        for leaf in _ROLLUPS.get(cat, (cat,)):
            m[i, LEAVES.index(leaf)] = 1
    return m


class UsageCube:
    """Leaf totals per account, day and leaf, with rollups and range sums on demand."""

    def __init__(self, n_accounts: int, first_day: int, last_day: int):
        self.first_day, self.last_day = first_day, last_day
        self.n_days = last_day - first_day + 1
        shape = (n_accounts, self.n_days, len(LEAVES))
        self.count = np.zeros(shape, np.int64)
        self.usage = np.zeros(shape, np.int64)
        self.price = np.zeros(shape, np.int64)
        self._matrix = _matrix()
        self._cumsum: dict[tuple[int, ...], np.ndarray] = {}

    def add(self, acct, day, leaf, count, usage, price) -> None:
        """Add events (arrays; ``price`` positive micro-units) to the cube."""
        day = np.asarray(day, np.int64)
        ok = (day >= self.first_day) & (day <= self.last_day)

        def col(values):
            return np.broadcast_to(np.asarray(values, np.int64), day.shape)[ok]

        idx = (col(acct), day[ok] - self.first_day, col(leaf))
        for arr, values in ((self.count, count), (self.usage, usage), (self.price, price)):
            np.add.at(arr, idx, col(values))

    def cumulative(self, accounts: tuple[int, ...]) -> np.ndarray:
        """``[3, n_days + 1, n_categories]`` running sums (count, usage, price) for a scope."""
        if accounts not in self._cumsum:
            per = np.stack([a[list(accounts)].sum(axis=0) for a in
                            (self.count, self.usage, self.price)])        # [3, day, leaf]
            cats = per @ self._matrix.T                                   # [3, day, cat]
            zero = np.zeros((3, 1, len(CATEGORIES)), np.int64)
            self._cumsum[accounts] = np.concatenate([zero, np.cumsum(cats, axis=1)], axis=1)
        return self._cumsum[accounts]

    def totals(self, accounts: tuple[int, ...], first: int, last: int) -> np.ndarray:
        """``[3, n_categories]`` sums over days ``first..last`` (day numbers, inclusive)."""
        lo = min(max(first, self.first_day), self.last_day + 1) - self.first_day
        hi = max(min(last, self.last_day), self.first_day - 1) - self.first_day + 1
        cs = self.cumulative(accounts)
        if hi <= lo:
            return np.zeros((3, len(CATEGORIES)), np.int64)
        return cs[:, hi] - cs[:, lo]


def _months(first: date, last: date, step: int) -> list[tuple[date, date]]:
    """Calendar months (step 1) or years (step 12) overlapping first..last, clipped."""
    out, cur = [], date(first.year, first.month if step == 1 else 1, 1)
    while cur <= last:
        if step == 1:
            end = date(cur.year, cur.month, calendar.monthrange(cur.year, cur.month)[1])
        else:
            end = date(cur.year, 12, 31)
        out.append((max(cur, first), min(end, last)))
        cur = date(end.year + (end.month == 12), end.month % 12 + 1, 1)
    return out


def periods(subresource: str | None, today: date, start: date | None, end: date | None,
            created: date) -> list[tuple[date, date]]:
    """The (start, end) date pairs a Usage Records query returns records for."""
    if subresource == "today":
        return [(today, today)]
    if subresource == "yesterday":
        y = day_date(day_number(today) - 1)
        return [(y, y)]
    if subresource == "this_month":
        return [(today.replace(day=1), today)]
    if subresource == "last_month":
        last = day_date(day_number(today.replace(day=1)) - 1)
        return [(last.replace(day=1), last)]
    first = max(start or created, created)
    last = min(end or today, today)
    if first > last:
        return []
    if subresource == "daily":
        return [(day_date(d), day_date(d)) for d in range(day_number(first),
                                                          day_number(last) + 1)]
    if subresource in ("monthly", "yearly"):
        return _months(first, last, 1 if subresource == "monthly" else 12)
    if subresource in (None, "all_time"):
        return [(first, last)]
    raise ValueError(f"unknown usage subresource {subresource!r}")


def record(account_sid: str, subresource: str | None, category: str, first: date,
           last: date, values: np.ndarray, currency: str, as_of: str) -> dict:
    """One JSON-equivalent UsageRecord (fields in the spec's order)."""
    base = f"/2010-04-01/Accounts/{account_sid}/Usage/Records"
    seg = f"/{USAGE_SUBRESOURCES[subresource]}" if subresource else ""
    desc, count_unit, usage_unit = META[category]
    price = format_amount(int(values[2]))
    total = category == "totalprice"
    unit = currency.lower()
    return {
        "account_sid": account_sid, "api_version": "2010-04-01", "as_of": as_of,
        "category": category, "count": None if total else str(int(values[0])),
        "count_unit": count_unit, "description": desc, "end_date": last.isoformat(),
        "price": price, "price_unit": unit, "start_date": first.isoformat(),
        "subresource_uris": {k: f"{base}/{v}.json?Category={category}"
                             for k, v in sorted(USAGE_SUBRESOURCES.items())},
        "uri": f"{base}{seg}.json?Category={category}&StartDate={first.isoformat()}"
               f"&EndDate={last.isoformat()}",
        "usage": price if total else str(int(values[1])),
        "usage_unit": unit if total else usage_unit,
    }


def build_cube(ds) -> UsageCube:
    """Aggregate the dataset's priced events into a :class:`UsageCube` (see README)."""
    cube = empty_cube(ds)
    add_traffic(cube, ds.calls, ds.messages, ds.recordings)
    return finish_cube(cube, ds, stored_minutes(cube, ds.recordings, ds))


def empty_cube(ds) -> UsageCube:
    """The cube of the dataset's accounts, from the first account's creation to today."""
    first = min(a.created for a in ds._acc) // 86400
    return UsageCube(len(ds._acc), first, int(ds.now.timestamp()) // 86400)


def add_traffic(cube: UsageCube, calls: dict, messages: dict, recordings: dict) -> None:
    """Add the priced calls, messages and recordings (served columns at ``now``; any
    part of the lists, so a history can be added a few days at a time)."""
    c = calls
    ok = c["price"] != NULL_PRICE
    cube.add(c["acct"][ok], c["start"][ok] // 86400, c["leaf"][ok], 1, c["minutes"][ok],
             -c["price"][ok])
    m = messages
    ok = m["price"] != NULL_PRICE
    cube.add(m["acct"][ok], m["day_t"][ok] // 86400, 5 + m["leaf"][ok], 1, m["units"][ok],
             -m["price"][ok])
    r = recordings
    ok = r["price"] != NULL_PRICE
    cube.add(r["acct"][ok], r["created"][ok] // 86400, LEAVES.index("recordings"), 1,
             r["minutes"][ok], -r["price"][ok])


def stored_minutes(cube: UsageCube, recordings: dict, ds) -> np.ndarray:
    """``[4, n_days]``: recordings completed (processed) on each day of the cube and
    their minutes, then the same for those a closed subaccount's deletion removes
    (:func:`.closing.deleted_recordings`); sums over parts of the lists are the whole
    lists'."""
    r = recordings
    done = r["status"] == 0
    day = r["done_at"][done] // 86400 - cube.first_day
    minutes = -(-r["duration"][done] // 60)
    gone = deleted_recordings(ds, r["acct"][done])
    return np.stack([np.bincount(day, minlength=cube.n_days),
                     np.bincount(day, weights=minutes, minlength=cube.n_days),
                     np.bincount(day, weights=gone, minlength=cube.n_days),
                     np.bincount(day, weights=minutes * gone, minlength=cube.n_days)]
                    ).astype(np.int64)[:, :cube.n_days]


def finish_cube(cube: UsageCube, ds, stored: np.ndarray) -> UsageCube:
    """Add the number rentals and the recording storage (``stored``: the sum of
    :func:`stored_minutes` over the lists) to a cube of the whole traffic."""
    today = cube.last_day
    _add_rentals(cube, ds, today)
    _add_storage(cube, ds, today, stored)
    return cube


def _add_rentals(cube: UsageCube, ds, today: int) -> None:
    """Each number: its monthly price on its purchase day and each monthly anniversary."""
    rows = []
    for x in ds.numbers:
        bought = day_date(x.created // 86400)
        ti = ("local", "mobile", "toll-free").index(x.ntype)
        rate = int(ds.prices.rental[("US", "CA", "GB", "DE", "FR", "AU", "BR", "JP")
                                    .index(x.country), ti])
        k = 0
        while True:
            y, mth = bought.year + (bought.month - 1 + k) // 12, (bought.month - 1 + k) % 12 + 1
            d = day_number(date(y, mth, min(bought.day, calendar.monthrange(y, mth)[1])))
            if d > last_rental_day(ds, x.account, today):
                break
            rows.append((x.account, d, LEAVES.index("phonenumbers-local") + ti, rate))
            k += 1
    if rows:
        a = np.array(rows, np.int64)
        cube.add(a[:, 0], a[:, 1], a[:, 2], 1, 1, a[:, 3])


def _add_storage(cube: UsageCube, ds, today: int, stored: np.ndarray) -> None:
    """Recording storage on the master, on the last day of each closed calendar month: the
    recordings completed (processed) before the month's end, as stored then."""
    cum = np.cumsum(stored, axis=1)
    leaf = LEAVES.index("recordingstorage")
    for _, last in _months(day_date(cube.first_day), day_date(today), 1):
        end = day_number(last)
        if end >= today or last.day != calendar.monthrange(last.year, last.month)[1]:
            continue
        n, minutes, gone_n, gone_min = (int(v) for v in cum[:, end - cube.first_day])
        if deleted_by(ds, (end + 1) * 86400):        # a closed subaccount's, deleted by then
            n, minutes = n - gone_n, minutes - gone_min
        price = max(0, minutes - FREE_STORAGE_MINUTES) * ds.prices.storage
        cube.add([0], [end], [leaf], n, minutes, price)
