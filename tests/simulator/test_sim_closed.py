"""A closed subaccount (``closed_at``), served over loopback as Twilio documents it: status
closed with date_updated at closing, numbers released, no traffic after it, its own
credentials refused, and from 30 days after closing its data deleted (404 / 20404 on every
list and record under it; simulator/closing.py says what is documented and what is not)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import numpy as np
import pytest
import requests

from twilio_frames import simulator
from twilio_frames.simulator import usage
from twilio_frames.simulator.dataset import Dataset

CLOSED = datetime(2026, 10, 5, 9, 30, tzinfo=timezone.utc)
BASE = dict(seed=20261115, start="2026-09-01", subaccounts=2, live_calls=False)
BEFORE = CLOSED + timedelta(days=15)                  # closed, data still served
AFTER = CLOSED + timedelta(days=41)                   # 30 days passed: deleted
LISTS = ("Calls", "Messages", "Recordings", "IncomingPhoneNumbers", "Usage/Records",
         "Usage/Records/Daily", "Usage/Records/LastMonth", "IncomingPhoneNumbers/Local")


def _get(sim, path, auth=None, **params):
    with requests.Session() as s:
        return s.get(f"{sim.base_url}/2010-04-01/Accounts{path}", params=params,
                     auth=auth or (sim.account_sid, sim.auth_token))


@pytest.fixture(scope="module")
def before():
    with simulator.running(now=BEFORE, closed_at=CLOSED, **BASE) as sim:
        yield sim


@pytest.fixture(scope="module")
def after():
    with simulator.running(now=AFTER, closed_at=CLOSED, **BASE) as sim:
        yield sim


def test_the_closed_account_shows_closed_with_date_updated_at_closing(before, after):
    for sim in (before, after):
        sid = sim.dataset.closing.sid
        assert sid == sim.dataset.account_sids[-1]                # the last subaccount
        listed = _get(sim, ".json").json()["accounts"]
        mine = next(a for a in listed if a["sid"] == sid)
        assert mine["status"] == "closed"
        assert parsedate_to_datetime(mine["date_updated"]) == CLOSED
        assert [a["sid"] for a in _get(sim, ".json", Status="closed").json()["accounts"]] \
            == [sid]
        assert _get(sim, f"/{sid}.json").json()["status"] == "closed"
        others = [a["status"] for a in listed if a["sid"] != sid]
        assert others == ["active", "active"]


def test_before_deletion_the_history_is_served_and_nothing_after_closing(before):
    ds, sid = before.dataset, before.dataset.closing.sid
    plain = Dataset(now=BEFORE, **BASE)                       # the same account, never closed
    for resource, field in (("calls", "start_time"), ("messages", "date_sent"),
                            ("recordings", "date_created")):
        served = ds.records(resource, sid)
        assert served and all(parsedate_to_datetime(r[field]) <= CLOSED for r in served
                              if r[field])
        # every record made before closing is there, byte for byte the same
        kept = [r for r in plain.records(resource, sid)
                if parsedate_to_datetime(r["date_created"]) <= CLOSED]
        assert sorted(r["sid"] for r in served) == sorted(r["sid"] for r in kept)
        r = _get(before, f"/{sid}/{resource.capitalize()}.json", PageSize=1000)
        assert r.status_code == 200 and len(r.json()[resource]) == len(served)
    assert _get(before, f"/{sid}/IncomingPhoneNumbers.json").json()[
        "incoming_phone_numbers"] == []                       # released at closing
    assert plain.records("incoming_phone_numbers", sid)


def test_usage_stops_at_closing_and_the_rentals_with_it(before):
    sid = before.dataset.closing.sid
    daily = _get(before, f"/{sid}/Usage/Records/Daily.json", StartDate="2026-09-01",
                 EndDate="2026-10-19", Category="totalprice", PageSize=1000).json()
    spent = {r["start_date"] for r in daily["usage_records"] if float(r["price"]) > 0}
    assert spent and max(spent) <= "2026-10-05"
    plain = Dataset(now=BEFORE, **BASE)
    numbers = plain.usage_records(sid, "monthly", category="phonenumbers",
                                  start_date=CLOSED.date(), end_date=BEFORE.date())
    assert float(numbers[0]["price"]) > 0                  # never closed: a rental falls due
    closed = before.dataset.usage_records(sid, "monthly", category="phonenumbers",
                                          start_date=CLOSED.date(), end_date=BEFORE.date())
    assert float(closed[0]["price"]) == 0 and closed[0]["count"] == "0"


def test_its_own_credentials_are_refused_once_closed(before):
    ds = before.dataset
    sid = ds.closing.sid
    r = _get(before, f"/{sid}/Calls.json", auth=(sid, ds.auth_tokens[sid]))
    assert r.status_code == 401 and r.json()["code"] == 20003
    key = next(k for k, (_, acct) in ds.api_keys.items() if acct == sid)
    r = _get(before, f"/{sid}/Calls.json", auth=(key, ds.api_keys[key][0]))
    assert r.status_code == 401


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("ext", [".json", ".xml"])
def test_after_thirty_days_every_list_answers_404_20404(after, path, ext):
    sid = after.dataset.closing.sid
    r = _get(after, f"/{sid}/{path}{ext}")
    assert r.status_code == 404
    if ext == ".json":
        body = r.json()
        assert body["code"] == 20404 and body["status"] == 404
        assert body["message"] == (f"The requested resource /2010-04-01/Accounts/{sid}/"
                                   f"{path}{ext} was not found")
    else:
        assert b"<Code>20404</Code>" in r.content and b"<Status>404</Status>" in r.content


def test_after_thirty_days_its_records_are_gone_and_the_others_unchanged(before, after):
    sid = before.dataset.closing.sid
    call = before.dataset.records("calls", sid)[0]["sid"]
    assert _get(before, f"/{sid}/Calls/{call}.json").status_code == 200
    assert _get(after, f"/{sid}/Calls/{call}.json").status_code == 404
    master = after.account_sid
    assert _get(after, f"/{master}/Calls.json").status_code == 200


def test_deletion_comes_exactly_thirty_days_after_closing():
    ds = Dataset(now=CLOSED + timedelta(days=30, seconds=-1), closed_at=CLOSED, **BASE)
    with simulator.running(dataset=ds) as sim:
        assert _get(sim, f"/{ds.closing.sid}/Calls.json").status_code == 200
    ds = Dataset(now=CLOSED + timedelta(days=30), closed_at=CLOSED, **BASE)
    with simulator.running(dataset=ds) as sim:
        assert _get(sim, f"/{ds.closing.sid}/Calls.json").status_code == 404


def test_a_closing_after_now_changes_nothing_served_now():
    """Off by default, and a closing still to come is invisible: the same bytes."""
    plain = Dataset(now=BEFORE, **BASE)
    later = Dataset(now=BEFORE, closed_at=BEFORE + timedelta(days=3), **BASE)
    assert plain.closing is None and later.closing is not None
    for resource in ("accounts", "calls", "messages", "recordings", "incoming_phone_numbers"):
        for sid in plain.account_sids:
            assert later.records(resource, sid) == plain.records(resource, sid)
    assert later.usage_records(plain.master_sid, "daily") == \
        plain.usage_records(plain.master_sid, "daily")


def test_bad_closings_are_refused():
    with pytest.raises(ValueError, match="needs a subaccount"):
        Dataset(now=BEFORE, closed_at=CLOSED, **{**BASE, "subaccounts": 0})
    with pytest.raises(ValueError, match="before the subaccount was created"):
        Dataset(now=BEFORE, closed_at="2020-01-01", **BASE)


def test_with_four_subaccounts_the_last_but_one_closes_and_the_last_is_suspended():
    ds = Dataset(now=BEFORE, closed_at=CLOSED, **{**BASE, "subaccounts": 4})
    assert ds.closing.index == 3
    assert [a["status"] for a in ds.accounts] == ["active", "active", "active", "closed",
                                                  "suspended"]


def test_deleted_recordings_leave_the_masters_storage():
    """Storage is billed on what is stored: at the first month-end after the deletion
    (2026-11-04) the closed subaccount's recordings are gone from the master's storage;
    at the month-end before it they were still stored."""
    ds = Dataset(closed_at=CLOSED, **dict(BASE, now="2026-12-15T12:00:00Z"))
    r = ds.recordings
    done = r["status"] == 0                                # completed (generate_recordings)
    minutes = -(-r["duration"] // 60)

    def stored(month, last_day, accounts):
        [rec] = ds.usage_records(ds.master_sid, "monthly", category="recordingstorage",
                                 start_date=month, end_date=usage.day_date(last_day),
                                 include_subaccounts=False)
        mask = done & (r["done_at"] // 86400 <= last_day) & np.isin(r["acct"], accounts)
        return (int(rec["count"]), int(rec["usage"])), (int(mask.sum()),
                                                         int(minutes[mask].sum()))

    every, kept = [0, 1, 2], [0, 1]
    oct31, nov30 = (int(datetime(2026, m, d, tzinfo=timezone.utc).timestamp()) // 86400
                    for m, d in ((10, 31), (11, 30)))
    got, want = stored(datetime(2026, 10, 1).date(), oct31, every)
    assert got == want and want[0] > 0
    got, want = stored(datetime(2026, 11, 1).date(), nov30, kept)
    assert got == want
    assert want != stored(datetime(2026, 11, 1).date(), nov30, every)[1]


def test_the_sim_command_takes_closed_at(monkeypatch):
    from twilio_frames.cli.main import build_parser
    seen = {}
    monkeypatch.setattr(simulator, "serve", lambda **kw: seen.update(kw) or 0)
    args = build_parser().parse_args(["sim", "--closed-at", "2026-10-05T09:30Z"])
    assert args.func(args) == 0 and seen["closed_at"] == "2026-10-05T09:30Z"
    seen.clear()
    args = build_parser().parse_args(["sim"])
    assert args.func(args) == 0 and "closed_at" not in seen          # off by default
