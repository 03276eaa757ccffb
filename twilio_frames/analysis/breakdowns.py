"""Per-resource breakdowns: calls, conversations, messages, recordings.

Each returns a tidy DataFrame grouped by the requested columns and by ``currency``, with
exact ``cost_micros`` and float ``cost`` (positive). ``by`` takes frame columns or the
derived line-item columns of :mod:`twilio_frames.analysis.billing` (``country``, ``our_number``,
``remote_number``, ``category``), and for messages also ``encoding`` (GSM-7 / UCS-2,
estimated from the body), ``segments`` (``num_segments``) and ``media`` (``num_media``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import engine
from .billing import NEEDED, derive, message_encoding
from ..errors import ConfigurationError
from ..money import require_columns
from .summaries import as_list, bucket, check_freq, check_tz, finish_money

__all__ = ["call_summary", "conversations", "message_summary", "recording_summary"]

_MSG_ALIASES = {"segments": "num_segments", "media": "num_media"}
_DERIVED = {"product", "category", "when", "billable", "usage", "usage_unit", "cost_micros",
            "cost", "currency", "unrated"}
_NUMBERS = {"our_number", "remote_number", "country", "country_approx"}


def _partials(frame, resource: str, fn, by: list[str], extra=(), **options) -> list:
    """Check ``by`` against the frame (pandas or Dask) before anything runs, then the
    partials of ``fn`` over its partitions, reading only the columns needed."""
    engine.check_frame(resource, frame)
    derived = _DERIVED | (_NUMBERS if resource != "recordings" else set())
    for col in by:
        if not (col in derived or col in frame.columns
                or (col == "encoding" and resource == "messages")):
            raise ConfigurationError(f"by={col!r}: no such column in the {resource} frame")
    columns = [*by, *extra, *(["body"] if "encoding" in by else [])]
    return engine.partials(frame, fn, columns=columns, needed=NEEDED[resource],
                           what=resource, by=by, **options)


def _with_by(frame: pd.DataFrame, resource: str, by: list[str]) -> pd.DataFrame:
    items = derive(frame, resource, country="country" in by)
    for col in by:
        if col in items.columns:
            continue
        if col == "encoding" and resource == "messages":
            bodies = frame["body"].fillna("")
            codes, uniques = pd.factorize(bodies)
            items[col] = pd.Categorical(
                np.array([message_encoding(str(b)) for b in uniques] + ["GSM-7"],
                         dtype=object)[codes], categories=["GSM-7", "UCS-2"])
        elif col in frame.columns:
            items[col] = frame[col]
        else:
            raise ConfigurationError(f"by={col!r}: no such column in the {resource} frame")
    return items


def call_summary(calls: pd.DataFrame, *, by: str | list[str] | None = "direction"
                 ) -> pd.DataFrame:
    """Calls, billed minutes, duration statistics and cost per group.

    Billed minutes follow Twilio's rule: per leg, per started minute; a completed call
    shorter than a second is 1 minute; busy, failed, no-answer and canceled legs are 0.

    Returns columns ``*by, currency, calls, completed, billed_minutes, duration_s,
    mean_duration_s, median_duration_s, p90_duration_s, max_duration_s, cost,
    cost_micros, n_unrated``; duration statistics are over completed legs, in seconds.
    """
    by = as_list(by)
    keys = [*by, "currency"]
    parts = _partials(calls, "calls", _call_partial, by)
    out = engine.regroup([p for p, _ in parts], keys)
    hist = engine.regroup([h for _, h in parts], [*keys, "duration"])
    stats = engine.histogram_stats(
        engine.group_rows(out, hist, keys), hist["duration"].to_numpy(np.float64),
        hist["n"].to_numpy(np.int64), len(out), 0.9)
    out["duration_s"] = pd.array(np.rint(stats["sum"]), dtype="Int64")
    for name in ("mean", "median", "max"):
        out[f"{name}_duration_s"] = stats[name]
    out["p90_duration_s"] = stats["quantile"]
    out = finish_money(out)
    return out[[*by, "currency", "calls", "completed", "billed_minutes", "duration_s",
                "mean_duration_s", "median_duration_s", "p90_duration_s", "max_duration_s",
                "cost", "cost_micros", "n_unrated"]]


def _call_partial(calls: pd.DataFrame, *, by: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sums per group, and the histogram of completed legs' durations per group (exact
    medians and quantiles combine from histograms, not from partial medians)."""
    items = _with_by(calls, "calls", by)
    keys = [*by, "currency"]
    grouped = items.groupby(keys, observed=True, dropna=False, sort=True)
    sums = grouped.agg(calls=("usage", "size"), completed=("billable", "sum"),
                       billed_minutes=("usage", "sum"), cost_micros=("cost_micros", "sum"),
                       n_unrated=("unrated", "sum")).reset_index()
    items["duration"] = calls["duration"].astype("Int64")
    done = items[items["billable"] & items["duration"].notna().to_numpy(bool)]
    hist = done.groupby([*keys, "duration"], observed=True, dropna=False, sort=True
                        ).size().rename("n").reset_index()
    return sums, hist


def conversations(calls: pd.DataFrame) -> pd.DataFrame:
    """One row per conversation: a parent call and all its child legs.

    Legs are never deduplicated: a forwarded call costs its inbound leg plus its
    outbound leg (Twilio bills every Call SID). The conversation is keyed by the root
    leg's sid (``parent_call_sid`` followed up to a leg without a parent in the frame).

    Returns columns ``conversation_sid, account_sid, start_time, legs, directions,
    billed_minutes, duration_s (of the root leg), currency, cost, cost_micros,
    n_unrated``, sorted by start_time.
    """
    engine.check_frame("calls", calls)
    require_columns(calls, _LEG_COLUMNS, "calls")
    items = engine.concat(_partials(calls, "calls", _legs, [], extra=_LEG_COLUMNS))
    items = items.reset_index(drop=True)
    sids = items["sid"].to_numpy(dtype=object)
    parent = pd.Series(items["parent_call_sid"].to_numpy(), index=sids)
    root = sids
    for _ in range(8):                      # legs of legs: follow a few levels up
        up = parent.reindex(root).to_numpy(dtype=object)
        step = pd.notna(up) & pd.Index(up).isin(items["sid"]).__array__()
        if not step.any():
            break
        root = np.where(step, up, root)
    items["conversation_sid"] = root
    is_root = sids == root
    items["root_start"] = items["start_time"].where(is_root)
    items["root_duration"] = items["duration"].where(is_root)
    grouped = items.groupby(["conversation_sid", "account_sid", "currency"],
                            observed=True, dropna=False, sort=False)
    out = grouped.agg(start_time=("root_start", "min"), legs=("usage", "size"),
                      directions=("direction", lambda s: ",".join(sorted(set(s.dropna())))),
                      billed_minutes=("usage", "sum"), duration_s=("root_duration", "max"),
                      cost_micros=("cost_micros", "sum"), n_unrated=("unrated", "sum"))
    out = finish_money(out.reset_index())
    out = out.sort_values(["start_time", "conversation_sid"], ignore_index=True)
    return out[["conversation_sid", "account_sid", "start_time", "legs", "directions",
                "billed_minutes", "duration_s", "currency", "cost", "cost_micros",
                "n_unrated"]]


_LEG_COLUMNS = ["sid", "parent_call_sid", "start_time"]


def _legs(calls: pd.DataFrame, *, by=()) -> pd.DataFrame:
    """The partial of :func:`conversations`: each leg's billing values (the parent
    chains may cross partitions, so legs are linked once they are all together)."""
    items = derive(calls, "calls")[["currency", "usage", "cost_micros", "unrated"]]
    for col in ("sid", "parent_call_sid", "account_sid", "start_time", "duration"):
        items[col] = calls[col]
    items["direction"] = calls["direction"].astype("str")
    return items


def message_summary(messages: pd.DataFrame, *, by: str | list[str] | None = "status"
                    ) -> pd.DataFrame:
    """Messages, segments, media, failures and cost per group.

    ``by`` may include ``status``, ``direction``, ``country``, ``segments``, ``media``,
    ``encoding`` (estimated from the body; the API's ``num_segments`` is what is billed)
    and ``error_code``; ``segments`` and ``media`` group by ``num_segments`` and
    ``num_media`` and are named so in the result. Returns columns ``*by, currency,
    messages, segments, media, failed, undelivered, failure_rate, cost, cost_micros,
    n_unrated``; ``failure_rate``
    is (failed + undelivered) / messages; ``segments`` sums ``num_segments`` as sent.

    Bias: a message that failed before leaving Twilio has a null ``date_sent``, and the
    Messages list can only be filtered by ``DateSent``, so a date-bounded fetch
    (``client.messages(start, end)``) never returns it. Such a frame undercounts
    ``failed`` and the failure rate, and misses the $0.001 processing fee those messages
    carry (Usage Records category ``failed-message-processing-fee``); fetch without dates
    to see them, or read that category from Usage Records.
    """
    by = [_MSG_ALIASES.get(col, col) for col in as_list(by)]
    out = engine.regroup(_partials(messages, "messages", _message_partial, by),
                         [*by, "currency"])
    out.insert(out.columns.get_loc("cost_micros"), "failure_rate",
               (out["failed"] + out["undelivered"]) / out["messages"])
    out = finish_money(out)
    return out[[*by, "currency", "messages", "segments", "media", "failed", "undelivered",
                "failure_rate", "cost", "cost_micros", "n_unrated"]]


def _message_partial(messages: pd.DataFrame, *, by: list[str]) -> pd.DataFrame:
    """The partial of :func:`message_summary`: exact sums per group."""
    items = _with_by(messages, "messages", by)
    items["n_segments"] = messages["num_segments"].astype("Int64")
    items["n_media"] = messages["num_media"].astype("Int64")
    status = messages["status"]
    items["is_failed"] = status.isin(["failed"]).to_numpy(bool)
    items["is_undelivered"] = status.isin(["undelivered"]).to_numpy(bool)
    grouped = items.groupby([*by, "currency"], observed=True, dropna=False, sort=True)
    return grouped.agg(messages=("usage", "size"), segments=("n_segments", "sum"),
                       media=("n_media", "sum"), failed=("is_failed", "sum"),
                       undelivered=("is_undelivered", "sum"),
                       cost_micros=("cost_micros", "sum"), n_unrated=("unrated", "sum")
                       ).reset_index()


def recording_summary(recordings: pd.DataFrame, *, freq: str = "M",
                      by: str | list[str] | None = "account_sid", tz: str | None = None
                      ) -> pd.DataFrame:
    """Recording minutes and creation cost per period.

    Minutes are ``ceil(duration / 60)`` over completed recordings. Storage is billed
    separately per parent account and month (usage category ``recordingstorage``) and
    can not be derived from the Recordings list, so it is not here. Cost is
    ``abs(price)`` (Twilio's examples use both signs); ``positive_prices`` counts rows
    sent with a positive sign, as an anomaly flag.

    Returns columns ``period, *by, currency, recordings, completed, minutes, cost,
    cost_micros, n_unrated, positive_prices``.
    """
    freq, tz, by = check_freq(freq), check_tz(tz), as_list(by)
    out = engine.regroup(_partials(recordings, "recordings", _recording_partial, by,
                                   freq=freq, tz=tz), ["period", *by, "currency"])
    out = finish_money(out)
    return out[["period", *by, "currency", "recordings", "completed", "minutes", "cost",
                "cost_micros", "n_unrated", "positive_prices"]]


def _recording_partial(recordings: pd.DataFrame, *, by: list[str], freq: str, tz: str
                       ) -> pd.DataFrame:
    """The partial of :func:`recording_summary`: exact sums per period and group."""
    items = _with_by(recordings, "recordings", by)
    items["period"] = bucket(items["when"], freq, tz)
    items["positive"] = (recordings["price_micros"] > 0).fillna(False).to_numpy(bool)
    grouped = items.groupby(["period", *by, "currency"], observed=True, dropna=False)
    return grouped.agg(recordings=("usage", "size"), completed=("billable", "sum"),
                       minutes=("usage", "sum"), cost_micros=("cost_micros", "sum"),
                       n_unrated=("unrated", "sum"), positive_prices=("positive", "sum")
                       ).reset_index()
