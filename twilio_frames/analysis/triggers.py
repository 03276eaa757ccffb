"""Usage Trigger values recommended from an account's own history.

Twilio's Usage Triggers (``/Accounts/{sid}/Usage/Triggers``) call a webhook when a
category crosses a fixed value, recurring ``daily`` or ``monthly`` (GMT), triggered by
``count``, ``usage`` or ``price`` (reference/fraud-and-rebilling.md §3). Twilio does not
say what value to set. :func:`usage_triggers` proposes one per account from its daily
``totalprice`` Usage Records, with how often that value would have fired:

* daily: the ``quantile`` (0.95) of its days, from its first charged day, times
  ``headroom`` (2), rounded up to the currency's minor unit;
* monthly: the same quantile of its calendar months *with every day capped at the daily
  value* (a month as it would have been without the days that trip the daily trigger),
  times ``headroom``. So one month of fraud does not raise the monthly recommendation.

Only ``totalprice`` is read: it already holds every category once, and adding other
(overlapping) categories to it would count charges twice.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from ..errors import ConfigurationError
from ..money import micros_to_decimal, minor_unit
from . import engine

__all__ = ["usage_triggers"]

COLUMNS = ("account_sid", "currency", "recurring", "periods", "typical", "highest",
           "trigger_value", "trigger_micros", "would_fire", "fire_rate", "last_fired")


def _round_up(micros: float, currency: str) -> int:
    step = 10 ** (6 - minor_unit(currency))
    return int(-(-int(np.ceil(micros)) // step) * step)


_NEEDED = ("account_sid", "category", "start_date", "end_date", "price_micros", "price_unit")


def totalprice_partial(part: pd.DataFrame) -> pd.DataFrame:
    """One partition's ``totalprice`` records (one category of the hundred or so)."""
    rows = part[part["category"].astype("str").str.lower() == "totalprice"]
    return pd.DataFrame({"account_sid": rows["account_sid"].astype("str"),
                         "currency": rows["price_unit"].astype("str").str.upper(),
                         "day": rows["start_date"], "end": rows["end_date"],
                         "micros": rows["price_micros"].astype("Int64").fillna(0)
                         .astype("int64")}).reset_index(drop=True)


def _daily_totalprice(usage) -> pd.DataFrame:
    engine.check_frame("usage_records", usage)
    rows = engine.concat(engine.partials(usage, totalprice_partial, columns=(),
                                         needed=_NEEDED, what="usage_records"),
                         ignore_index=True)
    if not len(rows):
        raise ConfigurationError(
            "usage_triggers needs daily Usage Records of category totalprice "
            "(client.usage_records('daily', category='totalprice', "
            "include_subaccounts=False, accounts='all'))")
    if ((rows["end"] - rows["day"]).dt.days != 0).any():
        raise ConfigurationError("usage_triggers needs daily Usage Records (start_date == "
                                 "end_date); got longer periods")
    out = rows.drop(columns="end")
    return out.drop_duplicates(["account_sid", "currency", "day"], keep="last")


def _one(group: pd.DataFrame, recurring: str, basis: np.ndarray, headroom: float,
         quantile: float, currency: str) -> dict:
    values = group["micros"].to_numpy(np.int64)
    value = _round_up(np.quantile(basis, quantile) * headroom, currency) if len(basis) \
        else 0
    fired = values > value
    last = group["period"].to_numpy()[fired].max() if fired.any() else pd.NaT
    return {"recurring": recurring, "periods": len(values),
            "typical": micros_to_decimal(int(np.median(values))) if len(values) else None,
            "highest": micros_to_decimal(int(values.max())) if len(values) else None,
            "trigger_value": micros_to_decimal(value), "trigger_micros": value,
            "would_fire": int(fired.sum()),
            "fire_rate": float(fired.mean()) if len(values) else 0.0,
            "last_fired": pd.Timestamp(last) if last is not pd.NaT else pd.NaT}


def usage_triggers(usage, *, quantile: float = 0.95, headroom: float = 2.0,
                   min_days: int = 28) -> pd.DataFrame:
    """Daily and monthly ``totalprice`` Usage Trigger values per account, from history.

    Parameters
    ----------
    usage : DataFrame
        Daily Usage Records (pandas or Dask: each partition keeps only its
        ``totalprice`` rows) with category ``totalprice`` (others are ignored), one
        account each (``include_subaccounts=False``), as ``client.usage_records("daily",
        category="totalprice", include_subaccounts=False, accounts="all")`` gives.
    quantile : float
        Which day (month) of the history the value starts from (0.95: a day only one in
        twenty exceeded).
    headroom : float
        Multiplier on that quantile (2: twice as much).
    min_days : int
        Accounts with fewer days get no recommendation (``trigger_value`` missing).

    Returns
    -------
    DataFrame
        Per account, currency and ``recurring`` (``daily``, ``monthly``): ``periods``
        (days from the first charged day, or calendar months; the current month counts
        as far as it went),
        ``typical`` (median, Decimal), ``highest``, ``trigger_value`` (Decimal, rounded
        up to the currency's minor unit; set it as ``TriggerValue`` with
        ``TriggerBy=price``, ``UsageCategory=totalprice``), ``trigger_micros``,
        ``would_fire`` (periods of the history above it), ``fire_rate`` and
        ``last_fired`` (start of the last such period).
    """
    if not 0 < quantile <= 1 or headroom < 1:
        raise ConfigurationError("quantile must be in (0, 1] and headroom >= 1")
    daily = _daily_totalprice(usage)
    rows = []
    for (sid, cur), g in daily.groupby(["account_sid", "currency"], sort=True):
        g = g.sort_values("day")
        charged = (g["micros"] > 0).to_numpy()
        g = g.iloc[int(charged.argmax()):] if charged.any() else g.iloc[:0]
        day_value = _round_up(np.quantile(g["micros"], quantile) * headroom, cur) \
            if len(g) else 0
        g = g.assign(period=g["day"].dt.tz_localize(None).dt.to_period("M")
                     .dt.start_time.dt.tz_localize("UTC"),
                     capped=np.minimum(g["micros"], day_value))
        months = g.groupby("period", as_index=False)[["micros", "capped"]].sum()
        daily_rows = g.drop(columns="period").rename(columns={"day": "period"})
        for recurring, frame, basis in (
                ("daily", daily_rows, daily_rows["micros"].to_numpy()),
                ("monthly", months, months["capped"].to_numpy())):
            row = {"account_sid": sid, "currency": cur,
                   **_one(frame, recurring, basis, headroom, quantile, cur)}
            if len(g) < min_days:
                row.update(trigger_value=None, trigger_micros=pd.NA, would_fire=pd.NA,
                           fire_rate=np.nan)
            rows.append(row)
    out = pd.DataFrame(rows, columns=list(COLUMNS))
    out["trigger_micros"] = out["trigger_micros"].astype("Int64")
    out["would_fire"] = out["would_fire"].astype("Int64")
    out["last_fired"] = pd.to_datetime(out["last_fired"], utc=True)
    return out
