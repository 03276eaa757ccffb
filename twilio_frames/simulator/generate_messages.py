"""Messages: inbound, outbound-api and outbound-reply SMS and MMS, as columns.

Pricing (billing-rules.md §2): SMS per segment (``num_segments`` from the 160/153 and
70/67 rules), MMS per message; inbound by the receiving number's country, outbound by the
destination country. ``undelivered`` messages are charged (delivery was attempted);
``failed`` messages carry the $0.001 Message Processing Fee per message, except for the
exempt error codes (21408, 30008, 30450 among those used here), which have a null price.
"""

from __future__ import annotations

import numpy as np

from .enums import MESSAGE_DIRECTION, MESSAGE_STATUS
from .pricing import NULL_PRICE

__all__ = ["generate_messages", "LEAF_MESSAGE", "ERRORS", "FEE_EXEMPT"]

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


def _choice(rng, table, n):
    values, p = table
    return values[rng.choice(len(values), size=n, p=p)]


def _parties(rng, world, acct):
    n = len(acct)
    k = (rng.random(n) * world.sms_count[acct]).astype(np.int64)
    own = world.sms_table[acct, k]
    home = world.party_country[own]
    country = np.where(rng.random(n) < 0.85, home, rng.integers(0, world.pools.shape[0], n))
    remote = world.pools[country, 1, rng.integers(0, world.pools.shape[2], n)]
    direction = rng.choice([MD["inbound"], MD["outbound-api"], MD["outbound-reply"]], size=n,
                           p=[0.35, 0.5, 0.15]).astype(np.int8)
    inbound = direction == MD["inbound"]
    frm, to = np.where(inbound, remote, own), np.where(inbound, own, remote)
    nanp = (world.party_country[remote] <= 1)
    mms = world.own_mms[own] & nanp & (rng.random(n) < 0.15)
    return direction, frm.astype(np.int32), to.astype(np.int32), own, remote, mms


def _status_and_times(rng, direction, t, now):
    n = len(t)
    inbound = direction == MD["inbound"]
    status = np.where(inbound, MS["received"], _choice(rng, _OUT_STATUS, n)).astype(np.int8)
    error = np.zeros(n, np.int32)
    und, fail = status == MS["undelivered"], status == MS["failed"]
    error[und] = _choice(rng, _UNDELIVERED, int(und.sum()))
    error[fail] = _choice(rng, _FAILED, int(fail.sum()))
    sent = np.where(inbound, t, np.where(fail, -1, t + rng.integers(1, 6, n)))
    lag = np.where(np.isin(status, (MS["delivered"], MS["undelivered"])),
                   rng.integers(2, 60, n), rng.integers(0, 3, n))
    updated = np.where(sent >= 0, sent, t) + lag
    late = (sent > now)                                # not handed to a carrier yet
    status[late], sent[late], error[late] = MS["queued"], -1, 0
    receipt = ~late & (updated > now) & np.isin(status, (MS["delivered"], MS["undelivered"]))
    status[receipt], error[receipt] = MS["sent"], 0
    updated = np.minimum(np.where(late, t, updated), now)
    return status, error, sent, updated


def _price(rng, world, direction, status, error, own, remote, mms, segments, day_t, updated,
           now, unpriced_hours):
    n = len(status)
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
    delay = rng.integers(5, 900, n)
    recent = day_t >= now - unpriced_hours * 3600
    unpriced = billable & ((updated + delay > now) | (recent & (rng.random(n) < 0.5)))
    priced = billable & ~unpriced
    price = np.where(priced, -amount, NULL_PRICE)
    units = np.where(priced, np.where(mms | fee, 1, segments), 0)
    return price, np.where(priced, leaf, -1).astype(np.int8), units


def generate_messages(rng, world, acct, t, *, now: int, unpriced_hours: float
                      ) -> dict[str, np.ndarray]:
    """All messages as unsorted columns."""
    n = len(t)
    direction, frm, to, own, remote, mms = _parties(rng, world, acct)
    status, error, sent, updated = _status_and_times(rng, direction, t, now)
    body = rng.integers(0, len(world.body_segments), n).astype(np.int32)
    segments = world.body_segments[body].astype(np.int64)
    no_text = mms & (rng.random(n) < 0.1)
    body[no_text] = -1
    segments = np.where(mms, 1, segments)
    media = np.where(mms, rng.integers(1, 4, n), 0).astype(np.int8)
    day_t = np.where(sent >= 0, sent, t)
    price, leaf, units = _price(rng, world, direction, status, error, own, remote, mms,
                                segments, day_t, updated, now, unpriced_hours)
    via = (direction == MD["outbound-api"]) & (rng.random(n) < 0.4)
    service = np.where(via, rng.integers(0, 2, n), -1).astype(np.int8)
    return dict(acct=acct.astype(np.int16), direction=direction, status=status, frm=frm, to=to,
                created=t, sent=sent, updated=updated, body=body,
                segments=segments.astype(np.int16), media=media, mms=mms, error=error,
                price=price, leaf=leaf, units=units.astype(np.int64), service=service,
                day_t=day_t)
