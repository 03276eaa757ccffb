"""Billing and line-item files: exact money, UTC dates, safe in spreadsheets.

The file type follows the extension (:mod:`twilio_frames.output.formats`): ``.csv``,
``.jsonl`` or ``.parquet``; any other extension is refused before anything is computed.
CSV rules (:mod:`twilio_frames.output.cells`):

* UTF-8 (no byte-order mark), a header row, RFC 4180: CRLF line ends, and any cell
  holding a comma, quote, CR or LF is quoted (a bare CR with LF line ends would not be).
* Money is written from the exact integer micro-units as a decimal string with exactly
  6 decimal places (``0.215000``), never through a float.
* Dates and times are ISO 8601 in UTC: ``2024-01-31`` for periods,
  ``2024-01-31T23:59:30Z`` for instants.
* Formula injection: every text column, by dtype, is neutralised (a cell starting with
  ``=``, ``+``, ``-``, ``@``, tab or CR gets a quote in front; an exact E.164 number is
  left as is). Numeric columns are plain numbers.
* The file is written to a temporary name in the same folder and moved into place
  (``os.replace``); an existing file is replaced only with ``overwrite=True``, else
  FileExistsError.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.bill import bill_by_account
from ..analysis import engine
from ..analysis.billing import arrays, line_items, needed_columns
from ..errors import ConfigurationError
from ..fetch.dates import to_utc
from ..money import infer_resource
from ..analysis.summaries import as_list, check_freq, cost_by_period
from .cells import cell_text, micros_text, neutralise  # noqa: F401  (their old home)
from .formats import csv_bytes, table_format, write_table
from .outputs import atomic_file

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

_MONEY = {"price": "price_micros", "cost": "cost_micros"}


def write_billing_csv(path: str | os.PathLike, *, calls: pd.DataFrame | None = None,
                      messages: pd.DataFrame | None = None,
                      recordings: pd.DataFrame | None = None, freq: str = "M",
                      by: str | list[str] | None = "account_sid", start=None, end=None,
                      usage: pd.DataFrame | None = None, overwrite: bool = False) -> Path:
    """Write billed usage and cost per ``by`` x product x UTC period to a file.

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

    The file type follows the extension (:mod:`twilio_frames.output.formats`): ``.csv``,
    ``.jsonl`` or ``.parquet`` (``cost`` as exact ``decimal128``); any other extension
    raises ConfigurationError before anything is computed.

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
    table_format(path)
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
                                     calls=calls, messages=messages, recordings=recordings,
                                     usage_records=usage)
    out = pd.DataFrame({"period_start": starts.dt.tz_localize("UTC"),
                        "period_end": ends.dt.tz_localize("UTC")})
    for col in by:
        out[col] = table[col].to_numpy()
    if usage is not None:
        out["source"] = table["source"].to_numpy()
    out["product"] = table["product"].to_numpy()
    out["count"] = table["count"].astype("Int64").to_numpy()
    # Usage Records amounts can be fractional (GB of storage): float there, else whole.
    out["usage"] = table["usage"].astype("Int64" if usage is None else "float64").to_numpy()
    out["usage_unit"] = table["usage_unit"].to_numpy()
    out["cost_micros"] = table["cost_micros"].astype("Int64").to_numpy()
    out["currency"] = table["currency"].to_numpy()
    out["unrated"] = table["n_unrated"].astype("Int64").to_numpy()
    source = ["source"] if usage is not None else []
    return write_table(out, path, columns=["period_start", "period_end", *by, *source,
                                           *BILLING_COLUMNS],
                       micros={"cost": "cost_micros"}, dates=("period_start", "period_end"),
                       overwrite=overwrite)


def _utc_day(value, name: str) -> pd.Timestamp | None:
    ts = to_utc(value, name=name)      # strict: "Nov 1" is refused, not year 1
    return None if ts is None else ts.tz_localize(None)


def _clip_periods(starts: pd.Series, ends: pd.Series, start, end, **frames):
    """Clip period labels to ``[start, end)``; every row must lie inside it."""
    first, stop = _utc_day(start, "start"), _utc_day(end, "end")
    for resource, frame in frames.items():
        if frame is None or (not engine.is_dask(frame) and not len(frame)):
            continue
        if resource == "usage_records":
            _usage_inside(frame, first, stop, start, end)
            continue
        lows, highs = zip(*engine.partials(frame, _when_range, columns=(),
                                           needed=needed_columns(resource, numbers=False),
                                           what=resource, resource=resource))
        low, high = min(lows), max(highs)
        if low <= high and ((first is not None and low < first.to_datetime64())
                            or (stop is not None and high >= stop.to_datetime64())):
            raise ConfigurationError(f"{resource} has rows outside [{start}, {end}); "
                                     "the billing periods would be mislabelled")
    if first is not None:
        starts = starts.where(starts >= first.normalize(), first.normalize())
    if stop is not None:
        last = (stop - pd.Timedelta(microseconds=1)).normalize()
        ends = ends.where(ends <= last, last)
    return starts, ends


def _when_range(part: pd.DataFrame, resource: str):
    """The earliest and latest billing time of one partition (empty: max, min)."""
    when = arrays(part, resource, category=False)["when"]
    when = when[when != np.iinfo(np.int64).min].astype("datetime64[us]")
    if not len(when):
        return np.datetime64(np.iinfo(np.int64).max, "us"), np.datetime64(
            np.iinfo(np.int64).min + 1, "us")
    return when.min(), when.max()


def _usage_inside(usage: pd.DataFrame, first, stop, start, end) -> None:
    """Usage Records cover [start_date, end_date] (inclusive days): a month's record
    given with a mid-month ``start`` would be labelled as that half month."""
    days = [usage[c].dt.tz_convert("UTC").dt.tz_localize(None) for c in ("start_date",
                                                                         "end_date")]
    if (first is not None and (days[0] < first.normalize()).any()) or (
            stop is not None and (days[1] >= stop).any()):
        raise ConfigurationError(f"usage records cover days outside [{start}, {end}); the "
                                 "billing periods would be mislabelled: fetch them for the "
                                 "same range (daily records for a part of a month)")


def write_line_items_csv(frame: pd.DataFrame, path: str | os.PathLike, *,
                         columns: list[str] | None = None, overwrite: bool = False) -> Path:
    """Write one row per call, message or recording with its billing columns.

    ``columns`` defaults to :data:`LINE_ITEM_COLUMNS` of the frame's resource and may
    name any frame column or line-item column (see :func:`twilio_frames.line_items`).
    ``price`` keeps Twilio's sign, ``cost`` is positive; both exact with 6 decimals.
    The file type follows the extension, as for :func:`write_billing_csv`. A Dask frame
    is written as CSV a few partitions at a time, in partition order (memory bounded by
    those partitions, not by the frame).

    Returns the path written. Raises FileExistsError if it exists and not ``overwrite``.
    """
    fmt = table_format(path)
    if engine.is_dask(frame):
        if fmt != ".csv":
            raise ConfigurationError("the line items of a Dask frame are written as .csv")
        return _line_items_by_partition(frame, path, columns=columns, overwrite=overwrite)
    items, columns = _line_items(frame, columns)
    return write_table(items, path, columns=columns, overwrite=overwrite,
                       micros={c: m for c, m in _MONEY.items() if m in items.columns})


def _line_items(frame: pd.DataFrame, columns) -> tuple[pd.DataFrame, list[str]]:
    """The line items of a frame and the checked columns to write."""
    resource = infer_resource(frame)
    if resource not in LINE_ITEM_COLUMNS:
        raise ConfigurationError(f"line items exist for calls, messages and recordings, "
                                 f"not {resource}")
    items = line_items(frame, resource=resource)
    columns = list(columns or LINE_ITEM_COLUMNS[resource])
    missing = [c for c in columns if c not in items.columns]
    if missing:
        raise ConfigurationError(f"unknown column(s) {missing} for {resource} line items")
    floats = [c for c in columns if c not in _MONEY and pd.api.types.is_float_dtype(items[c])]
    if floats:
        raise ConfigurationError(f"column {floats[0]!r} is a float; only exact columns are "
                                 "written (money goes through its *_micros column)")
    return items, columns


def _line_items_by_partition(frame, path, *, columns, overwrite: bool) -> Path:
    import dask
    _line_items(frame._meta, columns)                  # bad columns: before anything runs
    parts = frame.to_delayed()
    step = 4 * engine.partitions_per_task(max(len(parts), 1))
    with atomic_file(path, overwrite=overwrite) as tmp, open(tmp, "wb") as out:
        header = True
        for i in range(0, len(parts), step):
            for part in dask.compute(*parts[i:i + step]):
                part = engine.to_pandas(part)
                if not len(part):
                    continue
                items, names = _line_items(part, columns)
                out.write(csv_bytes(items, names, {c: m for c, m in _MONEY.items()
                                                   if m in items.columns}, header=header))
                header = False
        if header:
            items, names = _line_items(frame._meta, columns)
            out.write(csv_bytes(items, names, {c: m for c, m in _MONEY.items()
                                               if m in items.columns}))
    return Path(path)


def write_frame_csv(frame: pd.DataFrame, path: str | os.PathLike, *,
                    overwrite: bool = False) -> Path:
    """Write any frame of the client (every column, in order) as a safe, exact CSV.

    Same rules as the billing CSV: UTF-8, CRLF, RFC 4180 quoting, ISO 8601 UTC times,
    money exact from its ``*_micros`` column, and text cells that a spreadsheet would run
    as a formula neutralised (message bodies and caller names come from strangers). This
    is what ``twilio-frames fetch ... --out x.csv`` writes. ``.jsonl`` and ``.parquet``
    (the frame's own dtypes, ``price_micros`` exact) follow the extension too.

    Returns the path written. Raises FileExistsError if it exists and not ``overwrite``.
    """
    return write_table(frame, path, overwrite=overwrite)


def write_cells_csv(frame: pd.DataFrame, path: str | os.PathLike, *,
                    columns: list[str] | None = None, micros: dict[str, str] | None = None,
                    dates: tuple[str, ...] = (), overwrite: bool = False) -> Path:
    """Write ``columns`` of ``frame`` (default all) through :func:`cell_text`.

    ``micros`` maps a money column to its exact micro-units column; ``dates`` names
    datetime columns written as dates (``2024-01-31``). Used by the report's tables.
    """
    return write_table(frame, path, columns=columns, micros=micros, dates=dates,
                       overwrite=overwrite)
