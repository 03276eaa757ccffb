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
from .billing import derive
from .coverage import detail_coverage

__all__ = ["DETAIL_COLUMNS", "master_check", "statement_detail"]

DETAIL_COLUMNS = ["account_sid", "month", "table", "key", "count", "usage", "usage_unit",
                  "currency", "cost_micros"]
#: Rows per table and statement.
TOP = 5


def _items(frame: pd.DataFrame | None, resource: str) -> pd.DataFrame:
    if frame is None or not len(frame):
        return pd.DataFrame()
    items = derive(frame, resource, country=resource in ("calls", "messages"))
    items["account_sid"] = frame["account_sid"].to_numpy()
    items["month"] = items["when"].dt.tz_localize(None).dt.to_period("M")
    items["direction"] = frame["direction"].astype("str").to_numpy() if (
        "direction" in frame.columns) else ""
    items["resource"] = resource
    return items


def _one_unit(units: pd.Series) -> str:
    """The usage unit of a group, or "" when it mixes units (minutes and segments)."""
    found = units.astype("str").unique()
    return str(found[0]) if len(found) == 1 else ""


def _table(items: pd.DataFrame, key: str, name: str, *, top: bool) -> pd.DataFrame:
    if not len(items):
        return pd.DataFrame(columns=DETAIL_COLUMNS)
    keyed = items.assign(key=items[key].astype("str").fillna("non-PSTN").replace(
        {"<NA>": "non-PSTN", "nan": "non-PSTN"}))
    out = keyed.groupby(["account_sid", "month", "currency", "key"], observed=True).agg(
        count=("billable", "size"), usage=("usage", "sum"),
        usage_unit=("usage_unit", _one_unit), cost_micros=("cost_micros", "sum")).reset_index()
    out["usage"] = out["usage"].astype("float64").where(out["usage_unit"] != "")
    out = out.sort_values(["account_sid", "month", "cost_micros", "key"],
                          ascending=[True, True, False, True], kind="stable")
    if top:
        out = out.groupby(["account_sid", "month"], observed=True).head(TOP)
    return out.assign(table=name)[DETAIL_COLUMNS]


def statement_detail(*, calls: pd.DataFrame | None = None,
                     messages: pd.DataFrame | None = None,
                     recordings: pd.DataFrame | None = None) -> pd.DataFrame:
    """The detail tables of every statement, from the list frames.

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
    c, m, r = _items(calls, "calls"), _items(messages, "messages"), _items(recordings,
                                                                            "recordings")
    talk = pd.concat([x for x in (c, m) if len(x)], ignore_index=True) if len(c) + len(m) \
        else pd.DataFrame()
    outbound = talk[talk["direction"].str.startswith("outbound")] if len(talk) else talk
    parts = [_table(talk, "our_number", "top numbers", top=True),
             _table(outbound, "country", "top destinations", top=True),
             _table(m, "country", "messages by country", top=True),
             _table(c, "direction", "calls by direction", top=False),
             _table(r.assign(kind="recordings") if len(r) else r, "kind", "recordings",
                    top=False)]
    out = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(
        len(p) for p in parts) else pd.DataFrame(columns=DETAIL_COLUMNS)
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
