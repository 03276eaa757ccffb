"""The raw material of :func:`twilio_frames.traffic_anomalies`: outbound events as arrays,
and trailing sums over an account's own past.

Everything here is vectorised numpy over the columns a signal needs: the frame is read
once, numbers are parsed once per distinct value, and a trailing window is one sort, one
cumulative sum and two ``searchsorted`` calls, whatever the number of keys.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from .billing import _in, _ints, _micros_time, country_of

__all__ = ["NEEDED", "Events", "events", "trailing"]

_DAY_US = 86_400_000_000
_HOUR_US = 3_600_000_000
_NAT = np.iinfo(np.int64).min

#: Columns each kind of signal reads (named in the error when missing).
NEEDED = {
    "messages": ("account_sid", "direction", "status", "to", "date_sent", "date_created",
                 "price_micros", "price_unit", "error_code"),
    "calls": ("account_sid", "direction", "status", "to", "duration", "start_time",
              "date_created", "price_micros", "price_unit"),
}
_OUT_MSG = ("outbound-api", "outbound-call", "outbound-reply")
_OUT_CALL = ("outbound-api", "outbound-dial")
_FAILED_MSG = ("failed", "undelivered")


class Events:
    """Outbound events of one resource as aligned numpy arrays (one row per event)."""

    def __init__(self, **arrays):
        self.__dict__.update(arrays)

    def __len__(self) -> int:
        return len(self.t)


def _codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, labels = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(labels, dtype=object)


def events(frame: pd.DataFrame, resource: str, *, prefix_digits: int,
           short_call_seconds: int = 0) -> Events:
    """Outbound messages or calls to phone numbers, with what every signal reads.

    ``block`` is the destination less its last ``prefix_digits`` digits; ``num`` its
    digits as an integer (for runs of adjacent numbers); ``country`` codes into
    ``countries`` as :func:`twilio_frames.country_of` names them.
    """
    out = _in(frame["direction"], _OUT_MSG if resource == "messages" else _OUT_CALL)
    to = frame["to"].astype("str")
    out &= to.str.match(r"^\+\d{6,15}$").fillna(False).to_numpy(bool)
    f = frame[out]
    to = to[out]
    first, second = ("date_sent", "date_created") if resource == "messages" else \
        ("start_time", "date_created")
    t = _micros_time(f[first])
    t = np.where(t == _NAT, _micros_time(f[second]), t)
    keep = t != _NAT
    f, to, t = f[keep], to[keep], t[keep]
    dest_codes, dests = _codes(to)
    dest_s = pd.Series(dests, dtype="str")
    ccodes, countries = pd.factorize(countries_of(dest_s))
    blocks = dest_s.str.slice(0, -prefix_digits) if prefix_digits else dest_s
    bcodes, block_labels = pd.factorize(blocks)
    cost = -f["price_micros"].astype("Int64")
    acct, accounts = _codes(f["account_sid"].astype("str"))
    cur, currencies = _codes(f["price_unit"].astype("str").str.upper())
    ev = Events(
        acct=acct, accounts=accounts, t=t, day=t // _DAY_US, hour=(t // _HOUR_US) % 24,
        dest=dest_codes, dests=dests,
        num=pd.to_numeric(dest_s.str.slice(1)).to_numpy(np.int64)[dest_codes],
        country=ccodes[dest_codes], countries=np.asarray(countries, dtype=object),
        block=bcodes[dest_codes], blocks=np.asarray(block_labels, dtype=object),
        cost=cost.to_numpy(dtype="int64", na_value=0), priced=cost.notna().to_numpy(bool),
        currency=cur, currencies=currencies)
    if resource == "messages":
        ev.bad = _in(f["status"], _FAILED_MSG)
        ev.error = _ints(f["error_code"])
        ev.units = np.ones(len(f), np.int64)
    else:
        done = _in(f["status"], ("completed",))
        secs = _ints(f["duration"])
        ev.units = np.where(done, np.maximum(1, (secs + 59) // 60), 0)
        ev.bad = done & (secs <= short_call_seconds)        # "short" for calls
        ev.error = np.zeros(len(f), np.int64)
    return ev


def _code_of(head: str) -> str:
    for k in (1, 2, 3):
        if head[:k].isdigit() and int(head[:k]) in COUNTRY_CODE_TO_REGION_CODE:
            return head[:k]
    return ""


#: National digits that decide the region of a number with a shared calling code: the
#: NANP area code (+1: 3), Guernsey, Jersey, Isle of Man (+44 7781...: 4), Kazakhstan
#: (+7 7...: 3); 5 for the others (Christmas Island +61 89164..., Vatican +39 06698...).
REGION_DIGITS = {"1": 3, "44": 4, "7": 3}
_REGION_DEFAULT = 5


def countries_of(numbers: pd.Series) -> np.ndarray:
    """:func:`twilio_frames.country_of` of distinct E.164 numbers, parsing few of them.

    A calling code of one region (``+254``: KE; ``+882``: 001) gives the region without
    parsing; for shared codes (``+1``, ``+44``, ``+7``...) the first number of each
    calling code + :data:`REGION_DIGITS` national digits is parsed (the digits after
    those never change the region). Unknown: ``??``.
    """
    ids, heads = pd.factorize(numbers.str.slice(1, 4))
    code = np.array([_code_of(str(h)) for h in heads] + [""], dtype=object)[ids]
    single = {str(c): r[0] for c, r in COUNTRY_CODE_TO_REGION_CODE.items() if len(r) == 1}
    out = pd.Series(code).map(single).to_numpy(dtype=object)
    shared = pd.isna(out)
    if shared.any():
        text = numbers[shared].reset_index(drop=True)
        sub = code[shared]
        keys = np.empty(len(text), dtype=object)
        for c in pd.unique(sub):
            rows = sub == c
            width = 1 + len(c) + REGION_DIGITS.get(c, _REGION_DEFAULT)
            keys[rows] = text[rows].str.slice(0, width).to_numpy(dtype=object)
        ids, _ = pd.factorize(keys)
        first_row = pd.Series(np.arange(len(ids))).groupby(ids).first().to_numpy()
        found = country_of(text.iloc[first_row].reset_index(drop=True))["country"]
        out[shared] = found.to_numpy(dtype=object)[ids]
    return np.where(pd.isna(out), "??", out).astype(object)


def trailing(key: np.ndarray, day: np.ndarray, values: np.ndarray, qkey: np.ndarray,
             qday: np.ndarray, window: int) -> np.ndarray:
    """Per query, the sum of ``values`` rows with the same key and ``qday - window <=
    day < qday`` (the trailing window, the query day left out). ``values``: (n, k)."""
    values = values.reshape(len(key), -1)
    if len(key) == 0:
        return np.zeros((len(qkey), values.shape[1]), values.dtype)
    d0 = int(min(day.min(), qday.min() if len(qday) else day.min()))
    span = int(max(day.max(), qday.max() if len(qday) else 0) - d0 + 2)
    combo = key.astype(np.int64) * span + (day - d0)
    order = np.argsort(combo, kind="stable")
    combo = combo[order]
    cum = np.vstack([np.zeros((1, values.shape[1]), values.dtype),
                     np.cumsum(values[order], axis=0)])
    base = qkey.astype(np.int64) * span
    hi = np.searchsorted(combo, base + (qday - d0), "left")
    lo = np.searchsorted(combo, base + np.maximum(qday - window, d0) - d0, "left")
    return cum[hi] - cum[lo]
