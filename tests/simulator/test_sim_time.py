"""The simulated account moves on in time: with seed and start fixed, a later now shows the
same history (settled records identical, open ones settled), plus what happened since."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest

from twilio_frames.simulator.dataset import Dataset
from twilio_frames.simulator.generate_messages import FEE_EXEMPT

START = "2026-11-15"
NOW1 = datetime(2026, 11, 18, 15, 0, tzinfo=timezone.utc)    # a Wednesday, 10:00 in New York
NOW2 = NOW1 + timedelta(days=2)
BUSY = dict(seed=7, start=START, calls_per_day=4000, messages_per_day=1000, subaccounts=4,
            live_calls=False)
RESOURCES = ("calls", "messages", "recordings")
TERMINAL = {"calls": {"completed", "busy", "failed", "no-answer", "canceled"},
            "messages": {"delivered", "undelivered", "failed", "received", "sent"},
            "recordings": {"completed", "absent"}}


def _settled(resource: str, rec: dict) -> bool:
    """Nothing about this record can change any more (read from the record alone): a
    final status, and a price unless the record is never billed."""
    status = rec["status"]
    if status not in TERMINAL[resource] or rec.get("end_time", "") is None:
        return False
    if rec["price"] is not None:
        return True
    if resource == "messages":                           # never billed:
        return status == "failed" and rec["error_code"] in FEE_EXEMPT
    return status == "absent" if resource == "recordings" else status != "completed"


_CACHE: dict = {}


def _by_sid(ds, resource):
    """Every record of ``resource`` in the tree, by sid (built once per dataset)."""
    key = (id(ds), resource)
    if key not in _CACHE:
        _CACHE[key] = (ds, {r["sid"]: r for sid in ds.account_sids
                            for r in ds.records(resource, sid)})
    return _CACHE[key][1]


@pytest.fixture(scope="module")
def pair():
    return Dataset(now=NOW1, **BUSY), Dataset(now=NOW2, **BUSY)


def _epoch(text):
    return parsedate_to_datetime(text).timestamp()


@pytest.mark.parametrize("resource", RESOURCES)
def test_settled_records_stay_identical_and_nothing_old_appears(pair, resource):
    d1, d2 = pair
    one, two = _by_sid(d1, resource), _by_sid(d2, resource)
    assert set(one) <= set(two)                       # nothing disappears
    new = set(two) - set(one)
    assert new and all(_epoch(two[s]["date_created"]) > NOW1.timestamp() for s in new)
    settled = [s for s in one if _settled(resource, one[s])]
    assert len(settled) > 0.9 * len(one)
    for sid in settled:
        assert two[sid] == one[sid], sid


@pytest.mark.parametrize("resource", RESOURCES)
def test_open_records_settle_once_their_delays_pass(pair, resource):
    d1, d2 = pair
    one, two = _by_sid(d1, resource), _by_sid(d2, resource)
    still = [s for s in one if not _settled(resource, one[s])]
    assert len(still) >= 10, resource                  # the test is not vacuous
    for sid in still:
        before, after = one[sid], two[sid]
        assert _settled(resource, after), (sid, before["status"], after)
        assert _epoch(after["date_updated"]) >= _epoch(before["date_updated"])
        fixed = {"sid", "date_created", "account_sid", "direction", "to", "from",
                 "parent_call_sid", "call_sid", "body", "num_segments", "channels", "source"}
        for key in fixed & set(before):
            assert after[key] == before[key], (sid, key)


def test_open_calls_and_recordings_at_now1_settle(pair):
    d1, d2 = pair
    calls1, calls2 = _by_sid(d1, "calls"), _by_sid(d2, "calls")
    talking = [s for s, r in calls1.items() if r["status"] == "in-progress"]
    assert len(talking) >= 3
    for sid in talking:
        before, after = calls1[sid], calls2[sid]
        assert (before["end_time"], before["duration"], before["price"]) == (None, None, None)
        assert after["status"] == "completed" and after["price"] is not None
        assert _epoch(after["end_time"]) > NOW1.timestamp()
        assert after["start_time"] == before["start_time"]
    recs1, recs2 = _by_sid(d1, "recordings"), _by_sid(d2, "recordings")
    live = [s for s, r in recs1.items() if r["status"] in ("in-progress", "processing")]
    assert live
    for sid in live:
        assert recs1[sid]["duration"] is None and recs2[sid]["status"] in ("completed", "absent")
        assert calls1[recs1[sid]["call_sid"]]["status"] in ("in-progress", "completed")
    msgs = _by_sid(d1, "messages")
    assert sum(m["price"] is None and m["status"] == "delivered" for m in msgs.values()) > 10


def _call(ds, sid):
    return next((r for a in ds.account_sids for r in ds.records("calls", a) if r["sid"] == sid),
                None)


def test_one_call_through_its_life():
    """An outbound-api call bridged to a second number, seen at instants of its life."""
    kw = dict(seed=11, start="2026-10-01", subaccounts=1, live_calls=False)
    later = Dataset(now="2026-11-10T00:00:00Z", **kw)
    c = later.calls
    pick = next(i for i in range(len(c["sid"])) if c["parent"][i] >= 0 and c["status"][i] == 3
                and c["queue_ms"][c["parent"][i]] > 1000)
    parent = c["parent"][pick]
    psid, csid = c["sid"][parent], c["sid"][pick]
    created, start, end = (int(c[k][parent]) for k in ("created", "start", "end"))
    dialled, answered, hung_up = (int(c[k][pick]) for k in ("created", "start", "end"))
    stages = [(created - 1, None, None), (created, "queued", None),
              (start, "in-progress", None), (dialled, "in-progress", "ringing"),
              (answered, "in-progress", "in-progress"), (hung_up, "in-progress", "completed"),
              (end, "completed", "completed")]
    for when, parent_status, child_status in stages:
        ds = Dataset(now=datetime.fromtimestamp(when, timezone.utc), **kw)
        p, ch = _call(ds, psid), _call(ds, csid)
        assert (p and p["status"], ch and ch["status"]) == (parent_status, child_status), when
        if p is not None:
            assert _epoch(p["date_updated"]) <= when
            assert (p["start_time"] is None) == (parent_status == "queued")
            if parent_status != "completed":
                assert (p["end_time"], p["duration"], p["price"]) == (None, None, None)
    settled = _call(later, psid)
    assert settled["price"] is not None and settled["duration"] is not None
    assert _call(Dataset(now=datetime.fromtimestamp(end, timezone.utc), **kw), psid)["price"] \
        is None                                   # the price comes after the end


def test_statuses_follow_now_and_usage_as_of(pair):
    d1, d2 = pair
    queued = Dataset(now=NOW1, seed=7, start=START)
    edge = queued.records("calls", queued.master_sid)[:5]
    assert {"queued", "ringing", "in-progress"} <= {c["status"] for c in edge}
    for ds in pair:
        for rec in ds.usage_records(ds.master_sid, "today"):
            assert rec["as_of"] == ds.now.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _days_of_open_records(ds):
    days = {ds.now.date()}
    for resource, field in (("calls", "start_time"), ("messages", "date_sent"),
                            ("recordings", "date_created")):
        for rec in _by_sid(ds, resource).values():
            if not _settled(resource, rec):
                when = rec[field] or rec["date_created"]
                days.add(parsedate_to_datetime(when).date())
                days.add(parsedate_to_datetime(rec["date_created"]).date())
    return days


def test_usage_of_changed_days_differs_and_of_others_does_not(pair):
    d1, d2 = pair
    last = NOW1.date()
    open_days = _days_of_open_records(d1)
    for sid in (d1.master_sid, d1.account_sids[1]):
        one = d1.usage_records(sid, "daily", end_date=last)
        two = d2.usage_records(sid, "daily", end_date=last)
        assert [(r["category"], r["start_date"]) for r in one] == \
            [(r["category"], r["start_date"]) for r in two]
        changed = set()
        for a, b in zip(one, two):
            a, b = dict(a, as_of=None), dict(b, as_of=None)
            if a != b:
                changed.add(date.fromisoformat(a["start_date"]))
        assert changed, sid
        assert changed <= open_days, sorted(changed - open_days)
    settled_day = min(open_days) - timedelta(days=1)
    assert settled_day >= date.fromisoformat(START)


def test_live_calls_are_the_only_exception():
    d1 = Dataset(now=NOW1, seed=7, start=START)
    d2 = Dataset(now=NOW2, seed=7, start=START)
    gone = set(_by_sid(d1, "calls")) - set(_by_sid(d2, "calls"))
    assert len(gone) == 3
    assert all(d1.calls["created"][d1.calls["sid"] == s][0] >= NOW1.timestamp() - 160
               for s in gone)


def test_days_is_a_shortcut_for_start():
    now = "2026-11-15T12:00:00Z"
    a = Dataset(seed=3, now=now, days=20, subaccounts=1)
    b = Dataset(seed=3, now=now, start="2026-10-26T12:00:00Z", subaccounts=1)
    assert a.start == b.start and a.days == b.days == 20
    for resource in RESOURCES:
        assert json.dumps(a.records(resource, a.master_sid)) == \
            json.dumps(b.records(resource, b.master_sid))
    assert a.usage_records(a.master_sid, "daily") == b.usage_records(b.master_sid, "daily")
    with pytest.raises(TypeError):
        Dataset(seed=3, now=now, days=20, start="2026-10-01")
    with pytest.raises(ValueError, match="after now"):
        Dataset(seed=3, now=now, start="2026-12-01")
    with pytest.raises(ValueError, match="start"):
        Dataset(seed=3, now=now, start="yesterday")


def test_accounts_and_numbers_do_not_depend_on_now():
    kw = dict(seed=5, start="2026-10-01", subaccounts=4)
    early = Dataset(now="2026-10-20T00:00:00Z", **kw)
    late = Dataset(now="2026-11-20T00:00:00Z", **kw)
    assert [a["sid"] for a in early.accounts] == [a["sid"] for a in late.accounts]
    assert early.records("incoming_phone_numbers", early.master_sid) == \
        late.records("incoming_phone_numbers", late.master_sid)
    assert [a["status"] for a in early.accounts][-1] == "active"       # suspended 30 days in
    assert [a["status"] for a in late.accounts][-1] == "suspended"
    assert early.accounts[:-1] == late.accounts[:-1]


def test_sim_command_and_running_take_start(monkeypatch):
    from twilio_frames import simulator
    from twilio_frames.cli.main import build_parser

    seen = {}
    monkeypatch.setattr(simulator, "serve", lambda **kw: seen.update(kw) or 0)
    args = build_parser().parse_args(["sim", "--start", "2026-10-01", "--now",
                                      "2026-11-15T12:00Z", "--seed", "4"])
    assert args.func(args) == 0
    assert (seen["start"], seen["now"], seen["seed"]) == ("2026-10-01", "2026-11-15T12:00Z", 4)
    assert "days" not in seen
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sim", "--start", "2026-10-01", "--days", "3"])
    with simulator.running(seed=4, start="2026-10-01", now="2026-10-03T00:00Z",
                           subaccounts=0) as sim:
        assert sim.dataset.start == datetime(2026, 10, 1, tzinfo=timezone.utc)
        assert sim.dataset.days == 2


def test_join_shifts_child_legs_to_their_parents():
    import numpy as np

    from twilio_frames.simulator.timeline import join
    first = ({"parent": np.array([-1, 0]), "created": np.array([10, 11])}, np.array([1, 1], bool))
    second = ({"parent": np.array([-1, 0, 0]), "created": np.array([20, 21, 22])},
              np.array([1, 0, 0], bool))
    cols, keep = join(first, second)
    assert cols["parent"].tolist() == [-1, 0, -1, 2, 2]
    assert cols["created"].tolist() == [10, 11, 20, 21, 22]
    assert keep.tolist() == [True, True, True, False, False]
    with pytest.raises(ValueError, match="differ in columns"):
        join(first, ({"parent": np.array([-1])}, np.array([True])))


@pytest.mark.parametrize("resource", RESOURCES)
def test_records_are_as_they_stand_at_now(pair, resource):
    """date_updated is a change at or before now, never before date_created; fields that
    only exist once a record is final are null before."""
    for ds in pair:
        now = ds.now.timestamp()
        for rec in _by_sid(ds, resource).values():
            created, updated = _epoch(rec["date_created"]), _epoch(rec["date_updated"])
            assert created <= updated <= now, rec["sid"]
            final = rec["status"] in TERMINAL[resource] | {"sent"}
            if resource == "calls":
                assert (rec["end_time"] is not None) == final
                assert (rec["duration"] is not None) == final
            if resource == "recordings":
                assert (rec["duration"] is not None) == final
            if not final:
                assert rec["price"] is None


def test_recording_storage_of_a_month_is_fixed_once_it_has_closed():
    """Storage is posted on the last day of a month once it has closed, from the recordings
    processed before its end; a later now does not change it."""
    kw = dict(seed=2, start="2026-10-01", subaccounts=1)

    def storage(now):
        ds = Dataset(now=now, **kw)
        rec = ds.usage_records(ds.master_sid, "daily", category="recordingstorage",
                               start_date=date(2026, 10, 31), end_date=date(2026, 10, 31))
        return ds, rec

    before, rec = storage("2026-10-31T23:00:00Z")
    assert rec[0]["count"] == "0"                       # the month has not closed yet
    ds, first = storage("2026-11-01T00:30:00Z")
    r = ds.recordings
    done = (r["status"] == 0) & (r["done_at"] < datetime(2026, 11, 1, tzinfo=timezone.utc)
                                 .timestamp())
    assert int(first[0]["count"]) == int(done.sum()) > 0
    assert int(first[0]["usage"]) == int((-(-r["duration"][done] // 60)).sum())
    _, later = storage("2026-11-20T00:00:00Z")
    assert dict(later[0], as_of=None) == dict(first[0], as_of=None)
