"""Calls: parent legs (inbound, outbound-api) and their outbound-dial children, as events.

Conversation kinds (share of parent legs):

==  =====  ===========================================================================
K0  0.30   inbound PSTN call answered by the app (IVR, voicemail); no child
K1  0.15   inbound PSTN call forwarded with <Dial> to another PSTN number (child leg)
K2  0.10   inbound PSTN call connected to a Client agent (child to ``client:name``)
K3  0.30   outbound-api call (notification); no child
K4  0.10   outbound-api call bridged to a second PSTN number (child leg)
K5  0.05   Client (SDK) call out: parent from ``client:name``, child to a PSTN number
==  =====  ===========================================================================

Children exist only when the parent was answered. Each leg is priced on its own
(billing-rules.md §1.2, §1.4): completed legs at ``max(1, ceil(duration / 60))`` minutes
times the leg's rate (inbound by the called number's country and type, outbound by the
destination country, client legs at the client rate); other statuses have a null price.

A leg is an *event* with its own times: ``created`` (queued), ``start`` (answered, or
dialled for a leg that is never answered), ``end`` and ``price_at`` (when its price
arrives: minutes after the end, or for half the legs up to ``unpriced_hours`` later;
"May not be immediately available", spec). What a list shows at a given ``now`` is
worked out from these times by :mod:`.timeline`.
"""

from __future__ import annotations

import numpy as np

from .enums import CALL_STATUS
from .pricing import NULL_PRICE

__all__ = ["call_events", "LEAF_CALL", "DIRECTIONS", "NEVER"]

DIRECTIONS = ("inbound", "outbound-api", "outbound-dial")
ST = {s: i for i, s in enumerate(CALL_STATUS)}
#: ``price_at`` of a leg that is never priced.
NEVER = np.iinfo(np.int64).max
#: Usage leaf category of each leg (index into LEAF_CALL).
LEAF_CALL = ("calls-inbound-local", "calls-inbound-mobile", "calls-inbound-tollfree",
             "calls-outbound", "calls-client")
_KIND_P = np.array([0.30, 0.15, 0.10, 0.30, 0.10, 0.05])
_STATUS_ORDER = np.array([ST["completed"], ST["busy"], ST["failed"], ST["no-answer"],
                          ST["canceled"]])
_P_INBOUND = np.array([0.91, 0.01, 0.02, 0.02, 0.04])
_P_OUTBOUND = np.array([0.66, 0.09, 0.05, 0.15, 0.05])
_P_DIAL = np.array([0.74, 0.08, 0.03, 0.12, 0.03])
ANSWERED_BY = (None, "human", "machine_start")


def _durations(rs):
    d = np.clip(rs.lognormal(np.log(75.0), 1.1), 1, 3600).astype(np.int64)
    d[rs.random() < 0.02] = 0          # sub-second answered calls: billed 1 minute
    return d


def _status(rs, p):
    return _STATUS_ORDER[rs.choice(len(p), p)].astype(np.int8)


def _pick(rs, table, counts, acct):
    return table[acct, rs.below(counts[acct])]


def _remote(rs, pools, home_country, same_share=0.8, mobile_share=0.5):
    """Remote party per event: mostly in ``home_country``, local or mobile."""
    country = np.where(rs.random() < same_share, home_country, rs.integers(0, pools.shape[0]))
    ntype = (rs.random() < mobile_share).astype(np.int64)
    return pools[country, ntype, rs.integers(0, pools.shape[2])]


def _leg_draws(rs, unpriced_s: float) -> dict:
    """Per-leg draws: ring time of an unanswered leg, price delay, answering machine."""
    short = rs.integers(1, 4)                        # busy, failed
    long = rs.integers(5, 40)                        # no-answer, canceled
    delay = rs.integers(30, 600)
    late = rs.random() < 0.5
    late_delay = (rs.random() * unpriced_s).astype(np.int64)
    amd = rs.random() < 0.25
    answered_by = rs.integers(1, 3)
    return dict(short=short, long=long, delay=np.where(late, np.maximum(delay, late_delay),
                                                        delay), amd=amd, answered_by=answered_by)


def _parents(rs, world, acct):
    """Parent legs: kind, direction, parties, final status, duration (seconds)."""
    kind = rs.choice(6, _KIND_P)
    own = _pick(rs, world.voice_table, world.voice_count, acct)
    remote = _remote(rs, world.pools, world.party_country[own])
    client = _pick(rs, world.client_table, np.full(len(world.client_table), 3), acct)
    inbound = kind <= 2
    frm = np.where(inbound, remote, own)
    to = np.where(inbound, own, remote)
    k5 = kind == 5
    frm[k5], to[k5] = client[k5], remote[k5]
    direction = np.where(inbound | k5, 0, 1).astype(np.int8)
    st_in, st_out = _status(rs, _P_INBOUND), _status(rs, _P_OUTBOUND)
    status = np.where(direction == 0, st_in, st_out).astype(np.int8)
    return dict(kind=kind, own=own, remote=remote, client=client, frm=frm, to=to,
                direction=direction, status=status, duration=_durations(rs),
                queue_ms=rs.integers(0, 3000))


def _children(rs, world, p, t, unpriced_s):
    """Child legs of answered K1, K2, K4, K5 parents (drawn for every parent, kept for
    those); parent durations adjusted to outlast their child."""
    status = _status(rs, _P_DIAL)
    ring = rs.integers(3, 25)
    dial_at = t + rs.integers(1, 4)
    dur = _durations(rs)
    tail_answered, tail_missed = rs.integers(0, 6), rs.integers(1, 25)
    fwd = _remote(rs, world.pools, world.party_country[p["own"]], same_share=0.95,
                  mobile_share=0.8)
    hi, lo = rs.sid_parts()
    legs = _leg_draws(rs, unpriced_s)
    idx = np.flatnonzero(np.isin(p["kind"], (1, 2, 4, 5)) & (p["status"] == ST["completed"]))
    status, ring, dial_at, dur = status[idx], ring[idx], dial_at[idx], dur[idx]
    kind, own = p["kind"][idx], p["own"][idx]
    legs = {k: v[idx] for k, v in legs.items()}
    answered = status == ST["completed"]
    start = np.where(answered, dial_at + ring, dial_at)
    dur = np.where(answered, dur, 0)
    end = np.where(answered, start + dur,
                   start + np.where(np.isin(status, (ST["busy"], ST["failed"])),
                                    legs["short"], legs["long"]))
    tail = np.where(answered, tail_answered[idx], tail_missed[idx])
    p["duration"][idx] = np.maximum(p["duration"][idx], end + tail - t[idx])
    to = np.select([kind == 2, kind == 5], [p["client"][idx], p["remote"][idx]], fwd[idx])
    frm = np.where(kind == 2, p["remote"][idx], own)
    return dict(parent=idx, status=status, created=dial_at, start=start, end=end,
                duration=dur, frm=frm, to=to, own=np.where(kind == 2, -1, own),
                sid_hi=hi[idx], sid_lo=lo[idx], **legs)


def _leaf_and_rate(world, leg_from, leg_to, direction):
    """Usage leaf (index into LEAF_CALL) and per-minute rate of each leg."""
    ptype, pc = world.party_type, world.party_country
    client = (ptype[leg_from] == 3) | (ptype[leg_to] == 3)
    inbound = (direction == 0) & ~client
    leaf = np.where(client, 4, np.where(inbound, ptype[leg_to].astype(np.int64), 3))
    pr = world.prices
    to_c = np.maximum(pc[leg_to], 0)
    rate = np.where(client, pr.client,
                    np.where(inbound, pr.voice_in[to_c, np.clip(ptype[leg_to], 0, 2)],
                             pr.voice_out[to_c]))
    return leaf.astype(np.int8), rate


def _edge(p, legs, t):
    """Three master outbound-api calls at the edge of ``now``, started at ``now - 150``,
    ``now - 20`` and ``now + 3``: one talking, one ringing (never answered), one queued
    (created 6 s before it starts)."""
    p["kind"][:], p["direction"][:] = 3, 1
    p["frm"][:], p["to"][:] = p["own"], p["remote"]
    p["status"][:] = [ST["completed"], ST["no-answer"], ST["completed"]]
    p["duration"][0] = max(p["duration"][0], 150) + 60
    legs["long"][1] = 35
    p["queue_ms"][:] = [0, 0, 6000]


def call_events(rs, world, acct, t, *, unpriced_hours: float, edge: bool = False
                ) -> dict[str, np.ndarray]:
    """All call legs of the events at ``t`` (parents first, then children) as columns.

    ``rs`` is the events' :class:`~.generate_times.DayStreams`. With ``edge`` the three
    events are the calls at the edge of ``now`` (see :func:`_edge`).
    """
    unpriced_s = unpriced_hours * 3600
    p = _parents(rs, world, acct)
    hi, lo = rs.sid_parts()
    legs = _leg_draws(rs, unpriced_s)
    if edge:
        _edge(p, legs, t)
        c = {k: v[:0] for k, v in _children(rs, world, p, t, unpriced_s).items()}
    else:
        c = _children(rs, world, p, t, unpriced_s)
    n_p, n_c = len(t), len(c["parent"])
    done_p = p["status"] == ST["completed"]
    end_p = np.where(done_p, t + p["duration"], t + np.where(
        np.isin(p["status"], (ST["busy"], ST["failed"])), legs["short"], legs["long"]))
    queue_ms = np.where(p["direction"] == 1, p["queue_ms"], 0)

    def both(parent, child, dtype=None):
        out = np.concatenate([parent, child])
        return out if dtype is None else out.astype(dtype)

    status = both(p["status"], c["status"], np.int8)
    end, duration = both(end_p, c["end"]), both(np.where(done_p, p["duration"], 0), c["duration"])
    frm, to = both(p["frm"], c["frm"], np.int32), both(p["to"], c["to"], np.int32)
    direction = both(p["direction"], np.full(n_c, 2, np.int8))
    leaf, rate = _leaf_and_rate(world, frm, to, direction)
    billable = status == ST["completed"]
    minutes = np.where(billable, np.maximum(1, -(-duration // 60)), 0)
    delay = both(legs["delay"], c["delay"])
    answered = np.where((direction == 1) & billable & both(legs["amd"], c["amd"]),
                        both(legs["answered_by"], c["answered_by"]), 0).astype(np.int8)
    return dict(
        acct=both(acct, acct[c["parent"]], np.int16),
        parent=both(np.full(n_p, -1), c["parent"], np.int64),
        kind=both(p["kind"], p["kind"][c["parent"]], np.int8),
        direction=direction, status=status, frm=frm, to=to,
        own=both(np.where(p["kind"] == 5, -1, p["own"]), c["own"], np.int32),
        created=both(t - (queue_ms + 999) // 1000, c["created"]),
        start=both(t, c["start"]), end=end,
        duration=duration.astype(np.int64), minutes=minutes.astype(np.int64),
        price=np.where(billable, -minutes * rate, NULL_PRICE),
        price_at=np.where(billable, end + delay, NEVER), leaf=leaf, answered_by=answered,
        queue_ms=both(queue_ms, np.zeros(n_c, np.int64), np.int32),
        sid_hi=both(hi, c["sid_hi"]), sid_lo=both(lo, c["sid_lo"]))
