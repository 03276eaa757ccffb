"""Paging: next_page_uri only, loops refused, limits, date filters and windows."""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading
import time
import types

import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames.fetch.paging import (PageChain, date_filters, iter_pages, list_url,
                                  split_windows, to_utc)
from twilio_frames.fetch.scheduler import iter_chains
from twilio_frames.fetch.parse import parse_page

BASE = "http://127.0.0.1:1"


def page(n, nxt, size=2):
    return json.dumps({"calls": [{"sid": f"CA{n}{i}"} for i in range(size)],
                       "next_page_uri": nxt, "page": n}).encode()


def fake(bodies):
    asked = []

    def get(url):
        asked.append(url)
        return bodies[url]
    return get, asked


def test_follows_next_page_uri_exactly_and_stops_on_null_or_empty():
    bodies = {BASE + "/p0": page(0, "/p1?PageToken=PA1"), BASE + "/p1?PageToken=PA1": page(1, ""),
              }
    get, asked = fake(bodies)
    pages = list(iter_pages(get, BASE, BASE + "/p0", format="json", resource="calls"))
    assert [p.page for p in pages] == [0, 1]
    assert asked == [BASE + "/p0", BASE + "/p1?PageToken=PA1"]
    bodies = {BASE + "/p0": page(0, None)}
    get, asked = fake(bodies)
    assert len(list(iter_pages(get, BASE, BASE + "/p0", format="json", resource="calls"))) == 1


def test_repeated_page_uri_raises_instead_of_looping():
    bodies = {BASE + "/p0": page(0, "/p1"), BASE + "/p1": page(1, "/p0")}
    get, asked = fake(bodies)
    with pytest.raises(tf.ParseError, match="repeated") as info:
        list(iter_pages(get, BASE, BASE + "/p0", format="json", resource="calls"))
    assert info.value.url == BASE + "/p0" and len(asked) == 2


def test_limit_cuts_the_last_page_and_fetches_no_more():
    bodies = {BASE + "/p0": page(0, "/p1", 3), BASE + "/p1": page(1, "/p2", 3)}
    get, asked = fake(bodies)
    pages = list(iter_pages(get, BASE, BASE + "/p0", format="json", resource="calls", limit=4))
    assert [len(p.records) for p in pages] == [3, 1] and len(asked) == 2


def test_parse_error_gets_the_url():
    get, _ = fake({BASE + "/p0": b"<html>oops</html>"})
    with pytest.raises(tf.ParseError) as info:
        list(iter_pages(get, BASE, BASE + "/p0", format="json", resource="calls"))
    assert info.value.url == BASE + "/p0" and BASE + "/p0" in str(info.value)


def test_next_page_on_another_host_is_refused():
    get, _ = fake({BASE + "/p0": page(0, "http://evil.example/p1")})
    with pytest.raises(tf.ParseError, match="leaves"):
        list(iter_pages(get, BASE, BASE + "/p0", format="json", resource="calls"))


def test_to_utc_naive_is_utc_and_aware_is_converted():
    assert to_utc("2026-10-01") == pd.Timestamp("2026-10-01", tz="UTC")
    assert to_utc(dt.date(2026, 10, 1)) == pd.Timestamp("2026-10-01", tz="UTC")
    assert to_utc("2026-10-01T02:00+02:00") == pd.Timestamp("2026-10-01", tz="UTC")
    with pytest.raises(tf.ConfigurationError):
        to_utc("not a date")


def test_date_filters_cover_every_touched_day():
    s, e = to_utc("2026-10-01T05:00"), to_utc("2026-10-03")
    assert date_filters("calls", s, e) == {"StartTime>": "2026-10-01", "StartTime<": "2026-10-03"}
    e2 = to_utc("2026-10-03T00:00:01")
    assert date_filters("messages", s, e2) == {"DateSent>": "2026-10-01", "DateSent<": "2026-10-04"}
    assert date_filters("recordings", None, e) == {"DateCreated<": "2026-10-03"}
    assert date_filters("usage_records", s, e) == {"StartDate": "2026-10-01", "EndDate": "2026-10-02"}
    assert date_filters("usage_records", s, e2)["EndDate"] == "2026-10-03"
    with pytest.raises(tf.ConfigurationError):
        date_filters("accounts", s, e)


def test_split_windows():
    w = split_windows(to_utc("2026-10-01"), to_utc("2026-10-03T12:00"), "1D")
    assert [(a.isoformat(), b.isoformat()) for a, b in w] == [
        ("2026-10-01T00:00:00+00:00", "2026-10-02T00:00:00+00:00"),
        ("2026-10-02T00:00:00+00:00", "2026-10-03T00:00:00+00:00"),
        ("2026-10-03T00:00:00+00:00", "2026-10-03T12:00:00+00:00")]
    with pytest.raises(tf.ConfigurationError):
        split_windows(to_utc("2026-10-01"), to_utc("2026-10-02"), "-1D")


def test_list_url_encodes_inequality_keys():
    url = list_url(BASE, "AC1", "calls", "json", params={"StartTime>": "2026-10-01", "PageSize": 1000})
    assert url == BASE + "/2010-04-01/Accounts/AC1/Calls.json?StartTime%3E=2026-10-01&PageSize=1000"
    assert list_url(BASE, None, "accounts", "xml", params={}) == BASE + "/2010-04-01/Accounts.xml"
    assert list_url(BASE, "AC1", "usage_records", "json", params={}, subresource="Daily").endswith(
        "/Accounts/AC1/Usage/Records/Daily.json")


def chain_bodies(lengths, size=2):
    """Chain c has pages /c{c}p0 .. /c{c}p{n-1}; returns (chains, bodies)."""
    bodies = {}
    for c, n in enumerate(lengths):
        for k in range(n):
            nxt = f"/c{c}p{k + 1}" if k + 1 < n else None
            bodies[f"{BASE}/c{c}p{k}"] = json.dumps(
                {"calls": [{"sid": f"CA{c}.{k}.{i}"} for i in range(size)],
                 "next_page_uri": nxt, "page": k}).encode()
    return bodies


def chains_for(lengths, limit=None):
    return [PageChain(BASE, f"{BASE}/c{c}p0", limit=limit) for c in range(len(lengths))]


def parsing(bodies):
    """fetch(url) -> the parsed page of ``bodies``, and the URLs asked for, in order."""
    asked = []

    def fetch(url):
        asked.append(url)
        return parse_page(bodies[url], "json", "calls")
    return fetch, asked


def test_chains_share_one_pool_page_by_page_and_keep_each_chain_in_order():
    lengths = [3, 1, 2]
    fetch, asked = parsing(chain_bodies(lengths))
    got = list(iter_chains(fetch, chains_for(lengths), max_workers=1))
    # one worker: every chain's first page, then the next pages as they became known
    assert asked == [f"{BASE}/c0p0", f"{BASE}/c1p0", f"{BASE}/c2p0", f"{BASE}/c0p1",
                     f"{BASE}/c2p1", f"{BASE}/c0p2"]
    for c, n in enumerate(lengths):
        assert [p.page for i, p in got if i == c] == list(range(n))


class Leveled(PageChain):
    """A chain that knows how many pages it holds (as a usage map's window does)."""

    def __init__(self, first_url, pages):
        super().__init__(BASE, first_url)
        self.pages, self.fetched = pages, 0

    def level(self):
        return max(1, self.pages - self.fetched)

    def follow(self, page):
        self.fetched += 1
        return super().follow(page)


def test_the_page_of_the_longest_expected_rest_goes_first():
    lengths = [3, 1, 1]
    fetch, asked = parsing(chain_bodies(lengths))
    chains = [Leveled(f"{BASE}/c{c}p0", n) for c, n in enumerate(lengths)]
    got = list(iter_chains(fetch, chains, max_workers=1))
    # chain 0's rest (two pages) is the critical path: its page 1 goes before the one-page
    # chains; at equal rests a new chain goes first, as for chains that know nothing
    assert asked == [f"{BASE}/c0p0", f"{BASE}/c0p1", f"{BASE}/c1p0", f"{BASE}/c2p0",
                     f"{BASE}/c0p2"]
    assert [p.page for i, p in got if i == 0] == [0, 1, 2]


def test_a_chain_s_pages_reach_the_consumer_in_order_when_the_handover_is_slow(monkeypatch):
    # page 0's handover is slowed; its successor, fetched at once, must not overtake it
    # (the consumer stops at a chain's last page: overtaken pages would be lost)
    from twilio_frames.fetch import scheduler

    bodies = chain_bodies([2])

    class SlowQueue(queue.SimpleQueue):
        def put(self, item, *args, **kwargs):
            if item[0] is not None and item[1].page == 0:
                time.sleep(0.3)
            super().put(item, *args, **kwargs)
    monkeypatch.setattr(scheduler, "queue", types.SimpleNamespace(SimpleQueue=SlowQueue))
    got = list(iter_chains(lambda url: parse_page(bodies[url], "json", "calls"),
                           chains_for([2]), max_workers=2))
    assert [p.page for _, p in got] == [0, 1]


def test_chains_fill_every_worker_and_never_exceed_the_cap():
    lengths, cap = [4, 4, 4, 4, 4], 3
    bodies = chain_bodies(lengths)
    barrier = threading.Barrier(cap, timeout=10)      # passes only with `cap` fetches at once
    lock, now, peak, first = threading.Lock(), [0], [0], set()

    def fetch(url):
        nonlocal now
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
            wait = len(first) < cap and url.endswith("p0")
            first.add(url)
        if wait:
            barrier.wait()
        with lock:
            now[0] -= 1
        return parse_page(bodies[url], "json", "calls")
    got = list(iter_chains(fetch, chains_for(lengths), max_workers=cap))
    assert len(got) == sum(lengths) and peak[0] == cap


def test_chains_stop_on_the_first_error_and_on_a_repeated_uri():
    bodies = chain_bodies([3, 3])
    bodies[f"{BASE}/c1p1"] = page(1, "/c1p0")

    def fetch(url):
        return parse_page(bodies[url], "json", "calls")
    with pytest.raises(tf.ParseError, match="repeated"):
        list(iter_chains(fetch, chains_for([3, 3]), max_workers=2))

    def failing(url):
        if url.endswith("c0p1"):
            raise tf.APIError("boom", status=500)
        return fetch(url)
    with pytest.raises(tf.APIError, match="boom"):
        list(iter_chains(failing, chains_for([3, 3]), max_workers=2))


def test_chains_apply_the_limit_to_each_chain():
    lengths = [3, 3]
    bodies = chain_bodies(lengths, size=2)
    asked = []

    def fetch(url):
        asked.append(url)
        return parse_page(bodies[url], "json", "calls")
    got = list(iter_chains(fetch, chains_for(lengths, limit=3), max_workers=2))
    assert sorted(len(p.records) for _, p in got) == [1, 1, 2, 2] and len(asked) == 4


def test_counted_limit_counts_only_kept_distinct_records_and_cuts_no_page():
    # Pages of 2; only sids ending in 1 are "kept" by the caller, one of them served twice.
    bodies = chain_bodies([4], size=2)
    bodies[f"{BASE}/c0p1"] = json.dumps({"calls": [{"sid": "CA0.0.1"}, {"sid": "CA0.1.1"}],
                                         "next_page_uri": "/c0p2", "page": 1}).encode()
    asked = []

    def fetch(url):
        asked.append(url)
        page = parse_page(bodies[url], "json", "calls")
        page.url = url
        return page

    def kept(records):
        return [r["sid"] for r in records if r["sid"].endswith("1")]
    chain = PageChain(BASE, f"{BASE}/c0p0", limit=3, counted=kept)
    got = list(iter_chains(fetch, [chain], max_workers=1))
    # kept: CA0.0.1 | CA0.0.1 again, CA0.1.1 | CA0.2.1 -> 3 distinct after page 2
    assert len(asked) == 3 and [len(p.records) for _, p in got] == [2, 2, 2]

    def broken(records):
        raise tf.ParseError("calls column 'start_time': bad")
    with pytest.raises(tf.ParseError) as info:
        list(iter_chains(fetch, [PageChain(BASE, f"{BASE}/c0p0", limit=3, counted=broken)],
                         max_workers=1))
    assert info.value.url == f"{BASE}/c0p0"


def test_a_chain_lets_go_of_its_record_hashes_once_it_has_ended():
    lengths = [3, 2]
    bodies = chain_bodies(lengths)
    chains = chains_for(lengths)
    seen = []

    def fetch(url):
        # a later page is fetched after its chain followed the page before and before
        # the chain can have ended: what the guard holds then is what it held while
        # paging (read by the consumer, it depended on how far the workers had got)
        c, k = (int(n) for n in url.rsplit("/c", 1)[1].split("p"))
        if k > 0:
            seen.append(len(chains[c]._progress._seen))
        return parse_page(bodies[url], "json", "calls")
    assert len(list(iter_chains(fetch, chains, max_workers=2))) == sum(lengths)
    assert len(seen) == 3 and min(seen) > 0    # the guard did hold them while paging
    assert all(not c._progress._seen and not c._seen for c in chains)
