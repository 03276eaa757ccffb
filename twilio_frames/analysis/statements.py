"""Customer statements: each subaccount's whole Twilio bill per month, with markup.

Resellers put each customer in a subaccount and rebill it (``reference/fraud-and-
rebilling.md`` §4; billing-rules §8: one subaccount per customer, Usage Records per
subaccount with ``IncludeSubaccounts=false``, optionally a markup). :func:`statements`
turns such Usage Records into one line per account, month and billed category:

* daily records are rolled up to calendar months (UTC); monthly ones are used as they
  are; a record that spans two months is refused;
* the lines are :func:`twilio_frames.usage_lines`: leaf categories, never a parent beside
  its children, never ``totalprice``, unknown categories kept, and a ``no-category`` line
  for what totalprice holds beyond every category, so that for every account and month
  the ``cost_micros`` of the category lines add up *exactly* to its totalprice;
* ``charge_micros`` is what the customer pays, by the markup rules
  (:mod:`twilio_frames.analysis.rules`), rounded **half-up** (halves away from zero) to the
  currency's minor unit (ISO 4217: USD cents, JPY whole yen) **per line** by default;
  ``rounding="statement"`` keeps each line to the micro-unit and adds one ``rounding``
  line per statement instead. Arithmetic is exact (integers; percents as fractions);
* a monthly fee and a monthly minimum add lines of kind ``fee`` and ``minimum``;
* a month whose records are not final (``as_of`` before the month is over, or records
  ending before its last day) is ``provisional``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..bill_lines import check_keys, usage_lines
from ..categories import TOTAL
from ..errors import ConfigurationError
from ..money import _check_periods, format_micros, minor_unit, require_columns
from .rules import amount_in, load_rules

__all__ = ["STATEMENT_COLUMNS", "RuleWarning", "round_half_up", "statements"]

STATEMENT_COLUMNS = ["account_sid", "friendly_name", "start_date", "end_date", "category",
                     "description", "count", "count_unit", "usage", "usage_unit", "currency",
                     "cost_micros", "cost", "charge_micros", "charge", "rule", "line",
                     "provisional"]
_KEYS = ["account_sid", "currency", "month"]
_NEEDED = ("account_sid", "category", "start_date", "end_date", "price_micros", "price_unit")


class RuleWarning(UserWarning):
    """A markup rule matched no line of any statement (a typo, or a product not used)."""


def round_half_up(numerator: np.ndarray, denominator: np.ndarray, step: np.ndarray
                  ) -> np.ndarray:
    """``numerator / denominator`` rounded half away from zero to a multiple of ``step``,
    exactly (Python integers in object arrays; no float anywhere).

    >>> round_half_up(np.array([5_000, -5_000, 4_999], object), np.array([1, 1, 1], object),
    ...               np.array([10_000] * 3, object)).tolist()
    [10000, -10000, 0]
    """
    unit = denominator * step
    sign = np.where(numerator < 0, -1, 1).astype(object)
    return sign * ((np.abs(numerator) * 2 + unit) // (unit * 2)) * step


def _check_scope(usage: pd.DataFrame, accounts: pd.DataFrame | None) -> None:
    """Refuse usage that holds subaccounts inside a master's figures (double counting)."""
    how = ("fetch it per account: client.usage_records('monthly', start=..., end=..., "
           "accounts='all'), which asks each account with IncludeSubaccounts=false")
    flag = usage.attrs.get("include_subaccounts")
    if flag is True:
        raise ConfigurationError("usage records fetched with IncludeSubaccounts=true hold "
                                 "every subaccount in the master's figures and would be "
                                 f"billed twice; {how}")
    if flag is None and accounts is not None and "owner_account_sid" in accounts.columns:
        owns = accounts["owner_account_sid"] != accounts["sid"]
        owners = set(accounts.loc[owns.fillna(False).to_numpy(bool), "owner_account_sid"])
        masters = set(usage["account_sid"].unique()) & owners
        if masters:
            raise ConfigurationError(
                f"usage records of master {sorted(masters)[0]} were fetched without "
                "IncludeSubaccounts=false (Twilio's default is true: they would hold its "
                f"subaccounts' usage too); {how}")


def _months(usage: pd.DataFrame) -> pd.DataFrame:
    """Records summed per account, currency, UTC month and category."""
    require_columns(usage, _NEEDED, "usage_records")
    check_keys(usage)
    _check_periods(usage)                 # daily and monthly records together: refused
    first = usage["start_date"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    last = usage["end_date"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    if (first != last).any():
        bad = usage[(first != last).to_numpy()].iloc[0]
        raise ConfigurationError(
            f"a usage record spans {bad['start_date']:%Y-%m-%d}..{bad['end_date']:%Y-%m-%d}"
            ", more than one month: statements need daily or monthly usage records")
    rec = pd.DataFrame({"account_sid": usage["account_sid"].to_numpy(),
                        "currency": usage["price_unit"].astype("str").str.upper().to_numpy(),
                        "month": first.to_numpy(),
                        "category": usage["category"].astype("str").str.lower().to_numpy()})
    for col in ("start_date", "end_date", "price_micros", "count", "usage", "description",
                "count_unit", "usage_unit", "as_of"):
        rec[col] = usage[col].to_numpy() if col in usage.columns else pd.NA
    out = rec.groupby([*_KEYS, "category"], sort=True).agg(
        start_date=("start_date", "min"), end_date=("end_date", "max"),
        price_micros=("price_micros", "sum"), count=("count", lambda s: s.sum(min_count=1)),
        usage=("usage", "sum"), description=("description", "first"),
        count_unit=("count_unit", "first"), usage_unit=("usage_unit", "first"),
        as_of=("as_of", "max")).reset_index()
    out["price_unit"] = out["currency"]
    return out


def _require_totals(monthly: pd.DataFrame) -> None:
    has = monthly.assign(t=monthly["category"] == TOTAL).groupby(_KEYS)["t"].any()
    if not has.all():
        acct, _, month = has[~has].index[0]
        raise ConfigurationError(
            f"no totalprice record for account {acct} in {month}: a statement must add up "
            "to it; fetch the usage records without a Category filter")


def _provisional(monthly: pd.DataFrame, now) -> pd.Series:
    """Per account, currency and month: True unless the month is over and final."""
    g = monthly.groupby(_KEYS)
    month_end = pd.Series(g.size().index.get_level_values("month").to_timestamp(how="end")
                          .normalize(), index=g.size().index).dt.tz_localize("UTC")
    as_of = g["as_of"].max()
    covered = g["end_date"].max() >= month_end
    now = pd.Timestamp.now(tz="UTC") if now is None else _utc(now)
    seen = as_of.where(as_of.notna(), now)
    return ~(covered & (seen >= month_end + pd.Timedelta(days=1)))


def _utc(now) -> pd.Timestamp:
    """``now`` as a UTC Timestamp; a time without an offset is read as UTC."""
    try:
        ts = pd.Timestamp(now)
    except (ValueError, TypeError):
        raise ConfigurationError(f"now={now!r} is not a date or time") from None
    if pd.isna(ts):
        raise ConfigurationError(f"now={now!r} is not a date or time")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _charges(lines: pd.DataFrame, rules, step: np.ndarray, per_line: bool) -> np.ndarray:
    """Exact charge of every line, rounded half-up to the minor unit (or to 1 micro)."""
    chosen = [rules.rule_for(c) for c in lines["category"]]
    ratios = [r.percent.as_integer_ratio() for r in chosen]
    den = np.array([100 * b for _, b in ratios], object)
    factor = np.array([100 * b + a for a, b in ratios], object)
    per_unit = np.array([int(amount_in(r.per_unit, cur).scaleb(6)) for r, cur in zip(
        chosen, lines["currency"])], object)
    passing = np.array([r.pass_through for r in chosen], bool)
    cost = np.array([int(v) for v in lines["cost_micros"]], object)
    count = np.array([0 if pd.isna(v) else int(v) for v in lines["count"]], object)
    num = np.where(passing, cost * den, cost * factor + per_unit * count * den)
    lines["rule"] = [r.describe() for r in chosen]
    out = round_half_up(num, den, step if per_line else np.ones(len(lines), object))
    huge = (np.abs(out) >= 2 ** 62).astype(bool)      # headroom for fees and totals
    if huge.any():
        i = int(np.flatnonzero(huge)[0])
        raise ConfigurationError(
            f"the charge of {lines['category'].iloc[i]!r} by rule {lines['rule'].iloc[i]!r} "
            "is beyond what a statement can hold (4.6e12 currency units): check the rules")
    return out


def _extra_lines(lines: pd.DataFrame, rules, rounding: str) -> pd.DataFrame:
    """Per statement: the monthly fee, the rounding line, the minimum top-up."""
    rows = []
    for key, st in lines.groupby(_KEYS, sort=False):
        cur = key[1]
        step = 10 ** (6 - minor_unit(cur))
        base = st.iloc[0]
        total = int(st["charge_micros"].sum())
        fee = _micros(amount_in(rules.monthly_fee, cur), step)
        extra = []
        if fee:
            extra.append(("monthly-fee", "Monthly fee", fee, "fee", "monthly_fee"))
        if rounding == "statement":
            gap = int(round_half_up(np.array([total + fee], object), np.array([1], object),
                                    np.array([step], object))[0]) - total - fee
            if gap:
                extra.append(("rounding", "Rounding to the currency's minor unit", gap,
                              "rounding", "rounding"))
        floor = _micros(amount_in(rules.minimum, cur), step)
        reached = total + sum(e[2] for e in extra)
        if floor and reached < floor:
            shown = format_micros(floor, places=minor_unit(cur))     # as charged: JPY 26
            extra.append(("minimum", f"Monthly minimum of {cur} {shown}",
                          floor - reached, "minimum", "minimum"))
        rows += [{**{k: base[k] for k in (*_KEYS, "account_sid", "start_date", "end_date",
                                          "provisional")},
                  "category": c, "description": d, "count": pd.NA, "cost_micros": 0,
                  "charge_micros": m, "line": kind, "rule": r} for c, d, m, kind, r in extra]
    return pd.DataFrame(rows)


def _micros(amount, step: int) -> int:
    """A rules amount in micro-units, rounded half-up to the minor unit."""
    micros = np.array([int(amount.scaleb(6).to_integral_value())], object)
    return int(round_half_up(micros, np.array([1], object), np.array([step], object))[0])


def _warn_unused(rules, categories: set[str]) -> None:
    import fnmatch
    unused = [r.pattern for r in rules.categories
              if not any(fnmatch.fnmatchcase(c, r.pattern) for c in categories)]
    if unused:
        warnings.warn(f"markup rule(s) {unused} match no category on any statement "
                      "(a typo, or a product these customers did not use)", RuleWarning,
                      stacklevel=3)


def statements(usage: pd.DataFrame, *, accounts: pd.DataFrame | None = None, rules=None,
               calls: pd.DataFrame | None = None, messages: pd.DataFrame | None = None,
               recordings: pd.DataFrame | None = None, rounding: str = "line",
               now=None) -> pd.DataFrame:
    """One row per account, month and billed line: Twilio's cost and the customer's charge.

    Parameters
    ----------
    usage : DataFrame
        Usage Records, daily or monthly, fetched per account with
        ``IncludeSubaccounts=false`` (``client.usage_records("monthly", ...,
        accounts="all")``). Usage fetched with ``IncludeSubaccounts=true`` is refused.
    accounts : DataFrame, optional
        ``client.accounts()``: friendly names, and which account is a master.
    rules : dict, path or None
        Markup rules (:mod:`twilio_frames.analysis.rules`); None passes the cost through.
    calls, messages, recordings : DataFrame, optional
        The same accounts' list frames: each statement then carries its detail (top
        numbers and destinations, messages by country, calls by direction) in
        ``attrs["detail"]`` (see :func:`statement_detail`); a ``PartialDetailWarning``
        when a store's frames hold fewer days than a statement (:mod:`.coverage`).
    rounding : {"line", "statement"}
        Round each line half-up to the currency's minor unit (default), or keep lines to
        the micro-unit and round each statement's total once (a ``rounding`` line).
    now : Timestamp or str, optional
        The present, for records without ``as_of`` (no offset: UTC).

    Returns
    -------
    DataFrame
        Columns :data:`STATEMENT_COLUMNS`. ``cost`` / ``charge`` are float64 copies of the
        exact ``*_micros``; ``line`` is ``category``, ``rest``, ``remainder`` (these add up
        to totalprice), or ``fee``, ``rounding``, ``minimum``; ``rule`` names the rule.
    """
    if rounding not in ("line", "statement"):
        raise ConfigurationError(f"rounding must be 'line' or 'statement', got {rounding!r}")
    rules = load_rules(rules)
    _check_scope(usage, accounts)
    if not len(usage):
        return _empty()
    monthly = _months(usage)
    _require_totals(monthly)
    provisional = _provisional(monthly, now)
    lines = usage_lines(monthly)
    lines["month"] = lines["start_date"].dt.tz_localize(None).dt.to_period("M")
    lines["provisional"] = provisional.reindex(
        pd.MultiIndex.from_frame(lines[_KEYS])).to_numpy(bool)
    step = np.array([10 ** (6 - minor_unit(c)) for c in lines["currency"]], object)
    lines["charge_micros"] = _charges(lines, rules, step, rounding == "line")
    _warn_unused(rules, set(lines["category"]))
    extra = _extra_lines(lines, rules, rounding)
    out = pd.concat([lines, extra], ignore_index=True) if len(extra) else lines
    out = _finish(out, accounts)
    if any(f is not None for f in (calls, messages, recordings)):
        from .coverage import warn_partial
        from .statement_checks import statement_detail
        out.attrs["detail"] = statement_detail(calls=calls, messages=messages,
                                               recordings=recordings)
        warn_partial(out, out.attrs["detail"])
    return out


def _empty() -> pd.DataFrame:
    """The statements of no usage: the columns, no rows."""
    out = pd.DataFrame(columns=STATEMENT_COLUMNS)
    for col in ("cost_micros", "charge_micros", "count"):
        out[col] = pd.array([], "Int64")
    for col in ("start_date", "end_date"):
        out[col] = pd.Series([], dtype="datetime64[us, UTC]")
    return out.astype({"cost": "float64", "charge": "float64", "provisional": bool})


def _finish(out: pd.DataFrame, accounts: pd.DataFrame | None) -> pd.DataFrame:
    names = {} if accounts is None else dict(zip(accounts["sid"], accounts["friendly_name"]))
    named = out["account_sid"].map(names).astype("object")
    out["friendly_name"] = named.where(named.notna(), "").astype("str")   # NaN: dropped by groupby
    for col in ("cost_micros", "charge_micros", "count"):
        out[col] = pd.array([pd.NA if pd.isna(v) else int(v) for v in out[col]], "Int64")
    out["cost"] = out["cost_micros"].astype("float64") / 1e6
    out["charge"] = out["charge_micros"].astype("float64") / 1e6
    order = {"category": 0, "rest": 0, "remainder": 1, "fee": 2, "rounding": 3, "minimum": 4}
    out["_rank"] = out["line"].map(order)
    out = out.sort_values(["account_sid", "start_date", "currency", "_rank", "category"],
                          kind="stable", ignore_index=True)
    for col in ("count_unit", "usage_unit", "description"):
        out[col] = out[col].fillna("").astype("str")
    return out[STATEMENT_COLUMNS]
