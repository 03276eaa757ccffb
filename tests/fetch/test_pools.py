"""Warm worker pools: reused by the next fetch, never shared, nothing left running."""

from __future__ import annotations

import time

import pytest

import twilio_frames as tf
from twilio_frames.fetch import pools
from twilio_frames.fetch.paging import PageChain
from twilio_frames.fetch.scheduler import iter_chains
from twilio_frames.fetch.parse import Page

from conftest import in_forked_child


def test_a_pool_given_back_is_borrowed_again_and_never_by_two_at_once():
    a = pools.borrow(3)
    b = pools.borrow(3)                       # a is out: b is another pool
    assert a is not b
    pools.give_back(a, 3)
    assert pools.borrow(3) is a
    pools.give_back(a, 3)
    pools.give_back(b, 3)


def test_pools_past_the_kept_number_are_shut_down():
    held = [pools.borrow(5) for _ in range(pools.KEEP + 1)]
    for pool in held:
        pools.give_back(pool, 5)
    with pytest.raises(RuntimeError):         # the extra one no longer takes work
        held[-1].submit(lambda: None)
    for _ in range(pools.KEEP):
        pools.borrow(5).shutdown()


def test_a_second_fetch_runs_on_the_pool_the_first_gave_back(sim, monkeypatch):
    lent, returned = [], []
    borrow, give_back = pools.borrow, pools.give_back
    monkeypatch.setattr(pools, "borrow", lambda n: lent.append(borrow(n)) or lent[-1])
    monkeypatch.setattr(pools, "give_back", lambda p, n: returned.append(p) or give_back(p, n))
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False,
                       page_size=100, max_workers=2)
    client.calls()
    client.calls()
    assert len(lent) == len(returned) == 2 and lent[1] is returned[0]
    assert not lent[1]._shutdown               # kept warm, not shut down


def test_an_error_cancels_the_pages_not_started_and_waits_for_the_running_ones():
    started, finished = [], []

    def fetch(url):
        started.append(url)
        if url.endswith("/bad"):
            raise ValueError("bad page")
        time.sleep(0.2)
        finished.append(url)
        return Page(records=[{"sid": url}])

    chains = [PageChain("http://h", f"http://h/{i}") for i in range(6)] + [
        PageChain("http://h", "http://h/bad")]
    chains = [chains[-1], *chains[:-1]]
    with pytest.raises(ValueError, match="bad page"):
        for _ in iter_chains(fetch, chains, max_workers=2):
            pass
    running = len(started) - 1                  # the bad one ended at once
    assert len(finished) == running < 6         # every page started finished; no more began
    time.sleep(0.3)
    assert len(started) == running + 1 and len(finished) == running


def test_a_forked_child_does_not_borrow_its_parents_idle_pool():
    parent = pools.borrow(2)
    parent.submit(lambda: None).result()        # its threads exist in this process only
    pools.give_back(parent, 2)

    def child_runs_work_on_a_fresh_pool():
        pool = pools.borrow(2)
        return pool is not parent and pool.submit(lambda: 42).result(timeout=5) == 42
    assert in_forked_child(child_runs_work_on_a_fresh_pool)
