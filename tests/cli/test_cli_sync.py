"""``twilio-frames sync DIR`` and ``--store DIR`` on report/export/fetch: after a sync, the
reports and exports run from the store with no network and no credentials."""

from __future__ import annotations

import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames.cli.main import main

from cli_run import run

RANGE = ["--start", "2026-11-08", "--end", "2026-11-15"]


def offline(monkeypatch):
    """No credentials, and an API root nothing answers on."""
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY",
                 "TWILIO_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_API_BASE", "http://127.0.0.1:9")


@pytest.fixture
def synced(sim_env, tmp_path, capsys):
    root = tmp_path / "history"
    code, out, err = run(capsys, "sync", str(root), "--start", "2026-11-08", "--quiet")
    assert code == 0, err
    return root, out


def test_sync_prints_what_it_did_and_what_the_store_holds(synced, sim_env, capsys):
    root, out = synced
    assert out.startswith(f"Synced {root} (server time 2026-11-15 12:00 UTC): fetched ")
    assert "skipped 0 settled" in out
    table = {line.split()[0]: line.split()[1:] for line in out.splitlines()[3:] if line.strip()}
    assert set(table) == set(tf.RESOURCES)
    code, again, _ = run(capsys, "sync", str(root), "--quiet")
    assert code == 0 and "skipped 45 settled" in again    # days 8-12 x 3 lists x 3 accounts


def test_report_and_export_from_a_store_need_no_network(synced, monkeypatch, tmp_path, capsys):
    root, _ = synced
    offline(monkeypatch)
    code, out, err = run(capsys, "report", "--store", str(root), *RANGE,
                         "--out", str(tmp_path / "report"))
    assert code == 0, err
    assert (tmp_path / "report" / "index.html").is_file()
    assert f"from the store {root} as PARQUET" in err
    code, out, err = run(capsys, "export", "billing", "--store", str(root), *RANGE,
                         "--out", str(tmp_path / "billing.csv"))
    assert code == 0, err and (tmp_path / "billing.csv").stat().st_size > 0
    code, out, err = run(capsys, "fetch", "calls", "--store", str(root), *RANGE,
                         "--out", str(tmp_path / "calls.parquet"))
    assert code == 0, err
    store_calls = tf.Store(root).frame("calls", "2026-11-08", "2026-11-15", accounts="all")
    assert len(pd.read_parquet(tmp_path / "calls.parquet")) == len(store_calls)


def test_the_report_from_a_store_equals_the_report_from_the_api(synced, sim_env, tmp_path,
                                                                capsys):
    root, _ = synced
    run(capsys, "export", "billing", *RANGE, "--out", str(tmp_path / "api.csv"))
    run(capsys, "export", "billing", "--store", str(root), *RANGE,
        "--out", str(tmp_path / "store.csv"))
    assert (tmp_path / "api.csv").read_bytes() == (tmp_path / "store.csv").read_bytes()


def test_sync_errors_are_one_line(sim_env, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("x")
    code, _, err = run(capsys, "sync", str(tmp_path), "--start", "2026-11-08", "--quiet")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("twilio-frames: error: folder is not empty and is not a "
                          "twilio-frames store")
    code, _, err = run(capsys, "sync", str(tmp_path / "new"), "--quiet")
    assert code == 1 and "first sync of a store needs start=" in err
    code, _, err = run(capsys, "report", "--store", str(tmp_path / "nowhere"), *RANGE,
                       "--out", str(tmp_path / "r"))
    assert code == 1 and "not a folder" in err


def test_sync_names_an_account_whose_data_twilio_deleted(tmp_path, capsys, monkeypatch):
    """A closed subaccount 41 days after closing (simulator/closing.py): the sync
    succeeds, and one line on stderr names the account and what the store keeps."""
    from twilio_frames import simulator
    with simulator.running(seed=5, start="2026-09-01", now="2026-11-15T12:00:00Z",
                           subaccounts=2, closed_at="2026-10-05T09:30:00Z") as sim:
        for name in ("TWILIO_API_KEY", "TWILIO_API_SECRET"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", sim.account_sid)
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", sim.auth_token)
        monkeypatch.setenv("TWILIO_API_BASE", sim.base_url)
        code, out, err = run(capsys, "sync", str(tmp_path / "h"), "--start", "2026-11-10",
                             "--quiet")
        sid = sim.dataset.closing.sid
    assert code == 0, err
    assert f"account {sid} answers 404 / 20404 on calls, incoming_phone_numbers" in out
    [line] = err.strip().splitlines()
    assert line.startswith(f"warning: account {sid} (") and "closed since 2026-10-05" in line
    assert "keeps its 0 partitions as they were" in line
    assert sim.auth_token not in out + err
