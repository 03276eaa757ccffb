"""The whole bill per account: what the lists price, then what only Usage Records see.

The list endpoints (Calls, Messages, Recordings) price calls, messages and recordings row
by row. They cannot see phone-number rental, recording storage, the fee on failed
messages (a date-bounded Messages list does not return messages that were never sent),
any other product, or the charges Twilio puts in no category. :func:`bill_by_account`
sets, per account, period and currency:

* ``source="lists"``: one row per list product (``calls``, ``sms``, ``mms``,
  ``recordings``), exact sums of the prices on the rows;
* ``source="usage_records"``: one row per Usage Records line (leaf categories,
  :func:`twilio_frames.usage_lines`) that the lists cannot price, unknown categories and
  the ``no-category`` remainder included;
* ``source="difference"``: Usage Records' price of the categories the lists price, less
  the lists' own cost (prices not set yet, a day not closed, rows the lists did not
  return), so that the rows of an account and period add up exactly to its
  ``totalprice``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..bill_lines import REMAINDER, REST_SUFFIX, usage_lines
from ..categories import ancestors
from ..errors import ConfigurationError
from ..money import _check_periods
from . import engine
from .summaries import bucket, check_freq, cost_by_period

__all__ = ["LIST_FAMILIES", "DIFFERENCE", "bill_by_account", "list_priced"]

#: Usage Records families whose charges the list endpoints price row by row (a Client
#: leg is a call in the Calls list; Twilio bills it as calls-client, outside calls).
LIST_FAMILIES = frozenset({"calls", "calls-client", "calls-sip", "trunking-origination",
                           "trunking-termination", "sms", "mms", "recordings"})
#: ``item`` of the difference row.
DIFFERENCE = "lists vs Usage Records"
COLUMNS = ["period", "account_sid", "currency", "source", "item", "description", "count",
           "usage", "usage_unit", "cost_micros", "cost", "n_unrated"]


def list_priced(category: str) -> bool:
    """Whether the list endpoints price the charges of a Usage Records category."""
    name = str(category).lower().removesuffix(REST_SUFFIX)
    return name in LIST_FAMILIES or any(a in LIST_FAMILIES for a in ancestors(name))


def _periods(when: pd.Series, freq: str | None) -> pd.Series:
    if freq is None:
        return pd.Series(pd.NaT, index=when.index, dtype="datetime64[us, UTC]")
    return bucket(when, freq).dt.as_unit("us")


def _usage_part(usage: pd.DataFrame, freq: str | None) -> pd.DataFrame:
    lines = usage_lines(usage)
    _check_periods(usage)               # daily beside monthly records: the same days twice
    if freq is not None and len(lines):
        split = bucket(lines["start_date"], freq) != bucket(lines["end_date"], freq)
        if split.any():
            raise ConfigurationError(
                f"usage records span {lines.loc[split, 'start_date'].iloc[0]:%Y-%m-%d}.."
                f"{lines.loc[split, 'end_date'].iloc[0]:%Y-%m-%d}, longer than freq="
                f"{freq!r} periods: fetch daily usage records for this freq")
    lines["period"] = _periods(lines["start_date"], freq)
    lines["listed"] = lines["category"].map(list_priced).astype(bool)
    return lines


def _sum(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.groupby(keys, dropna=False, sort=False, observed=True).agg(
        description=("description", "first"), count=("count", "sum"),
        usage=("usage", "sum"), usage_unit=("usage_unit", "first"),
        cost_micros=("cost_micros", "sum"), n=("count", "count")).reset_index()


def bill_by_account(usage: pd.DataFrame, calls: pd.DataFrame | None = None,
                    messages: pd.DataFrame | None = None,
                    recordings: pd.DataFrame | None = None, *,
                    freq: str | None = None) -> pd.DataFrame:
    """Each account's whole bill: list products, Usage-Records-only lines, difference.

    Parameters
    ----------
    usage : DataFrame
        Usage Records of the same accounts and days, fetched per account
        (``accounts=...``, i.e. ``IncludeSubaccounts=false``); daily records for
        ``freq="D"``/``"W"``.
    calls, messages, recordings : DataFrame, optional
        The list frames. Without any, every line is a ``usage_records`` row (there is no
        list cost to set beside them) and there is no difference row.
    freq : {None, "D", "W", "M"}
        None: one period over everything given (``period`` is NaT); else UTC periods.

    Returns
    -------
    DataFrame
        ``period, account_sid, currency, source, item, description, count, usage,
        usage_unit, cost_micros, cost, n_unrated`` (list rows still waiting for a
        price; empty on Usage Records rows); ``source`` is ``lists``, ``usage_records`` or
        ``difference`` (see the module notes). Where the usage has a totalprice record,
        the rows of an account, period and currency add up exactly to it.
    """
    engine.check_frame("usage", usage)
    if engine.attrs_of(usage).get("include_subaccounts") is True:
        raise ConfigurationError(
            "usage fetched with include_subaccounts=True holds every subaccount in the "
            "master's figures and would count them twice: fetch with accounts='all'")
    freq = None if freq is None else check_freq(freq)
    keys = ["period", "account_sid", "currency"]
    lines = _usage_part(engine.to_pandas(usage), freq)     # small; lists may be Dask
    parts = []
    have_lists = any(f is not None for f in (calls, messages, recordings))
    if not have_lists:          # nothing to set beside them: every line is Usage Records'
        lines["listed"] = False
    if have_lists:
        listed = cost_by_period(calls, messages, recordings, freq=freq or "M",
                                by="account_sid")
        listed["period"] = listed["period"].dt.as_unit("us") if freq else pd.Series(
            pd.NaT, index=listed.index, dtype="datetime64[us, UTC]")  # not naive NaT
        listed = listed.groupby([*keys, "product"], dropna=False, observed=True).agg(
            count=("count", "sum"), usage=("usage", "sum"), usage_unit=(
                "usage_unit", "first"), cost_micros=("cost_micros", "sum"),
            n_unrated=("n_unrated", "sum")).reset_index()
        parts.append(listed.rename(columns={"product": "item"}).assign(
            source="lists", description=lambda f: "list " + f["item"].astype("str")))
    else:
        listed = pd.DataFrame(columns=[*keys, "cost_micros"])
    only = _sum(lines[~lines["listed"]], [*keys, "category"])
    only["count"] = only["count"].where(only["n"] > 0)
    parts.append(only.drop(columns="n").rename(columns={"category": "item"}).assign(
        source="usage_records"))
    parts.append(_difference(lines, listed, keys))
    parts = [p for p in parts if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
    return _finish(out.reindex(columns=[*COLUMNS, *out.columns.difference(COLUMNS)]), keys)


def _difference(lines: pd.DataFrame, listed: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per account and period: Usage Records of list-priced categories - list cost."""
    usage_side = lines[lines["listed"]].groupby(keys, dropna=False)["cost_micros"].sum()
    list_side = listed.groupby(keys, dropna=False)["cost_micros"].sum() if len(listed) else \
        pd.Series(dtype="Int64")
    have_usage = lines[keys].drop_duplicates().set_index(keys).index
    diff = usage_side.reindex(have_usage, fill_value=0).astype("int64") - list_side.reindex(
        have_usage, fill_value=0).astype("int64")
    diff = diff[diff != 0].rename("cost_micros").reset_index()
    return diff.assign(source="difference", item=DIFFERENCE, description=(
        "Usage Records' price of the categories the lists price, less the lists' cost"))


def _finish(out: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    order = {"lists": 0, "usage_records": 1, "difference": 2}
    out["rank"] = out["source"].map(order) + (out["item"] == REMAINDER) * 0.5
    out["cost_micros"] = out["cost_micros"].astype("Int64")
    out["cost"] = out["cost_micros"].astype("float64") / 1e6
    out["count"] = pd.array(out["count"], dtype="Float64").round().astype("Int64")
    out["usage"] = pd.to_numeric(out["usage"], errors="coerce").astype("float64")
    out["item"] = out["item"].astype("str")
    out["n_unrated"] = pd.array(out["n_unrated"], dtype="Int64")
    out = out.sort_values([*keys, "rank", "item"], kind="stable", ignore_index=True,
                          na_position="first")
    unit = out["usage_unit"].astype("object")
    out["usage_unit"] = unit.where(unit.notna(), "").astype("str").replace(
        {"nan": "", "<NA>": ""})
    return out[COLUMNS].assign(period=out["period"].astype("datetime64[us, UTC]"))
