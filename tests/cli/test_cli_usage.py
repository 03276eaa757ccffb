"""CLI outputs are what their names say (issue 8.4) and options that do not apply are usage
errors (issue 8.12): all found before anything is fetched or written."""

from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames.cli.main import main

RANGE = ["--start", "2026-11-01", "--end", "2026-11-15"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_exit(capsys, *argv) -> str:
    """Run argv, expect argparse's usage error (exit 2); return stderr."""
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "usage: twilio-frames" in err, err
    assert "Traceback" not in err
    return err


@pytest.fixture
def sim_env(sim, monkeypatch):
    for name in ("TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", sim.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", sim.auth_token)
    monkeypatch.setenv("TWILIO_API_BASE", sim.base_url)
    sim.reset_stats()
    return sim


def test_export_billing_parquet_and_jsonl_are_what_they_say(capsys, tmp_path, sim_env):
    csv_path, pq, jl = tmp_path / "b.csv", tmp_path / "b.parquet", tmp_path / "b.jsonl"
    for path in (csv_path, pq, jl):
        code, _, err = run(capsys, "export", "billing", *RANGE, "--out", str(path), "--quiet")
        assert code == 0, err
    assert pq.read_bytes()[:4] == b"PAR1"
    exact = sum(Decimal(c) for c in pd.read_csv(csv_path, dtype=str)["cost"])
    assert sum(Decimal(str(c)) for c in pd.read_parquet(pq)["cost"]) == exact > 0
    rows = [json.loads(line) for line in jl.read_text().splitlines()]
    assert sum(Decimal(r["cost"]) for r in rows) == exact


def test_export_line_items_parquet(capsys, tmp_path, sim_env):
    path = tmp_path / "items.parquet"
    code, _, err = run(capsys, "export", "line-items", "--resource", "messages", *RANGE,
                       "--out", str(path), "--quiet")
    assert code == 0, err
    back = pd.read_parquet(path)
    assert back["sid"].str.startswith(("SM", "MM")).all() and len(back) > 0


@pytest.mark.parametrize("command", [["export", "billing", *RANGE],
                                     ["export", "line-items", *RANGE],
                                     ["fetch", "calls", *RANGE]])
@pytest.mark.parametrize("name", ["out.xlsx", "out.txt", "out"])
def test_unknown_extension_is_refused_before_fetching(capsys, tmp_path, sim_env, command,
                                                      name):
    code, _, err = run(capsys, *command, "--out", str(tmp_path / name))
    assert code == 1 and ".csv, .jsonl, .parquet" in err and "Traceback" not in err
    assert sim_env.stats.requests == 0 and list(tmp_path.iterdir()) == []
