"""Attacks on the simulated account: SMS pumping, toll fraud, and an organic campaign.

``Dataset(attacks=N)`` adds, with its own seeded stream (the rest of the data is
unchanged), ``N`` SMS-pumping episodes, ``N`` toll-fraud episodes and one organic
campaign, each on a random active account in the second half of the window (so each has
history before it) and at least a day before ``now`` (so every record is priced). The
ground truth is ``Dataset.attacks``, a DataFrame with one row per injected episode.

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
from .generate_times import format_sids, sid_parts
from .pricing import COUNTRIES, NULL_PRICE, _convert, _read_csv

__all__ = ["inject_attacks", "attack_prices", "PUMP_PLANS", "TOLL_PLANS", "ATTACK_COLUMNS"]

#: Pumped countries: national prefix and digits after it (libphonenumber-valid mobiles).
PUMP_PLANS = {"KE": ("+2547", 8), "NG": ("+234803", 7), "ID": ("+62812", 8),
              "VN": ("+8491", 7), "LK": ("+9477", 7)}
#: Satellite and international-network ranges (country 001 in libphonenumber).
TOLL_PLANS = {"+881": ("+8816", 8), "+882": ("+88213", 7)}
ATTACK_COLUMNS = ("kind", "account_sid", "start", "end", "country", "prefix", "count",
                  "currency", "cost_micros")
_ST_COMPLETED = 3
_DAY = 86400


def attack_prices(currency: str) -> dict[tuple[str, str], int]:
    """(product, country) -> micro-units, for prices.csv rows outside ``COUNTRIES``."""
    table = {r["currency"]: r for r in _read_csv("currencies.csv")}[currency]
    rate, places = Decimal(table["units_per_usd"]), int(table["places"])
    return {(r["product"], r["country"]): _convert(r["price_usd"], rate, places)
            for r in _read_csv("prices.csv") if r["country"] and r["country"] not in COUNTRIES}


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
    """Outbound SMS columns (one segment each), priced by the simulator's rules."""
    n = len(t)
    ok = rng.random(n) < delivered
    failed = ~ok & (rng.random(n) < 0.3)
    status = np.where(ok, MS["delivered"], np.where(failed, MS["failed"], MS["undelivered"]))
    error = np.where(ok, 0, np.where(failed, rng.choice([30007, 30450], n),
                                     rng.choice([30003, 30005, 30006, 30008], n)))
    sent = np.where(failed, -1, t + rng.integers(1, 6, n))
    updated = np.where(sent >= 0, sent, t) + rng.integers(2, 60, n)
    fee = failed & ~np.isin(error, FEE_EXEMPT)
    price = np.where(~failed, -rate, np.where(fee, -ds.prices.failed_fee, NULL_PRICE))
    leaf = np.where(~failed, 1, np.where(fee, 4, -1)).astype(np.int8)
    short = [i for i, b in enumerate(ds.bodies) if len(b) < 60] or [0]
    return dict(acct=np.full(n, acct, np.int16), direction=np.full(n, MD["outbound-api"], np.int8),
                status=status.astype(np.int8), frm=np.full(n, own, np.int32),
                to=np.asarray(to, np.int32), created=t, sent=sent, updated=updated,
                body=rng.choice(short, n).astype(np.int32), segments=np.ones(n, np.int16),
                media=np.zeros(n, np.int8), mms=np.zeros(n, bool), error=error.astype(np.int32),
                price=price.astype(np.int64), leaf=leaf,
                units=np.where(leaf >= 0, 1, 0).astype(np.int64),
                service=np.full(n, -1, np.int8), day_t=np.where(sent >= 0, sent, t))


def _calls(rng, ds, acct, own, to, t, rate: int) -> dict:
    """Completed outbound-api calls, 15-70 s, priced per started minute."""
    n = len(t)
    dur = rng.integers(15, 71, n).astype(np.int64)
    minutes = np.maximum(1, -(-dur // 60))
    queue = rng.integers(0, 3000, n)
    return dict(acct=np.full(n, acct, np.int16), parent=np.full(n, -1, np.int64),
                kind=np.full(n, 3, np.int8), direction=np.ones(n, np.int8),
                status=np.full(n, _ST_COMPLETED, np.int8), frm=np.full(n, own, np.int32),
                to=np.asarray(to, np.int32), own=np.full(n, own, np.int32), start=t,
                end=t + dur, created=t - (queue + 999) // 1000,
                updated=t + dur + rng.integers(30, 600, n), duration=dur,
                minutes=minutes, price=-minutes * rate, leaf=np.full(n, 3, np.int8),
                answered_by=np.zeros(n, np.int8), queue_ms=queue.astype(np.int32))


def _truth(kind, ds, acct, t, end, country, prefix, cols) -> dict:
    priced = cols["price"] != NULL_PRICE
    return {"kind": kind, "account_sid": str(ds.account_sids[acct]),
            "start": int(t.min()), "end": int(end.max()), "country": country,
            "prefix": prefix, "count": len(t), "currency": ds.currency,
            "cost_micros": int(-cols["price"][priced].sum())}


def _eligible(ds, cap: int) -> list[int]:
    now = int(ds.now.timestamp())
    return [a.index for a in ds._acc if a.active_until >= now
            and any(x.account == a.index and x.caps[cap] for x in ds.numbers)]


def _when(rng, ds, account: int, hours: float, night: bool | None) -> int:
    """A start in the second half of the window, 14+ days into the account's life."""
    now = int(ds.now.timestamp())
    acc = ds._acc[account]
    lo = max(ds.window_start + ds.days * _DAY // 2, acc.created + 14 * _DAY)
    hi = now - 2 * _DAY - int(hours * 3600)
    if hi <= lo:
        raise ValueError(f"attacks need a longer window (days={ds.days}); try days >= 30")
    day = int(rng.integers(lo // _DAY, hi // _DAY + 1))
    if night is None:
        hour = rng.uniform(0, 24)
    else:   # local hours: 0-4 at night, 13-16 for business
        hour = (rng.uniform(0, 4) if night else rng.uniform(13, 16)) - acc.tz_hours
    return int(day * _DAY + (hour % 24) * 3600)


def _pump(rng, ds, prices) -> tuple[dict, dict]:
    acct = int(rng.choice(_eligible(ds, 1)))
    country = str(rng.choice(sorted(PUMP_PLANS)))
    n, hours = int(rng.integers(150, 1501)), float(rng.uniform(0.5, 8))
    head, digits = PUMP_PLANS[country]
    numbers = _run(rng, head, digits, n, int(rng.integers(1, 3)))
    t = _times(rng, _when(rng, ds, acct, hours, None), hours, n)
    cols = _messages(rng, ds, acct, _own(ds, acct, 1), _add_parties(ds, numbers), t,
                     float(rng.uniform(0.05, 0.4)), prices[("sms-outbound", country)])
    return cols, _truth("sms_pumping", ds, acct, t, t, country, head, cols)


def _toll(rng, ds, prices) -> tuple[dict, dict]:
    acct = int(rng.choice(_eligible(ds, 0)))
    head, digits = TOLL_PLANS[str(rng.choice(sorted(TOLL_PLANS)))]
    n, hours = int(rng.integers(30, 301)), float(rng.uniform(1, 10))
    numbers = _run(rng, head, digits, n, 1)
    t = _times(rng, _when(rng, ds, acct, hours, True), hours, n)
    cols = _calls(rng, ds, acct, _own(ds, acct, 0), _add_parties(ds, numbers), t,
                  prices[("voice-outbound", "001")])
    return cols, _truth("toll_fraud", ds, acct, t, cols["end"], "001", head, cols)


def _campaign(rng, ds) -> tuple[dict, dict]:
    acct = int(rng.choice(_eligible(ds, 1)))
    own = _own(ds, acct, 1)
    ci = int(ds.parties.country[own])
    n, hours = int(rng.integers(1000, 4001)), float(rng.uniform(2, 6))
    numbers = draw_numbers(rng, COUNTRIES[ci], "mobile", n, set(ds.parties.value_list))
    t = _times(rng, _when(rng, ds, acct, hours, False), hours, n)
    cols = _messages(rng, ds, acct, own, _add_parties(ds, numbers), t, 0.93,
                     int(ds.prices.sms_out[ci]))
    return cols, _truth("organic_campaign", ds, acct, t, t, COUNTRIES[ci], "", cols)


def _hex_rank(sid: np.ndarray) -> np.ndarray:
    body = np.ascontiguousarray(sid.astype("S34").view("S1").reshape(-1, 34)[:, 2:])
    return np.argsort(np.argsort(body.view("S32").ravel(), kind="stable"), kind="stable")


def _merge(rng, ds, name: str, prefix: str, parts: list[dict]) -> np.ndarray | None:
    """Add rows to a sorted table, keep served order; returns old row -> new row."""
    if not parts:
        return None
    cols = getattr(ds, name)
    new = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    hi, lo = sid_parts(rng, len(new["acct"]))
    new["sid"] = format_sids(prefix, hi, lo)
    n_old = len(cols["sid"])
    both = {k: np.concatenate([cols[k], new[k].astype(cols[k].dtype)]) for k in cols}
    order = np.lexsort((-_hex_rank(both["sid"]), -both["created"], both["acct"]))
    where = np.empty(len(order), np.int64)
    where[order] = np.arange(len(order))
    out = {k: v[order] for k, v in both.items()}
    if "parent" in out:
        out["parent"] = np.where(out["parent"] >= 0, where[np.maximum(out["parent"], 0)], -1)
    setattr(ds, name, out)
    ds._bounds[name] = np.searchsorted(out["acct"], np.arange(len(ds._acc) + 1))
    return where[:n_old]


def inject_attacks(ds, attacks: int) -> pd.DataFrame:
    """Inject ``attacks`` pumping and toll-fraud episodes and one organic campaign;
    returns the ground truth (also the empty frame when ``attacks`` is 0)."""
    if attacks < 0 or int(attacks) != attacks:
        raise ValueError(f"attacks must be a whole number >= 0, got {attacks!r}")
    rows = []
    if attacks and ds.days < 30:
        raise ValueError(f"attacks need a longer window (days={ds.days}); use days >= 30, "
                         "so every episode has two weeks of history before it")
    if attacks:
        rng = np.random.default_rng(np.random.SeedSequence(ds.seed, spawn_key=(13,)))
        prices = attack_prices(ds.currency)
        msgs, calls = [], []
        for make, into in [(_pump, msgs)] * int(attacks) + [(_toll, calls)] * int(attacks):
            cols, truth = make(rng, ds, prices)
            into.append(cols)
            rows.append(truth)
        cols, truth = _campaign(rng, ds)
        msgs.append(cols)
        rows.append(truth)
        _merge(rng, ds, "messages", "SM", msgs)
        moved = _merge(rng, ds, "calls", "CA", calls)
        if moved is not None:
            ds.recordings["call"] = moved[ds.recordings["call"]]
        ds._usage = None
    out = pd.DataFrame(rows, columns=list(ATTACK_COLUMNS))
    for col in ("start", "end"):
        out[col] = pd.to_datetime(out[col].astype("int64"), unit="s", utc=True).dt.as_unit("us")
    out["cost_micros"] = out["cost_micros"].astype("Int64")
    return out
