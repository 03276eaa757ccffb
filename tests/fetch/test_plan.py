"""Automatic windows (fetch/plan.py): plans differ, frames do not.

Two levels: the planner against an in-memory list server (any spread of dates, bursts
years back, start_time far from date_created), and the Client against simulators of
several sizes and spreads over loopback HTTP, compared with the ground truth and with
explicit windows.
"""

from __future__ import annotations

import email.utils
import logging
import random
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twilio_frames as tf
from twilio_frames.fetch.assemble import sort_frame
from twilio_frames.fetch.paging import PageChain
from twilio_frames.fetch.scheduler import iter_chains
from twilio_frames.fetch.parse import Page
from twilio_frames.fetch.plan import AccountPlan, AutoPlan, InfoChain, ProbeChain, WindowChain

BASE = "http://127.0.0.1:9"
NOW = pd.Timestamp("2026-11-15T12:00:00Z")


# ---------------------------------------------------------------- an in-memory list server

class ListServer:
    """Records served newest first by date_created, filtered on ``start_time`` by whole
    UTC days (``ge <= start_time < lt``), paged by ``p``; counts requests."""

    def __init__(self, created, started, page_size, account_created):
        order = sorted(range(len(created)), key=lambda i: created[i], reverse=True)
        self.records = [{"sid": f"CA{i:032d}", "date_created": _rfc(created[i]),
                         "start_time": _rfc(started[i]), "_t": started[i]} for i in order]
        self.page_size, self.account_created, self.requests = page_size, account_created, []

    def url(self, span):
        parts = [f"{k}={v.date().isoformat()}" for k, v in zip(("ge", "lt"), span) if v is not None]
        return f"{BASE}/list?" + "&".join(parts + ["p=0"])

    def fetch(self, url):
        self.requests.append(url)
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        ge = pd.Timestamp(q["ge"], tz="UTC") if "ge" in q else None
        lt = pd.Timestamp(q["lt"], tz="UTC") if "lt" in q else None
        rows = [r for r in self.records if (ge is None or r["_t"] >= ge) and (lt is None or r["_t"] < lt)]
        p = int(q["p"])
        chosen = rows[p * self.page_size:(p + 1) * self.page_size]
        more = (p + 1) * self.page_size < len(rows)
        nxt = url.replace(f"p={p}", f"p={p + 1}")[len(BASE):] if more else None
        return Page([{k: v for k, v in r.items() if k != "_t"} for r in chosen], nxt)

    def account(self, url):
        self.requests.append(url)
        return Page([{"date_created": _rfc(self.account_created)}])


def _rfc(ts):
    return email.utils.format_datetime(ts.to_pydatetime(), usegmt=True)


def run_plan(server, start=None, end=None, *, workers=8, known_created=False):
    plan = AccountPlan(0, start, end, page_size=server.page_size, max_workers=workers,
                       window=lambda p, span: WindowChain(p, BASE, server.url(span), span,
                                                          server.fetch),
                       info=lambda p: InfoChain(p, f"{BASE}/account", server.account),
                       created=server.account_created if known_created else None)
    chains = [ProbeChain(plan, BASE, server.url((start, end)))]
    sids = []
    for index, page in iter_chains(server.fetch, chains, max_workers=workers,
                                   source=AutoPlan([plan])):
        if getattr(chains[index], "list_index", 0) is not None:
            sids += [r["sid"] for r in page.records]
    return sids, plan


def expected(server, start, end):
    return {r["sid"] for r in server.records
            if (start is None or r["_t"] >= start) and (end is None or r["_t"] < end)}


def kept(server, sids, start, end):
    """The sids inside the exact range (the client's frame trims day filters to it)."""
    inside = expected(server, start, end)
    return {s for s in sids if s in inside}


def burst_times(bursts, delay: float, rnd) -> tuple[list, list]:
    """date_created and start_time of the records of ``bursts`` ((days before NOW,
    records, spread in days) each); start_time may come up to ``delay`` days after
    date_created (queued calls, scheduled sends)."""
    created, started = [], []
    for back, n, spread in bursts:
        for _ in range(n):
            t = (NOW - pd.Timedelta(days=back + rnd.random() * spread)).floor("s")
            created.append(t)
            started.append((t + pd.Timedelta(days=rnd.random() * delay)).floor("s"))
    return created, started


bursts = st.lists(st.tuples(st.integers(0, 900),          # days before NOW
                            st.integers(1, 400),          # records
                            st.floats(0.01, 30)),         # spread in days
                  min_size=1, max_size=4)


@settings(max_examples=60, deadline=None)
@given(bursts=bursts, page_size=st.sampled_from([10, 50, 200]), workers=st.sampled_from([2, 8, 16]),
       delay=st.sampled_from([0.0, 0.5, 40.0]), bounds=st.sampled_from(["none", "start", "both"]),
       known=st.booleans(), seed=st.integers(0, 2**16))
def test_planned_windows_cover_every_record_whatever_the_spread(bursts, page_size, workers, delay,
                                                                bounds, known, seed):
    rnd = random.Random(seed)
    created, started = burst_times(bursts, delay, rnd)
    oldest = min(created)
    server = ListServer(created, started, page_size,
                        (oldest - pd.Timedelta(days=rnd.random() * 50)).floor("s"))
    start = {"none": None, "start": oldest - pd.Timedelta(hours=5), "both": NOW - pd.Timedelta(days=400)}[bounds]
    end = NOW + pd.Timedelta(days=60) if bounds == "both" else None
    sids, plan = run_plan(server, start, end, workers=workers, known_created=known)
    assert kept(server, sids, start, end) == expected(server, start, end)
    assert plan.exhausted


def test_one_page_costs_one_request_and_two_pages_end_in_two_rounds():
    created = [NOW - pd.Timedelta(hours=h) for h in range(1, 11)]
    server = ListServer(created, created, 10, NOW - pd.Timedelta(days=30))
    sids, plan = run_plan(server)
    assert len(sids) == 10 and server.requests == [server.url((None, None))]
    created = [NOW - pd.Timedelta(hours=h) for h in range(1, 16)]
    server = ListServer(created, created, 10, NOW - pd.Timedelta(days=30))
    sids, plan = run_plan(server, workers=2)
    # page 1, then page 2 with the account beside it: page 2 ends the list, nothing else
    assert set(sids) == expected(server, None, None) and plan.moot
    assert server.requests[0] == server.url((None, None)) and len(server.requests) <= 4


def test_a_dense_range_becomes_day_windows_and_an_empty_stretch_costs_little():
    # 30 busy days ending now, in an account created 3 years ago: the years before
    # must not cost a request per day.
    created = [NOW - pd.Timedelta(days=d, hours=h) for d in range(30) for h in range(0, 24, 3)]
    server = ListServer(created, created, 10, NOW - pd.Timedelta(days=3 * 365))
    sids, plan = run_plan(server, workers=8)
    assert set(sids) == expected(server, None, None)
    days = [u for u in server.requests if "ge=" in u and "lt=" in u]
    assert len(days) >= 25                     # the busy month went out in windows
    assert len(server.requests) < 30 + 20      # about a page each, not 3 years of days


# ---------------------------------------------------------------- the Client, over HTTP

def truth(sim, resource, start=None, end=None, sids=None):
    field = {"calls": "start_time", "messages": "date_sent", "recordings": "date_created"}[resource]
    recs = [r for sid in sids or [sim.account_sid] for r in sim.dataset.records(resource, sid)]
    if start is not None or end is not None:
        lo = pd.Timestamp(start, tz="UTC") if start else None
        hi = pd.Timestamp(end, tz="UTC") if end else None

        def inside(v):
            if not v:
                return False
            t = email.utils.parsedate_to_datetime(v)
            return (lo is None or t >= lo) and (hi is None or t < hi)
        recs = [r for r in recs if inside(r[field])]
    return sort_frame(tf.to_frame(resource, recs))


SHAPES = st.fixed_dictionaries({
    "days": st.sampled_from([2, 9, 40]),
    "calls_per_day": st.sampled_from([3.0, 40.0, 300.0]),
    "messages_per_day": st.sampled_from([5.0, 120.0]),
    "subaccounts": st.sampled_from([0, 4]),
    "seed": st.integers(0, 1000),
})


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=SHAPES, page_size=st.sampled_from([20, 200, 1000]),
       resource=st.sampled_from(["calls", "messages", "recordings"]),
       bounds=st.sampled_from([(None, None), ("2026-11-03T07:00", None), ("2026-10-01", "2026-11-14")]),
       workers=st.sampled_from([2, 8]))
def test_automatic_plans_give_the_frame_of_the_truth_and_of_explicit_windows(
        shape, page_size, resource, bounds, workers):
    with tf.simulator.running(now="2026-11-15T12:00:00Z", **shape) as sim:
        c = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False,
                      page_size=page_size, max_workers=workers)
        sids = [a["sid"] for a in sim.dataset.accounts]
        auto = getattr(c, resource)(*bounds, accounts="all")
        pd.testing.assert_frame_equal(auto, truth(sim, resource, *bounds, sids=sids))
        single = getattr(c, resource)(*bounds)
        pd.testing.assert_frame_equal(single, truth(sim, resource, *bounds))
        if bounds[1] is not None:
            explicit = getattr(c, resource)(*bounds, window="5D")
            pd.testing.assert_frame_equal(single, explicit)


def test_a_small_fetch_costs_one_request_and_a_large_one_goes_out_in_windows(caplog):
    with tf.simulator.running(now="2026-11-15T12:00:00Z", days=30, calls_per_day=30,
                              subaccounts=0, seed=3) as sim:
        c = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False)
        assert len(c.calls(start="2026-01-01")) < 1000
        # one list request, and the usage map (plan_map.py) sent beside it (whether the two
        # overlap at the server depends on the machine's load, so it is not asserted)
        assert sim.stats.requests == 2
        sim.reset_stats()
        caplog.set_level(logging.DEBUG, logger="twilio_frames")
        small = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url,
                          progress=False, page_size=50, max_workers=8)
        df = small.calls(start="2026-01-01")
        pd.testing.assert_frame_equal(df, truth(sim, "calls", "2026-01-01"))
        windows = [m for m in caplog.messages if "StartTime%3E=" in m and "StartTime%3C=" in m]
        assert len(windows) >= 10 and f"/Accounts/{sim.account_sid}.json" not in caplog.text
        caplog.clear()
        # no start, no usage map (messages have none): the creation date bounds it
        df = small.messages(end="2026-12-01")
        pd.testing.assert_frame_equal(df, truth(sim, "messages", None, "2026-12-01"))
        assert f"/Accounts/{sim.account_sid}.json" in caplog.text


def test_accounts_all_uses_the_creation_dates_it_already_has(caplog):
    with tf.simulator.running(now="2026-11-15T12:00:00Z", days=10, calls_per_day=60,
                              subaccounts=2, seed=4) as sim:
        c = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False,
                      page_size=50)
        caplog.set_level(logging.DEBUG, logger="twilio_frames")
        sids = [a["sid"] for a in sim.dataset.accounts]
        pd.testing.assert_frame_equal(c.calls(end="2026-12-01", accounts="all"),
                                      truth(sim, "calls", None, "2026-12-01", sids=sids))
        assert "StartTime%3E=" in caplog.text          # it did plan windows
        assert not any(f"/Accounts/{sid}.json" in caplog.text for sid in sids)


@pytest.mark.parametrize("workers", [1])
def test_one_worker_or_an_open_range_never_plans(sim, workers, caplog):
    caplog.set_level(logging.DEBUG, logger="twilio_frames")
    c = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False,
                  page_size=20, max_workers=workers)
    c.calls(start="2026-01-01")
    assert "StartTime%3E=2026-01-01" in caplog.text and "StartTime%3C" not in caplog.text
    caplog.clear()
    # an open range holds calls that never started: no date filter would return them
    df = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False,
                   page_size=20).calls()
    assert "StartTime" not in caplog.text and df.start_time.isna().any()


def test_the_progress_bar_shows_the_plans_estimate_and_ends_at_the_frame(sim, monkeypatch):
    import tqdm.std

    from twilio_frames.fetch import progress_bars
    seen, closed = [], []

    class Recorder(tqdm.std.tqdm):
        def update(self, n=1):
            seen.append((self.n, self.total))
            return super().update(n)

        def close(self):
            if not self.disable:
                closed.append((self.n, self.total))
            super().close()
    monkeypatch.setattr(progress_bars, "progress_class", lambda: Recorder)
    c = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=True,
                  page_size=50)
    df = c.calls(start="2026-10-01", end="2026-11-16")
    estimates = [total for n, total in seen if total]
    # an estimated total (tqdm's time left) before the end, within 3x of the truth
    assert estimates and all(len(df) / 3 <= t <= 3 * len(df) for t in estimates)
    assert closed == [(len(df), len(df))]
