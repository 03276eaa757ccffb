"""Message and call frames built by hand from the documented fraud signatures
(reference/fraud-and-rebilling.md §1, §2), independent of the simulator's attack shapes.

Each builder returns a frame with the columns ``tf.traffic_anomalies`` reads, in the
client's dtypes. Numbers are drawn as national prefixes plus random digits; the country
comes from the calling code (tf.country_of falls back to it for unassigned ranges).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: country -> (calling code + a national prefix, digits after it), for drawing numbers.
PLANS = {"US": ("+1415", 7), "CA": ("+1604", 7), "GB": ("+447", 9), "DE": ("+4915", 9),
         "KE": ("+2547", 8), "ID": ("+628", 9), "NG": ("+23480", 8), "VN": ("+849", 8),
         "LK": ("+947", 8), "SAT": ("+8821", 8), "JP": ("+8190", 8), "BR": ("+5511", 9),
         "MX": ("+5255", 8)}


def numbers(rng, country: str, n: int, *, consecutive: bool = False, gap: int = 1,
            start: int | None = None) -> np.ndarray:
    """``n`` numbers of ``country``: random, or a run from ``start`` stepping ``gap``."""
    head, digits = PLANS[country]
    if consecutive:
        first = rng.integers(10 ** (digits - 1), 10 ** digits - n * gap) if start is None \
            else start
        body = first + np.arange(n) * gap
    else:
        body = rng.integers(10 ** (digits - 1), 10 ** digits, n)
    return np.array([f"{head}{b}" for b in body.tolist()])


def _times(rng, start, days: float, n: int, tz_hours: float, business: bool):
    t0 = pd.Timestamp(start, tz="UTC").value // 1000
    day = rng.integers(0, max(int(days), 1), n)
    if business:
        hour = np.clip(rng.normal(13, 2.5, n), 7, 21)
    else:
        hour = rng.uniform(0, 24, n)
    us = (day * 86400 + (hour - tz_hours) * 3600) * 1e6
    return pd.to_datetime(t0 + us.astype(np.int64), unit="us", utc=True)


def _messages(account, to, when, status, error, price):
    n = len(to)
    return pd.DataFrame({
        "account_sid": account, "direction": pd.Categorical(["outbound-api"] * n),
        "status": pd.Categorical(status), "to": pd.array(to, dtype="str"),
        "date_sent": when, "date_created": when,
        "price_micros": pd.array(-np.asarray(price, np.int64), dtype="Int64"),
        "price_unit": "USD", "error_code": pd.array(error, dtype="Int64"),
        "num_segments": pd.array(np.ones(n, np.int64), dtype="Int64")})


def _outcome(rng, n, delivered: float, codes=(30003, 30005, 30006, 30008)):
    ok = rng.random(n) < delivered
    status = np.where(ok, "delivered", np.where(rng.random(n) < 0.7, "undelivered", "failed"))
    error = np.where(ok, 0, rng.choice(codes, n))
    return status, np.where(error == 0, None, error).astype(object)


def honest_messages(rng, account="AC" + "1" * 32, *, start="2026-01-01", days=120,
                    per_day=60.0, countries=None, tz_hours=-5, delivered=0.93,
                    prices=None) -> pd.DataFrame:
    """An honest account: Poisson daily volume, business hours, usual countries."""
    countries = countries or {"US": 0.85, "CA": 0.1, "GB": 0.05}
    prices = prices or {"US": 7900, "CA": 7900, "GB": 45000, "DE": 87000, "JP": 85000,
                        "BR": 60000}
    n = int(rng.poisson(per_day * days))
    names = list(countries)
    which = rng.choice(len(names), n, p=np.array(list(countries.values())))
    to = np.empty(n, dtype=object)
    price = np.zeros(n, np.int64)
    for i, c in enumerate(names):
        mask = which == i
        to[mask] = numbers(rng, c, int(mask.sum()))
        price[mask] = prices[c]
    status, error = _outcome(rng, n, delivered)
    return _messages(account, to, _times(rng, start, days, n, tz_hours, True), status,
                     error, price)


def _utc(at) -> pd.Timestamp:
    at = pd.Timestamp(at)
    return at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")


def burst(rng, account, to, at, over_hours: float, *, delivered: float, price: int,
          codes=(30003, 30005, 30006, 30008)) -> pd.DataFrame:
    """Messages to ``to`` spread evenly at random over ``over_hours`` from ``at``."""
    n = len(to)
    t0 = _utc(at).value // 1000
    us = t0 + (rng.uniform(0, over_hours * 3600, n) * 1e6).astype(np.int64)
    status, error = _outcome(rng, n, delivered, codes)
    return _messages(account, to, pd.to_datetime(np.sort(us), unit="us", utc=True), status,
                     error, np.full(n, price))


def _calls(account, to, when, duration, price):
    n = len(to)
    return pd.DataFrame({
        "account_sid": account, "direction": pd.Categorical(["outbound-api"] * n),
        "status": pd.Categorical(["completed"] * n), "to": pd.array(to, dtype="str"),
        "duration": pd.array(duration, dtype="Int64"), "start_time": when,
        "date_created": when,
        "price_micros": pd.array(-np.asarray(price, np.int64), dtype="Int64"),
        "price_unit": "USD"})


def honest_calls(rng, account="AC" + "1" * 32, *, start="2026-01-01", days=120,
                 per_day=30.0, countries=None, tz_hours=-5, rate=13000) -> pd.DataFrame:
    """Honest outbound calls: lognormal durations, business hours, usual countries."""
    countries = countries or {"US": 0.9, "CA": 0.1}
    n = int(rng.poisson(per_day * days))
    names = list(countries)
    which = rng.choice(len(names), n, p=np.array(list(countries.values())))
    to = np.empty(n, dtype=object)
    for i, c in enumerate(names):
        to[which == i] = numbers(rng, c, int((which == i).sum()))
    dur = np.clip(rng.lognormal(np.log(90), 1.0, n), 1, 3600).astype(np.int64)
    minutes = np.maximum(1, -(-dur // 60))
    return _calls(account, to, _times(rng, start, days, n, tz_hours, True), dur,
                  minutes * rate)


def call_burst(rng, account, to, at, over_hours: float, *, rate: int,
               seconds=(20, 59)) -> pd.DataFrame:
    """Completed calls to ``to`` over ``over_hours``, durations uniform in ``seconds``."""
    n = len(to)
    t0 = _utc(at).value // 1000
    us = t0 + (rng.uniform(0, over_hours * 3600, n) * 1e6).astype(np.int64)
    dur = rng.integers(seconds[0], seconds[1] + 1, n)
    minutes = np.maximum(1, -(-dur // 60))
    return _calls(account, to, pd.to_datetime(np.sort(us), unit="us", utc=True), dur,
                  minutes * rate)
