"""Attacks on the simulated account: SMS pumping, toll fraud, and an organic campaign.

``Dataset(attacks=N)`` adds ``N`` SMS-pumping episodes, ``N`` toll-fraud episodes and one
organic campaign, each on a random account active through them, as events joined to the
honest ones before the lists are viewed at ``now`` (:mod:`.timeline`), so they move on in
time like the rest: the honest traffic is unchanged, and with ``seed`` and ``start`` fixed
a later ``now`` shows the same episodes. Their accounts and days (15 to 27 days after the
UTC day of ``start``: two weeks of history before each, every record final and priced by
day 30; one account's episodes 4 or more days apart) come from a plan seeded by (seed,
start day); each episode is drawn from its own day stream
(:class:`~.generate_times.DayStreams`). The ground truth is ``Dataset.attacks``, a
DataFrame with one row per injected episode.

Shapes are drawn from ranges, following reference/fraud-and-rebilling.md §1-§2:

* ``sms_pumping``: 150-1500 outbound SMS over 0.5-8 hours at any hour, to consecutive
  numbers (step 1-2) in a country the account never texted (KE, NG, ID, VN, LK), 5-40%
  delivered, the rest undelivered (30003, 30005, 30006, 30008) or failed (30007, 30450).
* ``toll_fraud``: 30-300 outbound-api calls over 1-10 hours at night in the account's
  time, to consecutive satellite numbers (+881 or +882), completed, 15-70 s each.
* ``organic_campaign``: 1000-4000 outbound SMS over 2-6 business hours to fresh,
  scattered mobile numbers in the account's home country, delivered like the account's
  usual traffic. It is *not* fraud: a detector should leave it alone.

Every record obeys the simulator's rules: prices from ``data/prices.csv`` (rows marked
illustrative for the attack destinations), the failed-message fee except for exempt
codes, and Usage Records derived from the same columns.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import phonenumbers

from .generate_messages import FEE_EXEMPT, MS, MD
from .generate_numbers import display, draw_numbers
from . import timeline
from .generate_times import DayStreams, sid_parts
from .pricing import COUNTRIES, NULL_PRICE, _convert, _read_csv

__all__ = ["attack_events", "join_events", "attack_prices", "PUMP_PLANS", "TOLL_PLANS",
           "ATTACK_COLUMNS"]

#: Pumped countries: national prefix and digits after it (libphonenumber-valid mobiles).
PUMP_PLANS = {"KE": ("+2547", 8), "NG": ("+234803", 7), "ID": ("+62812", 8),
              "VN": ("+8491", 7), "LK": ("+9477", 7)}
#: Satellite and international-network ranges (country 001 in libphonenumber).
TOLL_PLANS = {"+881": ("+8816", 8), "+882": ("+88213", 7)}
ATTACK_COLUMNS = ("kind", "account_sid", "start", "end", "country", "prefix", "count",
                  "currency", "cost_micros")
_ST_COMPLETED = 3
_DAY = 86400
_NEVER = np.iinfo(np.int64).max
#: DayStreams stream numbers: the plan (keyed by the start day), then episode k of kind
#: i (0 pump, 1 toll, 2 campaign) on its own day: ``_STREAM + 3 * k + i``.
_PLAN, _STREAM = 1300, 1301
#: Episodes start on these UTC days after the day of ``start``: 14+ days of history before
#: each, and every record final and priced by day 30; one account's episodes are at least
#: ``_GAP`` days apart (while there is room), so that no two of them run together.
_FIRST, _LAST, _GAP = 15, 27, 4


def attack_prices(currency: str) -> dict[tuple[str, str], int]:
    """(product, country) -> micro-units, for prices.csv rows outside ``COUNTRIES``."""
    table = {r["currency"]: r for r in _read_csv("currencies.csv")}[currency]
    rate, places = Decimal(table["units_per_usd"]), int(table["places"])
    return {(r["product"], r["country"]): _convert(r["price_usd"], rate, places)
            for r in _read_csv("prices.csv") if r["country"] and r["country"] not in COUNTRIES}


def _day_generator(seed: int, stream: int, day: int) -> np.random.Generator:
    """The generator of ``day`` in :class:`~.generate_times.DayStreams` ``(seed, stream)``."""
    return DayStreams(seed, stream, [day]).per_day(lambda g, _: g)[0]


def _run(rng, head: str, digits: int, n: int, step: int) -> list[str]:
    """``n`` numbers from a valid random start, ``step`` apart."""
    for _ in range(1000):
        first = int(rng.integers(10 ** (digits - 1), 10 ** digits - n * step))
        if phonenumbers.is_valid_number(phonenumbers.parse(f"{head}{first}", None)):
            break
    return [f"{head}{first + k * step}" for k in range(n)]


def _add_parties(ds, numbers: list[str]) -> np.ndarray:
    """Append remote parties; returns their indices."""
    p = ds.parties
    start = len(p.value)
    p.value = np.concatenate([p.value, np.array(numbers)])
    p.value_list = p.value.tolist()
    p.formatted = p.formatted + [display(x) for x in numbers]
    p.country = np.concatenate([p.country, np.full(len(numbers), -1, np.int8)])
    p.ntype = np.concatenate([p.ntype, np.ones(len(numbers), np.int8)])
    return np.arange(start, start + len(numbers), dtype=np.int32)


def _own(ds, account: int, cap: int) -> int:
    return next(i for i, x in enumerate(ds.numbers) if x.account == account and x.caps[cap])


def _times(rng, t0: int, hours: float, n: int) -> np.ndarray:
    return np.sort(t0 + (rng.random(n) * hours * 3600).astype(np.int64))


def _messages(rng, ds, acct, own, to, t, delivered: float, rate: int) -> dict:
    """Outbound SMS events (one segment each), priced by the simulator's rules."""
    n = len(t)
    ok = rng.random(n) < delivered
    failed = ~ok & (rng.random(n) < 0.3)
    status = np.where(ok, MS["delivered"], np.where(failed, MS["failed"], MS["undelivered"]))
    error = np.where(ok, 0, np.where(failed, rng.choice([30007, 30450], n),
                                     rng.choice([30003, 30005, 30006, 30008], n)))
    sent = np.where(failed, -1, t + rng.integers(1, 6, n))
    final_at = np.where(sent >= 0, sent, t) + rng.integers(2, 60, n)
    fee = failed & ~np.isin(error, FEE_EXEMPT)
    price = np.where(~failed, -rate, np.where(fee, -ds.prices.failed_fee, NULL_PRICE))
    leaf = np.where(~failed, 1, np.where(fee, 4, -1)).astype(np.int8)
    short = [i for i, b in enumerate(ds.bodies) if len(b) < 60] or [0]
    hi, lo = sid_parts(rng, n)
    return dict(acct=np.full(n, acct, np.int16), direction=np.full(n, MD["outbound-api"], np.int8),
                status=status.astype(np.int8), frm=np.full(n, own, np.int32),
                to=np.asarray(to, np.int32), created=t, sent=sent, final_at=final_at,
                price_at=np.where(price != NULL_PRICE, final_at + rng.integers(5, 900, n),
                                  _NEVER),
                body=rng.choice(short, n).astype(np.int32), segments=np.ones(n, np.int16),
                media=np.zeros(n, np.int8), mms=np.zeros(n, bool), error=error.astype(np.int32),
                price=price.astype(np.int64), leaf=leaf,
                units=np.where(leaf >= 0, 1, 0).astype(np.int64),
                service=np.full(n, -1, np.int8), day_t=np.where(sent >= 0, sent, t),
                sid_hi=hi, sid_lo=lo)


def _calls(rng, ds, acct, own, to, t, rate: int) -> dict:
    """Completed outbound-api call events, 15-70 s, priced per started minute."""
    n = len(t)
    dur = rng.integers(15, 71, n).astype(np.int64)
    minutes = np.maximum(1, -(-dur // 60))
    queue = rng.integers(0, 3000, n)
    hi, lo = sid_parts(rng, n)
    return dict(acct=np.full(n, acct, np.int16), parent=np.full(n, -1, np.int64),
                kind=np.full(n, 3, np.int8), direction=np.ones(n, np.int8),
                status=np.full(n, _ST_COMPLETED, np.int8), frm=np.full(n, own, np.int32),
                to=np.asarray(to, np.int32), own=np.full(n, own, np.int32), start=t,
                end=t + dur, created=t - (queue + 999) // 1000, duration=dur,
                minutes=minutes, price=-minutes * rate,
                price_at=t + dur + rng.integers(30, 600, n), leaf=np.full(n, 3, np.int8),
                answered_by=np.zeros(n, np.int8), queue_ms=queue.astype(np.int32),
                sid_hi=hi, sid_lo=lo)


def _truth(kind, ds, acct, t, end, country, prefix, cols) -> dict:
    priced = cols["price"] != NULL_PRICE
    return {"kind": kind, "account_sid": str(ds.account_sids[acct]),
            "start": int(t.min()), "end": int(end.max()), "country": country,
            "prefix": prefix, "count": len(t), "currency": ds.currency,
            "cost_micros": int(-cols["price"][priced].sum())}


def _eligible(ds, cap: int) -> list[int]:
    """Accounts active past the last episode day, with a number of capability ``cap``."""
    until = ds.window_start + (_LAST + 2) * _DAY
    return [a.index for a in ds._acc if a.active_until >= until
            and any(x.account == a.index and x.caps[cap] for x in ds.numbers)]


def _when(rng, ds, day: int, account: int, night: bool | None) -> int:
    """A start on UTC ``day``: at any hour, at night (0-4) or in business hours (13-16),
    the account's local time."""
    if night is None:
        hour = rng.uniform(0, 24)
    else:
        hour = (rng.uniform(0, 4) if night else rng.uniform(13, 16)) - ds._acc[account].tz_hours
    return int(day * _DAY + (hour % 24) * 3600)


def _pump(rng, ds, acct, day, prices) -> tuple[dict, dict]:
    country = str(rng.choice(sorted(PUMP_PLANS)))
    n, hours = int(rng.integers(150, 1501)), float(rng.uniform(0.5, 8))
    head, digits = PUMP_PLANS[country]
    numbers = _run(rng, head, digits, n, int(rng.integers(1, 3)))
    t = _times(rng, _when(rng, ds, day, acct, None), hours, n)
    cols = _messages(rng, ds, acct, _own(ds, acct, 1), _add_parties(ds, numbers), t,
                     float(rng.uniform(0.05, 0.4)), prices[("sms-outbound", country)])
    return cols, _truth("sms_pumping", ds, acct, t, t, country, head, cols)


def _toll(rng, ds, acct, day, prices) -> tuple[dict, dict]:
    head, digits = TOLL_PLANS[str(rng.choice(sorted(TOLL_PLANS)))]
    n, hours = int(rng.integers(30, 301)), float(rng.uniform(1, 10))
    numbers = _run(rng, head, digits, n, 1)
    t = _times(rng, _when(rng, ds, day, acct, True), hours, n)
    cols = _calls(rng, ds, acct, _own(ds, acct, 0), _add_parties(ds, numbers), t,
                  prices[("voice-outbound", "001")])
    return cols, _truth("toll_fraud", ds, acct, t, cols["end"], "001", head, cols)


def _campaign(rng, ds, acct, day, prices) -> tuple[dict, dict]:
    own = _own(ds, acct, 1)
    ci = int(ds.parties.country[own])
    n, hours = int(rng.integers(1000, 4001)), float(rng.uniform(2, 6))
    numbers = draw_numbers(rng, COUNTRIES[ci], "mobile", n, set(ds.parties.value_list))
    t = _times(rng, _when(rng, ds, day, acct, False), hours, n)
    cols = _messages(rng, ds, acct, own, _add_parties(ds, numbers), t, 0.93,
                     int(ds.prices.sms_out[ci]))
    return cols, _truth("organic_campaign", ds, acct, t, t, COUNTRIES[ci], "", cols)


def _place(plan, eligible: list[int], taken: dict[int, list[int]]) -> tuple[int, int]:
    """(account, day after the start day) of an episode, drawn among the pairs at least
    ``_GAP`` days from that account's other episodes (or, with no such pair, as far as
    any pair gets)."""
    days = np.arange(_FIRST, _LAST + 1)
    room = {a: np.min([np.abs(days - e) for e in taken.get(a, [])] or [days * 0 + _GAP],
                      axis=0) for a in eligible}
    best = min(_GAP, max(int(r.max()) for r in room.values()))
    pairs = [(a, int(d)) for a in eligible for d in days[room[a] >= best]]
    acct, day = pairs[int(plan.integers(len(pairs)))]
    taken.setdefault(acct, []).append(day)
    return acct, day


def _events(ds, parts: list[dict]) -> tuple[dict, np.ndarray] | None:
    if not parts:
        return None
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return cols, ds._history(cols["acct"], cols["created"])


def attack_events(ds, attacks: int) -> tuple[dict, pd.DataFrame]:
    """``attacks`` pumping and toll-fraud episodes and one organic campaign as events.

    Returns ``{"calls": events or None, "messages": events or None}`` (each ``(columns,
    history mask)``, to :func:`join_events` before the view at ``now``) and the ground
    truth (the empty frame when ``attacks`` is 0). Nothing depends on ``now``: accounts
    and days come from a plan seeded by (seed, the day of ``start``), each episode from its
    own day stream, so a later ``now`` shows the same episodes.
    """
    if attacks < 0 or int(attacks) != attacks:
        raise ValueError(f"attacks must be a whole number >= 0, got {attacks!r}")
    rows, out = [], {"calls": [], "messages": []}
    if attacks and ds.days < 30:
        raise ValueError(f"attacks need a longer window (days={ds.days:g}); use days >= 30, "
                         "so every episode has two weeks of history before it")
    if attacks:
        first = ds.window_start // _DAY
        plan = _day_generator(ds.seed, _PLAN, first)
        prices = attack_prices(ds.currency)
        kinds = [(0, _pump, "messages", 1), (1, _toll, "calls", 0),
                 (2, _campaign, "messages", 1)]        # (stream offset, maker, list, capability)
        taken: dict[int, list[int]] = {}
        for k in range(int(attacks)):
            for i, make, into, cap in kinds[:2] + (kinds[2:] if k == 0 else []):
                acct, day = _place(plan, _eligible(ds, cap), taken)
                day += first
                cols, truth = make(_day_generator(ds.seed, _STREAM + 3 * k + i, day), ds,
                                   acct, day, prices)
                out[into].append(cols)
                rows.append(truth)
    truth = pd.DataFrame(rows, columns=list(ATTACK_COLUMNS))
    for col in ("start", "end"):
        truth[col] = pd.to_datetime(truth[col].astype("int64"), unit="s", utc=True
                                    ).dt.as_unit("us")
    truth["cost_micros"] = truth["cost_micros"].astype("Int64")
    return {k: _events(ds, v) for k, v in out.items()}, truth


def join_events(events: tuple[dict, np.ndarray], extra: tuple[dict, np.ndarray] | None
                ) -> tuple[dict, np.ndarray]:
    """``events`` with the attack events of the same resource (cast to its dtypes) joined
    after them (:func:`.timeline.join`)."""
    if extra is None:
        return events
    cols, keep = extra
    like = events[0]
    return timeline.join(events, ({k: v.astype(like[k].dtype) if k in like else v
                                   for k, v in cols.items()}, keep))
