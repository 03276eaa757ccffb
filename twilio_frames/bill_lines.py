"""A bill's lines without double counting: :func:`usage_lines`.

Per account and period, the leaf categories of :data:`twilio_frames.categories.CATEGORY_TREE`
that were fetched, what a parent holds beyond its fetched children, and the
``totalprice`` remainder, adding up *exactly* to ``totalprice`` (sources and the tree:
:mod:`twilio_frames.categories`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .categories import KNOWN_CATEGORIES, TOTAL, OverlappingCategoriesWarning, ancestors
from .errors import ConfigurationError

__all__ = ["LINE_KINDS", "REMAINDER", "REST_SUFFIX", "check_keys", "usage_lines"]

#: Category of the line that holds what ``totalprice`` has beyond every category.
REMAINDER = "no-category"
#: Suffix of a ``rest`` line's category: ``calls (other)`` is what ``calls`` holds beyond
#: the children fetched with it (never the parent's own name beside its children).
REST_SUFFIX = " (other)"
REMAINDER_DESCRIPTION = "Charges in no usage category (totalprice less every category)"
#: ``line`` values of :func:`usage_lines`: a category record, what a parent holds beyond
#: the children fetched with it, and the totalprice remainder.
LINE_KINDS = ("category", "rest", "remainder")
_GROUP = ["account_sid", "start_date", "end_date", "currency"]
_NEEDED = ("account_sid", "category", "start_date", "end_date", "price_micros", "price_unit")
_KEYS = ("account_sid", "category", "start_date", "end_date", "price_unit")


def check_keys(usage: pd.DataFrame) -> None:
    """Raise ConfigurationError for the first record missing an account, category, date
    or currency: it cannot be put on any bill, and dropping it would change the totals."""
    for col in _KEYS:
        missing = usage[col].isna().to_numpy(bool)
        if missing.any():
            row = usage[missing].iloc[0]
            known = ", ".join(f"{k} {row[k]}" for k in ("account_sid", "category")
                              if k != col and not pd.isna(row[k]))
            raise ConfigurationError(
                f"{int(missing.sum())} usage record(s) have no {col} (first: {known}); "
                "such a record cannot be put on any bill")


def _text(values: pd.Series, case) -> np.ndarray:
    """Text of a (categorical) column in one case, converted once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return np.array([case(str(u)) for u in uniques], dtype=object)[codes]


def _prepared(usage: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in _NEEDED if c not in usage.columns]
    if missing:
        raise ConfigurationError(f"usage_records frame is missing column(s) {missing}")
    check_keys(usage)
    rec = pd.DataFrame({c: usage[c].reset_index(drop=True) for c in _NEEDED[:4]})
    rec["category"] = _text(usage["category"], str.lower)
    rec["currency"] = _text(usage["price_unit"], str.upper)
    rec["price_micros"] = usage["price_micros"].astype("Int64").to_numpy(
        dtype="int64", na_value=0)
    for col, default in (("description", ""), ("count", pd.NA), ("count_unit", ""),
                         ("usage", np.nan), ("usage_unit", "")):
        rec[col] = usage[col].reset_index(drop=True) if col in usage.columns else default
    rec["count"] = rec["count"].astype("Int64")
    rec["group"] = rec.groupby(_GROUP, sort=False, dropna=False).ngroup()
    dup = rec.duplicated(["group", "category"])
    if dup.any():
        row = rec[dup].iloc[0]
        raise ConfigurationError(
            f"usage records hold category {row['category']!r} twice for account "
            f"{row['account_sid']} and {row['start_date']:%Y-%m-%d}..{row['end_date']:%Y-%m-%d}"
            "; the same records were fetched twice (concatenated frames?)")
    return rec


def _nearest_present(rec: pd.DataFrame) -> np.ndarray:
    """Per row, the nearest ancestor category (below totalprice) present in its group;
    None where there is none. Vectorised: one membership test per level of the tree."""
    cats = rec["category"].unique()
    chains = {c: [a for a in ancestors(c) if a != TOTAL] for c in cats}
    names = pd.Index(sorted({*cats, *(a for ch in chains.values() for a in ch)}))
    k = len(names)
    group = rec["group"].to_numpy(np.int64)
    code = names.get_indexer(rec["category"])
    present = np.zeros((int(group.max()) + 1 if len(group) else 0) * k, bool)
    present[group * k + code] = True
    out = np.full(len(rec), None, dtype=object)
    for level in range(max((len(ch) for ch in chains.values()), default=0)):
        up = pd.Series({c: ch[level] for c, ch in chains.items() if len(ch) > level})
        if not len(up):
            break
        ancestor = rec["category"].map(up).to_numpy(dtype=object)
        todo = pd.isna(out) & pd.notna(ancestor)
        if not todo.any():
            continue
        hit = present[group[todo] * k + names.get_indexer(ancestor[todo])]
        idx = np.flatnonzero(todo)[hit]
        out[idx] = ancestor[idx]
    return out


#: Columns a bill reads besides the keys, when present.
OPTIONAL = ("count", "usage", "description", "count_unit", "usage_unit", "as_of")


def usage_frame(usage, what: str = "usage_records") -> pd.DataFrame:
    """Usage Records as pandas. A Dask frame is checked for the needed columns before
    anything runs, then only those (and :data:`OPTIONAL`) are computed: Usage Records
    hold one row per account, day and category, however much traffic there was, so
    they are small where calls and messages are not. ``attrs`` are kept."""
    from .analysis import engine
    engine.check_frame(what, usage)
    missing = [c for c in _NEEDED if c not in usage.columns]
    if missing:
        raise ConfigurationError(f"{what} frame is missing column(s) {missing}")
    if not engine.is_dask(usage):
        return usage
    out = engine.to_pandas(usage, [*_NEEDED, *OPTIONAL]).copy()
    out.attrs.update(engine.attrs_of(usage))
    return out


def usage_lines(usage: pd.DataFrame, *, keep_zero: bool = False) -> pd.DataFrame:
    """The lines of each account's bill: leaf categories, never a parent beside its
    children, never ``totalprice``, plus a remainder, adding up exactly to totalprice.

    Per account, period (``start_date``, ``end_date``) and currency:

    * a category record none of whose children were fetched is a line as it is (kind
      ``category``; unknown categories included, ``known`` False);
    * a parent fetched with some of its children gives the children's lines and, if it
      holds more than they add up to, a line ``<parent> (other)`` of kind ``rest``
      with the difference (count and usage left empty);
    * where ``totalprice`` is more than the lines, a line ``no-category`` (kind
      ``remainder``; Twilio: "some Twilio costs may not be included in any usage
      category"). Lines adding up to more than totalprice (an unknown category nests
      inside a known one) give a negative remainder and an
      :class:`OverlappingCategoriesWarning` naming the unknown categories.

    Without a totalprice record a group's lines are its categories' leaves, no remainder.

    Parameters
    ----------
    usage : DataFrame
        Usage Records as the client returns them (any subresource), pandas or Dask
        (see :func:`usage_frame`).
    keep_zero : bool
        Keep lines with no cost and no count (Twilio lists every category, used or not).

    Returns
    -------
    DataFrame
        ``account_sid, start_date, end_date, currency, category, description, count,
        count_unit, usage, usage_unit, cost_micros, line, known`` sorted by account,
        period, category (the remainder last).
    """
    rec = _prepared(usage_frame(usage))
    top = _nearest_present(rec)
    is_total = (rec["category"] == TOTAL).to_numpy()
    nested = ~is_total & pd.notna(top)
    # per (group, parent): what its present children add up to (their whole values)
    inside = pd.Series(rec["price_micros"].to_numpy()[nested]).groupby(
        [rec["group"].to_numpy()[nested], top[nested]]).sum()
    keys = pd.MultiIndex.from_arrays([rec["group"], rec["category"]])
    parent = keys.isin(inside.index) if len(inside) else np.zeros(len(rec), bool)
    held = inside.reindex(keys).fillna(0).to_numpy(np.int64) if len(inside) else 0
    lines = rec[~is_total].copy()
    lines["cost_micros"] = (rec["price_micros"].to_numpy() - held)[~is_total]
    lines["line"] = np.where(parent[~is_total], "rest", "category")
    rest = (lines["line"] == "rest").to_numpy()
    lines.loc[rest, "count"] = pd.NA
    lines.loc[rest, "usage"] = np.nan
    lines.loc[rest, "category"] = lines.loc[rest, "category"] + REST_SUFFIX
    lines.loc[rest, "description"] = (lines.loc[rest, "description"].astype("str")
                                      + " (not in its subcategories)")
    lines = lines[~rest | (lines["cost_micros"] != 0).to_numpy()]
    _warn_negative_rest(lines)
    out = pd.concat([lines, _remainders(rec, is_total, lines)], ignore_index=True)
    base = out["category"].str.removesuffix(REST_SUFFIX)
    out["known"] = base.isin(KNOWN_CATEGORIES) | (out["line"] == "remainder")
    if not keep_zero:
        idle = (out["cost_micros"] == 0) & (out["count"].fillna(0) == 0)
        out = out[~idle.to_numpy(bool)]
    out["cost_micros"] = out["cost_micros"].astype("Int64")
    out["last"] = out["line"] == "remainder"
    out = out.sort_values(["account_sid", "start_date", "end_date", "currency", "last",
                           "category"], kind="stable", ignore_index=True)
    return out[[*_GROUP, "category", "description", "count", "count_unit", "usage",
                "usage_unit", "cost_micros", "line", "known"]]


def _warn_negative_rest(lines: pd.DataFrame) -> None:
    """Children adding up to more than their parent: the records disagree (or an unknown
    category was fetched beside a parent it is not in); the rest line is negative."""
    bad = lines[(lines["line"] == "rest").to_numpy() & (lines["cost_micros"] < 0).to_numpy()]
    if len(bad):
        parents = sorted(set(bad["category"].str.removesuffix(REST_SUFFIX)))
        warnings.warn(
            f"{len(bad)} account-period(s) have subcategories adding up to more than their "
            f"parent category {parents} (first: {bad['account_sid'].iloc[0]}); the "
            f"'(other)' line is negative", OverlappingCategoriesWarning, stacklevel=4)


def _remainders(rec: pd.DataFrame, is_total: np.ndarray, lines: pd.DataFrame) -> pd.DataFrame:
    """One remainder line per group with a totalprice record: totalprice - its lines."""
    totals = rec[is_total].set_index("group")
    if not len(totals):
        return lines.iloc[:0]
    summed = lines.groupby("group")["cost_micros"].sum().reindex(totals.index, fill_value=0)
    left = totals["price_micros"] - summed
    out = totals.loc[left != 0, _GROUP].reset_index()
    out["category"] = REMAINDER
    out["description"] = REMAINDER_DESCRIPTION
    out["count"], out["count_unit"], out["usage"], out["usage_unit"] = pd.NA, "", np.nan, ""
    out["cost_micros"] = left[left != 0].to_numpy()
    out["line"] = "remainder"
    negative = out[out["cost_micros"] < 0]
    if len(negative):
        base = lines["category"].str.removesuffix(REST_SUFFIX)
        unknown = sorted(set(lines.loc[lines["group"].isin(negative["group"]).to_numpy()
                                       & ~base.isin(KNOWN_CATEGORIES).to_numpy(), "category"]))
        warnings.warn(
            f"{len(negative)} account-period(s) have categories adding up to more than "
            f"their totalprice (first: {negative['account_sid'].iloc[0]}); unknown "
            f"categories that may nest inside others: {unknown or 'none'}",
            OverlappingCategoriesWarning, stacklevel=3)
    return out
