"""The Usage Records category tree, and a bill's lines without double counting.

Usage Records categories nest: ``calls`` holds ``calls-inbound`` and ``calls-outbound``,
``totalprice`` holds everything, and new categories appear without notice (the spec's
enum of 643 names was removed on 2025-09-04; ``category`` is now a free string). Adding
categories therefore counts some charges two or three times. This module keeps the
documented nesting as data (:data:`CATEGORY_TREE`) and picks, for every account and
period, the lines of a bill that add up *exactly* to its ``totalprice``
(:func:`usage_lines`).

Sources (``reference/billing-rules.md`` §4.4, ``reference/fraud-and-rebilling.md`` §4;
the Usage Records docs, DOC-UR):

* ``calls``: "Inbound and outbound voice calls. Does *not* include client or SIP
  calls" -> ``calls-inbound`` + ``calls-outbound``; ``calls-inbound`` "All inbound voice
  calls, to mobile, toll-free and local numbers" -> ``-local``, ``-mobile``, ``-tollfree``.
  ``calls-client`` and ``calls-sip`` are their own records, outside ``calls``.
* ``sms``: "All SMS messages, both inbound and outbound" -> ``sms-inbound`` and
  ``sms-outbound``, each by longcode, shortcode, tollfree; ``mms`` likewise.
* ``authy-calls-outbound`` / ``authy-sms-outbound``: "also included in the Voice / SMS
  categories" (placed under ``calls-outbound`` / ``sms-outbound``).
* ``pv``: "All Programmable Video usage" -> every ``pv-*`` category.
* ``totalprice``: "Total price of all usage ... because some Twilio costs may not be
  included in any usage category, the sum of the Price of all UsageRecords may not be
  equal to the Price of TotalPrice": the root, and the reason for a remainder line.

Inferred from the names only (no source states the rollup; say so when it matters):
``phonenumbers`` holds every ``phonenumbers-*`` (rental by number type, setups,
porting...); ``calls-inbound-tollfree`` holds ``-tollfree-local`` / ``-tollfree-mobile``;
``calls-sip`` holds ``calls-sip-inbound`` / ``-outbound``; ``recordings`` ("Recordings of
voice and trunking calls") holds ``calls-recordings`` and ``trunking-recordings``.
``recordingstorage``, ``failed-message-processing-fee``, the carrier-fee categories
(whether ``sms`` holds ``sms-messages-carrierfees`` is an open question, billing-rules
§2.2) and every other category are treated as separate charges.

Categories are compared in lower case (DOC-UR writes ``Usage-RCS-Messages``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .errors import ConfigurationError

__all__ = ["CATEGORY_TREE", "KNOWN_CATEGORIES", "LINE_KINDS", "OverlappingCategoriesWarning",
           "REMAINDER", "TOTAL", "ancestors", "check_no_overlap", "is_known", "parent_of",
           "usage_lines"]

TOTAL = "totalprice"
#: Category of the line that holds what ``totalprice`` has beyond every category.
REMAINDER = "no-category"
#: Suffix of a ``rest`` line's category: ``calls (other)`` is what ``calls`` holds beyond
#: the children fetched with it (never the parent's own name beside its children).
REST_SUFFIX = " (other)"
REMAINDER_DESCRIPTION = "Charges in no usage category (totalprice less every category)"
#: ``line`` values of :func:`usage_lines`: a category record, what a parent holds beyond
#: the children fetched with it, and the totalprice remainder.
LINE_KINDS = ("category", "rest", "remainder")

#: parent -> its documented children (see the module notes for sources).
CATEGORY_TREE: dict[str, tuple[str, ...]] = {
    "calls": ("calls-inbound", "calls-outbound"),
    "calls-inbound": ("calls-inbound-local", "calls-inbound-mobile", "calls-inbound-tollfree"),
    "calls-inbound-tollfree": ("calls-inbound-tollfree-local", "calls-inbound-tollfree-mobile"),
    "calls-outbound": ("authy-calls-outbound",),
    "calls-sip": ("calls-sip-inbound", "calls-sip-outbound"),
    "sms": ("sms-inbound", "sms-outbound"),
    "sms-inbound": ("sms-inbound-longcode", "sms-inbound-shortcode", "sms-inbound-tollfree"),
    "sms-outbound": ("sms-outbound-longcode", "sms-outbound-shortcode",
                     "sms-outbound-tollfree", "authy-sms-outbound"),
    "mms": ("mms-inbound", "mms-outbound"),
    "mms-inbound": ("mms-inbound-longcode", "mms-inbound-shortcode", "mms-inbound-toll-free"),
    "mms-inbound-longcode": ("mms-inbound-longcode-canada",
                             "mms-inbound-longcode-unitedstates"),
    "mms-outbound": ("mms-outbound-longcode", "mms-outbound-shortcode",
                     "mms-outbound-toll-free", "mms-outbound-tollfree"),
    "mms-outbound-longcode": ("mms-outbound-longcode-canada",
                              "mms-outbound-longcode-unitedstates"),
    "recordings": ("calls-recordings", "trunking-recordings"),
}
#: Families by prefix: every ``<name>-*`` category not placed deeper belongs to ``<name>``.
PREFIX_FAMILIES = ("phonenumbers", "pv")

#: Separate charges we know by name (Usage Records docs, billing-rules §1-§4).
_SEPARATE = ("calls-client", "calls-transfers", "calls-text-to-speech", "calls-emergency",
             "calls-globalconference", "calls-media-stream-minutes",
             "calls-pay-verb-transactions", "recordingstorage", "failed-message-processing-fee",
             "sms-messages-carrierfees", "mms-messages-carrierfees", "mediastorage",
             "answering-machine-detection", "amazon-polly", "text-to-speech", "tts-google",
             "trunking-origination", "trunking-termination", "phonenumbers-local",
             "phonenumbers-mobile", "phonenumbers-tollfree", "phonenumbers-setups",
             "phonenumbers-porting", "phonenumbers-emergency", "phonenumbers-cps",
             "phonenumbers-numbers")
_PARENT = {child: parent for parent, kids in CATEGORY_TREE.items() for child in kids}
#: Every category named here (the tree, the families' heads and the separate charges).
KNOWN_CATEGORIES = frozenset({TOTAL, *CATEGORY_TREE, *_PARENT, *PREFIX_FAMILIES, *_SEPARATE})


class OverlappingCategoriesWarning(UserWarning):
    """Usage categories that contain one another were added together, or an account's
    categories add up to more than its ``totalprice`` (an unknown category nests)."""


def parent_of(category: str) -> str | None:
    """The category that includes ``category`` directly (``totalprice`` for a top one;
    None for ``totalprice`` itself).

    >>> parent_of("calls-inbound-local"), parent_of("phonenumbers-local"), parent_of("x")
    ('calls-inbound', 'phonenumbers', 'totalprice')
    """
    name = str(category).lower()
    if name == TOTAL:
        return None
    if name in _PARENT:
        return _PARENT[name]
    for family in PREFIX_FAMILIES:
        if name.startswith(family + "-"):
            return family
    return TOTAL


def ancestors(category: str) -> tuple[str, ...]:
    """Every category that includes ``category``, nearest first, ending at totalprice."""
    out, cur = [], parent_of(category)
    while cur is not None:
        out.append(cur)
        cur = parent_of(cur)
    return tuple(out)


def is_known(category: str) -> bool:
    """Whether ``category`` is one this module documents (case-insensitive)."""
    return str(category).lower() in KNOWN_CATEGORIES


def check_no_overlap(categories, *, what: str = "these usage categories") -> None:
    """Raise ConfigurationError naming every pair in ``categories`` of which one
    includes the other (``totalprice`` includes all)."""
    names = sorted({str(c).lower() for c in categories})
    present = set(names)
    pairs = [(a, b) for b in names for a in ancestors(b) if a in present]
    if pairs:
        shown = ", ".join(f"{a} includes {b}" for a, b in pairs[:6])
        more = f" (and {len(pairs) - 6} more)" if len(pairs) > 6 else ""
        raise ConfigurationError(
            f"{what} overlap: {shown}{more}; adding them counts the same charges twice. "
            "Use the 'totalprice' record for an account's total, or leaf categories "
            "(tf.usage_lines)")


_GROUP = ["account_sid", "start_date", "end_date", "currency"]
_NEEDED = ("account_sid", "category", "start_date", "end_date", "price_micros", "price_unit")


def _text(values: pd.Series, case) -> np.ndarray:
    """Text of a (categorical) column in one case, converted once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return np.array([case(str(u)) for u in uniques], dtype=object)[codes]


def _prepared(usage: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in _NEEDED if c not in usage.columns]
    if missing:
        raise ConfigurationError(f"usage_records frame is missing column(s) {missing}")
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
        Usage Records as the client returns them (any subresource).
    keep_zero : bool
        Keep lines with no cost and no count (Twilio lists every category, used or not).

    Returns
    -------
    DataFrame
        ``account_sid, start_date, end_date, currency, category, description, count,
        count_unit, usage, usage_unit, cost_micros, line, known`` sorted by account,
        period, category (the remainder last).
    """
    rec = _prepared(usage)
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
