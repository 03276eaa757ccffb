"""The stalled-chain guard keys records the same way on its fast path and its slow one."""

from __future__ import annotations

import pytest

from twilio_frames.errors import ParseError
from twilio_frames.fetch.progress import STALL_PAGES, ProgressGuard, _sid_keys, record_key


def calls(*sids):
    return [{"sid": s, "uri": f"/x/{s}.json", "status": "completed"} for s in sids]


def test_sid_keys_are_record_keys():
    records = calls("CA1", "CA2", "CA\u00e9")
    assert _sid_keys(records) == [record_key(r) for r in records]


@pytest.mark.parametrize("records", [
    [],
    [{"sid": "CA1"}, {"uri": "/usage/1"}],                 # a record without a sid
    [{"sid": "CA1"}, {"sid": ""}],                         # an empty sid: keyed by its uri
    [{"sid": "CA1"}, {"sid": None, "uri": "/u"}],
    [{"sid": "CA1"}, {"sid": 7}],                          # not a string
    [{"sid": "CA1"}, ["not", "a", "dict"]],
    [{"category": "calls", "uri": "/usage?c=calls"}],      # usage records: no sid
])
def test_records_the_fast_path_cannot_key_go_record_by_record(records):
    assert _sid_keys(records) is None


def test_pages_of_repeats_still_stop_the_chain_and_new_records_reset_it():
    guard = ProgressGuard()
    guard.check(calls("CA1", "CA2"), "/next", "/page0")
    for _ in range(STALL_PAGES - 1):
        guard.check(calls("CA2", "CA1"), "/next", "/pageN")
    assert guard.stalled == STALL_PAGES - 1
    guard.check(calls("CA1", "CA3"), "/next", "/pageM")     # one new record: not stalled
    assert guard.stalled == 0
    slow = [{"uri": "/usage/1"}, {"sid": "CA1"}]             # keyed record by record
    guard.check(slow, "/next", "/pageS")                     # /usage/1 is new
    assert guard.stalled == 0
    for _ in range(STALL_PAGES - 1):
        guard.check(slow, "/next", "/pageN")
    with pytest.raises(ParseError, match="in a row brought no new record"):
        guard.check(calls("CA3", "CA1"), "/next", "/last")    # fast path, all seen


def test_a_slow_path_key_and_a_fast_path_key_of_one_record_agree():
    guard = ProgressGuard()
    guard.check([{"sid": "CA9"}, {"uri": "/u"}], "/next", "/p")   # slow path
    guard.check(calls("CA9"), "/next", "/p")                       # fast path: seen
    assert guard.stalled == 1
