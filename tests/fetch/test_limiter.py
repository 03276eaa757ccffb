"""The adaptive in-flight cap (fetch/limiter.py): alone, and against the simulator's
concurrency limit and 429 storms over loopback HTTP."""

from __future__ import annotations

import email.utils
import threading

import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames.fetch.http import RetryPolicy
from twilio_frames.fetch.limiter import INITIAL, AdaptiveLimiter

from twilio_frames.fetch.assemble import sort_frame

FIELD = {"calls": "start_time", "messages": "date_sent"}


class FakeClock:
    """A clock that moves only when someone sleeps (shared by every thread)."""

    def __init__(self):
        self.t, self.sleeps = 1000.0, []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.t += seconds

    def now(self):
        return self.t


def client(sim, **kw):
    return tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False, **kw)


def truth(sim, resource, sids, start, end):
    lo, hi = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
    recs = [r for sid in sids or [sim.account_sid] for r in sim.dataset.records(resource, sid)
            if r[FIELD[resource]] and lo <= email.utils.parsedate_to_datetime(r[FIELD[resource]]) < hi]
    return sort_frame(tf.to_frame(resource, recs))


def limiter(max_in_flight=16, clock=None):
    clock = clock or FakeClock()
    policy = RetryPolicy(sleep=clock.sleep, clock=clock.now, random=lambda: 0.5)
    return AdaptiveLimiter(max_in_flight, policy=policy), clock


def test_slow_start_doubles_per_round_up_to_max_workers():
    lim, _ = limiter(16)
    assert lim.cap == INITIAL
    for _ in range(30):
        lim.release(lim.acquire(), ok=True)
    assert lim.cap == 16


def test_one_congestion_halves_once_and_the_server_count_bounds_the_cap():
    lim, _ = limiter(16)
    for _ in range(12):
        lim.release(lim.acquire(), ok=True)          # cap 16 now
    tickets = [lim.acquire() for _ in range(10)]
    # the first refusal: the server reported 5 concurrent requests, so at most 4
    lim.release(tickets[0], limited=True, concurrent=5)
    assert lim.cap == 4 and lim.ceiling == 4
    for t in tickets[1:5]:                           # the same round: no second halving
        lim.release(t, limited=True, concurrent=6)
    assert lim.cap == 4
    for t in tickets[5:]:
        lim.release(t, ok=True)
    assert lim.cap <= 4                              # grows back no higher than the ceiling
    t = lim.acquire()
    lim.release(t, limited=True, concurrent=3)       # a new round: halved again
    assert lim.cap == 2


def test_successes_probe_above_the_ceiling_only_now_and_then():
    lim, _ = limiter(16)
    tickets = [lim.acquire() for _ in range(4)]
    lim.release(tickets[0], limited=True, concurrent=4)     # ceiling 3
    for t in tickets[1:]:
        lim.release(t, ok=True)
    caps = []
    for _ in range(40):
        lim.release(lim.acquire(), ok=True)
        caps.append(lim.cap)
    assert max(caps[:25]) <= 3 < max(caps)


def test_retry_after_pauses_every_request_with_jitter():
    lim, clock = limiter(8)
    t = lim.acquire()
    lim.release(t, limited=True, retry_after=2.0)
    lim.acquire()                                    # another request, after the 429
    assert clock.sleeps == [2.0 * 1.125]             # the pause plus jitter (random 0.5)
    lim.acquire(paused=True)                         # the refused one has waited already
    assert len(clock.sleeps) == 1


def test_the_cap_holds_across_threads():
    lim, _ = limiter(6)
    lock, now, peak = threading.Lock(), [0], [0]

    def work():
        for _ in range(50):
            t = lim.acquire()
            with lock:
                now[0] += 1
                peak[0] = max(peak[0], now[0])
            with lock:
                now[0] -= 1
            lim.release(t, ok=True)
    threads = [threading.Thread(target=work) for _ in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert 1 <= peak[0] <= 6 and lim.peak <= 6


# ---------------------------------------------------------------- the simulator

@pytest.mark.parametrize("retry_after", [None, 1])
def test_nothing_lost_under_a_concurrency_limit_and_the_cap_never_exceeded(faulty_sim, retry_after):
    faulty_sim.set_faults(concurrency_limit=2, retry_after=retry_after, latency=0.005)
    c = client(faulty_sim, page_size=20, max_workers=8)
    clock = FakeClock()
    c.retry.sleep = clock.sleep
    df = c.messages("2026-10-20", "2026-11-16", accounts="all")
    sids = [a["sid"] for a in faulty_sim.dataset.accounts]
    pd.testing.assert_frame_equal(df, truth(faulty_sim, "messages", sids, "2026-10-20", "2026-11-16"))
    stats = faulty_sim.stats
    assert stats.max_in_flight <= 8 and stats.statuses[200] >= 20
    # slow start meets the limit once, then the cap stays at what the server takes
    assert 0 < stats.statuses[429] <= 0.25 * stats.requests


@pytest.mark.parametrize("retry_after", [None, 1])
def test_a_storm_of_429s_loses_nothing(faulty_sim, retry_after):
    faulty_sim.set_faults(rate_429=0.4, retry_after=retry_after, seed=5)
    c = client(faulty_sim, page_size=25, max_workers=8)
    clock = FakeClock()
    c.retry.sleep, c.retry.clock = clock.sleep, clock.now
    c.retry.max_retries = 12
    df = c.calls("2026-10-01", "2026-11-16")
    pd.testing.assert_frame_equal(df, truth(faulty_sim, "calls", None, "2026-10-01", "2026-11-16"))
    assert faulty_sim.stats.statuses[429] > 10


def test_a_server_that_always_says_429_ends_with_a_clear_error(faulty_sim):
    faulty_sim.set_faults(rate_429=1.0, retry_after=3)
    c = client(faulty_sim)
    clock = FakeClock()
    c.retry.sleep, c.retry.clock = clock.sleep, clock.now
    with pytest.raises(tf.RateLimitError) as info:
        c.calls("2026-11-01", "2026-11-08")
    text = str(info.value)
    assert "still refused after" in text and "s of it waiting" in text
    assert "stopped because max_retries=6 retries were used" in text
    assert "server reported" in text and "answers 429" in text
    assert info.value.attempts == 7 and faulty_sim.stats.statuses[200] == 0
    c.retry.max_total = 10
    with pytest.raises(tf.RateLimitError, match="would pass the 10s retry budget"):
        c.calls("2026-11-01", "2026-11-08")


def _queue_up(lim, priorities):
    """A thread per priority, each queued at ``lim`` (cap full) before the next starts;
    returns the threads and the order they got their slots in."""
    from twilio_frames.fetch.limiter import set_priority
    order, threads = [], []

    def wait(k, p):
        set_priority(p)
        ticket = lim.acquire()
        order.append(k)
        lim.release(ticket, ok=True)
    for k, p in enumerate(priorities):
        t = threading.Thread(target=wait, args=(k, p))
        t.start()
        threads.append(t)
        for _ in range(1000):                     # queued before the next one comes
            with lim._cond:
                if len(lim._queue) == k + 1:
                    break
            threading.Event().wait(0.005)
    return threads, order


def test_waiting_requests_get_slots_longest_rest_first_then_in_arrival_order():
    lim, _ = limiter(max_in_flight=1)
    held = lim.acquire()                          # the only slot
    threads, order = _queue_up(lim, [1, 3, 2, 3, 0])
    lim.release(held)
    for t in threads:
        t.join(5)
    assert order == [1, 3, 2, 0, 4]


def test_a_waiter_interrupted_in_line_does_not_block_the_ones_behind_it(monkeypatch):
    lim, _ = limiter(max_in_flight=1)
    held = lim.acquire()
    real_wait, failed = lim._cond.wait, []

    def wait(timeout=None):
        if threading.current_thread().name == "doomed" and not failed:
            failed.append(1)
            raise KeyboardInterrupt
        return real_wait(timeout)
    monkeypatch.setattr(lim._cond, "wait", wait)
    errors = []

    def doomed():
        from twilio_frames.fetch.limiter import set_priority
        set_priority(5)
        try:
            lim.acquire()
        except KeyboardInterrupt:
            errors.append("interrupted")
    t = threading.Thread(target=doomed, name="doomed")
    t.start()
    t.join(5)
    assert errors == ["interrupted"] and lim._queue == []
    threads, order = _queue_up(lim, [1])
    lim.release(held)
    threads[0].join(5)
    assert order == [0] and lim.in_flight == 0
