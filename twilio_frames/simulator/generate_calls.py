"""Calls: parent legs (inbound, outbound-api) and their outbound-dial children, as columns.

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
"""

from __future__ import annotations

import numpy as np

from .enums import CALL_STATUS
from .pricing import NULL_PRICE

__all__ = ["generate_calls", "LEAF_CALL", "DIRECTIONS"]

DIRECTIONS = ("inbound", "outbound-api", "outbound-dial")
ST = {s: i for i, s in enumerate(CALL_STATUS)}
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


def _durations(rng, n):
    d = np.clip(rng.lognormal(np.log(75.0), 1.1, n), 1, 3600).astype(np.int64)
    d[rng.random(n) < 0.02] = 0          # sub-second answered calls: billed 1 minute
    return d


def _status(rng, p, n):
    return _STATUS_ORDER[rng.choice(len(p), size=n, p=p)].astype(np.int8)


def _pick(rng, table, counts, acct):
    k = (rng.random(len(acct)) * counts[acct]).astype(np.int64)
    return table[acct, k]


def _remote(rng, pools, home_country, same_share=0.8, mobile_share=0.5):
    """Remote party per event: mostly in ``home_country``, local or mobile."""
    n = len(home_country)
    country = np.where(rng.random(n) < same_share, home_country,
                       rng.integers(0, pools.shape[0], n))
    ntype = (rng.random(n) < mobile_share).astype(np.int64)
    return pools[country, ntype, rng.integers(0, pools.shape[2], n)]


def _parents(rng, world, acct, t):
    """Parent legs: kind, direction, parties, status, duration (seconds)."""
    n = len(t)
    kind = rng.choice(6, size=n, p=_KIND_P)
    own = _pick(rng, world.voice_table, world.voice_count, acct)
    remote = _remote(rng, world.pools, world.party_country[own])
    client = _pick(rng, world.client_table, np.full(len(world.client_table), 3), acct)
    inbound = kind <= 2
    frm = np.where(inbound, remote, own)
    to = np.where(inbound, own, remote)
    k5 = kind == 5
    frm[k5], to[k5] = client[k5], remote[k5]
    direction = np.where(inbound | k5, 0, 1).astype(np.int8)
    status = np.where(direction == 0, _status(rng, _P_INBOUND, n), _status(rng, _P_OUTBOUND, n))
    return dict(kind=kind, own=own, remote=remote, client=client, frm=frm, to=to,
                direction=direction, status=status.astype(np.int8), duration=_durations(rng, n))


def _children(rng, world, p, t):
    """Child legs of answered K1, K2, K4, K5 parents; parent durations adjusted."""
    has = np.isin(p["kind"], (1, 2, 4, 5)) & (p["status"] == ST["completed"])
    idx = np.nonzero(has)[0]
    n, kind = len(idx), p["kind"][idx]
    status = _status(rng, _P_DIAL, n)
    ring = rng.integers(3, 25, n)
    dial_at = t[idx] + rng.integers(1, 4, n)
    dur = _durations(rng, n)
    answered = status == ST["completed"]
    start = np.where(answered, dial_at + ring, dial_at)
    dur = np.where(answered, dur, 0)
    end = start + dur
    tail = np.where(answered, rng.integers(0, 6, n), rng.integers(1, 25, n))
    p["duration"][idx] = end + tail - t[idx]
    own = p["own"][idx]
    fwd = _remote(rng, world.pools, world.party_country[own], same_share=0.95, mobile_share=0.8)
    to = np.select([kind == 2, kind == 5], [p["client"][idx], p["remote"][idx]], fwd)
    frm = np.where(kind == 2, p["remote"][idx], own)
    return dict(parent=idx, status=status, start=start, created=dial_at, duration=dur,
                frm=frm, to=to, own=np.where(kind == 2, -1, own))


def _end_and_edge(rng, status, start, duration, now):
    """End times; legs still running at ``now`` become in-progress / ringing."""
    done = status == ST["completed"]
    ring = np.where(np.isin(status, (ST["busy"], ST["failed"])), rng.integers(1, 4, len(start)),
                    rng.integers(5, 40, len(start)))
    end = np.where(done, start + duration, start + ring)
    live = end > now
    status = np.where(live & done, ST["in-progress"],
                      np.where(live, ST["ringing"], status)).astype(np.int8)
    end = np.where(live, -1, end)
    duration = np.where(live, -1, np.where(done, duration, 0))
    return status, end, duration


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


def _price(rng, world, status, end, duration, rate, now, unpriced_hours):
    """Billed minutes and price (micro-units, NULL_PRICE when not (yet) priced)."""
    n = len(status)
    billable = status == ST["completed"]
    delay = rng.integers(30, 600, n)
    recent = end >= now - unpriced_hours * 3600
    unpriced = billable & ((end + delay > now) | (recent & (rng.random(n) < 0.5)))
    priced = billable & ~unpriced
    minutes = np.where(priced, np.maximum(1, -(-np.maximum(duration, 0) // 60)), 0)
    price = np.where(priced, -minutes * rate, NULL_PRICE)
    updated = np.where(priced, end + delay, np.where(end >= 0, end + 1, -1))
    return minutes, price, updated


def generate_calls(rng, world, acct, t, *, now: int, unpriced_hours: float,
                   live: bool = True) -> dict[str, np.ndarray]:
    """All call legs as unsorted columns (see :func:`twilio_frames.simulator.dataset`)."""
    if live:   # three master calls at the edge: in-progress, ringing, queued
        acct = np.concatenate([acct, np.zeros(3, acct.dtype)])
        t = np.concatenate([t, np.array([now - 150, now - 20, now - 3])])
    p = _parents(rng, world, acct, t)
    if live:
        p["kind"][-3:], p["status"][-3:], p["direction"][-3:] = 3, ST["completed"], 1
        p["frm"][-3:], p["to"][-3:] = p["own"][-3:], p["remote"][-3:]
    c = _children(rng, world, p, t)
    c = {k: v[c["created"] <= now] for k, v in c.items()}     # not dialled yet: no leg
    n_p, n_c = len(t), len(c["parent"])
    status = np.concatenate([p["status"], c["status"]])
    start = np.concatenate([t, c["start"]])
    duration = np.concatenate([p["duration"], c["duration"]])
    created_c = np.concatenate([np.full(n_p, -1), c["created"]])
    future = start > now                     # child dialled but not answered yet
    start = np.where(future, created_c, start)
    status, end, duration = _end_and_edge(rng, status, start, duration, now)
    status[future], end[future], duration[future] = ST["ringing"], -1, -1
    queue_ms = np.where(p["direction"] == 1, rng.integers(0, 3000, n_p), 0)
    created = np.concatenate([t - (queue_ms + 999) // 1000, c["created"]])
    if live:
        status[n_p - 3:n_p] = [ST["in-progress"], ST["ringing"], ST["queued"]]
        end[n_p - 3:n_p], duration[n_p - 3:n_p] = -1, -1
        start[n_p - 1] = -1
    frm = np.concatenate([p["frm"], c["frm"]])
    to = np.concatenate([p["to"], c["to"]])
    direction = np.concatenate([p["direction"], np.full(n_c, 2, np.int8)])
    leaf, rate = _leaf_and_rate(world, frm, to, direction)
    minutes, price, updated = _price(rng, world, status, end, duration, rate, now, unpriced_hours)
    updated = np.where(updated < 0, np.maximum(created, start), updated)
    updated = np.minimum(updated, now)
    answered = np.where((direction == 1) & (status == ST["completed"]) & (rng.random(len(status))
                        < 0.25), rng.integers(1, 3, len(status)), 0).astype(np.int8)
    own = np.concatenate([np.where(p["kind"] == 5, -1, p["own"]), c["own"]])
    return dict(
        acct=np.concatenate([acct, acct[c["parent"]]]).astype(np.int16),
        parent=np.concatenate([np.full(n_p, -1), c["parent"]]).astype(np.int64),
        kind=np.concatenate([p["kind"], p["kind"][c["parent"]]]).astype(np.int8),
        direction=direction, status=status, frm=frm.astype(np.int32), to=to.astype(np.int32),
        own=own.astype(np.int32), start=start, end=end, created=created, updated=updated,
        duration=duration.astype(np.int64), minutes=minutes.astype(np.int64), price=price,
        leaf=leaf, answered_by=answered,
        queue_ms=np.concatenate([queue_ms, np.zeros(n_c, np.int64)]).astype(np.int32))
