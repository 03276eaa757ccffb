"""Messages: inbound, outbound-api and outbound-reply SMS and MMS, as columns.

Pricing (billing-rules.md §2): SMS per segment (``num_segments`` from the 160/153 and
70/67 rules), MMS per message; inbound by the receiving number's country, outbound by the
destination country. ``undelivered`` messages are charged (delivery was attempted);
``failed`` messages carry the $0.001 Message Processing Fee per message, except for the
exempt error codes (21408, 30008, 30450 among those used here), which have a null price.

A message is an *event* with its own times: ``created``, ``sent`` (handed to the carrier;
outbound messages are ``queued`` for their first second, then ``sending``), ``final_at``
(the delivery receipt, or the failure) and ``price_at``: the price "may not be immediately
available" (spec), arriving minutes after the final status, for half the messages up to
``unpriced_hours`` later, and in rare cases (1%) up to 24 hours later (billing-rules.md
§2.2, HELP-SMSFEES). :mod:`.timeline` shows a message as it is at a given ``now``.
"""

from __future__ import annotations

import numpy as np

from .enums import MESSAGE_DIRECTION, MESSAGE_STATUS
from .pricing import NULL_PRICE

__all__ = ["message_events", "LEAF_MESSAGE", "ERRORS", "FEE_EXEMPT"]

MS = {s: i for i, s in enumerate(MESSAGE_STATUS)}
MD = {s: i for i, s in enumerate(MESSAGE_DIRECTION)}
#: Usage leaf category of each message (index; -1 = not in usage).
LEAF_MESSAGE = ("sms-inbound", "sms-outbound", "mms-inbound", "mms-outbound",
                "failed-message-processing-fee")
#: Error code -> error_message (Twilio's error titles).
ERRORS = {
    21408: "Permission to send an SMS has not been enabled for the region indicated by the "
           "'To' number",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    30034: "Message from an unregistered number",
    30450: "Message delivery blocked by SMS Pumping Protection",
}
#: Failed-message error codes exempt from the processing fee (billing-rules.md §2.2).
FEE_EXEMPT = (12400, 20500, 20504, 30103, 30500, 63010, 63012, 30036, 30002, 30454, 63038,
              90010, 30450, 21408, 30008)
_UNDELIVERED = (np.array([30003, 30005, 30006, 30007, 30008]),
                np.array([0.35, 0.2, 0.2, 0.15, 0.1]))
_FAILED = (np.array([21610, 21614, 21408, 30450, 30008, 30034]),
           np.array([0.25, 0.25, 0.1, 0.15, 0.1, 0.15]))
_OUT_STATUS = (np.array([MS["delivered"], MS["sent"], MS["undelivered"], MS["failed"]]),
               np.array([0.82, 0.07, 0.05, 0.06]))


def _choice(rs, table):
    values, p = table
    return values[rs.choice(len(values), p)]


def _parties(rs, world, acct):
    own = world.sms_table[acct, rs.below(world.sms_count[acct])]
    home = world.party_country[own]
    country = np.where(rs.random() < 0.85, home, rs.integers(0, world.pools.shape[0]))
    remote = world.pools[country, 1, rs.integers(0, world.pools.shape[2])]
    direction = np.array([MD["inbound"], MD["outbound-api"], MD["outbound-reply"]],
                         np.int8)[rs.choice(3, np.array([0.35, 0.5, 0.15]))]
    inbound = direction == MD["inbound"]
    frm, to = np.where(inbound, remote, own), np.where(inbound, own, remote)
    nanp = (world.party_country[remote] <= 1)
    mms = world.own_mms[own] & nanp & (rs.random() < 0.15)
    return direction, frm.astype(np.int32), to.astype(np.int32), own, remote, mms


def _status_and_times(rs, direction, t):
    """Final status and error, ``sent`` (-1: never) and ``final_at`` of each message."""
    inbound = direction == MD["inbound"]
    status = np.where(inbound, MS["received"], _choice(rs, _OUT_STATUS)).astype(np.int8)
    und, fail = status == MS["undelivered"], status == MS["failed"]
    error = np.where(und, _choice(rs, _UNDELIVERED),
                     np.where(fail, _choice(rs, _FAILED), 0)).astype(np.int32)
    sent = np.where(inbound, t, np.where(fail, -1, t + rs.integers(1, 6)))
    receipt, quick = rs.integers(2, 60), rs.integers(0, 3)
    lag = np.where(np.isin(status, (MS["delivered"], MS["undelivered"])), receipt, quick)
    return status, error, sent, np.where(sent >= 0, sent, t) + lag


def _price_at(rs, final_at, unpriced_s):
    delay = rs.integers(5, 900)
    late, rare = rs.random() < 0.5, rs.random() < 0.02
    late_delay = (rs.random() * np.where(rare, max(unpriced_s, 86400), unpriced_s))
    return final_at + np.where(late, np.maximum(delay, late_delay.astype(np.int64)), delay)


def _price(world, direction, status, error, own, remote, mms, segments):
    """Final price (micro-units, NULL_PRICE when never billed), usage leaf and units."""
    pr, pc = world.prices, world.party_country
    inbound = direction == MD["inbound"]
    rate_sms = np.where(inbound, pr.sms_in[pc[own]], pr.sms_out[pc[remote]])
    rate_mms = np.where(inbound, pr.mms_in[pc[own]], pr.mms_out[pc[remote]])
    charged = np.isin(status, (MS["received"], MS["delivered"], MS["sent"], MS["undelivered"]))
    fee = (status == MS["failed"]) & ~np.isin(error, FEE_EXEMPT)
    amount = np.where(mms, rate_mms, rate_sms * segments)
    amount = np.where(fee, pr.failed_fee, amount)
    leaf = np.where(fee, 4, np.where(mms, 2, 0) + np.where(inbound, 0, 1))
    billable = charged | fee
    price = np.where(billable, -amount, NULL_PRICE)
    units = np.where(billable, np.where(mms | fee, 1, segments), 0)
    return price, np.where(billable, leaf, -1).astype(np.int8), units


def message_events(rs, world, acct, t, *, unpriced_hours: float) -> dict[str, np.ndarray]:
    """All messages of the events at ``t`` as columns (``rs``: their day streams)."""
    direction, frm, to, own, remote, mms = _parties(rs, world, acct)
    status, error, sent, final_at = _status_and_times(rs, direction, t)
    body = rs.integers(0, len(world.body_segments)).astype(np.int32)
    segments = world.body_segments[body].astype(np.int64)
    no_text = mms & (rs.random() < 0.1)
    body[no_text] = -1
    segments = np.where(mms, 1, segments)
    media = np.where(mms, rs.integers(1, 4), 0).astype(np.int8)
    price, leaf, units = _price(world, direction, status, error, own, remote, mms, segments)
    price_at = np.where(price != NULL_PRICE, _price_at(rs, final_at, unpriced_hours * 3600),
                        np.iinfo(np.int64).max)
    via = (direction == MD["outbound-api"]) & (rs.random() < 0.4)
    service = np.where(via, rs.integers(0, 2), -1).astype(np.int8)
    hi, lo = rs.sid_parts()
    return dict(acct=acct.astype(np.int16), direction=direction, status=status, frm=frm, to=to,
                created=t, sent=sent, final_at=final_at, price_at=price_at, body=body,
                segments=segments.astype(np.int16), media=media, mms=mms, error=error,
                price=price, leaf=leaf, units=units.astype(np.int64), service=service,
                day_t=np.where(sent >= 0, sent, t), sid_hi=hi, sid_lo=lo)
