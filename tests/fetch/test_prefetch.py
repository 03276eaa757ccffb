"""A lone list's next page is asked for while its page is parsed (fetch/prefetch.py).

The early request is only a head start: the parsed page still decides the next URL,
an early answer for any other URL is dropped, errors surface where they would have,
and nothing is fetched past a limit or a last page.
"""

from __future__ import annotations

import json
import threading

import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames.errors import NotFoundError
from twilio_frames.fetch import paging
from twilio_frames.fetch.paging import PageChain, fetch_page
from twilio_frames.fetch.scheduler import iter_chains
from twilio_frames.fetch.prefetch import next_uri_hint

BASE = "http://127.0.0.1:1"


def _page(n: int, nxt, size: int = 3, **extra) -> bytes:
    return json.dumps({"calls": [{"sid": f"CA{n:02d}{i:02d}"} for i in range(size)], **extra,
                       "next_page_uri": nxt, "page": n}).encode()


def test_the_hint_is_the_envelopes_plain_next_page_uri():
    assert next_uri_hint(_page(0, "/p1?PageSize=3&PageToken=PAx")) == "/p1?PageSize=3&PageToken=PAx"
    assert next_uri_hint(b'{"calls":[],"next_page_uri" : "/a b"}') is None      # a space
    assert next_uri_hint(_page(0, None)) is None
    assert next_uri_hint(_page(0, "")) is None
    assert next_uri_hint(b'{"next_page_uri":"/p\\u0031"}') is None              # an escape
    assert next_uri_hint(b'{"calls":[{"note":"\\"next_page_uri\\":\\"/x\\""}]}') is None
    assert next_uri_hint(b'{"next_page_uri":"/first","calls":[{"next_page_uri":"/late"}]}') \
        == "/late"                                   # the last one: a hint, checked later
    assert next_uri_hint("not bytes") is None and next_uri_hint(b"") is None


def _serve(bodies):
    """fetch(url) and get(url) from ``bodies`` (an Exception is raised), recording the
    order of the GETs."""
    asked, lock = [], threading.Lock()

    def get(url):
        with lock:
            asked.append(url)
        body = bodies[url]
        if isinstance(body, Exception):
            raise body
        return body

    def fetch(url):
        return fetch_page(get, url, format="json", resource="calls", columns=True)
    return fetch, get, asked


def test_page_two_goes_out_while_page_one_is_parsed():
    bodies = {BASE + "/p0": _page(0, "/p1"), BASE + "/p1": _page(1, "/p2"),
              BASE + "/p2": _page(2, None)}
    started = threading.Event()
    _, get, asked = _serve(bodies)

    def watch(url):                                   # page 2 asked: page 1's parse may end
        if url.endswith("/p1"):
            started.set()
        return get(url)

    def fetch(url):
        page = fetch_page(watch, url, format="json", resource="calls", columns=True)
        if url == BASE + "/p0":                       # still "parsing" page 1
            assert started.wait(5), "page 2 was not asked for while page 1 was parsed"
        return page

    pages = list(iter_chains(fetch, [PageChain(BASE, BASE + "/p0")], max_workers=4))
    assert [p.page for _, p in pages] == [0, 1, 2]
    assert asked == [BASE + "/p0", BASE + "/p1", BASE + "/p2"]      # each once, no extra


def test_an_early_page_for_a_url_the_page_does_not_name_is_dropped():
    # the last "next_page_uri" of page 0's body is inside a record (a field Twilio does not
    # send): the hint names /decoy, the envelope /p1
    body = json.dumps({"next_page_uri": "/p1", "page": 0,
                       "calls": [{"sid": "CA1", "next_page_uri": "/decoy"}]}).encode()
    bodies = {BASE + "/p0": body, BASE + "/p1": _page(1, None), BASE + "/decoy": _page(9, None)}
    fetch, _, asked = _serve(bodies)
    pages = list(iter_chains(fetch, [PageChain(BASE, BASE + "/p0")], max_workers=4))
    assert [p.page for _, p in pages] == [0, 1]
    assert sorted(asked) == sorted([BASE + "/p0", BASE + "/decoy", BASE + "/p1"])


def test_an_early_pages_error_is_raised_where_the_page_would_have_failed():
    bodies = {BASE + "/p0": _page(0, "/p1"),
              BASE + "/p1": NotFoundError("The requested resource was not found", status=404,
                                          code=20404, url=BASE + "/p1")}
    fetch, _, asked = _serve(bodies)
    got = []
    with pytest.raises(NotFoundError):
        for _, p in iter_chains(fetch, [PageChain(BASE, BASE + "/p0")], max_workers=4):
            got.append(p.page)
    assert got == [0] and asked == [BASE + "/p0", BASE + "/p1"]


def test_no_early_page_past_a_limit_or_for_chains_of_a_plan():
    bodies = {BASE + "/p0": _page(0, "/p1"), BASE + "/p1": _page(1, None)}
    fetch, _, asked = _serve(bodies)
    chain = PageChain(BASE, BASE + "/p0", limit=2)
    assert [p.page for _, p in iter_chains(fetch, [chain], max_workers=4)] == [0]
    assert asked == [BASE + "/p0"]                    # the limit was reached on page 0


def test_a_list_fetched_with_early_pages_gives_the_frame_and_requests_of_one_without(sim):
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False,
                       format="json", page_size=200)
    sim.reset_stats()
    frame = client.calls()
    early = sim.stats.requests
    original, paging.prefetch.next_uri_hint = paging.prefetch.next_uri_hint, lambda body: None
    try:
        sim.reset_stats()
        plain = client.calls()
        assert sim.stats.requests == early > 1         # no page asked for twice or in vain
    finally:
        paging.prefetch.next_uri_hint = original
    pd.testing.assert_frame_equal(frame, plain)


def test_the_next_page_goes_out_early_while_a_plan_still_has_chains_to_give():
    # a plan (the source) not yet exhausted: it gives its next chain once page 1 came.
    # Page 1 is still asked for while page 0 is parsed (the limiter orders the requests)
    bodies = {BASE + "/p0": _page(0, "/p1"), BASE + "/p1": _page(1, None),
              BASE + "/q0": _page(5, None)}
    started = threading.Event()
    _, get, asked = _serve(bodies)

    def watch(url):
        if url.endswith("/p1"):
            started.set()
        return get(url)

    def fetch(url):
        page = fetch_page(watch, url, format="json", resource="calls", columns=True)
        if url == BASE + "/p0":
            assert started.wait(5), "page 1 waited for page 0's parse"
        return page

    class Source:
        exhausted = False

        def take(self, n):
            if not started.is_set() or self.exhausted:
                return []
            self.exhausted = True
            return [PageChain(BASE, BASE + "/q0")]

    chains = [PageChain(BASE, BASE + "/p0")]
    pages = list(iter_chains(fetch, chains, max_workers=4, source=Source()))
    assert sorted((i, p.page) for i, p in pages) == [(0, 0), (0, 1), (1, 5)]
    assert sorted(asked) == sorted(bodies)                  # each once
