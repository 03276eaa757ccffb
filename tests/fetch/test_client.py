"""The Client against the simulator over real loopback HTTP (fixtures in conftest.py)."""

from __future__ import annotations

import email.utils
import logging

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twilio_frames as tf
from twilio_frames.fetch.assemble import sort_frame

START, END = "2026-11-01", "2026-11-12T06:00"
DATED = ("calls", "messages", "recordings")
FIELD = {"calls": "start_time", "messages": "date_sent", "recordings": "date_created"}


def client(sim, **kw):
    kw.setdefault("progress", False)
    return tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, **kw)


def truth(sim, resource, sids=None, start=None, end=None):
    """Ground truth from the dataset, trimmed to [start, end) on the resource's date field."""
    sids = sids or [sim.account_sid]
    recs = [r for sid in sids for r in sim.dataset.records(resource, sid)]
    if start is not None:
        lo, hi = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")

        def inside(value):
            return bool(value) and lo <= email.utils.parsedate_to_datetime(value) < hi
        recs = [r for r in recs if inside(r[FIELD[resource]])]
    return sort_frame(tf.to_frame(resource, recs))


@pytest.mark.parametrize("resource", ["calls", "messages", "recordings", "accounts",
                                      "incoming_phone_numbers"])
def test_xml_and_json_frames_are_equal_and_match_ground_truth(sim, resource):
    js = getattr(client(sim), resource)()
    xml = getattr(client(sim, format="xml"), resource)()
    pd.testing.assert_frame_equal(js, xml)
    expected = tf.to_frame("accounts", sim.dataset.records("accounts", sim.account_sid)) \
        if resource == "accounts" else truth(sim, resource)
    pd.testing.assert_frame_equal(js, expected)
    assert len(js) > 0


@pytest.mark.parametrize("sub", [None, "daily", "monthly", "last_month", "all_time"])
def test_usage_records_xml_equals_json_and_truth(sim, sub):
    js = client(sim).usage_records(sub, start="2026-11-01", end="2026-11-08")
    xml = client(sim, format="xml").usage_records(sub, start="2026-11-01", end="2026-11-08")
    pd.testing.assert_frame_equal(js, xml)
    recs = sim.dataset.usage_records(sim.account_sid, sub, start_date=pd.Timestamp("2026-11-01").date(),
                                     end_date=pd.Timestamp("2026-11-07").date())
    pd.testing.assert_frame_equal(js, tf.to_frame("usage_records", recs))


@pytest.mark.parametrize("resource", DATED)
def test_interval_is_half_open_utc_and_trimmed_client_side(sim, resource):
    df = getattr(client(sim), resource)(START, END)
    pd.testing.assert_frame_equal(df, truth(sim, resource, start=START, end=END))
    col = df[FIELD[resource]]
    assert col.min() >= pd.Timestamp(START, tz="UTC") and col.max() < pd.Timestamp(END, tz="UTC")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page_size=st.sampled_from([7, 50, 1000]), window=st.sampled_from([None, "1D", "3D", "36h"]),
       workers=st.sampled_from([1, 3, 8]), fmt=st.sampled_from(["json", "xml"]),
       resource=st.sampled_from(DATED))
def test_page_size_window_workers_and_format_never_change_the_frame(sim, page_size, window,
                                                                      workers, fmt, resource):
    c = client(sim, page_size=page_size, max_workers=workers, format=fmt)
    df = getattr(c, resource)(START, END, window=window, accounts="all")
    sids = [a["sid"] for a in sim.dataset.accounts]
    pd.testing.assert_frame_equal(df, truth(sim, resource, sids, START, END))


def test_accounts_all_concurrently_equals_per_account_truth(sim):
    df = client(sim, max_workers=4).calls(accounts="all")
    sids = [a["sid"] for a in sim.dataset.accounts]
    assert set(df.account_sid) == set(sids) and len(sids) == 3
    pd.testing.assert_frame_equal(df, truth(sim, "calls", sids))
    assert df.sid.is_unique


def test_usage_accounts_all_never_double_counts(sim):
    c = client(sim)
    each = c.usage_records("monthly", accounts="all")
    sids = [a["sid"] for a in sim.dataset.accounts]
    expected = tf.to_frame("usage_records", [r for sid in sids for r in sim.dataset.usage_records(
        sid, "monthly", include_subaccounts=False)])
    pd.testing.assert_frame_equal(each, expected)
    assert list(pd.unique(each.account_sid)) == sids
    master_total = c.usage_records("monthly", category="totalprice").price_micros.sum()
    assert each[each.category == "totalprice"].price_micros.sum() == master_total
    with pytest.raises(tf.ConfigurationError, match="twice"):
        c.usage_records(accounts="all", include_subaccounts=True)


@pytest.mark.parametrize("include,accounts,flag", [
    (None, None, None), (True, None, True), (False, None, False), (None, "all", False),
    (None, "one subaccount", False),
])
def test_usage_frames_say_whether_subaccounts_were_included(sim, caplog, include, accounts, flag):
    caplog.set_level(logging.DEBUG, logger="twilio_frames")
    if accounts == "one subaccount":
        accounts = [sim.dataset.accounts[1]["sid"]]
    df = client(sim).usage_records("monthly", include_subaccounts=include, accounts=accounts)
    assert len(df) > 0 and df.attrs["include_subaccounts"] is flag
    sent = [line for line in caplog.text.splitlines() if "/Usage/Records" in line]
    expected = "IncludeSubaccounts" if flag is None else f"IncludeSubaccounts={str(flag).lower()}"
    assert sent and all((expected in line) is (flag is not None) for line in sent)


def test_limit_and_filters(sim):
    c = client(sim, page_size=10)
    df = c.calls(limit=25)
    pd.testing.assert_frame_equal(df, truth(sim, "calls").head(25))
    done = c.calls(Status="completed")
    assert len(done) > 0 and set(done.status) == {"completed"}


SUB_DAY = ("2026-11-10T12:00", "2026-11-12T06:00")


@pytest.mark.parametrize("resource,window,workers,page_size,accounts", [
    ("calls", None, 1, 1000, None), ("calls", None, 4, 7, "all"), ("calls", "1D", 3, 5, None),
    ("calls", "6h", 8, 3, "all"), ("messages", "36h", 2, 50, "all"), ("recordings", None, 2, 4, "all"),
])
def test_limit_counts_only_rows_inside_sub_day_bounds(sim, resource, window, workers, page_size,
                                                      accounts):
    # The API's day-granular filter serves records of 2026-11-12 after 06:00 first (newest
    # first); they are trimmed and must not use up the limit.
    sids = [a["sid"] for a in sim.dataset.accounts] if accounts else None
    expected = truth(sim, resource, sids, *SUB_DAY)
    assert len(expected) > 5
    c = client(sim, page_size=page_size, max_workers=workers)
    for limit in (1, 5, 20, len(expected) + 5):
        df = getattr(c, resource)(*SUB_DAY, window=window, limit=limit, accounts=accounts)
        pd.testing.assert_frame_equal(df, expected.head(limit))


def test_iter_records_limit_counts_only_rows_inside_the_interval(sim):
    expected = truth(sim, "calls", None, *SUB_DAY).sid.tolist()
    recs = list(client(sim, page_size=4).iter_records("calls", *SUB_DAY, limit=5))
    assert [r["sid"] for r in recs] == expected[:5]
    assert list(client(sim).iter_records("calls", *SUB_DAY, limit=0)) == []
    with pytest.raises(tf.ConfigurationError, match="limit"):
        client(sim).calls(limit=-1)


def test_iter_records_keeps_raw_records(sim):
    recs = list(client(sim, format="xml").iter_records("recordings", START, END))
    assert recs and all("subresource_uris" in r for r in recs)
    assert [r["sid"] for r in recs] == truth(sim, "recordings", start=START, end=END).sid.tolist()


def test_every_record_once_under_429_and_503(faulty_sim):
    # Small pages (~60 of 7 calls) meet faults on first, middle and last pages; the
    # 50,000-record test below is the scale.
    faulty_sim.set_faults(rate_429=0.10, rate_503=0.05, seed=3)
    c = client(faulty_sim, page_size=7)
    sleeps = []
    c.retry.sleep = sleeps.append
    df = c.calls()
    pd.testing.assert_frame_equal(df, truth(faulty_sim, "calls"))
    stats = faulty_sim.stats
    assert stats.statuses[429] + stats.statuses[503] == len(sleeps) > 0


BIG = {"seed": 5, "now": "2026-11-15T12:00:00Z", "days": 10, "subaccounts": 0,
       "calls_per_day": 5200, "messages_per_day": 1}


@pytest.fixture(scope="module")
def big_faulty_sim():
    """One account with ~50,500 calls; 10% of requests answered 429 and 5% 503."""
    with tf.simulator.running(**BIG, rate_429=0.10, rate_503=0.05, fault_seed=11) as running_sim:
        yield running_sim


def test_50000_records_each_exactly_once_under_10pc_429_and_5pc_503(big_faulty_sim):
    sim = big_faulty_sim
    expected = truth(sim, "calls")
    assert len(expected) >= 50_000
    sleeps = []
    c = client(sim)                                   # PageSize 1000
    c.retry.sleep = sleeps.append
    raw = [r["sid"] for r in c.iter_records("calls")]     # as served: no de-duplication
    assert len(raw) == len(set(raw)) == len(expected) and set(raw) == set(expected.sid)
    assert len(sleeps) == sim.stats.statuses[429] + sim.stats.statuses[503] > 5
    sim.reset_stats()
    sleeps.clear()
    span = ("2026-11-05", "2026-11-16")                   # the dataset's 10 days and more
    frame = client(sim, max_workers=4)
    frame.retry.sleep = sleeps.append
    df = frame.calls(*span, window="2D")
    pd.testing.assert_frame_equal(df, truth(sim, "calls", None, *span))
    stats = sim.stats
    assert stats.statuses[429] > 0 and stats.statuses[503] > 0
    assert stats.statuses[429] + stats.statuses[503] == len(sleeps)
    assert stats.statuses[200] == stats.requests - len(sleeps)


class FakeClock:
    """A clock that moves only when someone sleeps (shared by every thread)."""

    def __init__(self):
        self.t, self.sleeps = 1000.0, []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.t += seconds

    def now(self):
        return self.t


def test_retry_after_is_waited_for_jittered(faulty_sim):
    faulty_sim.set_faults(rate_429=0.3, retry_after=2, seed=1)
    c = client(faulty_sim, page_size=20)
    clock = FakeClock()
    c.retry.sleep, c.retry.clock = clock.sleep, clock.now
    pd.testing.assert_frame_equal(c.messages(), truth(faulty_sim, "messages"))
    refused, waits = faulty_sim.stats.statuses[429], clock.sleeps
    assert refused > 3 and all(0 < w <= 2 * 1.25 for w in waits)
    # every refused request waited at least the Retry-After, not all the same time
    assert sum(w >= 2.0 for w in waits) >= refused and len(set(waits)) > 1


def test_bad_token_fails_at_once_with_one_request(faulty_sim):
    c = tf.Client(faulty_sim.account_sid, "0" * 32, base_url=faulty_sim.base_url, progress=False)
    with pytest.raises(tf.AuthenticationError) as info:
        c.calls()
    assert info.value.status == 401 and faulty_sim.stats.requests == 1


def test_concurrency_cap_is_shared_and_respected(faulty_sim):
    faulty_sim.set_faults(latency=0.01)
    c = client(faulty_sim, max_workers=3, page_size=5)
    c.calls(START, END, window="1D", accounts="all")
    assert 1 < faulty_sim.stats.max_in_flight <= 3


def test_api_key_auth_works(sim):
    c = tf.Client(sim.account_sid, api_key=sim.api_key, api_secret=sim.api_secret,
                  base_url=sim.base_url, progress=False)
    assert len(c.accounts()) == len(sim.dataset.accounts)


def test_secrets_never_in_repr_errors_or_logs(sim, caplog):
    caplog.set_level(logging.DEBUG, logger="twilio_frames")
    ok = client(sim)
    keyed = tf.Client(sim.account_sid, api_key=sim.api_key, api_secret=sim.api_secret,
                      base_url=sim.base_url, progress=False)
    wrong = tf.Client(sim.account_sid, "f" * 32, base_url=sim.base_url, progress=False)
    ok.accounts()
    keyed.calls(limit=3)
    texts = [repr(ok), repr(keyed), caplog.text]
    with pytest.raises(tf.AuthenticationError) as info:
        wrong.calls()
    texts += [str(info.value), repr(info.value), repr(wrong)]
    assert "GET /2010-04-01/Accounts" in caplog.text
    for text in texts:
        for secret in (sim.auth_token, sim.api_secret, "f" * 32):
            assert secret not in text


def test_http_refused_except_loopback(sim):
    with pytest.raises(tf.ConfigurationError, match="plain http"):
        tf.Client(sim.account_sid, sim.auth_token, base_url="http://example.com")
    assert client(sim).base_url.startswith("http://127.0.0.1")


def test_bad_options_are_refused(sim):
    for kw in ({"format": "csv"}, {"page_size": 1001}, {"max_workers": 0}):
        with pytest.raises(tf.ConfigurationError):
            client(sim, **kw)
    with pytest.raises(tf.ConfigurationError, match="window"):
        client(sim).calls(window="1D")
    with pytest.raises(tf.ConfigurationError, match="before"):
        client(sim).calls("2026-11-02", "2026-11-01")
    with pytest.raises(tf.ConfigurationError, match="subresource"):
        client(sim).usage_records("weekly")


def test_progress_bar_on_request_and_off_when_not_interactive(sim, capsys):
    client(sim, progress=True).recordings()
    assert "recordings" in capsys.readouterr().err
    client(sim, progress=None).recordings()          # pytest's stderr is not a terminal
    assert "recordings" not in capsys.readouterr().err


def test_progress_bar_counts_pages_and_records(faulty_sim, monkeypatch):
    import tqdm.std

    from twilio_frames.fetch import progress_bars
    closed = []

    class Recorder(tqdm.std.tqdm):
        def close(self):
            if not self.disable:
                closed.append((self.desc, self.n, self.postfix))
            super().close()
    monkeypatch.setattr(progress_bars, "progress_class", lambda: Recorder)
    df = client(faulty_sim, progress=True, page_size=7).recordings()
    pages = faulty_sim.stats.requests
    assert pages > 3 and closed == [("recordings", len(df), f"pages={pages}")]
