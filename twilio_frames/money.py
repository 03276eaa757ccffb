"""Exact money arithmetic: prices as integer micro-units, costs, totals per currency.

Every priced frame carries ``price_micros`` (``Int64``): the price Twilio sent, as an
exact count of 10**-6 currency units. Totals are sums of those integers, so they equal
the ``decimal.Decimal`` sum of the raw price strings; ``price`` (float64) is only for
analysis and plotting.

Sign conventions (``reference/billing-rules.md`` §1.1, §2.1, §3.1, §4.1):

* calls and messages: Twilio sends charges negative, so cost = ``-price``;
* recordings: the sign is inconsistent in Twilio's own examples (``"-0.00250"`` and
  ``"0.04"``), so cost = ``abs(price)``;
* usage records: the price is already a positive total and is used as is. Their
  categories overlap (``calls`` holds ``calls-inbound``, ``totalprice`` holds all), so a
  usage frame is totalled per account and period from its ``totalprice`` record, or,
  where it has none, from categories none of which includes another; overlapping ones
  are refused (:mod:`twilio_frames.categories`).

Currencies are never added together: totals are grouped by ``price_unit`` (ISO 4217,
upper-cased), and asking for one total over several currencies is an error.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from .errors import ConfigurationError, ParseError

__all__ = ["MICROS", "cost_micros", "cost_total", "cost_totals", "exact_group_sums",
           "format_micros", "infer_resource", "micros_to_decimal", "minor_unit", "tolerance_micros"]

#: Micro-units per currency unit.
MICROS = 1_000_000

#: ISO 4217 minor units (decimal places) for currencies whose minor unit is not 2.
#: Source: ISO 4217 list maintained by SIX (currency-iso.org), table A.1.
_MINOR_UNITS_NOT_2: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}

_RESOURCE_MARKERS = (
    ("usage_records", ("category", "usage_unit", "start_date")),
    ("calls", ("parent_call_sid", "duration", "direction")),
    ("messages", ("num_segments", "num_media")),
    ("recordings", ("call_sid", "channels")),
)


def minor_unit(currency: str) -> int:
    """Number of decimal places of ``currency`` under ISO 4217 (2 unless listed).

    >>> minor_unit("usd"), minor_unit("JPY"), minor_unit("KWD")
    (2, 0, 3)
    """
    return _MINOR_UNITS_NOT_2.get(str(currency).upper(), 2)


def tolerance_micros(currency: str) -> int:
    """One minor unit of ``currency`` in micro-units (USD: 10_000, JPY: 1_000_000)."""
    return 10 ** (6 - minor_unit(currency))


def micros_to_decimal(micros: int) -> Decimal:
    """The exact ``Decimal`` of an integer amount of micro-units (6 decimal places).

    >>> micros_to_decimal(-7_900_000)
    Decimal('-7.900000')
    """
    return Decimal(int(micros)).scaleb(-6)


def format_micros(micros, *, places: int = 6) -> str:
    """Format micro-units as a fixed-point decimal string, exactly, never via float.

    ``places`` below 6 rounds half-even with ``Decimal.quantize``; 6 (the default) is
    always exact. Missing values give ``""``.

    >>> format_micros(215_000), format_micros(-2_500, places=4)
    ('0.215000', '-0.0025')
    """
    if micros is None or micros is pd.NA or (isinstance(micros, float) and np.isnan(micros)):
        return ""
    if not 0 <= places <= 6:
        raise ConfigurationError(f"places must be between 0 and 6, got {places!r}")
    return str(micros_to_decimal(micros).quantize(Decimal(1).scaleb(-places)))


def infer_resource(frame: pd.DataFrame, resource: str | None = None) -> str:
    """Name the resource a frame holds: ``resource`` if given, else ``frame.attrs``,
    else its columns. Raises ConfigurationError when none of these tells."""
    name = resource or (getattr(frame, "attrs", None) or {}).get("resource")
    if name:
        return str(name)
    for name, markers in _RESOURCE_MARKERS:
        if all(m in frame.columns for m in markers):
            return name
    raise ConfigurationError(
        "cannot tell which resource this frame holds (calls, messages, recordings or "
        f"usage_records); its columns are {list(frame.columns)[:8]}...; pass resource=")


def require_columns(frame: pd.DataFrame, columns, what: str) -> None:
    """Raise ConfigurationError naming every column of ``columns`` missing from ``frame``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ConfigurationError(f"{what} frame is missing column(s) {missing}")


def cost_micros(frame: pd.DataFrame, *, resource: str | None = None) -> pd.Series:
    """Positive cost of every row in micro-units (``Int64``, missing while unrated).

    Calls and messages: ``-price_micros``; recordings: ``abs(price_micros)``; usage
    records: ``price_micros`` as is.
    """
    resource = infer_resource(frame, resource)
    require_columns(frame, ["price_micros"], resource)
    micros = frame["price_micros"].astype("Int64")
    if resource in ("calls", "messages"):
        return -micros
    if resource == "recordings":
        return micros.abs()
    return micros


def _currency(frame: pd.DataFrame) -> pd.Series:
    return frame["price_unit"].astype("str").str.upper()


def cost_totals(frame: pd.DataFrame, *, resource: str | None = None) -> dict[str, Decimal]:
    """Exact positive cost per currency, ``{"USD": Decimal("0.042500"), ...}``.

    Rows without a price (unrated or unbilled) add nothing; currencies are upper-cased
    and never added together. On Usage Records each account and period counts once: its
    ``totalprice`` record, or where there is none its categories, which must not include
    one another (``calls`` with ``calls-inbound`` raises ConfigurationError naming them).

    >>> import twilio_frames as tf, pandas as pd
    >>> calls = pd.DataFrame({"price_micros": pd.array([-200_000, -100_000], "Int64"),
    ...                       "price_unit": ["USD", "jpy"]})
    >>> tf.cost_totals(calls, resource="calls")
    {'JPY': Decimal('0.100000'), 'USD': Decimal('0.200000')}
    """
    resource = infer_resource(frame, resource)
    require_columns(frame, ["price_micros", "price_unit"], resource)
    if resource == "usage_records":
        frame = _usage_total_rows(frame)
    cost = cost_micros(frame, resource=resource)
    keep = cost.notna().to_numpy()
    if not keep.any():
        return {}
    values = cost.to_numpy(dtype="int64", na_value=0)[keep]
    units = _currency(frame).to_numpy()[keep]
    sums = pd.Series(values).groupby(units).sum()
    return {str(cur): micros_to_decimal(int(v)) for cur, v in sums.items()}


def _usage_total_rows(usage: pd.DataFrame) -> pd.DataFrame:
    """The rows of a usage frame whose prices add up to its total without double counting:
    per account and period the ``totalprice`` record where there is one, else every row,
    provided no category there includes another (else ConfigurationError naming them)."""
    from .categories import TOTAL, check_no_overlap
    require_columns(usage, ["account_sid", "category", "start_date", "end_date"],
                    "usage_records")
    cats = usage["category"].astype("str").str.lower()
    keys = [usage[c] for c in ("account_sid", "start_date", "end_date")]
    has_total = (cats == TOTAL).groupby(keys, dropna=False).transform("any").to_numpy(bool)
    _check_periods(usage)
    rest = usage[~has_total]
    try:
        check_no_overlap(rest["category"].astype("str").unique())
    except ConfigurationError:          # somewhere: name the first account and period
        for key, group in rest.groupby(keys, dropna=False, sort=True):
            check_no_overlap(group["category"].astype("str"),
                             what=f"usage categories of account {key[0]} for "
                                  f"{_day(key[1])}..{_day(key[2])}")
    return usage[~has_total | (cats == TOTAL).to_numpy()]


def _check_periods(usage: pd.DataFrame) -> None:
    """Refuse records of one account whose periods overlap without being the same (daily
    and monthly records concatenated), or the same record twice (a frame concatenated
    with itself): their sum counts the same days twice."""
    _check_twice(usage)
    spans = usage[["account_sid", "start_date", "end_date"]].drop_duplicates().sort_values(
        ["account_sid", "start_date", "end_date"], kind="stable")
    prev_end = spans.groupby("account_sid", sort=False)["end_date"].shift()
    bad = spans[(spans["start_date"] <= prev_end).to_numpy(bool)]
    if len(bad):
        row = bad.iloc[0]
        raise ConfigurationError(
            f"usage records of account {row['account_sid']} cover overlapping periods "
            f"(one starts {_day(row['start_date'])} inside an earlier one): daily and "
            "monthly records mixed? Total one subresource at a time")


def _check_twice(usage: pd.DataFrame) -> None:
    """Refuse a usage frame holding one account's category for one period twice."""
    codes, names = pd.factorize(usage["category"], use_na_sentinel=False)
    lower = pd.factorize(pd.Index([str(n).lower() for n in names]))[0]    # once per name
    twice = pd.DataFrame({"category": lower[codes] if len(names) else codes, **{
        k: pd.factorize(usage[k])[0] for k in ("account_sid", "start_date", "end_date")}}
    ).duplicated()
    if twice.any():
        row = usage[twice.to_numpy()].iloc[0]
        raise ConfigurationError(
            f"usage records hold category {str(row['category']).lower()!r} twice for account "
            f"{row['account_sid']} and {_day(row['start_date'])}..{_day(row['end_date'])}; "
            "the same records were fetched twice (concatenated frames?)")


def _day(value) -> str:
    return "?" if pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d}"


def cost_total(frame: pd.DataFrame, *, resource: str | None = None,
               currency: str | None = None) -> Decimal:
    """Exact positive cost of a frame in one currency.

    With ``currency`` given, only that currency's rows count. Without it the frame must
    hold a single currency; several raise ConfigurationError (never summed across).
    """
    totals = cost_totals(frame, resource=resource)
    if currency is not None:
        return totals.get(currency.upper(), Decimal(0).scaleb(-6))
    if len(totals) > 1:
        raise ConfigurationError(
            f"the frame mixes currencies {sorted(totals)}; amounts in different "
            "currencies are never added: pass currency= or use cost_totals()")
    return next(iter(totals.values()), Decimal(0).scaleb(-6))


# Owned by the fetchers (frames.py uses it to build ``price_micros``).
def price_to_micros(prices: pd.Series) -> pd.Series:
    """Decimal price strings -> exact ``Int64`` counts of 10**-6 units, vectorised.

    ``"-0.00750"`` -> -7500. Missing stays missing. A value with non-zero digits past
    the sixth decimal place, or that is not a decimal number, raises ParseError.

    >>> price_to_micros(pd.Series(["-0.00750", "2192.84855", None, "3"])).tolist()
    [-7500, 2192848550, <NA>, 3000000]
    """
    s = prices.astype("str").str.strip()
    s = s.mask(s == "")
    present = s.notna().to_numpy()
    parts = s.str.extract(r"^([+-]?)(\d*)(?:\.(\d*))?$")
    sign, whole, frac = (parts[i].fillna("") for i in range(3))
    bad = present & ((whole.str.len() + frac.str.len()) == 0).to_numpy()
    if bad.any():
        raise ParseError(f"price {s[bad].iloc[0]!r} is not a decimal")
    long = (frac.str.slice(6).str.strip("0").str.len() > 0).to_numpy()
    if long.any():
        raise ParseError(f"price {s[long].iloc[0]!r} has more than 6 decimals; not exact in micros")
    whole = whole.mask(whole == "", "0")
    big = present & (whole.str.lstrip("0").str.len() >= 13).to_numpy()
    if big.any():             # 13+ whole digits: the micros may not fit in int64
        _check_int64(sign[big], whole[big], frac[big], s[big])
    micros = (pd.to_numeric(whole).to_numpy("int64") * 1_000_000
              + pd.to_numeric(frac.str.slice(0, 6).str.ljust(6, "0")).to_numpy("int64"))
    micros = np.where((sign == "-").to_numpy(), -micros, micros)
    out = pd.array(micros, dtype="Int64")
    out[~present] = pd.NA
    return pd.Series(out, index=prices.index)


#: What :func:`price_to_micros` says of a price whose micros do not fit in int64.
PRICE_OUT_OF_RANGE = "does not fit in int64 micros (|price| up to 9223372036854.775807)"


def _check_int64(sign: pd.Series, whole: pd.Series, frac: pd.Series, raw: pd.Series) -> None:
    """Raise ParseError for the first price whose micros fall outside int64 (exact,
    in Python integers: these are the few prices with 13 or more whole digits)."""
    for neg, w, f, text in zip(sign == "-", whole, frac, raw):
        micros = int(w) * MICROS + int(f[:6].ljust(6, "0"))
        if not -2 ** 63 <= (-micros if neg else micros) < 2 ** 63:
            raise ParseError(f"price {text!r} {PRICE_OUT_OF_RANGE}")


def exact_group_sums(ids: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Per-group int64 sums, exact: one float bincount when every partial sum stays
    below 2**53, else the values are split in 24-bit halves."""
    if len(values) == 0 or int(np.abs(values).max()) * len(values) < 2 ** 53:
        return np.rint(np.bincount(ids, values.astype(np.float64), size)).astype(np.int64)
    low = (values & 0xFFFFFF).astype(np.float64)
    high = (values >> 24).astype(np.float64)
    low_sum = np.rint(np.bincount(ids, low, size)).astype(np.int64)
    high_sum = np.rint(np.bincount(ids, high, size)).astype(np.int64)
    return high_sum * (1 << 24) + low_sum
