"""What the traffic generators draw from: the times of a dataset (its ``now`` and the start
of its history), and the tables of accounts' own numbers, remote parties, prices and
message bodies (:class:`World`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np

__all__ = ["World", "build_world", "history_window", "parse_time"]


def parse_time(value, what: str) -> datetime:
    """An aware UTC datetime from a datetime, a date (its midnight) or an ISO 8601 string."""
    if value is None:
        return datetime.now(timezone.utc).replace(second=0, microsecond=0)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{what}: {value!r} is not an ISO 8601 date or time") from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def history_window(start, days, now: datetime) -> tuple[datetime, float]:
    """``(start, days)`` of a dataset: ``start`` given (``days`` is then the span up to
    ``now``), or ``days`` (default 90) before ``now``."""
    if start is None:
        days = 90 if days is None else days
        return now - timedelta(seconds=round(days * 86400)), days
    if days is not None:
        raise TypeError("give start= or days=, not both")
    start = parse_time(start, "start")
    if start > now:
        raise ValueError(f"start {start.isoformat()} is after now {now.isoformat()}")
    return start, (now - start).total_seconds() / 86400


@dataclass
class World:
    """What the generators need to know about accounts, numbers and prices."""

    prices: object
    pools: np.ndarray
    party_country: np.ndarray
    party_type: np.ndarray
    voice_table: np.ndarray
    voice_count: np.ndarray
    sms_table: np.ndarray
    sms_count: np.ndarray
    own_mms: np.ndarray
    client_table: np.ndarray
    body_segments: np.ndarray


def _own_table(numbers, n_acc: int, cap: int) -> tuple[np.ndarray, np.ndarray]:
    rows = [[i for i, x in enumerate(numbers) if x.account == a and x.caps[cap]]
            for a in range(n_acc)]
    width = max(1, max(len(r) for r in rows))
    table = np.array([(r or [-1]) + [r[0] if r else -1] * (width - max(1, len(r)))
                      for r in rows], dtype=np.int64)
    return table, np.array([len(r) for r in rows], dtype=np.int64)


def build_world(prices, numbers, parties, n_acc: int, segments: np.ndarray) -> World:
    """The :class:`World` of an account tree (``numbers``: its NumberInfo list)."""
    voice, voice_n = _own_table(numbers, n_acc, 0)
    sms, sms_n = _own_table(numbers, n_acc, 1)
    pools = np.stack([np.stack([parties.remote[(c, t)] for t in (0, 1)])
                      for c in range(len({k[0] for k in parties.remote}))])
    own_mms = np.zeros(len(parties.value), bool)
    own_mms[:parties.n_own] = [x.caps[2] for x in numbers]
    return World(prices, pools, parties.country, parties.ntype, voice, voice_n, sms, sms_n,
                 own_mms, np.stack(parties.clients), segments)
