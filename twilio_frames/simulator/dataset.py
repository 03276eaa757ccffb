"""A seeded, deterministic synthetic Twilio account tree: the simulator's ground truth.

    >>> from twilio_frames.simulator.dataset import Dataset
    >>> ds = Dataset(seed=1, start="2026-08-17", now="2026-11-15T12:00:00Z")
    >>> calls = ds.table("calls", ds.master_sid)
    >>> first_page = calls.records(slice(0, 50))

The account moves on in time: accounts, numbers and parties are drawn from the seed and
``start`` alone, and traffic day by day from streams seeded by (seed, day)
(:class:`~.generate_times.DayStreams`). Every event carries its own times (created,
started, ended, priced; :mod:`.timeline`), so with ``seed`` and ``start`` fixed, a later
``now`` shows the same history, open records settled, plus what happened since. The three
``live_calls`` at the edge are the exception: they belong to the one ``now``.

Columns are built with numpy (epoch seconds, small-int codes, integer micro-unit prices);
record dicts are built only for the rows asked for. Same seed and options (including
``start`` and ``now``) give identical data. See ``data/README.md`` for prices and usage
rules.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np

from .enums import CALL_STATUS
from . import closing
from . import generate_records as gr
from . import timeline
from . import usage
from .generate_accounts import (account_record, api_keys, build_accounts, build_numbers,
                                number_columns, number_record)
from .generate_attacks import attack_events, join_events
from .generate_calls import call_events
from .generate_messages import message_events
from .generate_numbers import build_parties
from .generate_recordings import recording_events
from .generate_times import DayStreams, random_hex, sample_days, stream_days
from .pricing import load_price_list
from .table import Table
from .text import body_pool
from .world import build_world, history_window, parse_time

__all__ = ["Dataset", "Table", "TABLE_RESOURCES"]

TABLE_RESOURCES = ("calls", "messages", "recordings", "incoming_phone_numbers")
_CHILDREN_PER_PARENT = 0.339     # expected child legs per parent call (generate_calls)
_CALLS, _MESSAGES, _EDGE = 1, 2, 3     # DayStreams stream numbers
_POOL_DAYS = 90                  # remote-party pools are sized for this many days of traffic


class Dataset:
    """A master account, its subaccounts, and their numbers, calls, messages, recordings.

    Parameters
    ----------
    seed : int
        Seed of everything drawn; same seed and options, same data.
    start : datetime or date or str, optional
        The first instant of the account's history (a date or ``YYYY-MM-DD``: its UTC
        midnight). With ``seed`` and ``start`` fixed, a later ``now`` shows the same
        history plus what happened since. Default: ``now - days``.
    now : datetime or date or str or None
        The simulated present (aware UTC; a string is ISO 8601). None: the current UTC
        time floored to the minute.
    days : float, optional
        Shortcut for ``start = now - days`` (default 90 when ``start`` is not given).
    subaccounts : int
        Number of subaccounts; with 4 or more, the last one is suspended 30 days after
        ``start``.
    calls_per_day, messages_per_day : float
        Mean Call records (all legs) and Message records per day over the account tree.
    currency : str
        Billing currency of the whole tree (``USD``, ``EUR``, ``JPY``, ...).
    unpriced_hours : float
        Prices arrive minutes after a call, message or recording is final, or for half of
        them up to this many hours later (a rare 1% of messages: up to 24 hours).
    recording_share : float
        Share of completed parent calls that are recorded.
    live_calls : bool
        Add three master calls at the edge of ``now`` (in-progress, ringing, queued). They
        belong to this ``now`` only: a later ``now`` does not show them.
    attacks : int
        Add this many SMS-pumping and toll-fraud episodes and an organic campaign, as
        events of their own (:mod:`.generate_attacks`); the truth is :attr:`attacks`.
    closed_at : datetime or date or str or None
        Close one subaccount at this instant (the last; with 4 or more, the last but
        one): no traffic or numbers after it, status ``closed`` once ``now`` has passed
        it, its data deleted 30 days later (:mod:`.closing`; :attr:`closing`). Default:
        none is closed.
    """

    def __init__(self, *, seed: int = 0, start: datetime | date | str | None = None,
                 now: datetime | date | str | None = None, days: float | None = None,
                 subaccounts: int = 3, calls_per_day: float = 40.0,
                 messages_per_day: float = 50.0, currency: str = "USD",
                 unpriced_hours: float = 6.0, recording_share: float = 0.3,
                 live_calls: bool = True, attacks: int = 0, closed_at=None):
        self._rates = (calls_per_day, messages_per_day, recording_share, live_calls)
        now_s = self._setup(seed, start, now, days, subaccounts, currency, unpriced_hours,
                            attacks, closed_at)
        lists = self.traffic(stream_days(self.window_start, now_s), extra=True)
        self.calls, self.recordings = lists["calls"], lists["recordings"]
        self.messages = lists["messages"]
        self.incoming_phone_numbers = closing.held_numbers(
            self, number_columns(self.numbers, self.number_sids))
        self._bounds = {name: np.searchsorted(self._cols(name)["acct"],
                                              np.arange(len(self._acc) + 1))
                        for name in TABLE_RESOURCES}

    @classmethod
    def without_traffic(cls, **options) -> Dataset:
        """The dataset of ``options`` with everything but its traffic: accounts, numbers,
        parties, prices and the attacks' events. Its :meth:`traffic` draws calls,
        recordings and messages a few days at a time (:mod:`.to_store`)."""
        rates = {k: options.pop(k) for k in ("calls_per_day", "messages_per_day",
                                             "recording_share", "live_calls") if k in options}
        self = cls.__new__(cls)
        self._rates = (rates.get("calls_per_day", 40.0), rates.get("messages_per_day", 50.0),
                       rates.get("recording_share", 0.3), rates.get("live_calls", True))
        self._setup(**options)
        return self

    # ------------------------------------------------------------------ building
    def _setup(self, seed: int = 0, start=None, now=None, days=None, subaccounts: int = 3,
               currency: str = "USD", unpriced_hours: float = 6.0, attacks: int = 0,
               closed_at=None) -> int:
        """Everything the traffic is drawn from; returns ``now`` in epoch seconds."""
        self.seed, self.unpriced_hours = seed, unpriced_hours
        self.now = parse_time(now, "now")
        now_s = int(self.now.timestamp())
        self.start, self.days = history_window(start, days, self.now)
        self.window_start = int(self.start.timestamp())
        self._usage: usage.UsageCube | None = None
        self.prices = load_price_list(currency)
        self.currency = self.prices.currency
        r = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)]
        self._build_accounts(r[0], subaccounts, now_s)
        self.closing = closing.close_account(self, closed_at, now_s)
        pool = int(np.clip(_POOL_DAYS * (self._rates[0] + self._rates[1]) / 400, 40, 2500))
        self.parties = build_parties(r[1], [(x.e164, x.country, x.ntype) for x in self.numbers],
                                     len(self._acc), pool)
        self.parties.value_list = self.parties.value.tolist()
        self.bodies, segments = body_pool(r[2])
        self._world = build_world(self.prices, self.numbers, self.parties, len(self._acc),
                                  segments)
        self._extra, self.attacks = attack_events(self, attacks)
        return now_s

    def _build_accounts(self, rng, subaccounts: int, now_s: int) -> None:
        self._acc = build_accounts(rng, subaccounts, self.window_start, now_s)
        self.master_sid = self._acc[0].sid
        self.auth_token = self._acc[0].auth_token
        self.account_sids = np.array([a.sid for a in self._acc])
        self._index = {a.sid: a.index for a in self._acc}
        self.auth_tokens = {a.sid: a.auth_token for a in self._acc}
        self.api_keys = api_keys(rng, self._acc)
        self.accounts = [account_record(a, self.master_sid) for a in self._acc]
        self.numbers = build_numbers(rng, self._acc, self.window_start)
        self.number_sids = np.array([x.sid for x in self.numbers])
        self.service_sids = np.array([[random_hex(rng, "MG") for _ in range(2)]
                                      for _ in self._acc])

    def _history(self, acct: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Events inside the account's history: from ``start``, until any suspension."""
        until = np.array([a.active_until for a in self._acc], dtype=np.int64)
        return (t >= self.window_start) & (t <= until[acct])

    def traffic(self, days: np.ndarray, *, extra: bool) -> dict[str, dict]:
        """The ``calls``, ``recordings`` and ``messages`` of the local ``days`` as they
        stand at ``now``: served columns, each by account then newest first. A day's
        events do not depend on the other days drawn with it (:class:`DayStreams`).

        With ``extra`` the three live calls at the edge of ``now`` and the attacks'
        events join them (whatever their days). Each kind of traffic is ``{resource:
        (event columns, mask of the events inside the history)}`` until its view at
        ``now``; calls are viewed (their events let go) before messages are drawn.
        """
        now_s = int(self.now.timestamp())
        calls_per_day, messages_per_day, rec_share, live_calls = self._rates
        world, shares = self._world, np.array([a.share for a in self._acc])
        tz = np.array([a.tz_hours for a in self._acc])
        events = self._call_events(world, days, calls_per_day, rec_share, shares, tz)
        if extra and live_calls:
            events["calls"] = timeline.join(events["calls"], self._edge_calls(world, now_s))
        if extra:
            events["calls"] = join_events(events["calls"], self._extra["calls"])
        out = self._view_calls(events, now_s)
        streams, acct, t = sample_days(self.seed, _MESSAGES, messages_per_day, days, shares, tz)
        events = {"messages": (message_events(streams, world, acct, t,
                                              unpriced_hours=self.unpriced_hours),
                               self._history(acct, t))}
        if extra:
            events["messages"] = join_events(events["messages"], self._extra["messages"])
        out["messages"] = self._view_messages(events, now_s)
        return out

    def _call_events(self, world, days, calls_per_day, rec_share, shares, tz) -> dict:
        """Call legs (parents, then children) and recordings, each with its history mask."""
        streams, acct, t = sample_days(self.seed, _CALLS, calls_per_day /
                                       (1 + _CHILDREN_PER_PARENT), days, shares, tz)
        calls = call_events(streams, world, acct, t, unpriced_hours=self.unpriced_hours)
        recs = recording_events(streams, calls, len(t), self.prices.recording, share=rec_share)
        keep = self._history(acct, t)
        keep_legs = np.concatenate([keep, keep[calls["parent"][len(t):]]])
        return {"calls": (calls, keep_legs), "recordings": (recs, keep[recs["call"]])}

    def _edge_calls(self, world, now_s) -> tuple[dict, np.ndarray]:
        """The three live calls at the edge of ``now``, drawn from a stream of that instant."""
        edge = call_events(DayStreams(self.seed, _EDGE, [now_s], [3]), world,
                           np.zeros(3, np.int16), now_s + np.array([-150, -20, 3]),
                           unpriced_hours=self.unpriced_hours, edge=True)
        return edge, np.ones(3, bool)

    @staticmethod
    def _view_calls(events: dict, now_s: int) -> dict[str, dict]:
        """The calls and recordings lists at ``now``, in served order."""
        calls, keep = events.pop("calls")
        served = timeline.served_order(calls, timeline.calls_at(calls, keep, now_s), "CA")
        del calls
        rows = np.full(len(keep), -1, np.int64)           # call event -> served row
        rows[served.pop("leg")] = np.arange(len(served["sid"]))
        recs, keep = events.pop("recordings")
        recs = dict(recs, call=rows[recs["call"]])
        return {"calls": served, "recordings": timeline.served_order(
            recs, timeline.recordings_at(recs, keep, now_s), "RE")}

    @staticmethod
    def _view_messages(events: dict, now_s: int) -> dict:
        """The messages list at ``now``, in served order."""
        msgs, keep = events.pop("messages")
        return timeline.served_order(msgs, timeline.messages_at(msgs, keep, now_s),
                                     "SM", alt=("MM", "mms"))

    # ------------------------------------------------------------------ access
    def _cols(self, resource: str) -> dict:
        return getattr(self, resource)

    def _account_index(self, account_sid: str) -> int:
        try:
            return self._index[account_sid]
        except KeyError:
            raise KeyError(f"unknown account sid {account_sid!r}") from None

    def parent_of(self, account_sid: str) -> str | None:
        """The owner of a subaccount; None for the master account."""
        i = self._account_index(account_sid)
        return None if i == 0 else self.master_sid

    def table(self, resource: str, account_sid: str) -> Table:
        """One account's ``calls``, ``messages``, ``recordings`` or ``incoming_phone_numbers``."""
        if resource not in TABLE_RESOURCES:
            raise ValueError(f"unknown table resource {resource!r}")
        return Table(self, resource, self._account_index(account_sid))

    def records(self, resource: str, account_sid: str) -> list[dict]:
        """Ground truth: the whole table as served (also ``"accounts"``: the Accounts list)."""
        if resource == "accounts":
            i = self._account_index(account_sid)
            chosen = self.accounts if i == 0 else [self.accounts[i]]
            return [_copy(a) for a in chosen]
        tab = self.table(resource, account_sid)
        return tab.records(slice(None))

    @property
    def usage_cube(self) -> usage.UsageCube:
        """The usage aggregate (count, usage, price per account, day, leaf), built once."""
        if self._usage is None:
            self._usage = usage.build_cube(self)
        return self._usage

    def usage_records(self, account_sid: str, subresource: str | None = None, *,
                      category: str | None = None, start_date: date | None = None,
                      end_date: date | None = None,
                      include_subaccounts: bool = True) -> list[dict]:
        """UsageRecords as served: per period (ascending), categories in name order.

        ``subresource`` None is the root list (like ``all_time``); otherwise one of daily,
        monthly, yearly, all_time, today, yesterday, this_month, last_month. Dates are
        inclusive UTC days. See ``data/README.md`` for the rules.
        """
        i = self._account_index(account_sid)
        scope = tuple(range(len(self._acc))) if include_subaccounts and i == 0 else (i,)
        cats = usage.CATEGORIES if category is None else \
            tuple(c for c in usage.CATEGORIES if c == category.lower())
        today = self.now.date()
        created = usage.day_date(self._acc[i].created // 86400)
        as_of = self.now.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        cube, out = self.usage_cube, []
        col = [usage.CATEGORIES.index(c) for c in cats]
        for first, last in usage.periods(subresource, today, start_date, end_date, created):
            tot = cube.totals(scope, usage.day_number(first), usage.day_number(last))
            for c, k in zip(cats, col):
                out.append(usage.record(account_sid, subresource, c, first, last, tot[:, k],
                                        self.currency, as_of))
        return out

    def _records(self, resource: str, idx: np.ndarray) -> list[dict]:
        if resource == "calls":
            return gr.call_records(self, idx)
        if resource == "messages":
            return gr.message_records(self, idx)
        if resource == "recordings":
            return gr.recording_records(self, idx)
        nums = self.incoming_phone_numbers
        return [number_record(self.numbers[i], self.account_sids[self.numbers[i].account])
                for i in nums["number"][idx].tolist()]

    def _column(self, resource: str, name: str, rows: slice) -> np.ndarray:
        cols = self._cols(resource)
        if name in ("to", "from") and resource in ("calls", "messages"):
            return self.parties.value[cols["to" if name == "to" else "frm"][rows]]
        if resource == "calls" and name == "status":
            return np.array(CALL_STATUS)[cols["status"][rows]]
        if resource == "calls" and name == "parent_call_sid":
            parent = cols["parent"][rows]
            return np.where(parent >= 0, cols["sid"][np.maximum(parent, 0)], "")
        if resource == "recordings" and name == "call_sid":
            return self.calls["sid"][cols["call"][rows]]
        if resource == "recordings" and name == "conference_sid":
            return np.full(len(cols["sid"][rows]), "", dtype="U34")
        key = {"start_time": "start", "end_time": "end", "date_created": "created",
               "date_sent": "sent", "phone_number": "phone_number",
               "friendly_name": "friendly_name", "origin": "origin", "beta": "beta"}.get(name)
        if key is None or key not in cols:
            raise KeyError(f"{resource} has no filter column {name!r}")
        return cols[key][rows]


def _copy(record: dict) -> dict:
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in record.items()}
