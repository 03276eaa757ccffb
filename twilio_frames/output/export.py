"""Billing and line-item CSV files: exact money, UTC dates, safe in spreadsheets.

Both writers share these rules:

* UTF-8 (no byte-order mark), a header row, RFC 4180: CRLF line ends, and any cell
  holding a comma, quote, CR or LF is quoted (a bare CR with LF line ends would not be).
* Money is written from the exact integer micro-units as a decimal string with exactly
  6 decimal places (``0.215000``), never through a float, so the Decimal sum of a
  column read back equals the exact total; pandas' float sum agrees to 1e-9.
* Dates and times are ISO 8601 in UTC: ``2024-01-31`` for periods,
  ``2024-01-31T23:59:30Z`` for instants.
* Formula injection: a text cell (message bodies and caller names come from strangers)
  that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a single
  quote in front (OWASP "CSV Injection"). Numeric columns (counts, usage, money) are
  written as plain numbers and never prefixed. Decision for phone numbers: a cell that
  is exactly an E.164 number (``+`` and 1-15 digits, nothing else) is left as is: it
  holds no function, cell reference or DDE payload, and prefixing would corrupt every
  number column for the people who read the file back with code. Anything else that
  starts with ``+`` (``+1 =HYPERLINK(...)``) is prefixed.
* The file is written to a temporary name in the same folder and moved into place
  (``os.replace``); an existing file is replaced only with ``overwrite=True``, else
  FileExistsError.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.bill import bill_by_account
from ..analysis.billing import arrays, line_items
from ..errors import ConfigurationError
from ..fetch.dates import to_utc
from ..money import infer_resource
from .outputs import atomic_file
from ..analysis.summaries import as_list, check_freq, cost_by_period

__all__ = ["BILLING_COLUMNS", "LINE_ITEM_COLUMNS", "cell_text", "write_billing_csv",
           "write_cells_csv", "write_frame_csv", "write_line_items_csv"]

#: Columns of the billing CSV, after ``period_start, period_end`` and the ``by`` columns.
BILLING_COLUMNS = ("product", "count", "usage", "usage_unit", "cost", "currency",
                   "unrated")

#: Default columns of the line-items CSV per resource.
LINE_ITEM_COLUMNS: dict[str, tuple[str, ...]] = {
    "calls": ("sid", "account_sid", "parent_call_sid", "start_time", "end_time",
              "direction", "status", "from", "to", "our_number", "remote_number",
              "country", "duration", "category", "usage", "usage_unit", "price", "cost",
              "currency"),
    "messages": ("sid", "account_sid", "date_sent", "direction", "status", "from", "to",
                 "our_number", "remote_number", "country", "num_segments", "num_media",
                 "error_code", "category", "usage", "usage_unit", "price", "cost",
                 "currency"),
    "recordings": ("sid", "account_sid", "call_sid", "date_created", "duration",
                   "status", "category", "usage", "usage_unit", "price", "cost",
                   "currency"),
}

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_E164 = re.compile(r"\+[0-9]{1,15}")
_MONEY = {"price": "price_micros", "cost": "cost_micros"}


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


def _timestamps(values: pd.Series, *, date_only: bool = False) -> pd.Series:
    utc = values.dt.tz_convert("UTC")
    fmt = "%Y-%m-%d" if date_only else (
        "%Y-%m-%dT%H:%M:%S.%fZ" if (utc.dt.microsecond.fillna(0) != 0).any()
        else "%Y-%m-%dT%H:%M:%SZ")
    return utc.dt.strftime(fmt).fillna("")


def _cell_column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in _MONEY and _MONEY[name] in frame.columns:
        return micros_text(frame[_MONEY[name]].astype("Int64"))
    col = frame[name]
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return _timestamps(col)
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.map({True: "true", False: "false"}).astype("str").fillna("")
    if pd.api.types.is_integer_dtype(col.dtype):
        return col.astype("Int64").astype("str").fillna("")
    if pd.api.types.is_float_dtype(col.dtype):
        raise ConfigurationError(f"column {name!r} is a float; only exact columns are "
                                 "written (money goes through its *_micros column)")
    return neutralise(col).fillna("")


def cell_text(frame: pd.DataFrame, name: str, *, micros: str | None = None,
              date_only: bool = False) -> pd.Series:
    """Column ``name`` of any frame as CSV cell text, by the rules above.

    ``price`` / ``cost`` come exact from ``price_micros`` / ``cost_micros`` when the frame
    has them, any other money column from the micro-units column named by ``micros``;
    other floats (usage records' ``usage``) are written as the shortest text that reads
    back to the same float; times as ISO 8601 UTC (``date_only``: ``2024-01-31``);
    timedeltas as hours (a number); text is neutralised. Missing values are empty.
    """
    col = frame[name]
    if micros is not None:
        return micros_text(frame[micros].astype("Int64"))
    if date_only and isinstance(col.dtype, pd.DatetimeTZDtype):
        return _timestamps(col, date_only=True)
    if name not in _MONEY and pd.api.types.is_float_dtype(col.dtype):
        text = col.astype("float64").astype("str")
        return text.where(col.notna(), "")
    if pd.api.types.is_timedelta64_dtype(col.dtype):
        hours = col.dt.total_seconds() / 3600
        return hours.round(6).astype("str").where(col.notna(), "")
    return _cell_column(frame, name)


def _write(table: pd.DataFrame, path, overwrite: bool) -> Path:
    with atomic_file(path, overwrite=overwrite) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\r\n")
    return Path(path)


def write_billing_csv(path: str | os.PathLike, *, calls: pd.DataFrame | None = None,
                      messages: pd.DataFrame | None = None,
                      recordings: pd.DataFrame | None = None, freq: str = "M",
                      by: str | list[str] | None = "account_sid", start=None, end=None,
                      usage: pd.DataFrame | None = None, overwrite: bool = False) -> Path:
    """Write billed usage and cost per ``by`` x product x UTC period to a CSV file.

    Columns: ``period_start, period_end`` (inclusive last day, ISO dates, UTC), the
    ``by`` columns (default ``account_sid``; ``by="our_number"`` gives the per-number
    variant), then ``product, count, usage, usage_unit, cost, currency, unrated``.
    ``cost`` is positive with 6 exact decimals; ``unrated`` counts rows still waiting
    for a price. Rows are sorted by period, by, product, currency. See
    :func:`twilio_frames.cost_by_period` for what count and usage mean.

    Periods are calendar periods (days; weeks from Monday; months) unless the range the
    frames were fetched for is given: with ``start`` / ``end`` (a half-open UTC interval,
    as passed to the client) the first and last labels are clipped to it, so data
    fetched from 2026-08-31 is labelled ``2026-08-31..2026-08-31``, not
    ``2026-08-01..2026-08-31``; a row outside the range raises ConfigurationError.

    With ``usage`` (Usage Records of the same accounts and days, daily unless
    ``freq="M"`` and monthly), each account's bill is whole: a ``source`` column says
    where each row comes from, ``lists`` (the products above), ``usage_records`` (the
    categories the lists cannot price: phone numbers, recording storage, failed-message
    fees, any other, ``no-category``) or ``difference`` (Usage Records' price of what the
    lists price less the lists' cost), and the rows of an account and period add up to
    its ``totalprice`` (see :func:`twilio_frames.analysis.bill.bill_by_account`). ``by``
    must then be ``account_sid``.

    Returns the path written. Raises FileExistsError if it exists and not ``overwrite``.
    """
    by, freq = as_list(by), check_freq(freq)
    if usage is not None:
        if by != ["account_sid"]:
            raise ConfigurationError(f"usage= bills per account: by must be 'account_sid', "
                                     f"not {by}")
        table = bill_by_account(usage, calls, messages, recordings, freq=freq).rename(
            columns={"item": "product"})
    else:
        table = cost_by_period(calls, messages, recordings, freq=freq, by=by)
    starts = table["period"].dt.tz_localize(None)
    ends = {"D": starts, "W": starts + pd.Timedelta(days=6),
            "M": starts + pd.offsets.MonthEnd(0)}[freq]
    if start is not None or end is not None:
        starts, ends = _clip_periods(starts, ends, start, end,
                                     calls=calls, messages=messages, recordings=recordings)
    out = pd.DataFrame({"period_start": starts.dt.strftime("%Y-%m-%d"),
                        "period_end": ends.dt.strftime("%Y-%m-%d")})
    for col in by:
        out[col] = _cell_column(table, col).to_numpy()
    if usage is not None:
        out["source"] = table["source"].to_numpy()
    out["product"] = neutralise(table["product"].astype("str")).to_numpy()
    out["count"] = table["count"].astype("Int64")
    out["usage"] = (table["usage"].astype("Int64") if usage is None else
                    table["usage"].map(_number_text).to_numpy())
    out["usage_unit"] = neutralise(table["usage_unit"].astype("str")).to_numpy()
    out["cost"] = micros_text(table["cost_micros"]).to_numpy()
    out["currency"] = table["currency"].astype("str")
    out["unrated"] = table["n_unrated"].astype("Int64")
    return _write(out, path, overwrite)


def _number_text(value) -> str:
    """A usage amount as text: whole numbers without a point, others in shortest form."""
    if pd.isna(value):
        return ""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _utc_day(value, name: str) -> pd.Timestamp | None:
    ts = to_utc(value, name=name)      # strict: "Nov 1" is refused, not year 1
    return None if ts is None else ts.tz_localize(None)


def _clip_periods(starts: pd.Series, ends: pd.Series, start, end, **frames):
    """Clip period labels to ``[start, end)``; every row must lie inside it."""
    first, stop = _utc_day(start, "start"), _utc_day(end, "end")
    for resource, frame in frames.items():
        if frame is None or not len(frame):
            continue
        when = arrays(frame, resource, category=False)["when"]
        when = when[when != np.iinfo(np.int64).min].astype("datetime64[us]")
        if len(when) and ((first is not None and when.min() < first.to_datetime64())
                          or (stop is not None and when.max() >= stop.to_datetime64())):
            raise ConfigurationError(f"{resource} has rows outside [{start}, {end}); "
                                     "the billing periods would be mislabelled")
    if first is not None:
        starts = starts.where(starts >= first.normalize(), first.normalize())
    if stop is not None:
        last = (stop - pd.Timedelta(microseconds=1)).normalize()
        ends = ends.where(ends <= last, last)
    return starts, ends


def write_line_items_csv(frame: pd.DataFrame, path: str | os.PathLike, *,
                         columns: list[str] | None = None, overwrite: bool = False) -> Path:
    """Write one row per call, message or recording with its billing columns.

    ``columns`` defaults to :data:`LINE_ITEM_COLUMNS` of the frame's resource and may
    name any frame column or line-item column (see :func:`twilio_frames.line_items`).
    ``price`` keeps Twilio's sign, ``cost`` is positive; both exact with 6 decimals.

    Returns the path written. Raises FileExistsError if it exists and not ``overwrite``.
    """
    resource = infer_resource(frame)
    if resource not in LINE_ITEM_COLUMNS:
        raise ConfigurationError(f"line items exist for calls, messages and recordings, "
                                 f"not {resource}")
    items = line_items(frame, resource=resource)
    columns = list(columns or LINE_ITEM_COLUMNS[resource])
    missing = [c for c in columns if c not in items.columns]
    if missing:
        raise ConfigurationError(f"unknown column(s) {missing} for {resource} line items")
    table = pd.DataFrame({c: _cell_column(items, c).to_numpy() for c in columns},
                         columns=columns)
    return _write(table, path, overwrite)


def write_frame_csv(frame: pd.DataFrame, path: str | os.PathLike, *,
                    overwrite: bool = False) -> Path:
    """Write any frame of the client (every column, in order) as a safe, exact CSV.

    Same rules as the billing CSV: UTF-8, CRLF, RFC 4180 quoting, ISO 8601 UTC times,
    money exact from its ``*_micros`` column, and text cells that a spreadsheet would run
    as a formula neutralised (message bodies and caller names come from strangers). This
    is what ``twilio-frames fetch ... --out x.csv`` writes.

    Returns the path written. Raises FileExistsError if it exists and not ``overwrite``.
    """
    return write_cells_csv(frame, path, overwrite=overwrite)


def write_cells_csv(frame: pd.DataFrame, path: str | os.PathLike, *,
                    columns: list[str] | None = None, micros: dict[str, str] | None = None,
                    dates: tuple[str, ...] = (), overwrite: bool = False) -> Path:
    """Write ``columns`` of ``frame`` (default all) through :func:`cell_text`.

    ``micros`` maps a money column to its exact micro-units column; ``dates`` names
    datetime columns written as dates (``2024-01-31``). Used by the report's tables.
    """
    columns, micros = list(columns or frame.columns), micros or {}
    table = pd.DataFrame({c: cell_text(frame, c, micros=micros.get(c),
                                       date_only=c in dates).to_numpy() for c in columns},
                         columns=columns)
    return _write(table, path, overwrite)
