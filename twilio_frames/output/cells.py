"""CSV cell text: exact money, UTC dates, and no cell a spreadsheet would run as a formula.

Every CSV this package writes goes through :func:`cell_text`, by these rules:

* Money is written from the exact integer micro-units as a decimal string with exactly
  6 decimal places (``0.215000``), never through a float, so the Decimal sum of a
  column read back equals the exact total; pandas' float sum agrees to 1e-9.
* Dates and times are ISO 8601 in UTC: ``2024-01-31`` for periods,
  ``2024-01-31T23:59:30Z`` for instants.
* Formula injection, by rule and not by a list of columns: every column whose dtype is
  not a number, a boolean, a time or a duration (so every ``str``, ``object`` and
  ``category`` column, whatever it is called) is text, and a text cell (message bodies,
  caller names, currencies and units all come from the server) that begins with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return gets a single quote in front (OWASP
  "CSV Injection"). Header cells too: a field the client does not know yet is kept as a
  column under the server's name. Numeric columns (counts, usage, money) are written as
  plain numbers and never prefixed. Decision for phone numbers: a cell that is exactly an
  E.164 number (``+`` and 1-15 digits, nothing else) is left as is: it holds no function,
  cell reference or DDE payload, and prefixing would corrupt every number column for the
  people who read the file back with code. Anything else that starts with ``+``
  (``+1 =HYPERLINK(...)``) is prefixed.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import ConfigurationError

__all__ = ["cell_text", "is_text", "micros_text", "neutralise"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_E164 = re.compile(r"\+[0-9]{1,15}")
_MONEY = {"price": "price_micros", "cost": "cost_micros"}


def is_text(dtype) -> bool:
    """True for every dtype that is not a number, boolean, time or duration."""
    return not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
                or pd.api.types.is_datetime64_any_dtype(dtype)
                or pd.api.types.is_timedelta64_dtype(dtype))


def neutralise(values: pd.Series) -> pd.Series:
    """Prefix ``'`` to text cells that a spreadsheet would run as a formula."""
    text = values.astype("str")
    risky = text.str.startswith(_TRIGGERS) & ~text.str.fullmatch(_E164.pattern)
    return text.where(~risky.fillna(False), "'" + text)


def micros_text(micros: pd.Series) -> pd.Series:
    """Exact ``-0.008500``-style strings from Int64 micro-units; missing -> empty."""
    present = micros.notna().to_numpy(bool)
    values = micros.to_numpy(dtype="int64", na_value=0)
    sign = np.where(values < 0, "-", "")
    whole = pd.Series(np.abs(values) // 1_000_000).astype("str")
    frac = pd.Series(np.abs(values) % 1_000_000).astype("str").str.zfill(6)
    out = pd.Series(sign, dtype="str") + whole + "." + frac
    return pd.Series(np.where(present, out.to_numpy(), ""), index=micros.index, dtype="str")


def timestamps_text(values: pd.Series, *, date_only: bool = False) -> pd.Series:
    """ISO 8601 UTC text (``...Z``; fractions only when some value has them)."""
    utc = values.dt.tz_convert("UTC")
    fmt = "%Y-%m-%d" if date_only else (
        "%Y-%m-%dT%H:%M:%S.%fZ" if (utc.dt.microsecond.fillna(0) != 0).any()
        else "%Y-%m-%dT%H:%M:%SZ")
    return utc.dt.strftime(fmt).fillna("")


def column_text(frame: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` as cell text: ``price``/``cost`` exact from their micros column."""
    if name in _MONEY and _MONEY[name] in frame.columns:
        return micros_text(frame[_MONEY[name]].astype("Int64"))
    col = frame[name]
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return timestamps_text(col)
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.map({True: "true", False: "false"}).astype("str").fillna("")
    if pd.api.types.is_integer_dtype(col.dtype):
        return col.astype("Int64").astype("str").fillna("")
    if pd.api.types.is_float_dtype(col.dtype):
        raise ConfigurationError(f"column {name!r} is a float; only exact columns are "
                                 "written (money goes through its *_micros column)")
    if not is_text(col.dtype):
        raise ConfigurationError(f"column {name!r} has dtype {col.dtype}, which has no "
                                 "CSV text rule")
    return neutralise(col).fillna("")


def cell_text(frame: pd.DataFrame, name: str, *, micros: str | None = None,
              date_only: bool = False) -> pd.Series:
    """Column ``name`` of any frame as CSV cell text, by the rules above.

    ``price`` / ``cost`` come exact from ``price_micros`` / ``cost_micros`` when the frame
    has them, any other money column from the micro-units column named by ``micros``;
    other floats (usage records' ``usage``) are written as the shortest text that reads
    back to the same float (``12``, not ``12.0``); times as ISO 8601 UTC (``date_only``: ``2024-01-31``);
    timedeltas as hours (a number); text is neutralised. Missing values are empty.
    """
    if micros is not None:
        return micros_text(frame[micros].astype("Int64"))
    col = frame[name]
    if date_only and isinstance(col.dtype, pd.DatetimeTZDtype):
        return timestamps_text(col, date_only=True)
    if name not in _MONEY and pd.api.types.is_float_dtype(col.dtype):
        text = col.astype("float64").astype("str").str.replace(r"\.0$", "", regex=True)
        return text.where(col.notna(), "")      # 12.0 -> "12", 0.25 -> "0.25"
    if pd.api.types.is_timedelta64_dtype(col.dtype):
        hours = col.dt.total_seconds() / 3600
        return hours.round(6).astype("str").where(col.notna(), "")
    return column_text(frame, name)
