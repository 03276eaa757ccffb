"""Statements from a store synced from mid-month: the charges are whole (the store keeps
each month's Usage Records whole), the detail tables cover the synced days only, and the
statement says so: a PartialDetailWarning, a sentence on the page, a note row in the CSVs,
(the CLI: tests/cli/test_statements_cli.py). Over loopback against the session simulator."""

from __future__ import annotations

import csv
from decimal import Decimal

import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames.store import layout

MONTH = ("2026-10-01", "2026-11-01")
FIRST = "2026-10-28"                   # synced from here: 4 of October's 31 days
COVER = "calls and messages 2026-10-28 to 2026-10-31, 4 of 31 days"


def client(sim):
    return tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False)


@pytest.fixture(scope="module")
def store(sim, tmp_path_factory):
    store = tf.Store(tmp_path_factory.mktemp("mid") / "history")
    store.sync(client(sim), start=FIRST, resources=["accounts", "usage_records", "calls",
                                                    "messages"])
    return store


def _inputs(store):
    src = store.source()
    usage = src.usage_records("daily", start=MONTH[0], end=MONTH[1], accounts="all")
    lists = {r: store.frame(r, *MONTH) for r in ("calls", "messages")}
    return usage, src.accounts(), lists


def test_a_store_frame_says_which_asked_days_it_holds(sim, store):
    sids = list(sim.dataset.account_sids)
    calls = store.frame("calls", *MONTH)
    assert calls.attrs["stored_days"] == {s: [["2026-10-28", "2026-10-31"]] for s in sids}
    assert "stored_days" not in store.frame("calls", FIRST, MONTH[1]).attrs
    assert "stored_days" not in store.frame("calls", FIRST).attrs     # up to the last day
    assert "stored_days" not in store.frame("usage_records", *MONTH).attrs   # whole months


def test_statements_say_their_detail_covers_the_synced_days_only(sim, store):
    usage, accounts, lists = _inputs(store)
    with pytest.warns(tf.PartialDetailWarning) as caught:
        st = tf.statements(usage, accounts=accounts, **lists)
    [w] = caught
    assert COVER in str(w.message) and "(and 2 more statements)" in str(w.message)
    # the charges are whole: the same as from the API's usage of the whole month
    api = client(sim).usage_records("daily", start=MONTH[0], end=MONTH[1], accounts="all")
    whole = tf.statements(api, accounts=client(sim).accounts())
    pd.testing.assert_frame_equal(st, whole)
    assert st["charge_micros"].sum() > 0
    detail = tf.statement_detail(**lists)
    cov = detail.attrs["coverage"]
    assert sorted(set(cov["resource"])) == ["calls", "messages"]
    assert {str(d) for d in cov["first_day"]} == {"2026-10-28"}
    assert {str(d) for d in cov["last_day"]} == {"2026-10-31"}
    assert "coverage" not in tf.statement_detail(
        calls=client(sim).calls(*MONTH, accounts="all")).attrs         # a client frame


def test_the_files_carry_the_sentence_and_a_note_row(sim, store, tmp_path):
    usage, accounts, lists = _inputs(store)
    with pytest.warns(tf.PartialDetailWarning):
        st = tf.statements(usage, accounts=accounts, **lists)
    paths = tf.write_statements(tmp_path / "out", st)
    for sid in sim.dataset.account_sids:
        page = (tmp_path / "out" / f"{sid}-2026-10.html").read_text(encoding="utf-8")
        assert ('<p class="coverage">Detail tables cover only part of 2026-10-01 to '
                f"2026-10-31: {COVER} (the other days were not synced)") in page
        with open(tmp_path / "out" / f"{sid}-2026-10.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert rows[-1]["line"] == "note" and rows[-1]["category"] == "detail-coverage"
        assert Decimal(rows[-1]["charge"]) == 0 and COVER in rows[-1]["description"]
        assert [r["line"] for r in rows].count("note") == 1
    with open(tmp_path / "out" / "statements.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["line"] for r in rows].count("note") == len(sim.dataset.account_sids)
    assert sum(Decimal(r["charge"]) for r in rows) == \
        sum(tf.micros_to_decimal(int(m)) for m in st["charge_micros"])
    assert len(paths) == 1 + 2 * len(sim.dataset.account_sids)


def test_a_hole_in_the_synced_days_is_counted(sim, store, tmp_path):
    sid = sim.dataset.account_sids[1]
    calls = store.frame("calls", *MONTH, accounts=[sid])
    path = layout.partition_path(store.path, "calls", sid, pd.Timestamp("2026-10-30").date())
    kept = path.read_bytes()
    try:
        path.unlink()
        holed = store.frame("calls", *MONTH, accounts=[sid])
    finally:
        path.write_bytes(kept)
    assert holed.attrs["stored_days"] == {sid: [["2026-10-28", "2026-10-29"],
                                                ["2026-10-31", "2026-10-31"]]}
    usage, accounts, _ = _inputs(store)
    usage = usage[usage["account_sid"] == sid]
    with pytest.warns(tf.PartialDetailWarning, match=r"calls 2026-10-28 to 2026-10-31, "
                      r"3 of 31 days; messages 2026-10-28 to 2026-10-31, 4 of 31"):
        tf.statements(usage, accounts=accounts, calls=holed,
                      messages=store.frame("messages", *MONTH, accounts=[sid]))
    assert len(calls) > len(holed)

