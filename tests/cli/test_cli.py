"""Every CLI command, in-process through ``main(argv)``, plus ``python -m twilio_frames``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal

import pandas as pd
import pytest

from twilio_frames.cli.main import main

from cli_run import run

NOW = "2026-11-15T12:00:00Z"
RANGE = ["--start", "2026-11-01", "--end", "2026-11-15"]


@pytest.fixture
def no_credentials(monkeypatch):
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY",
                 "TWILIO_API_SECRET", "TWILIO_API_BASE"):
        monkeypatch.delenv(name, raising=False)


def one_error_line(err: str) -> str:
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("twilio-frames: error: ")
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("command", ["demo", "report", "fetch", "export", "sim"])
def test_every_command_has_help_with_an_example(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    assert f"twilio-frames {command}" in out
    assert "examples:" in out


def test_demo_writes_the_report_and_prints_a_summary(capsys, tmp_path, no_credentials):
    out_dir = tmp_path / "demo"
    code, out, err = run(capsys, "demo", "--days", "14", "--now", NOW, "--out", str(out_dir))
    assert code == 0, err
    assert (out_dir / "index.html").is_file() and (out_dir / "billing.csv").is_file()
    assert f"Report: {out_dir / 'index.html'}" in out
    assert "The whole bill per account, 2026-11-02 to 2026-11-15 (UTC days)" in out
    assert "total" in out and "Reconciliation with Usage Records:" in out
    assert "0 mismatch" in " ".join(out.split())
    assert "comparisons (one per account, UTC day and usage category)" in " ".join(out.split())
    assert "account-days" not in out        # the rows are account x day x category
    flat = " ".join(out.split())
    assert "phone numbers" in out and "failed fees" in out        # issue 8.2: whole bill
    assert "From the list endpoints: calls, sms, mms, recordings" in flat
    assert "From Usage Records: phone numbers" in flat and "totalprice" in flat
    for step in ("Starting the simulator", "calls", "messages", "recordings",
                 "usage records", "Writing the report"):
        assert step in err                                   # progress while fetching
    assert "Traceback" not in err


def test_demo_json_quiet_and_refusal_to_overwrite(capsys, tmp_path, no_credentials):
    out_dir = tmp_path / "demo"
    args = ["demo", "--days", "3", "--now", NOW, "--format", "json", "--quiet",
            "--out", str(out_dir)]
    code, out, err = run(capsys, *args)
    assert code == 0 and err == ""
    (out_dir / "note.txt").write_text("mine")
    code, out, err = run(capsys, *args)
    assert code == 1 and out == ""
    assert "already exists; pass --overwrite" in one_error_line(err)
    assert (out_dir / "note.txt").read_text() == "mine"
    code, out, err = run(capsys, *args, "--overwrite")
    assert code == 0 and not (out_dir / "note.txt").exists()


def test_demo_overwrite_never_replaces_a_folder_it_did_not_write(capsys, tmp_path):
    """``--out ~/Documents --overwrite`` must not delete the user's folder."""
    documents = tmp_path / "Documents"
    documents.mkdir()
    (documents / "thesis.odt").write_text("years of work")
    code, out, err = run(capsys, "demo", "--days", "2", "--now", NOW, "--quiet",
                         "--out", str(documents), "--overwrite")
    line = one_error_line(err)
    assert code == 1 and out == ""
    assert "is not a folder this program wrote; refusing to replace it" in line
    assert "pass --overwrite" not in line
    assert [p.name for p in documents.iterdir()] == ["thesis.odt"]
    assert [p.name for p in tmp_path.iterdir()] == ["Documents"]


def test_demo_refuses_a_file_as_output_folder(capsys, tmp_path):
    target = tmp_path / "report"
    target.write_text("precious")
    code, _, err = run(capsys, "demo", "--days", "2", "--out", str(target), "--overwrite")
    assert code == 1 and "is a file, not a folder" in one_error_line(err)
    assert target.read_text() == "precious"


def test_report_without_credentials_names_the_variables(capsys, tmp_path, no_credentials):
    code, _, err = run(capsys, "report", *RANGE, "--out", str(tmp_path / "r"))
    line = one_error_line(err)
    assert code == 1
    for needed in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY",
                   "TWILIO_API_SECRET", "'twilio-frames demo' needs none"):
        assert needed in line
    assert list(tmp_path.iterdir()) == []


def test_report_on_an_account(capsys, tmp_path, sim_env):
    out_dir = tmp_path / "r"
    code, out, err = run(capsys, "report", *RANGE, "--out", str(out_dir), "--quiet")
    assert code == 0, err
    assert (out_dir / "index.html").is_file()
    assert "The whole bill per account, 2026-11-01 to 2026-11-14 (UTC days)" in out
    assert sim_env.auth_token not in out + err


def test_report_for_chosen_accounts_over_json(capsys, tmp_path, sim_env):
    sub = sim_env.dataset.accounts[1]["sid"]
    code, out, err = run(capsys, "report", *RANGE, "--accounts", sub, "--format", "json",
                         "--out", str(tmp_path / "r"), "--quiet")
    assert code == 0, err
    calls = pd.read_csv(tmp_path / "r" / "calls.csv")
    assert set(calls["account_sid"]) == {sub}


def test_report_with_wrong_credentials(capsys, tmp_path, sim_env, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "f" * 32)
    code, _, err = run(capsys, "report", *RANGE, "--out", str(tmp_path / "r"), "--quiet")
    line = one_error_line(err)
    assert code == 1 and "HTTP 401" in line
    assert line.endswith("(check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or "
                         "TWILIO_API_KEY/TWILIO_API_SECRET)")
    assert "f" * 32 not in err
    assert list(tmp_path.iterdir()) == []


def test_report_with_unreachable_base_url(capsys, tmp_path, sim_env):
    code, _, err = run(capsys, "report", *RANGE, "--out", str(tmp_path / "r"), "--quiet",
                       "--base-url", "http://127.0.0.1:9", "--max-retries", "0")
    assert code == 1 and "is the base URL right and reachable?" in one_error_line(err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [
    ["report", "--start", "2026-11-01", "--out", "x"],                  # no --end
    ["report", "--start", "2026-13-01", "--end", "2026-11-02", "--out", "x"],
    ["demo", "--days", "0"],
    ["demo", "--now", "garbage"],
    ["sim", "--days", "0"],
    ["sim", "--currency", "ZZZ"],
    ["sim", "--now", "yesterday-ish"],
    ["sim", "--port", "70000"],
    ["sim", "--subaccounts", "-1"],
    ["fetch", "faxes", "--out", "x.csv"],
    ["export", "invoices", *RANGE, "--out", "x.csv"],
    [],
])
def test_usage_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "usage: twilio-frames" in capsys.readouterr().err


def test_sim_on_a_port_in_use_is_one_line(capsys):
    import socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = run(capsys, "sim", "--port", str(port), "--days", "1")
    assert code == 1 and out == ""
    assert f"cannot serve on 127.0.0.1:{port}" in one_error_line(err)


def test_sim_currency_is_checked_before_serving(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["sim", "--currency", "ZZZ"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "unknown currency 'ZZZ'; choose from" in err
    assert "EUR" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ["report", "--start", "2026-11-05", "--end", "2026-11-01", "--out", "r"],
    ["export", "billing", "--start", "2026-11-05", "--end", "2026-11-05", "--out", "b.csv"],
    ["fetch", "calls", "--start", "2026-11-05", "--end", "2026-11-01", "--out", "c.csv"],
    ["fetch", "calls", "--subresource", "daily", "--out", "c.csv"],
    ["fetch", "accounts", "--start", "2026-11-01", "--out", "a.csv"],
])
def test_options_that_do_not_fit_together_are_usage_errors(capsys, tmp_path, sim_env,
                                                            monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "usage: twilio-frames" in err
    assert "Traceback" not in err and list(tmp_path.iterdir()) == []


def _truth_count(sim, resource, field, start, end) -> int:
    start, end = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
    return sum(1 for a in sim.dataset.accounts for r in sim.dataset.records(resource, a["sid"])
               if r[field] and start <= pd.Timestamp(r[field]) < end)


@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_fetch_writes_by_extension(capsys, tmp_path, sim_env, ext):
    path = tmp_path / f"calls.{ext}"
    code, out, err = run(capsys, "fetch", "calls", *RANGE, "--out", str(path), "--quiet")
    assert code == 0, err
    expected = _truth_count(sim_env, "calls", "start_time", "2026-11-01", "2026-11-15")
    frame = {"csv": pd.read_csv, "parquet": pd.read_parquet,
             "jsonl": lambda p: pd.read_json(p, lines=True)}[ext](path)
    assert len(frame) == expected
    assert f"Wrote {expected:,} calls rows" in out
    if ext == "jsonl":
        first = json.loads(path.read_text().splitlines()[0])
        assert first["sid"].startswith("CA") and first["start_time"].endswith("Z")


def test_fetch_csv_neutralises_formulas_and_keeps_money_exact(capsys, tmp_path, sim_env):
    """Message bodies come from strangers: a cell starting with = + - @ tab or CR must not
    run as a spreadsheet formula (issue 4); the CSV follows the billing CSV's rules."""
    import csv
    path = tmp_path / "messages.csv"       # JSON: the bodies exactly as sent (XML is the
    code, _, err = run(capsys, "fetch", "messages", *RANGE, "--out", str(path), "--quiet",
                       "--format", "json")  # client's to parse; its tests compare the two)
    assert code == 0, err
    raw = path.read_bytes()
    assert raw.count(b"\r\n") >= raw.count(b"\n") - raw.count(b'"')   # CRLF line ends
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    truth = {r["sid"]: r for a in sim_env.dataset.accounts
             for r in sim_env.dataset.records("messages", a["sid"])}
    risky = 0
    for row in rows:
        body = truth[row["sid"]]["body"]
        if body.startswith(("=", "+", "-", "@", "\t", "\r")):
            risky += 1
            assert row["body"] == "'" + body
        else:
            assert row["body"] == body
        for cell in row.values():
            assert not cell.startswith(("=", "@", "\t", "\r")) and not (
                cell.startswith(("+", "-")) and not cell[1:].replace(".", "").isdigit())
        price = truth[row["sid"]]["price"]
        assert (row["price"] == "") if price is None else Decimal(row["price"]) == Decimal(price)
        assert row["date_created"].endswith("Z")
    assert risky > 0


def test_fetch_jsonl_is_plain_json_lines(capsys, tmp_path, sim_env):
    path = tmp_path / "messages.jsonl"
    code, _, err = run(capsys, "fetch", "messages", *RANGE, "--out", str(path), "--quiet",
                       "--format", "json")
    assert code == 0, err
    text = path.read_text(encoding="utf-8")
    assert "\\/" not in text and '"uri":"/2010-04-01/Accounts/' in text
    rows = [json.loads(line) for line in text.splitlines()]
    truth = {r["sid"]: r for a in sim_env.dataset.accounts
             for r in sim_env.dataset.records("messages", a["sid"])}
    assert rows and all((r["body"] or "") == truth[r["sid"]]["body"] for r in rows)
    assert any(not b.isascii() for b in (r["body"] for r in rows))
    assert not any("\\u00" in line for line in text.splitlines())   # UTF-8, not \u escapes


def test_fetch_usage_records_and_accounts(capsys, tmp_path, sim_env):
    code, _, err = run(capsys, "fetch", "usage-records", "--subresource", "daily", *RANGE,
                       "--out", str(tmp_path / "u.csv"), "--quiet")
    assert code == 0, err
    usage = pd.read_csv(tmp_path / "u.csv")
    assert set(usage["account_sid"]) == {a["sid"] for a in sim_env.dataset.accounts}
    code, _, err = run(capsys, "fetch", "accounts", "--out", str(tmp_path / "a.csv"), "--quiet")
    assert code == 0, err
    accounts = pd.read_csv(tmp_path / "a.csv")
    assert len(accounts) == len(sim_env.dataset.accounts)
    assert "auth_token" not in accounts.columns


def test_fetch_parquet_without_pyarrow_says_how_to_install(capsys, tmp_path, sim_env,
                                                           monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    code, _, err = run(capsys, "fetch", "calls", *RANGE, "--out", str(tmp_path / "c.parquet"))
    assert code == 1 and "pip install 'twilio-frames[parquet]'" in one_error_line(err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["fetch", "calls"], ["export", "billing"], ["demo"]])
def test_unwritable_output_names_the_real_target(capsys, tmp_path, sim_env, monkeypatch,
                                                 command):
    """The folder refuses new entries (as for a user without write permission; the test
    runs as root, so the refusal is injected where the temporary is created)."""
    from twilio_frames.output import outputs
    real_open, real_mkdir = os.open, os.mkdir

    def refuse(create):
        def wrapped(path, *args, **kwargs):
            if os.path.basename(path).startswith("."):
                raise PermissionError(13, "Permission denied", str(path))
            return create(path, *args, **kwargs)
        return wrapped
    monkeypatch.setattr(outputs.os, "open", refuse(real_open))
    monkeypatch.setattr(outputs.os, "mkdir", refuse(real_mkdir))
    demo = command == ["demo"]
    target = tmp_path / ("r" if demo else "out.csv")
    argv = [*command, *([] if demo else RANGE), "--out", str(target), "--quiet",
            *(["--days", "2", "--now", NOW] if demo else [])]
    code, _, err = run(capsys, *argv)
    line = one_error_line(err)
    assert code == 1 and line == f"twilio-frames: error: Permission denied: {target}"
    assert list(tmp_path.iterdir()) == []


def test_fetch_refuses_unknown_extension_and_existing_file(capsys, tmp_path, sim_env):
    code, _, err = run(capsys, "fetch", "calls", "--out", str(tmp_path / "c.xlsx"))
    assert code == 1 and ".csv, .jsonl, .parquet" in one_error_line(err)
    existing = tmp_path / "c.csv"
    existing.write_text("old\n")
    code, _, err = run(capsys, "fetch", "calls", *RANGE, "--out", str(existing), "--quiet")
    assert code == 1 and "pass --overwrite" in one_error_line(err)
    assert existing.read_text() == "old\n"


def test_export_billing_and_line_items(capsys, tmp_path, sim_env):
    code, out, err = run(capsys, "export", "billing", *RANGE, "--freq", "D",
                         "--out", str(tmp_path / "b.csv"), "--quiet")
    assert code == 0, err
    billing = pd.read_csv(tmp_path / "b.csv")
    assert {"period_start", "account_sid", "product", "cost", "currency"} <= set(billing)
    assert billing["period_start"].min() == "2026-11-01"
    assert billing["period_start"].max() == "2026-11-14"
    code, out, err = run(capsys, "export", "line-items", "--resource", "messages", *RANGE,
                         "--out", str(tmp_path / "m.csv"), "--quiet")
    assert code == 0, err
    items = pd.read_csv(tmp_path / "m.csv")
    expected = _truth_count(sim_env, "messages", "date_sent", "2026-11-01", "2026-11-15")
    assert len(items) == expected and f"Wrote {expected:,} messages line items" in out


def test_python_dash_m_runs_the_cli():
    done = subprocess.run([sys.executable, "-m", "twilio_frames", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for command in ("demo", "report", "fetch", "export", "sim"):
        assert command in done.stdout


def test_fetch_with_an_api_key_instead_of_the_auth_token(capsys, tmp_path, sim_env,
                                                        monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    monkeypatch.setenv("TWILIO_API_KEY", sim_env.api_key)
    monkeypatch.setenv("TWILIO_API_SECRET", sim_env.api_secret)
    code, out, err = run(capsys, "fetch", "recordings", *RANGE, "--out",
                         str(tmp_path / "r.csv"), "--quiet")
    assert code == 0, err
    assert sim_env.api_secret not in out + err
    expected = _truth_count(sim_env, "recordings", "date_created", "2026-11-01", "2026-11-15")
    assert len(pd.read_csv(tmp_path / "r.csv")) == expected


def test_demo_with_a_file_as_parent_fails_in_one_line_before_fetching(capsys, tmp_path,
                                                                     monkeypatch):
    from twilio_frames import simulator
    monkeypatch.setattr(simulator, "running", lambda **kw: pytest.fail("fetched anyway"))
    (tmp_path / "afile").write_text("x")
    code, out, err = run(capsys, "demo", "--days", "2", "--quiet",
                         "--out", str(tmp_path / "afile" / "sub"))
    assert code == 1 and out == ""
    assert one_error_line(err).endswith(f"error: Not a directory: {tmp_path / 'afile'}")


def test_cli_and_client_share_one_default_wire_format():
    """Issue 8.14: the CLI said XML while tf.Client said JSON. Every command that fetches
    uses the Client's default, so a frame from either is fetched the same way."""
    import inspect

    from twilio_frames.cli.main import build_parser
    import twilio_frames as tf
    default = inspect.signature(tf.Client).parameters["format"].default
    parser = build_parser()
    for argv in (["demo"], ["report", "--start", "2026-10-01", "--end", "2026-11-01", "--out", "r"],
                 ["fetch", "calls", "--start", "2026-10-01", "--end", "2026-11-01",
                  "--out", "c.csv"]):
        assert parser.parse_args(argv).format == default, argv
