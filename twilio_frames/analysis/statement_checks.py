"""What a statement carries besides its lines: the customer's detail from the list
frames, and the cross-check of every account against the master's own total.

* :func:`statement_detail`: per account and UTC month, from calls and messages, the top
  numbers (ours) and destinations (the remote party's country, outbound), messages by
  country and calls by direction: count, billed usage and exact cost.
* :func:`master_check`: the master's own lines plus all its subaccounts' must equal the
  master's ``totalprice`` asked with ``IncludeSubaccounts=true`` (fraud-and-rebilling.md
  §4: "cross-check the master with true against the sum; never add master(true) to its
  subaccounts"). Compared per month, currency and category; a gap names the categories
  where it arises and the subaccounts missing from the per-account usage.
"""

from __future__ import annotations

import pandas as pd

from ..errors import ConfigurationError
from . import engine
from .billing import NEEDED, derive
from .coverage import detail_coverage

__all__ = ["DETAIL_COLUMNS", "master_check", "statement_detail"]

DETAIL_COLUMNS = ["account_sid", "month", "table", "key", "count", "usage", "usage_unit",
                  "currency", "cost_micros"]
#: Rows per table and statement.
TOP = 5


def _items(frame: pd.DataFrame, resource: str) -> pd.DataFrame:
    items = derive(frame, resource, country=resource in ("calls", "messages"))
    items["account_sid"] = frame["account_sid"].to_numpy()
    items["month"] = items["when"].dt.tz_localize(None).dt.to_period("M")
    items["direction"] = frame["direction"].astype("str").to_numpy() if (
        "direction" in frame.columns) else ""
    return items


#: The detail tables in the order they are listed: (name, key column, resources).
_TABLES = (("top numbers", "our_number", ("calls", "messages"), True),
           ("top destinations", "country", ("calls", "messages"), True),
           ("messages by country", "country", ("messages",), True),
           ("calls by direction", "direction", ("calls",), False),
           ("recordings", "kind", ("recordings",), False))
_GROUP = ["table", "account_sid", "month", "currency", "key"]
_SUMS = {"count": "sum", "usage": "sum", "unit_lo": "min", "unit_hi": "max",
         "cost_micros": "sum"}


def detail_partial(part: pd.DataFrame, resource: str) -> pd.DataFrame:
    """One partition's share of every detail table: per table, account, UTC month,
    currency and key the rows, billed usage, exact cost and the usage units seen."""
    out = []
    items = _items(part, resource) if len(part) else None
    for name, key, resources, _ in _TABLES if items is not None else ():
        if resource not in resources:
            continue
        rows = items.assign(kind="recordings") if key == "kind" else items
        if name == "top destinations":
            rows = rows[rows["direction"].str.startswith("outbound")]
        keyed = rows.assign(
            key=rows[key].astype("str").fillna("non-PSTN").replace(
                {"<NA>": "non-PSTN", "nan": "non-PSTN"}),
            unit=rows["usage_unit"].astype("str"),
            currency=rows["currency"].astype("str"))
        out.append(keyed.groupby(_GROUP[1:], observed=True, sort=True).agg(
            count=("billable", "size"), usage=("usage", "sum"), unit_lo=("unit", "min"),
            unit_hi=("unit", "max"), cost_micros=("cost_micros", "sum"))
            .reset_index().assign(table=name))
    if not out:
        return pd.DataFrame(columns=[*_GROUP, *_SUMS])
    return pd.concat(out, ignore_index=True)[[*_GROUP, *_SUMS]]


def _finish_table(rows: pd.DataFrame, name: str, top: bool) -> pd.DataFrame:
    unit = rows["unit_lo"].where(rows["unit_lo"] == rows["unit_hi"], "")
    rows = rows.assign(usage_unit=unit.astype("str"), count=rows["count"].astype("int64"))
    rows["usage"] = rows["usage"].astype("float64").where(rows["usage_unit"] != "")
    rows = rows.sort_values(["account_sid", "month", "cost_micros", "key"],
                            ascending=[True, True, False, True], kind="stable")
    if top:
        rows = rows.groupby(["account_sid", "month"], observed=True).head(TOP)
    return rows.assign(table=name)[DETAIL_COLUMNS]


def statement_detail(*, calls=None, messages=None, recordings=None) -> pd.DataFrame:
    """The detail tables of every statement, from the list frames (pandas or Dask:
    each partition is reduced to per-key sums, then combined).

    Returns
    -------
    DataFrame
        ``account_sid, month, table, key, count, usage, usage_unit, currency,
        cost_micros``; ``table`` is ``top numbers`` (our numbers, calls and messages),
        ``top destinations`` (country of the other party of outbound calls and
        messages), ``messages by country``, ``calls by direction`` or ``recordings``;
        every table but the two by direction keeps the :data:`TOP` costliest keys per
        account and month. When a frame comes from a store that lacks some of its days,
        ``attrs["coverage"]`` holds the days each frame covers
        (:func:`~twilio_frames.analysis.coverage.detail_coverage`).
    """
    parts = []
    for resource, frame in (("calls", calls), ("messages", messages),
                            ("recordings", recordings)):
        if frame is not None:
            engine.check_frame(resource, frame)
            parts += engine.partials(frame, detail_partial, columns=("direction",),
                                     needed=NEEDED[resource], what=resource,
                                     resource=resource)
    parts = [p for p in parts if len(p)]
    if not parts:
        out = pd.DataFrame(columns=DETAIL_COLUMNS)
    else:
        both = engine.regroup(parts, _GROUP, _SUMS) if len(parts) > 1 else parts[0]
        tables = [_finish_table(both[both["table"] == name], name, top)
                  for name, _, _, top in _TABLES if (both["table"] == name).any()]
        out = pd.concat(tables, ignore_index=True)
    out["cost_micros"] = pd.array(out["cost_micros"], dtype="Int64")
    out = out.reset_index(drop=True)
    coverage = detail_coverage(calls=calls, messages=messages, recordings=recordings)
    if coverage is not None:              # frames from a store that lacks some days
        out.attrs["coverage"] = coverage
    return out


def _by_category(usage: pd.DataFrame) -> pd.DataFrame:
    from .statements import _months
    monthly = _months(usage)
    return monthly.groupby(["currency", "month", "category"])["price_micros"].sum()


def master_check(usage: pd.DataFrame, master_usage: pd.DataFrame, *,
                 accounts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every account's own usage added up, against the master's ``IncludeSubaccounts=true``.

    Parameters
    ----------
    usage : DataFrame
        Every account's own Usage Records (``accounts="all"``), daily or monthly.
    master_usage : DataFrame
        The master's Usage Records asked with ``include_subaccounts=True`` (one account).
    accounts : DataFrame, optional
        ``client.accounts()``; subaccounts with no usage rows are then named.

    Returns
    -------
    DataFrame
        Per month, currency and category (``totalprice`` included): ``accounts_micros``
        (the sum over accounts), ``master_micros``, ``gap_micros`` (master - accounts),
        ``status`` (``match`` or ``gap``) and ``missing_accounts`` (subaccounts without
        usage rows, comma-separated).
    """
    from ..bill_lines import usage_frame
    usage, master_usage = usage_frame(usage), usage_frame(master_usage, "master_usage")
    if accounts is not None:
        accounts = engine.to_pandas(accounts)
    masters = master_usage["account_sid"].unique()
    if len(masters) != 1:
        raise ConfigurationError(f"master_usage must hold one account (the master asked "
                                 f"with include_subaccounts=True), got {len(masters)}")
    if master_usage.attrs.get("include_subaccounts") is False:
        raise ConfigurationError("master_usage was fetched with IncludeSubaccounts=false; "
                                 "ask client.usage_records(..., include_subaccounts=True)")
    both = pd.concat({"accounts_micros": _by_category(usage),
                      "master_micros": _by_category(master_usage)}, axis=1).fillna(0)
    both = both.astype("int64").reset_index()
    both["gap_micros"] = both["master_micros"] - both["accounts_micros"]
    both["status"] = ["match" if g == 0 else "gap" for g in both["gap_micros"]]
    missing = ""
    if accounts is not None:
        subs = set(accounts.loc[accounts["sid"] != masters[0], "sid"])
        missing = ", ".join(sorted(subs - set(usage["account_sid"])))
    both["missing_accounts"] = missing
    return both
