"""List records rendered once (simulator/fragments.py) give the bytes rendering them anew gives."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest

from twilio_frames import simulator
from twilio_frames.simulator.app import SimulatorApp
from twilio_frames.simulator.fragments import RecordFragments

OPTIONS = dict(seed=11, days=20, subaccounts=2, calls_per_day=30, messages_per_day=40)


def _get(app, account, token, path, query=""):
    auth = "Basic " + base64.b64encode(f"{account}:{token}".encode()).decode()
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query,
           "HTTP_AUTHORIZATION": auth, "wsgi.input": io.BytesIO(b""), "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "1", "wsgi.url_scheme": "http"}
    status = []
    body = b"".join(app(env, lambda s, h, *a: status.append(s)))
    return status[0], body


@pytest.fixture(scope="module")
def apps():
    with simulator.running(**OPTIONS) as sim:
        kept = SimulatorApp(sim.dataset, cache_bytes=0)                     # fragments kept
        fresh = SimulatorApp(sim.dataset, cache_bytes=0, record_bytes=0)    # every record anew
        yield sim, kept, fresh


@pytest.mark.parametrize("resource", ["Calls", "Messages", "Recordings"])
@pytest.mark.parametrize("query", ["PageSize=1000", "PageSize=7", "PageSize=7&Page=2&PageToken=PAx",
                                   "StartTime%3E=2026-11-20&PageSize=50",
                                   "DateSent%3E=2026-11-25&PageSize=3", "Status=completed"])
def test_pages_from_kept_fragments_are_the_same_bytes(apps, resource, query):
    sim, kept, fresh = apps
    for account in sorted({sim.account_sid, *(a["sid"] for a in sim.dataset.accounts)}):
        token = sim.auth_token
        path = f"/2010-04-01/Accounts/{account}/{resource}.json"
        for _ in range(2):                        # cold, then from the fragments
            got, want = _get(kept, sim.account_sid, token, path, query), \
                _get(fresh, sim.account_sid, token, path, query)
            assert got == want
        xml = path.replace(".json", ".xml")
        assert _get(kept, sim.account_sid, token, xml, query) == \
            _get(fresh, sim.account_sid, token, xml, query)


def test_the_budget_bounds_what_is_kept():
    frags = RecordFragments(limit=1)
    built = []

    def build(rows):
        built.append(rows.tolist())
        return [{"sid": f"CA{r}", "n": r} for r in rows.tolist()]
    first = frags.records("calls", np.array([1, 2]), build)
    assert len(first) == 2 and frags.size > 1
    again = frags.records("calls", np.array([2, 3]), build)        # 2 kept, 3 over budget
    assert built == [[1, 2], [3]] and again[1] == {"sid": "CA3", "n": 3}
    assert len(frags._by_row) == 2
