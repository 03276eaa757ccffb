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

from .money import cost_micros, infer_resource, require_columns

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


def _in(series: pd.Series, values) -> np.ndarray:
    return series.isin(values).to_numpy(dtype=bool)


def _ints(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series).astype("Int64").to_numpy(dtype="int64", na_value=0)


def _categorical(values: np.ndarray, categories) -> pd.Categorical:
    return pd.Categorical(values, categories=list(categories))


def _currency(frame: pd.DataFrame) -> pd.Categorical:
    """Upper-cased price_unit; unpriced rows take the first currency of their account."""
    unit = frame["price_unit"]
    if not isinstance(unit.dtype, pd.CategoricalDtype):
        unit = unit.astype("category")
    cats = np.array([str(c).upper() for c in unit.cat.categories], dtype=object)
    uniq, inverse = np.unique(cats, return_inverse=True) if len(cats) else (cats, cats)
    codes = unit.cat.codes.to_numpy()
    new = np.where(codes >= 0, inverse[np.maximum(codes, 0)] if len(cats) else -1, -1)
    if (new < 0).any() and (new >= 0).any():
        acct = pd.Series(np.where(new >= 0, new, np.nan)).groupby(
            frame["account_sid"].to_numpy()).transform("first")
        new = np.where(new >= 0, new, acct.fillna(-1).to_numpy()).astype(np.int64)
    return pd.Categorical.from_codes(new, categories=list(uniq))


def _call_parts(calls: pd.DataFrame) -> dict:
    completed = _in(calls["status"], _CALL_BILLED)
    seconds = _ints(calls["duration"])
    minutes = np.where(completed, np.maximum(1, (seconds + 59) // 60), 0)
    to, frm = calls["to"].fillna(""), calls["from"].fillna("")
    client = (to.str.startswith("client:") | frm.str.startswith("client:")).to_numpy(bool)
    sip = (to.str.startswith("sip:") | frm.str.startswith("sip:")
           | to.str.contains("@", regex=False) | frm.str.contains("@", regex=False)
           ).to_numpy(bool)
    sim = (to.str.startswith("sim:") | frm.str.startswith("sim:")).to_numpy(bool)
    direction = calls["direction"]
    inbound = _in(direction, _CALL_INBOUND)
    category = np.select(
        [_in(direction, ["trunking-originating"]), _in(direction, ["trunking-terminating"]),
         client, sip, sim, inbound],
        ["trunking-origination", "trunking-termination", "calls-client", "calls-sip",
         "other", "calls-inbound"], "calls-outbound")
    return {"product": "calls", "category": category, "billable": completed,
            "usage": minutes, "usage_unit": "minutes", "inbound": inbound,
            "when": calls["start_time"].fillna(calls["date_created"]),
            "unrated": _in(calls["status"], _CALL_PENDING)}


def _message_parts(messages: pd.DataFrame) -> dict:
    billed = _in(messages["status"], _MSG_BILLED)
    mms = _ints(messages["num_media"]) >= 1
    inbound = _in(messages["direction"], ["inbound"])
    to, frm = messages["to"].fillna(""), messages["from"].fillna("")
    channel = (to.str.contains(":", regex=False) | frm.str.contains(":", regex=False)
               ).to_numpy(bool)
    kind = np.where(mms, "mms", "sms")
    category = np.select(
        [_in(messages["status"], ["failed"]), channel],
        ["failed-message-processing-fee", "other"],
        np.char.add(kind.astype("<U3"), np.where(inbound, "-inbound", "-outbound")))
    usage = np.where(billed, np.where(mms, 1, _ints(messages["num_segments"])), 0)
    return {"product": kind, "category": category, "billable": billed, "usage": usage,
            "usage_unit": np.where(mms, "messages", "segments"), "inbound": inbound,
            "when": messages["date_sent"].fillna(messages["date_created"]),
            "unrated": ~_in(messages["status"], _MSG_NOT_PENDING)}


def _recording_parts(recordings: pd.DataFrame) -> dict:
    completed = _in(recordings["status"], _REC_BILLED)
    minutes = np.where(completed, (_ints(recordings["duration"]) + 59) // 60, 0)
    return {"product": "recordings", "category": "recordings", "billable": completed,
            "usage": minutes, "usage_unit": "minutes", "inbound": None,
            "when": recordings["date_created"],
            "unrated": ~_in(recordings["status"], _REC_NOT_PENDING)}


_PARTS = {"calls": _call_parts, "messages": _message_parts, "recordings": _recording_parts}
_PRODUCTS = ("calls", "sms", "mms", "recordings")
_CATEGORIES = ("calls-inbound", "calls-outbound", "calls-client", "calls-sip",
               "trunking-origination", "trunking-termination", "sms-inbound",
               "sms-outbound", "mms-inbound", "mms-outbound",
               "failed-message-processing-fee", "recordings", "other")
_UNITS = ("minutes", "segments", "messages")


def derive(frame: pd.DataFrame, resource: str, *, country: bool = False) -> pd.DataFrame:
    """The derived line-item columns only (same index as ``frame``)."""
    require_columns(frame, _NEEDED[resource], resource)
    parts = _PARTS[resource](frame)
    n = len(frame)
    cost = cost_micros(frame, resource=resource)
    out = pd.DataFrame(index=frame.index)
    out["product"] = _categorical(np.broadcast_to(parts["product"], n), _PRODUCTS)
    out["category"] = _categorical(np.broadcast_to(parts["category"], n), _CATEGORIES)
    out["when"] = parts["when"]
    out["billable"] = parts["billable"]
    out["usage"] = pd.array(parts["usage"], dtype="Int64")
    out["usage_unit"] = _categorical(np.broadcast_to(parts["usage_unit"], n), _UNITS)
    out["cost_micros"] = cost
    out["cost"] = cost.astype("float64") / 1e6
    out["currency"] = _currency(frame)
    out["unrated"] = cost.isna().to_numpy(bool) & parts["unrated"]
    if parts["inbound"] is not None:
        inbound = parts["inbound"]
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
        from .errors import ConfigurationError
        raise ConfigurationError(
            f"line items exist for calls, messages and recordings, not {resource!r}")
    derived = derive(frame, resource, country=country)
    return pd.concat([frame.drop(columns=[c for c in derived.columns if c in frame]),
                      derived], axis=1)
