"""Line items: what each call, message and recording is billed as, by Twilio's rules.

:func:`line_items` adds to a calls, messages or recordings frame the columns every
summary, reconciliation and export reads (rules from ``reference/billing-rules.md``):

=================  =========  ================================================================
column             dtype      meaning
=================  =========  ================================================================
``product``        category   ``calls``, ``sms``, ``mms`` or ``recordings``
``category``       category   the Usage Records category the charge lands in (see below)
``when``           datetime   UTC time that attributes the row to a day: calls ``start_time``
                              (else ``date_created``), messages ``date_sent`` (else
                              ``date_created``), recordings ``date_created``
``billable``       bool       the row is billed: completed calls and recordings, messages
                              that were sent or received (not failed/queued/canceled)
``usage``          Int64      billed minutes (calls: per leg, per started minute, a
                              completed call under 1 s is 1; recordings likewise) or
                              segments (SMS) or messages (MMS, priced per message); 0
                              when not billable
``usage_unit``     category   ``minutes``, ``segments`` or ``messages``
``cost_micros``    Int64      positive cost in 10**-6 currency units; missing if unpriced
``cost``           float64    the same as a float, for plotting
``currency``       category   ISO 4217, upper-cased; an unpriced row takes its account's
``unrated``        bool       no price yet although a charge is expected (pending)
``our_number``     str        calls/messages: our side (``to`` inbound, ``from`` outbound)
``remote_number``  str        the other party
``country``        str        ISO 3166 region of ``remote_number`` (phonenumbers), or missing
``country_approx`` boolean    True where the region comes from the calling code only
=================  =========  ================================================================

Call categories: ``calls-inbound`` / ``calls-outbound`` (together Twilio's ``calls``),
``calls-client`` (a ``client:`` party), ``calls-sip`` (``sip:`` or ``user@host``),
``trunking-origination`` / ``trunking-termination`` (``trunking-*`` directions) and
``other`` (e.g. ``sim:``). Message categories: ``sms-inbound``, ``sms-outbound``,
``mms-inbound``, ``mms-outbound`` (``num_media`` >= 1), ``failed-message-processing-fee``
(status ``failed``: Twilio's per-message fee since 2024-09-30, billing-rules §2.2) and
``other`` (channel addresses such as ``whatsapp:``).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd
import phonenumbers

from ..money import cost_micros, infer_resource, require_columns

__all__ = ["country_of", "estimate_segments", "line_items", "message_encoding"]

# GSM 03.38 basic character set (without the escape) and its extension table.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENSION = frozenset("^{}\\[~]|€\f")

_CALL_BILLED = ("completed",)
_CALL_PENDING = ("completed", "queued", "ringing", "in-progress")
_CALL_INBOUND = ("inbound", "trunking-originating")
_MSG_BILLED = ("sent", "delivered", "undelivered", "read", "partially_delivered",
               "received", "receiving", "sending")
_MSG_NOT_PENDING = ("failed", "canceled", "scheduled")
_REC_BILLED = ("completed",)
_REC_NOT_PENDING = ("absent",)

_NEEDED = {
    "calls": ("account_sid", "status", "direction", "duration", "to", "from",
              "start_time", "date_created", "price_micros", "price_unit"),
    "messages": ("account_sid", "status", "direction", "num_segments", "num_media", "to",
                 "from", "date_sent", "date_created", "price_micros", "price_unit"),
    "recordings": ("account_sid", "status", "duration", "date_created", "price_micros",
                   "price_unit"),
}


def message_encoding(body: str) -> str:
    """``"GSM-7"`` if every character is in the GSM 03.38 sets, else ``"UCS-2"``."""
    return "GSM-7" if all(c in _GSM_BASIC or c in _GSM_EXTENSION for c in body) else "UCS-2"


def estimate_segments(body: str) -> int:
    """Estimate how many SMS segments ``body`` takes (for flags only; trust num_segments).

    GSM-7: 160 septets in one segment, 153 per segment beyond, extension characters
    (``€ [ ] { } ^ ~ \\ |``) take two. UCS-2: 70 code units, 67 per segment beyond,
    characters outside the BMP take two units (Twilio glossary, billing-rules §2.3).

    >>> estimate_segments("a" * 160), estimate_segments("a" * 159 + "€")
    (1, 2)
    """
    if message_encoding(body) == "GSM-7":
        units = len(body) + sum(c in _GSM_EXTENSION for c in body)
        single, multi = 160, 153
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in body)
        single, multi = 70, 67
    return 1 if units <= single else math.ceil(units / multi)


@lru_cache(maxsize=262_144)
def _region(text: str) -> tuple[str | None, bool]:
    if "+" not in text[:10]:
        return None, False          # client:, sip:, short codes, alphanumeric IDs
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None, False
    region = phonenumbers.region_code_for_number(number)
    if region and region != "ZZ":
        return region, False
    fallback = phonenumbers.region_code_for_country_code(number.country_code)
    return (None, False) if fallback == "ZZ" else (fallback, True)


def country_of(numbers: pd.Series) -> pd.DataFrame:
    """Region (ISO 3166 alpha-2, ``001`` non-geographic) of each E.164 number.

    Parsed once per unique number with ``phonenumbers.region_code_for_number``; an
    invalid number falls back to its calling code's main region and is flagged
    ``country_approx`` (``+15555555555`` -> US, approximate). Non-numbers (``client:``,
    ``sip:``, short codes, sender IDs) give a missing country, never an exception.
    Returns a frame with columns ``country`` and ``country_approx``, same index.
    """
    codes, uniques = pd.factorize(numbers, use_na_sentinel=True)
    found = [_region(str(u)) for u in uniques] + [(None, False)]
    regions = np.array([r for r, _ in found], dtype=object)[codes]
    approx = np.array([a for _, a in found], dtype=bool)[codes]
    country = pd.Series(regions, index=numbers.index, dtype="str")
    approx_s = pd.Series(approx, index=numbers.index, dtype="boolean").mask(country.isna())
    return pd.DataFrame({"country": country, "country_approx": approx_s})


_PRODUCTS = ("calls", "sms", "mms", "recordings")
_CATEGORIES = ("calls-inbound", "calls-outbound", "calls-client", "calls-sip",
               "trunking-origination", "trunking-termination", "sms-inbound",
               "sms-outbound", "mms-inbound", "mms-outbound",
               "failed-message-processing-fee", "recordings", "other")
_CAT = {name: i for i, name in enumerate(_CATEGORIES)}
_UNITS = ("minutes", "segments", "messages")


def _in(series: pd.Series, values) -> np.ndarray:
    """Boolean mask ``series in values``; on categoricals via a lookup of the codes."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        lut = np.append(series.cat.categories.isin(values), False)
        return lut[series.cat.codes.to_numpy()]
    return series.isin(values).to_numpy(bool)


def _ints(series: pd.Series) -> np.ndarray:
    if str(series.dtype) != "Int64":
        series = pd.to_numeric(series).astype("Int64")
    return series.to_numpy(dtype="int64", na_value=0)


def _micros_time(series: pd.Series) -> np.ndarray:
    """int64 microseconds since the epoch (UTC); NaT -> the int64 minimum."""
    return series.dt.as_unit("us").array.asi8


def _when(frame: pd.DataFrame, first: str, fallback: str) -> np.ndarray:
    when = _micros_time(frame[first])
    missing = when == np.iinfo(np.int64).min
    return np.where(missing, _micros_time(frame[fallback]), when) if missing.any() else when


def _not_number(series: pd.Series) -> np.ndarray:
    """Rows whose value is present and does not start with '+' (client:, sip:, ...)."""
    return ~series.str.startswith("+").fillna(True).to_numpy(bool)


def _currency(frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Upper-cased price_unit codes; unpriced rows take their account's currency."""
    unit = frame["price_unit"]
    if not isinstance(unit.dtype, pd.CategoricalDtype):
        unit = unit.astype("category")
    return currency_codes(unit.cat.codes.to_numpy(), list(unit.cat.categories),
                          lambda: frame["account_sid"].to_numpy())


def currency_codes(codes: np.ndarray, words: list, accounts) -> tuple[np.ndarray, list[str]]:
    """Each row's currency: ``codes`` into ``words`` (-1: no price_unit) mapped onto the
    upper-cased, sorted currencies; a row without one takes its account's when the
    rows hold more than one currency, the only one when they hold one. ``accounts()``
    gives each row's account key (called only when needed)."""
    cats = np.array([str(c).upper() for c in words], dtype=object)
    if not len(cats):
        return np.full(len(codes), -1, dtype=np.int64), []
    uniq, inverse = np.unique(cats, return_inverse=True)
    new = np.append(inverse, -1)[codes]
    missing = new < 0
    if missing.any():
        present = np.bincount(codes + 1, minlength=len(cats) + 1)[1:] > 0
        used = np.unique(inverse[present])
        if len(used) == 1:
            new = np.where(missing, used[0], new)
        elif len(used) > 1:
            acct = pd.Series(np.where(missing, np.nan, new)).groupby(accounts()).transform(
                "first")
            new = np.where(missing, acct.fillna(-1).to_numpy(), new)
    return new.astype(np.int64), list(uniq)


def _call_category(calls: pd.DataFrame, inbound: np.ndarray) -> np.ndarray:
    direction = calls["direction"]
    category = np.where(inbound, _CAT["calls-inbound"], _CAT["calls-outbound"])
    odd = _not_number(calls["to"]) | _not_number(calls["from"])
    if odd.any():
        sub = [calls.loc[odd, side].fillna("").str for side in ("to", "from")]
        client = sub[0].startswith("client:") | sub[1].startswith("client:")
        sip = (sub[0].startswith("sip:") | sub[1].startswith("sip:")
               | sub[0].contains("@", regex=False) | sub[1].contains("@", regex=False))
        sim = sub[0].startswith("sim:") | sub[1].startswith("sim:")
        category[odd] = np.select([client.to_numpy(bool), sip.to_numpy(bool),
                                   sim.to_numpy(bool)],
                                  [_CAT["calls-client"], _CAT["calls-sip"], _CAT["other"]],
                                  category[odd])
    category[_in(direction, ["trunking-originating"])] = _CAT["trunking-origination"]
    category[_in(direction, ["trunking-terminating"])] = _CAT["trunking-termination"]
    return category


def _call_parts(calls: pd.DataFrame, category: bool) -> dict:
    completed = _in(calls["status"], _CALL_BILLED)
    seconds = _ints(calls["duration"])
    inbound = _in(calls["direction"], _CALL_INBOUND)
    return {"product": np.zeros(len(calls), np.int8), "billable": completed,
            "category": _call_category(calls, inbound) if category else None,
            "usage": np.where(completed, np.maximum(1, (seconds + 59) // 60), 0),
            "unit": np.zeros(len(calls), np.int8), "inbound": inbound,
            "when": _when(calls, "start_time", "date_created"),
            "unrated": _in(calls["status"], _CALL_PENDING)}


def _message_parts(messages: pd.DataFrame, category: bool) -> dict:
    billed = _in(messages["status"], _MSG_BILLED)
    mms = _ints(messages["num_media"]) >= 1
    inbound = _in(messages["direction"], ["inbound"])
    cat = None
    if category:
        cat = np.where(mms, np.where(inbound, _CAT["mms-inbound"], _CAT["mms-outbound"]),
                       np.where(inbound, _CAT["sms-inbound"], _CAT["sms-outbound"]))
        channel = _not_number(messages["to"]) | _not_number(messages["from"])
        if channel.any():
            colon = [messages.loc[channel, side].fillna("").str.contains(":", regex=False)
                     for side in ("to", "from")]
            cat[channel] = np.where((colon[0] | colon[1]).to_numpy(bool), _CAT["other"],
                                    cat[channel])
        cat[_in(messages["status"], ["failed"])] = _CAT["failed-message-processing-fee"]
    usage = np.where(billed, np.where(mms, 1, _ints(messages["num_segments"])), 0)
    return {"product": np.where(mms, 2, 1).astype(np.int8), "category": cat,
            "billable": billed, "usage": usage, "unit": np.where(mms, 2, 1).astype(np.int8),
            "inbound": inbound, "when": _when(messages, "date_sent", "date_created"),
            "unrated": ~_in(messages["status"], _MSG_NOT_PENDING)}


def _recording_parts(recordings: pd.DataFrame, category: bool) -> dict:
    completed = _in(recordings["status"], _REC_BILLED)
    n = len(recordings)
    return {"product": np.full(n, 3, np.int8), "billable": completed,
            "category": np.full(n, _CAT["recordings"], np.int8) if category else None,
            "usage": np.where(completed, (_ints(recordings["duration"]) + 59) // 60, 0),
            "unit": np.zeros(n, np.int8), "inbound": None,
            "when": _micros_time(recordings["date_created"]),
            "unrated": ~_in(recordings["status"], _REC_NOT_PENDING)}


_PARTS = {"calls": _call_parts, "messages": _message_parts, "recordings": _recording_parts}


def arrays(frame: pd.DataFrame, resource: str, *, category: bool = True) -> dict:
    """The line-item values as numpy arrays (the fast path of summaries and reconcile).

    Keys: ``product`` (codes into ``PRODUCTS``), ``category`` (codes into
    ``CATEGORIES``, None unless asked), ``billable``, ``usage``, ``unit`` (codes into
    ``UNITS``), ``inbound``, ``when`` (int64 UTC microseconds), ``cost`` (int64, 0 where
    missing), ``priced`` (bool), ``currency`` (codes, -1 none), ``currencies`` (names),
    ``unrated``.
    """
    require_columns(frame, needed_columns(resource, numbers=category), resource)
    parts = _PARTS[resource](frame, category)
    cost = cost_micros(frame, resource=resource)
    parts["priced"] = cost.notna().to_numpy(bool)
    parts["cost"] = cost.to_numpy(dtype="int64", na_value=0)
    parts["unrated"] = parts["unrated"] & ~parts["priced"]
    parts["currency"], parts["currencies"] = _currency(frame)
    return parts


PRODUCTS, CATEGORIES, UNITS, NEEDED = _PRODUCTS, _CATEGORIES, _UNITS, _NEEDED


def needed_columns(resource: str, *, numbers: bool = True) -> tuple[str, ...]:
    """The columns :func:`arrays` reads; without ``to``/``from`` unless ``numbers``
    (categories, our/remote number and country need them; totals per account do not)."""
    return tuple(c for c in _NEEDED[resource] if numbers or c not in ("to", "from"))


def derive(frame: pd.DataFrame, resource: str, *, country: bool = False) -> pd.DataFrame:
    """The derived line-item columns only (same index as ``frame``)."""
    a = arrays(frame, resource)
    out = pd.DataFrame(index=frame.index)
    out["product"] = pd.Categorical.from_codes(a["product"], _PRODUCTS)
    out["category"] = pd.Categorical.from_codes(a["category"], _CATEGORIES)
    when = pd.to_datetime(a["when"].astype("datetime64[us]")).tz_localize("UTC")
    out["when"] = pd.Series(when, index=frame.index)
    out["billable"] = a["billable"]
    out["usage"] = pd.array(a["usage"], dtype="Int64")
    out["usage_unit"] = pd.Categorical.from_codes(a["unit"], _UNITS)
    cost = pd.array(a["cost"], dtype="Int64")
    cost[~a["priced"]] = pd.NA
    out["cost_micros"] = cost
    out["cost"] = out["cost_micros"].astype("float64") / 1e6
    out["currency"] = pd.Categorical.from_codes(a["currency"], a["currencies"])
    out["unrated"] = a["unrated"]
    if a["inbound"] is not None:
        inbound = a["inbound"]
        out["our_number"] = frame["to"].where(inbound, frame["from"])
        out["remote_number"] = frame["from"].where(inbound, frame["to"])
        if country:
            out = out.join(country_of(out["remote_number"]))
    return out


def line_items(frame: pd.DataFrame, *, resource: str | None = None,
               country: bool = True) -> pd.DataFrame:
    """A calls, messages or recordings frame with its billing columns added.

    Parameters
    ----------
    frame : DataFrame
        As returned by ``client.calls()``, ``client.messages()`` or
        ``client.recordings()`` (or ``tf.to_frame``).
    resource : str, optional
        ``"calls"``, ``"messages"`` or ``"recordings"``; inferred from the columns.
    country : bool
        Derive ``country``/``country_approx`` of the remote party (calls, messages).

    Returns
    -------
    DataFrame
        The original columns followed by the columns in this module's table.

    Examples
    --------
    >>> import twilio_frames as tf
    >>> with tf.simulator.running(seed=1, days=3) as sim:            # doctest: +SKIP
    ...     client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url)
    ...     items = tf.line_items(client.calls())
    """
    resource = infer_resource(frame, resource)
    if resource not in _PARTS:
        from ..errors import ConfigurationError
        raise ConfigurationError(
            f"line items exist for calls, messages and recordings, not {resource!r}")
    derived = derive(frame, resource, country=country)
    return pd.concat([frame.drop(columns=[c for c in derived.columns if c in frame]),
                      derived], axis=1)
