"""``twilio-frames export billing``: the whole bill per account, adding up to totalprice."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal

import pytest

import twilio_frames as tf
from twilio_frames.cli.main import main

START, END = "2026-11-01", "2026-11-15"


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _own_totals(sim, *, daily: bool):
    """Every account's own totalprice (IncludeSubaccounts=false) per account [and day]."""
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url)
    usage = client.usage_records("daily", start=START, end=END, accounts="all")
    total = usage[usage["category"] == "totalprice"]
    out = defaultdict(Decimal)
    for row in total.itertuples():
        key = (row.account_sid, f"{row.start_date:%Y-%m-%d}" if daily else None)
        out[key] += Decimal(int(row.price_micros)).scaleb(-6)
    return dict(out)


@pytest.mark.parametrize("freq", ["M", "D"])
def test_billing_csv_adds_up_to_each_accounts_totalprice(capsys, tmp_path, sim_env, freq):
    out = tmp_path / "billing.csv"
    code = main(["export", "billing", "--start", START, "--end", END, "--freq", freq,
                 "--out", str(out), "--quiet"])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "whole bill per account" in stdout and "usage records" in stdout
    rows = _rows(out)
    assert {"lists", "usage_records"} <= {r["source"] for r in rows}
    assert {"phonenumbers-local", "calls", "sms"} <= {r["product"] for r in rows}
    got = defaultdict(Decimal)
    for r in rows:
        got[(r["account_sid"], r["period_start"] if freq == "D" else None)] += Decimal(r["cost"])
    truth = _own_totals(sim_env, daily=freq == "D")
    assert dict(got) == {k: v for k, v in truth.items() if v or k in got}
    assert len({k[0] for k in got}) == len(sim_env.dataset.accounts)


def test_billing_per_number_stays_list_products_and_says_so(capsys, tmp_path, sim_env):
    out = tmp_path / "per-number.csv"
    code = main(["export", "billing", "--start", START, "--end", END, "--by", "our_number",
                 "--out", str(out), "--quiet"])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "list products per our_number" in stdout and "Usage Records are per" in stdout
    rows = _rows(out)
    assert "source" not in rows[0] and not any(r["product"].startswith("phonenumbers")
                                               for r in rows)
