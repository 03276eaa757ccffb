"""``twilio-frames anomalies``: episodes, evidence and trigger values, in-process."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from twilio_frames.cli.main import main

from cli_run import run


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["anomalies", "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and "twilio-frames anomalies --demo" in out


def test_demo_prints_the_injected_fraud_and_writes_the_csv(capsys, tmp_path, monkeypatch):
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    out_csv = tmp_path / "episodes.csv"
    code, out, err = run(capsys, "anomalies", "--demo", "--attacks", "1", "--quiet",
                         "--format", "json", "--out", str(out_csv))
    assert code == 0, err
    out = " ".join(out.split())
    assert "sms pumping" in out and "toll fraud" in out
    assert "first messages ever to" in out and "consecutive numbers" in out
    assert "Usage Trigger values from this history" in out and "monthly" in out
    with open(out_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {"sms_pumping", "toll_fraud"} <= {r["kind"] for r in rows}
    assert all(Decimal(r["cost"]) > 0 for r in rows)
    assert "cost_micros" not in rows[0]
    code, _, err = run(capsys, "anomalies", "--demo", "--quiet", "--out", str(out_csv))
    assert code == 1 and "pass --overwrite" in err


def test_real_account_path_and_bad_options(capsys, sim, monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", sim.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", sim.auth_token)
    monkeypatch.setenv("TWILIO_API_BASE", sim.base_url)
    code, out, err = run(capsys, "anomalies", "--start", "2026-10-25", "--end", "2026-11-16",
                         "--quiet")
    assert code == 0, err
    assert "suspicious episode(s) in" in out and "Traceback" not in err
    with pytest.raises(SystemExit) as exit_:
        main(["anomalies", "--start", "2026-10-01"])
    assert exit_.value.code == 2
    code, _, err = run(capsys, "anomalies", "--start", "2026-10-25", "--end", "2026-11-16",
                       "--baseline", "3h", "--quiet")
    assert code == 1 and "whole number of days" in err
