"""Reconcile list-endpoint totals (Calls, Messages, Recordings) with Usage Records.

For every usage record of a reconciled category, the list rows of the same account whose
UTC attribution day falls inside the record's own ``[start_date, end_date]`` (inclusive,
read from each record, so daily and monthly grains both work) are counted, their billed
usage summed and their cost summed exactly, and set next to the record's values.

Rules (``reference/billing-rules.md`` §4, §5, §10):

* Usage Records count UTC days; reconciliation is always in UTC.
* Lists are per account. Compare each account with Usage Records fetched with
  ``IncludeSubaccounts=false`` (a master's own usage against the master's own lists);
  a master's default (``true``) records include its subaccounts and will not match.
* Categories overlap (``calls`` = ``calls-inbound`` + ``calls-outbound``); each is
  compared on its own and they are never added up. Every category the lists can price
  is compared: ``calls`` excludes Client and SIP legs, which Twilio bills as
  ``calls-client`` and ``calls-sip`` (and trunking legs as ``trunking-*``), so the
  calls list's cost is ``calls`` + ``calls-client`` + ``calls-sip`` + trunking.
  ``failed-message-processing-fee`` is not compared: a date-bounded Messages list
  (``DateSent``) does not return failed messages, which were never sent. The account total is the
  ``totalprice`` record (:func:`usage_totals`).
* ``count`` compares billable rows (completed calls and recordings, sent or received
  messages), ``usage`` billed minutes / segments / MMS messages, ``price`` the exact
  cost against the record's price within one minor unit of the currency.
* ``pending``: the period holds rows still waiting for a price, or the record's
  ``as_of`` is before the period's end (not closed). Pending wins over mismatch.
* Usage fetched with ``IncludeSubaccounts`` left at Twilio's default (true) holds the
  subaccounts' usage too and a master's rows then mismatch. The client records the flag
  in ``usage.attrs["include_subaccounts"]`` (True, False, or None when not sent); unless
  it is False, mismatching rows get the hint :data:`SUBACCOUNT_HINT` in ``reason`` and one
  :class:`SubaccountUsageWarning` is emitted.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from . import engine
from .arrow_arrays import codes_of, group_sums, message_arrays
from .billing import CATEGORIES, NEEDED, arrays
from ..categories import CATEGORY_TREE, OverlappingCategoriesWarning, check_no_overlap
from ..errors import ConfigurationError
from ..money import _check_twice, exact_group_sums, require_columns, tolerance_micros
from .summaries import frames_given

__all__ = ["CATEGORY_ROLLUPS", "OverlappingCategoriesWarning", "RECONCILED_CATEGORIES",
           "SUBACCOUNT_HINT", "SubaccountUsageWarning", "reconcile", "usage_totals"]

#: Reconciled Usage Records category -> the line-item categories it covers.
RECONCILED_CATEGORIES: dict[str, tuple[str, ...]] = {
    "calls": ("calls-inbound", "calls-outbound"),
    "calls-inbound": ("calls-inbound",),
    "calls-outbound": ("calls-outbound",),
    "calls-client": ("calls-client",),
    "calls-sip": ("calls-sip",),
    "trunking-origination": ("trunking-origination",),
    "trunking-termination": ("trunking-termination",),
    "sms": ("sms-inbound", "sms-outbound"),
    "sms-inbound": ("sms-inbound",),
    "sms-outbound": ("sms-outbound",),
    "mms": ("mms-inbound", "mms-outbound"),
    "mms-inbound": ("mms-inbound",),
    "mms-outbound": ("mms-outbound",),
    "recordings": ("recordings",),
}
_WANTED = [c for cats in RECONCILED_CATEGORIES.values() for c in cats]
_USAGE_COLUMNS = ("account_sid", "category", "start_date", "end_date", "count", "usage",
                  "usage_unit", "price_micros", "price_unit", "as_of")
_DAY_US = 86_400_000_000
COLUMNS = ["account_sid", "category", "start_date", "end_date", "currency", "list_count",
           "record_count", "list_usage", "record_usage", "usage_unit", "list_price",
           "record_price", "price_diff", "list_price_micros", "record_price_micros",
           "n_unrated", "as_of", "status", "reason"]


class SubaccountUsageWarning(UserWarning):
    """:func:`reconcile` found mismatches in usage that may include subaccounts (fetched
    without ``IncludeSubaccounts=false``); refetch with ``accounts="all"``."""


SUBACCOUNT_HINT = ("usage may include subaccounts: fetch with accounts='all' "
                   "(IncludeSubaccounts=false)")


def _days(ts: pd.Series) -> np.ndarray:
    """UTC day number (days since 1970-01-01) of each timestamp; NaT -> min int."""
    naive = ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    return naive.astype("datetime64[D]").view("int64")


def _list_by_day(given: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per account, fine category, UTC day and currency: count, usage, cost, unrated.

    Aggregated with integer keys and ``np.bincount`` (exact int64 sums) so a million
    rows cost about as much as one plain groupby; categories that are not reconciled
    are dropped after aggregating (cheaper than filtering rows).
    """
    keys = ["account_sid", "fine", "day", "currency"]
    parts = [engine.regroup(engine.partials(frame, _day_table, columns=(),
                                            needed=NEEDED[resource], what=resource,
                                            resource=resource), keys)
             for resource, frame in given.items()]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=[*keys, "count", "usage", "cost", "unrated"])
    return pd.concat(parts, ignore_index=True)


def _day_table(frame: pd.DataFrame, *, resource: str) -> pd.DataFrame:
    """The partial of :func:`reconcile`: one partition's exact sums per account, fine
    category, UTC day and currency (reconciled categories only)."""
    if not len(frame):
        return pd.DataFrame(columns=["account_sid", "fine", "day", "currency", "count",
                                     "usage", "cost", "unrated"])
    accounts, labels = pd.factorize(frame["account_sid"], use_na_sentinel=False)
    out = _day_sums(arrays(frame, resource), accounts, labels)
    return out[out["fine"].isin(_WANTED)].reset_index(drop=True)


def _day_table_arrow(table, *, resource: str) -> pd.DataFrame:
    """:func:`_day_table` of a partition's Arrow table (messages)."""
    if not table.num_rows:
        return _day_table(pd.DataFrame(), resource=resource)
    accounts, labels = codes_of(table.column("account_sid"))
    a = message_arrays(table)
    day = np.where(a["when"] == np.iinfo(np.int64).min, -1, a["when"] // _DAY_US)
    sums = group_sums({"account_sid": np.where(accounts < 0, len(labels), accounts),
                       "fine": a["category"], "day": day, "currency": a["currency"] + 1},
                      {"billed": a["billable"], "usage": a["usage"], "cost": a["cost"],
                       "unrated": a["unrated"]})
    sums["count"] = sums.pop("billed")           # billed rows, as _day_sums counts
    out = pd.DataFrame({
        "account_sid": np.array([*labels, None], dtype=object)[sums["account_sid"]],
        "fine": np.asarray(CATEGORIES, dtype=object)[sums["fine"]], "day": sums["day"],
        "currency": np.array([None, *a["currencies"]], dtype=object)[sums["currency"]],
        **{name: sums[name] for name in ("count", "usage", "cost", "unrated")}})
    return out[out["fine"].isin(_WANTED)].reset_index(drop=True)


engine.arrow_twin(_day_table, _day_table_arrow, lambda *, resource: resource == "messages",
                  read={"numbers": ("to", "from"), "fallbacks": {"date_created": "date_sent"}})


def _day_sums(a: dict, accounts: np.ndarray, acct_labels) -> pd.DataFrame:
    day = np.where(a["when"] == np.iinfo(np.int64).min, -1, a["when"] // _DAY_US)
    first = int(day.min())
    span = int(day.max()) - first + 1
    currencies = len(a["currencies"]) + 1
    key = ((accounts.astype(np.int64) * len(CATEGORIES) + a["category"]) * currencies
           + (a["currency"] + 1)) * span + (day - first)
    ids, keys = _group_ids(key, len(acct_labels) * len(CATEGORIES) * currencies * span)
    size = len(keys)
    rest, day_code = np.divmod(keys, span)
    rest, cur = np.divmod(rest, currencies)
    acct, cat = np.divmod(rest, len(CATEGORIES))
    return pd.DataFrame({
        "account_sid": np.asarray(acct_labels, dtype=object)[acct],
        "fine": np.asarray(CATEGORIES, dtype=object)[cat], "day": day_code + first,
        "currency": np.array([None, *a["currencies"]], dtype=object)[cur],
        "count": np.bincount(ids, a["billable"], size).astype(np.int64),
        "usage": exact_group_sums(ids, a["usage"].astype(np.int64), size),
        "cost": exact_group_sums(ids, a["cost"], size),
        "unrated": np.bincount(ids, a["unrated"], size).astype(np.int64)})


def _group_ids(key: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense group ids and their keys: a bincount over a small key space, else hashing."""
    if space <= 4_000_000:
        present = np.bincount(key, minlength=space) > 0
        keys = np.flatnonzero(present)
        lookup = np.cumsum(present) - 1
        return lookup[key], keys
    ids, keys = pd.factorize(key)
    return ids, keys.astype(np.int64)


def _rollup(by_day: pd.DataFrame) -> pd.DataFrame:
    """Fine categories -> reconciled (possibly overlapping) categories."""
    pairs = pd.DataFrame([(cat, fine) for cat, fines in RECONCILED_CATEGORIES.items()
                          for fine in fines], columns=["category", "fine"])
    out = by_day.merge(pairs, on="fine").drop(columns="fine")
    keys = ["account_sid", "category", "day", "currency"]
    return out.groupby(keys, observed=True, dropna=False).sum().reset_index()


def _prepare_usage(usage: pd.DataFrame) -> pd.DataFrame:
    require_columns(usage, _USAGE_COLUMNS, "usage_records")
    rec = engine.to_pandas(usage, _USAGE_COLUMNS).loc[:, list(_USAGE_COLUMNS)].copy()
    rec["category"] = _per_value(rec["category"], "lower")
    rec = rec[rec["category"].isin(list(RECONCILED_CATEGORIES))].reset_index(drop=True)
    _check_twice(rec)                   # each record compared twice: counts double
    rec["currency"] = _per_value(rec["price_unit"], "upper")
    rec["first"] = _days(rec["start_date"])
    rec["last"] = _days(rec["end_date"])
    if (rec["last"] < rec["first"]).any():
        raise ConfigurationError("usage record with end_date before start_date")
    return rec


def _per_value(column: pd.Series, method: str) -> pd.Series:
    """``column.astype("str").str.<method>()``, computed once per distinct value (a usage
    frame holds a few dozen categories and currencies in hundreds of thousands of rows)."""
    codes, values = pd.factorize(column, use_na_sentinel=True)
    table = pd.Series([*np.asarray(values, dtype=object), np.nan], dtype=object,
                      name=column.name).astype("str")
    out = getattr(table.str, method)().take(np.where(codes < 0, len(values), codes))
    out.index = column.index
    return out


def _tolerances(currency: pd.Series) -> np.ndarray:
    """One minor unit in micros per row (:func:`tolerance_micros`; 0 where missing),
    looked up once per currency."""
    codes, values = pd.factorize(currency, use_na_sentinel=True)
    per = [tolerance_micros(c) if isinstance(c, str) else 0 for c in values]
    return np.array([*per, 0], dtype=np.int64)[np.where(codes < 0, len(values), codes)]


def _explode(rec: pd.DataFrame) -> pd.DataFrame:
    """One row per (usage record, covered day)."""
    lengths = (rec["last"] - rec["first"] + 1).to_numpy()
    idx = np.repeat(np.arange(len(rec)), lengths)
    offset = np.arange(len(idx)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return pd.DataFrame({"rec": idx, "account_sid": rec["account_sid"].to_numpy()[idx],
                         "category": rec["category"].to_numpy()[idx],
                         "day": rec["first"].to_numpy()[idx] + offset})


def _match_days(rec: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    """List totals per usage record (cost only in the record's currency)."""
    days = _explode(rec).merge(daily, on=["account_sid", "category", "day"], how="inner")
    same = days["currency"].astype("str").to_numpy() == rec["currency"].to_numpy()[
        days["rec"].to_numpy()]
    days["cost"] = np.where(same, days["cost"], 0)
    days["foreign"] = np.where(same | days["currency"].isna().to_numpy(), 0,
                               days["count"] + days["unrated"] + 1)
    sums = days.groupby("rec")[["count", "usage", "cost", "unrated", "foreign"]].sum()
    return sums.reindex(range(len(rec)), fill_value=0)


def _uncovered(rec: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    """List activity on days no usage record of its category covers, inside the span
    the usage records of that account and category cover: one mismatch row per day.
    Categories absent from the usage frame (not fetched) are not flagged."""
    covered = _explode(rec)[["account_sid", "category", "day"]].drop_duplicates()
    span = rec.groupby(["account_sid", "category"])[["first", "last"]].agg(
        {"first": "min", "last": "max"})
    left = daily.merge(covered, on=["account_sid", "category", "day"], how="left",
                       indicator=True)
    left = left[left["_merge"] == "left_only"].join(span, on=["account_sid", "category"],
                                                    how="inner")
    left = left[(left["day"] >= left["first"]) & (left["day"] <= left["last"])]
    return left.drop(columns=["_merge", "first", "last"])


def _status(out: pd.DataFrame) -> pd.DataFrame:
    tol = _tolerances(out["currency"])
    diff = (out["list_price_micros"] - out["record_price_micros"]).astype("Int64")
    period_end = out["end_date"] + pd.Timedelta(days=1)
    open_ = (out["as_of"].isna() | (out["as_of"] < period_end)).to_numpy(bool)
    reasons = [
        (out["record_count"].isna().to_numpy(bool), "no usage record for this day"),
        (open_ & out["record_count"].notna().to_numpy(bool), "period not closed (as_of)"),
        ((out["n_unrated"] > 0).to_numpy(bool), "unrated rows"),
        ((out["foreign"] > 0).to_numpy(bool), "rows in another currency"),
        ((out["list_count"] != out["record_count"]).fillna(False).to_numpy(bool), "count"),
        ((out["list_usage"] - out["record_usage"]).abs().gt(1e-9).fillna(False)
         .to_numpy(bool), "usage"),
        (diff.abs().ge(tol).fillna(False).to_numpy(bool), "price"),
    ]
    text = pd.Series("", index=out.index, dtype=object)
    for mask, label in reasons:
        text = text.where(~mask, text + np.where(text == "", "", "; ") + label)
    pending = open_ | (out["n_unrated"] > 0).to_numpy(bool)
    pending &= out["record_count"].notna().to_numpy(bool)
    out["status"] = pd.Categorical(np.where(pending, "pending", np.where(
        text == "", "match", "mismatch")), categories=["match", "mismatch", "pending"])
    out["reason"] = text.astype("str")
    out["price_diff"] = diff.astype("float64") / 1e6
    return out


def reconcile(usage: pd.DataFrame, *, calls: pd.DataFrame | None = None,
              messages: pd.DataFrame | None = None,
              recordings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Compare list-endpoint totals with Usage Records, per account, period, category.

    Parameters
    ----------
    usage : DataFrame
        Usage Records (any subresource: daily, monthly...), fetched per account with
        ``include_subaccounts=False``. Categories outside :data:`RECONCILED_CATEGORIES`
        (and those whose list was not given) are skipped. Unless
        ``usage.attrs["include_subaccounts"]`` is False, mismatches get a hint in
        ``reason`` and a :class:`SubaccountUsageWarning` (see the module notes).
    calls, messages, recordings : DataFrame, optional
        The list frames of the same accounts and dates; at least one.

    Returns
    -------
    DataFrame
        One row per usage record (plus one per uncovered day of list activity), columns
        ``account_sid, category, start_date, end_date, currency, list_count,
        record_count, list_usage, record_usage, usage_unit, list_price, record_price,
        price_diff, list_price_micros, record_price_micros, n_unrated, as_of, status,
        reason``. Prices are positive; ``price_diff`` = list - record. ``status`` is
        ``match``, ``mismatch`` or ``pending``; ``reason`` names what differs or waits.
    """
    given = frames_given(calls=calls, messages=messages, recordings=recordings)
    engine.check_frame("usage", usage)
    include_subaccounts = engine.attrs_of(usage).get("include_subaccounts")
    rec = _prepare_usage(usage)
    served = {c for r in given for c in _SERVES[r]}
    rec = rec[rec["category"].isin(served)].reset_index(drop=True)
    daily = _rollup(_list_by_day(given))
    sums = _match_days(rec, daily)
    out = pd.DataFrame({
        "account_sid": rec["account_sid"], "category": rec["category"],
        "start_date": rec["start_date"], "end_date": rec["end_date"],
        "currency": rec["currency"], "list_count": sums["count"].to_numpy(),
        "record_count": rec["count"].astype("Int64"),
        "list_usage": sums["usage"].to_numpy().astype(float),
        "record_usage": rec["usage"].astype("float64"), "usage_unit": rec["usage_unit"],
        "list_price_micros": sums["cost"].to_numpy(),
        "record_price_micros": rec["price_micros"].astype("Int64"),
        "n_unrated": sums["unrated"].to_numpy(), "foreign": sums["foreign"].to_numpy(),
        "as_of": rec["as_of"]})
    out = pd.concat([out, _uncovered_rows(rec, daily)], ignore_index=True)
    out = _status(out)
    out["list_count"] = out["list_count"].astype("Int64")
    out["n_unrated"] = out["n_unrated"].astype("Int64")
    out["list_price_micros"] = out["list_price_micros"].astype("Int64")
    out["list_price"] = out["list_price_micros"].astype("float64") / 1e6
    out["record_price"] = out["record_price_micros"].astype("float64") / 1e6
    out = out.sort_values(["account_sid", "start_date", "category"], kind="stable",
                          ignore_index=True)
    return _subaccount_hint(out[COLUMNS], include_subaccounts)


def _subaccount_hint(out: pd.DataFrame, include_subaccounts) -> pd.DataFrame:
    """Name the likely cause when usage may hold subaccounts and something mismatches."""
    bad = (out["status"] == "mismatch").to_numpy(bool)
    if include_subaccounts is False or not bad.any():
        return out
    out["reason"] = out["reason"].where(~bad, out["reason"] + "; " + SUBACCOUNT_HINT)
    flag = "true" if include_subaccounts else "not known"
    warnings.warn(f"{int(bad.sum()):,} reconciliation rows mismatch and the usage records' "
                  f"IncludeSubaccounts was {flag}: {SUBACCOUNT_HINT}",
                  SubaccountUsageWarning, stacklevel=3)
    return out


_SERVES = {"calls": ("calls", "calls-inbound", "calls-outbound", "calls-client", "calls-sip",
                     "trunking-origination", "trunking-termination"),
           "messages": ("sms", "sms-inbound", "sms-outbound", "mms", "mms-inbound",
                        "mms-outbound"),
           "recordings": ("recordings",)}


def _uncovered_rows(rec: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    left = _uncovered(rec, daily)
    day = pd.to_datetime(left["day"].to_numpy().astype("datetime64[D]")).tz_localize(
        "UTC").as_unit("us")
    return pd.DataFrame({
        "account_sid": left["account_sid"].to_numpy(), "category": left["category"].to_numpy(),
        "start_date": day, "end_date": day,
        "currency": left["currency"].astype("str").to_numpy(),
        "list_count": left["count"].to_numpy(), "list_usage": left["usage"].to_numpy(float),
        "list_price_micros": left["cost"].to_numpy(), "n_unrated": left["unrated"].to_numpy(),
        "foreign": 0})


#: Usage Records rollups (parent -> children): :data:`twilio_frames.categories.CATEGORY_TREE`.
CATEGORY_ROLLUPS = CATEGORY_TREE


def usage_totals(usage: pd.DataFrame, *, categories: str | list[str] = "totalprice"
                 ) -> pd.DataFrame:
    """Exact price per account, period and currency from Usage Records.

    The default takes the ``totalprice`` record, Twilio's account total; summing
    categories double-counts their rollups (``calls`` holds ``calls-inbound``), so
    asking for categories of which one includes another (:data:`CATEGORY_ROLLUPS`;
    ``totalprice`` includes all) raises ConfigurationError naming them.

    Returns columns ``account_sid, start_date, end_date, currency, price,
    price_micros``.
    """
    cats = [categories] if isinstance(categories, str) else list(categories)
    cats = [c.lower() for c in cats]
    check_no_overlap(cats, what=f"categories={cats}")
    require_columns(usage, ["account_sid", "category", "start_date", "end_date",
                            "price_micros", "price_unit"], "usage_records")
    rows = usage[usage["category"].astype("str").str.lower().isin(cats)].copy()
    rows["currency"] = rows["price_unit"].astype("str").str.upper()
    out = rows.groupby(["account_sid", "start_date", "end_date", "currency"],
                       observed=True)["price_micros"].sum().reset_index()
    out["price_micros"] = out["price_micros"].astype("Int64")
    out.insert(4, "price", out["price_micros"].astype("float64") / 1e6)
    return out
