"""Messages retention: the list answers 400 / 20004 for a date filter past 400 days
(reference/sync-and-scale.md §1); other lists have no such window."""

import pytest


@pytest.mark.parametrize("param, day, status", [
    ("DateSent>", "2025-10-10", 400),            # 401 days before now's day
    ("DateSent", "2025-10-01", 400),
    ("DateSent<", "2025-09-01", 400),
    ("DateSent>", "2025-10-11", 200),            # exactly 400 days: still served
])
def test_messages_refuse_dates_past_the_retention_window(sim, http, param, day, status):
    url = f"{sim.base_url}/2010-04-01/Accounts/{sim.account_sid}/Messages.json"
    r = http.get(url, params={param: day}, auth=(sim.account_sid, sim.auth_token))
    assert r.status_code == status
    if status == 400:
        body = r.json()
        assert body["code"] == 20004 and "outside of retention window of 400 days" in body["message"]


def test_calls_have_no_retention_window(sim, http):
    url = f"{sim.base_url}/2010-04-01/Accounts/{sim.account_sid}/Calls.json"
    r = http.get(url, params={"StartTime>": "2020-01-01"}, auth=(sim.account_sid, sim.auth_token))
    assert r.status_code == 200
