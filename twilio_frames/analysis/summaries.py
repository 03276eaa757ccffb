"""Usage and cost summaries: tidy DataFrames, costs positive, money exact per currency.

Every summary carries ``cost_micros`` (``Int64``, exact 10**-6 currency units, the sum
of the prices Twilio sent) and ``cost`` (the same as float64, for plots), and is grouped
by ``currency``: amounts in different currencies are never added together.

Periods (``freq``): ``"D"`` days, ``"W"`` weeks starting Monday, ``"M"`` calendar
months; ``period`` is the first instant of the period, tz-aware. ``tz=None`` buckets in
UTC, which is how Twilio's Usage Records count days; ``tz="Europe/Paris"`` buckets in
that zone (handy for people, but such periods cannot be compared with Usage Records,
so :func:`twilio_frames.reconcile` always works in UTC).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from . import engine
from .billing import CATEGORIES, NEEDED, PRODUCTS, arrays, country_of, derive, needed_columns
from ..errors import ConfigurationError
from ..money import exact_group_sums, infer_resource
from ..resources import get_resource
from .arrow_arrays import codes_of, group_sums, message_arrays

__all__ = ["cost_by_period", "top_countries", "top_numbers", "unrated"]

FREQS = ("D", "W", "M")
_DERIVED = ("product", "category", "currency", "usage_unit", "our_number", "remote_number",
            "country", "country_approx", "billable")
_UNITS = {"calls": "minutes", "sms": "segments", "mms": "messages",
          "recordings": "minutes"}
_INPUTS = ("calls", "messages", "recordings")
_NUMBER_KEYS = {"category", "our_number", "remote_number", "country", "country_approx"}


def check_tz(tz: str | None) -> str:
    """Validate a time zone name (IANA); None means UTC."""
    if tz is None:
        return "UTC"
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"unknown time zone {tz!r}; use an IANA name such as "
                                 "'UTC' or 'America/New_York'") from None
    return str(tz)


def check_freq(freq: str) -> str:
    """Validate ``freq`` (``D``, ``W`` or ``M``, case-insensitive)."""
    if not isinstance(freq, str) or freq.upper() not in FREQS:
        raise ConfigurationError(f"unknown freq {freq!r}; expected one of D, W, M")
    return freq.upper()


def bucket(when: pd.Series, freq: str = "D", tz: str | None = None) -> pd.Series:
    """Start of the ``freq`` period holding each timestamp, in ``tz`` (default UTC).

    Computed once per distinct local day, then mapped, so it stays fast on big frames.
    """
    freq, tz = check_freq(freq), check_tz(tz)
    local = when.dt.tz_convert(tz).dt.tz_localize(None).to_numpy()
    days = local.astype("datetime64[D]")
    codes, uniques = pd.factorize(days.view("int64"), use_na_sentinel=True)
    starts = pd.DatetimeIndex(uniques.astype("datetime64[D]").astype("datetime64[us]"))
    if freq == "W":
        starts = starts - pd.to_timedelta(starts.day_of_week, unit="D")
    elif freq == "M":
        starts = starts - pd.to_timedelta(starts.day - 1, unit="D")
    starts = starts.tz_localize(tz, ambiguous=np.ones(len(starts), bool),
                                nonexistent="shift_forward")
    values = starts.take(np.maximum(codes, 0))
    result = pd.Series(values, index=when.index, name="period")
    return result.mask(pd.Series(codes < 0, index=when.index) | when.isna().to_numpy())


def as_list(by) -> list[str]:
    """``None`` -> [], ``"x"`` -> ["x"], sequences -> list."""
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def frames_given(**frames) -> dict[str, pd.DataFrame]:
    """The non-None frames among calls/messages/recordings; at least one is required.

    Each may be a pandas or a Dask DataFrame (:mod:`twilio_frames.analysis.engine`)."""
    given = {k: v for k, v in frames.items() if v is not None}
    if not given:
        raise ConfigurationError("pass at least one of calls=, messages=, recordings=")
    for name, frame in given.items():
        engine.check_frame(name, frame)
        try:
            found = infer_resource(frame)
        except ConfigurationError:
            continue                    # too few columns to tell; require_columns names them
        if found != name:
            raise ConfigurationError(f"{name}= got a {found} frame")
    return given


_QUARTER_US = 900_000_000
_NAT = np.iinfo(np.int64).min


def _check_by(by: list[str], given: dict[str, pd.DataFrame]) -> None:
    for col in by:
        if col not in _DERIVED and not any(col in f.columns for f in given.values()):
            raise ConfigurationError(
                f"by={col!r}: no such column in the {', '.join(given)} frame(s) "
                f"(derived columns: {', '.join(_DERIVED)})")


def period_codes(when_us: np.ndarray, freq: str, tz: str) -> tuple[np.ndarray, pd.Series]:
    """Period of each UTC-microsecond time as codes into a Series of period starts.

    UTC days come straight from integer division; other zones and frequencies are
    computed once per distinct quarter-hour (offsets change on such boundaries).
    """
    missing = when_us == _NAT
    step = 86_400_000_000 if (tz == "UTC" and freq == "D") else _QUARTER_US
    slot = np.where(missing, 0, when_us // step)
    codes, uniques = _dense_codes(slot)
    stamps = pd.Series(pd.to_datetime((uniques * step).astype("datetime64[us]"))
                       ).dt.tz_localize("UTC")
    starts = bucket(stamps, freq, tz) if step == _QUARTER_US else stamps
    pcodes, periods = pd.factorize(starts)
    return np.where(missing, -1, pcodes[codes]), pd.Series(periods)


def _dense_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of int64 values (uniques sorted, not in order of appearance):
    a bincount over their range when it is small (the days or quarter-hours of one
    partition: ~4x cheaper than hashing), else hashing."""
    if not len(values):
        return np.zeros(0, np.intp), values
    low = int(values.min())
    span = int(values.max()) - low + 1
    if span > 4 * len(values) + 65_536:
        return pd.factorize(values)
    shifted = values - low
    present = np.bincount(shifted, minlength=span) > 0
    return (np.cumsum(present) - 1)[shifted], np.flatnonzero(present) + low


def _by_codes(frame: pd.DataFrame, a: dict, col: str) -> tuple[np.ndarray, pd.Index]:
    """Group codes (NA is a group of its own) and labels of one ``by`` column."""
    n = len(frame)
    if col == "category":
        return a["category"].astype(np.int64), pd.Index(CATEGORIES)
    if col in ("our_number", "remote_number", "country", "country_approx"):
        if a["inbound"] is None:
            return np.zeros(n, np.int64), pd.Index([pd.NA], dtype="object")
        ours = col == "our_number"
        numbers = frame["to"].where(a["inbound"] == ours, frame["from"])
        if col in ("our_number", "remote_number"):
            codes, labels = pd.factorize(numbers, use_na_sentinel=False)
            return codes, pd.Index(labels)
        codes, uniques = pd.factorize(numbers, use_na_sentinel=False)
        found = country_of(pd.Series(uniques, dtype="str"))[col]
        sub, labels = pd.factorize(found, use_na_sentinel=False)
        return sub[codes], pd.Index(labels)
    if col not in frame.columns:
        return np.zeros(n, np.int64), pd.Index([pd.NA], dtype="object")
    codes, labels = pd.factorize(frame[col], use_na_sentinel=False)
    return codes, pd.Index(labels)


def _digit(codes: np.ndarray, labels: pd.Index) -> np.ndarray:
    """Codes with the NA sentinel (-1) moved onto the NA label (or one past the end)."""
    if not len(codes) or codes.min() >= 0:
        return codes
    return np.where(codes < 0, len(labels) - 1 if labels.hasnans else len(labels), codes)


def _group_ids(columns, n: int) -> tuple[np.ndarray, int]:
    """Dense group ids over several code columns (mixed radix keys in int64).

    When the key space would pass 2**62 (several high-cardinality ``by`` columns), the
    partial key is made dense first (``pd.factorize``: at most ``n`` values), so the
    int64 key never overflows and two groups never share a key.
    """
    key, space = np.zeros(n, np.int64), 1
    for codes, labels in columns:
        radix = len(labels) + 1
        if space * radix > 2 ** 62:
            key, uniques = pd.factorize(key)
            key, space = key.astype(np.int64), max(len(uniques), 1)
        key = key * radix + _digit(codes, labels)
        space *= radix
    if space <= 4 * n + 65_536:          # small key space: a bincount beats hashing
        present = np.bincount(key, minlength=space) > 0
        return (np.cumsum(present) - 1)[key], int(present.sum())
    ids, keys = pd.factorize(key)
    return ids, len(keys)


def _aggregate_fast(frame, *, resource, by, freq, tz) -> pd.DataFrame:
    """The partial of :func:`cost_by_period`: one partition's exact sums per group."""
    a = arrays(frame, resource, category="category" in by)
    table = _aggregate(a, [_by_codes(frame, a, col) for col in by], by, len(frame), freq, tz)
    for col in by:
        if col in frame.columns and isinstance(frame[col].dtype, pd.CategoricalDtype):
            table[col] = pd.Categorical(table[col], categories=frame[col].cat.categories)
    return table


def _aggregate_arrow(table, *, resource, by, freq, tz) -> pd.DataFrame:
    """:func:`_aggregate_fast` of a partition's Arrow table (messages, ``by`` string
    columns of the frame: the twin :func:`_arrow_by` accepts)."""
    a = message_arrays(table, category=False)
    pcodes, periods = period_codes(a["when"], freq, tz)
    keys = {"period": np.where(pcodes < 0, len(periods), pcodes)}
    labels = {"period": pd.Index([*periods, pd.NaT])}
    for col in by:
        codes, words = codes_of(table.column(col))
        keys[col] = np.where(codes < 0, len(words), codes)
        labels[col] = pd.Index([*words, None], dtype="str")
    keys["product"], labels["product"] = a["product"], pd.Index(PRODUCTS)
    keys["currency"] = a["currency"] + 1
    labels["currency"] = pd.Index([pd.NA, *a["currencies"]], dtype="object")
    sums = group_sums(keys, {"usage": a["usage"], "cost_micros": a["cost"],
                             "n_unrated": a["unrated"]})
    out = pd.DataFrame({name: labels[name].take(sums[name]) for name in keys})
    for name in ("count", "usage", "cost_micros", "n_unrated"):
        out[name] = sums[name]
    return out


def _arrow_by(*, resource, by, freq, tz) -> bool:
    kinds = {c.name: c.kind for c in get_resource(resource).columns}
    return resource == "messages" and all(kinds.get(col) == "str" for col in by)


def _aggregate(a: dict, by_codes: list, by: list[str], n: int, freq, tz) -> pd.DataFrame:
    pcodes, periods = period_codes(a["when"], freq, tz)
    cur_labels = pd.Index(a["currencies"] + [pd.NA], dtype="object")
    columns = [(pcodes, pd.Index(list(periods) + [pd.NaT])), *by_codes,
               (a["product"].astype(np.int64), pd.Index(PRODUCTS)),
               (a["currency"], cur_labels)]
    ids, size = _group_ids(columns, n)
    first = np.zeros(size, np.int64)
    first[ids[::-1]] = np.arange(n - 1, -1, -1)      # first row of each group
    out = {name: labels.take(np.minimum(_digit(codes[first], labels), len(labels) - 1))
           for name, (codes, labels) in zip(["period", *by, "product", "currency"], columns)}
    table = pd.DataFrame(out)
    table["count"] = np.bincount(ids, minlength=size)
    table["usage"] = exact_group_sums(ids, a["usage"].astype(np.int64), size)
    table["cost_micros"] = exact_group_sums(ids, a["cost"], size)
    table["n_unrated"] = np.bincount(ids, a["unrated"], size).astype(np.int64)
    return table


engine.arrow_twin(_aggregate_fast, _aggregate_arrow, _arrow_by,
                  read={"fallbacks": {"date_created": "date_sent"}})


def _finish_periods(out: pd.DataFrame, tz: str) -> pd.DataFrame:
    out["period"] = pd.to_datetime(out["period"], utc=True).dt.tz_convert(tz).dt.as_unit("us")
    return out


def finish_money(out: pd.DataFrame) -> pd.DataFrame:
    """Add ``cost`` (float64) from the exact ``cost_micros``."""
    out["cost_micros"] = out["cost_micros"].astype("Int64")
    out["cost"] = out["cost_micros"].astype("float64") / 1e6
    return out


def cost_by_period(calls: pd.DataFrame | None = None, messages: pd.DataFrame | None = None,
                   recordings: pd.DataFrame | None = None, *, freq: str = "D",
                   by: str | list[str] | None = None, tz: str | None = None) -> pd.DataFrame:
    """Count, billed usage and cost per period, product and currency.

    Parameters
    ----------
    calls, messages, recordings : DataFrame, optional
        Frames as the client returns them; at least one.
    freq : {"D", "W", "M"}
        Day, week (Monday start) or calendar month.
    by : str or list of str, optional
        Extra grouping columns: any frame column (``account_sid``, ``direction``,
        ``status``...) or a derived one (``country``, ``our_number``, ``remote_number``,
        ``category``). Frames without the column get a missing value there.
    tz : str, optional
        IANA zone to bucket periods in; default UTC (the zone of Usage Records).

    Returns
    -------
    DataFrame
        Columns ``period, *by, product, currency, count, usage, usage_unit, cost,
        cost_micros, n_unrated``. ``count`` is every row (billed or not) of the product;
        ``usage`` is billed minutes (calls, recordings), segments (SMS) or messages
        (MMS); ``cost`` is positive; ``n_unrated`` counts rows still waiting for a price.
        Sorted by period, by, product, currency.

    Examples
    --------
    >>> import twilio_frames as tf
    >>> with tf.simulator.running(seed=1, days=7) as sim:            # doctest: +SKIP
    ...     c = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url)
    ...     daily = tf.cost_by_period(calls=c.calls(), messages=c.messages(), freq="D")
    """
    freq, tz = check_freq(freq), check_tz(tz)
    by = as_list(by)
    given = frames_given(calls=calls, messages=messages, recordings=recordings)
    _check_by(by, given)
    keys = ["period", *by, "product", "currency"]
    parts = [engine.regroup(engine.partials(
        frame, _aggregate_fast, columns=by, what=resource,
        needed=needed_columns(resource, numbers=not set(by).isdisjoint(_NUMBER_KEYS)),
        resource=resource, by=by, freq=freq, tz=tz), keys) for resource, frame in given.items()]
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    out = _finish_periods(out, tz)
    out["product"] = pd.Categorical(out["product"].astype("str"), categories=list(_UNITS))
    out["currency"] = out["currency"].astype("str")
    out["usage_unit"] = pd.Categorical(out["product"].astype("str").map(_UNITS),
                                       categories=["minutes", "segments", "messages"])
    out["usage"] = out["usage"].astype("Int64")
    out["count"] = out["count"].astype("int64")
    out = finish_money(out).sort_values(["period", *by, "product", "currency"],
                                        kind="stable", ignore_index=True)
    return out[["period", *by, "product", "currency", "count", "usage", "usage_unit",
                "cost", "cost_micros", "n_unrated"]]


def unrated(frame: pd.DataFrame, *, resource: str | None = None,
            now: pd.Timestamp | str | None = None,
            include_unbilled: bool = False) -> pd.DataFrame:
    """Rows that may still be charged but have no price yet, per account, product, status.

    A null price means two things (billing-rules §1.1, §1.3): "not rated yet" on a
    completed call or a sent message, and "never billed" on busy, no-answer, canceled
    and failed calls (Twilio: "calls with status Failed, or Busy, are not billed"), which
    keep a null price for ever. Only the first kind is listed by default.

    Parameters
    ----------
    frame : DataFrame
        Calls, messages or recordings.
    now : Timestamp or str, optional
        Reference time for ages; default the current UTC time.
    include_unbilled : bool
        Also list the null-priced rows that are never billed (with ``pending`` False).

    Returns
    -------
    DataFrame
        Columns ``account_sid, product, status, pending, rows, share, oldest, newest,
        max_age``. ``pending`` is True where a charge is still to come (a completed call,
        a sent message; a ringing or in-progress call may still end unbilled), False for
        the never-billed rows ``include_unbilled`` adds. ``share`` is ``rows`` over all
        rows of that account and product; ``max_age`` is ``now - oldest``.
    """
    engine.check_frame("frame", frame)
    resource = infer_resource(frame, resource)
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    now = now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")
    parts = engine.partials(frame, _unrated_partial, columns=(), needed=NEEDED[resource],
                            what=resource, resource=resource,
                            include_unbilled=include_unbilled)
    totals = engine.regroup([t for t, _ in parts], ["account_sid", "product"])
    totals = totals.set_index(["account_sid", "product"])["rows"]
    out = engine.regroup([g for _, g in parts], ["account_sid", "product", "status"],
                         {"pending": "any", "rows": "sum", "oldest": "min", "newest": "max"})
    keys = pd.MultiIndex.from_frame(out[["account_sid", "product"]])
    out["share"] = out["rows"].to_numpy() / totals.reindex(keys).to_numpy()
    out["max_age"] = now - out["oldest"]
    return out[["account_sid", "product", "status", "pending", "rows", "share", "oldest",
                "newest", "max_age"]]


def _unrated_partial(frame: pd.DataFrame, *, resource: str, include_unbilled: bool
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows per account and product, and the unpriced rows' groups, of one partition."""
    items = derive(frame, resource)
    items["account_sid"] = frame["account_sid"]
    items["status"] = frame["status"].astype("str")
    totals = items.groupby(["account_sid", "product"], observed=True).size()
    null = items[items["cost_micros"].isna().to_numpy(bool)
                 & (items["unrated"].to_numpy(bool) | include_unbilled)]
    grouped = null.groupby(["account_sid", "product", "status"], observed=True)
    out = grouped.agg(pending=("unrated", "any"), rows=("unrated", "size"),
                      oldest=("when", "min"), newest=("when", "max")).reset_index()
    return totals.rename("rows").reset_index(), out


def _top_partial(frame: pd.DataFrame, *, resource: str, key: str) -> pd.DataFrame:
    """The partial of the top-N tables: exact sums per ``key`` and currency."""
    items = derive(frame, resource, country=key == "country")
    items["calls"] = int(resource == "calls")
    items["messages"] = int(resource == "messages")
    return items.groupby([key, "currency"], observed=True, dropna=False).agg(
        calls=("calls", "sum"), messages=("messages", "sum"),
        cost_micros=("cost_micros", "sum")).reset_index()


def _top(given: dict, key: str, n: int) -> pd.DataFrame:
    parts = [engine.regroup(engine.partials(
        frame, _top_partial, columns=(), needed=NEEDED[resource], what=resource,
        resource=resource, key=key), [key, "currency"]).set_index([key, "currency"])
        for resource, frame in given.items()]
    out = pd.concat(parts).groupby(level=[0, 1], observed=True, dropna=False).sum()
    out = finish_money(out.reset_index())
    out["share"] = out["cost_micros"] / out.groupby("currency", observed=True)[
        "cost_micros"].transform("sum").replace(0, pd.NA)
    out["share"] = out["share"].astype("Float64").astype("float64")
    out = out.sort_values(["currency", "cost_micros", key], ascending=[True, False, True],
                          kind="stable")
    out = out.groupby("currency", observed=True, group_keys=False).head(n)
    out["rank"] = out.groupby("currency", observed=True).cumcount() + 1
    return out[["currency", "rank", key, "calls", "messages", "cost", "cost_micros",
                "share"]].reset_index(drop=True)


def _check_n(n: int) -> int:
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigurationError(f"n must be a positive integer, got {n!r}")
    return int(n)


def top_numbers(calls: pd.DataFrame | None = None, messages: pd.DataFrame | None = None, *,
                n: int = 10, side: str = "our") -> pd.DataFrame:
    """The ``n`` phone numbers with the highest cost, per currency.

    ``side="our"`` ranks our Twilio numbers (``to`` of inbound, ``from`` of outbound
    rows); ``side="remote"`` ranks the other parties. Columns ``currency, rank, number,
    calls, messages, cost, cost_micros, share`` (share of that currency's cost).
    """
    if side not in ("our", "remote"):
        raise ConfigurationError(f"side must be 'our' or 'remote', got {side!r}")
    given = frames_given(calls=calls, messages=messages)
    out = _top(given, f"{side}_number", _check_n(n))
    return out.rename(columns={f"{side}_number": "number"})


def top_countries(calls: pd.DataFrame | None = None, messages: pd.DataFrame | None = None,
                  *, n: int = 10) -> pd.DataFrame:
    """The ``n`` countries of the remote party with the highest cost, per currency.

    Countries come from ``phonenumbers`` (see :func:`twilio_frames.country_of`);
    non-phone parties (``client:``, SIP, short codes) have a missing country. Columns
    ``currency, rank, country, calls, messages, cost, cost_micros, share``.
    """
    given = frames_given(calls=calls, messages=messages)
    return _top(given, "country", _check_n(n))
