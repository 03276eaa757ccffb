"""``twilio-frames statements`` against the session simulator (issue 12 item 5)."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from twilio_frames.cli.main import main

from cli_run import run


def test_statements_for_a_month(capsys, tmp_path, sim_env):
    rules = tmp_path / "rules.toml"
    rules.write_text('minimum = "25.00"\n[default]\npercent = 20\n', encoding="utf-8")
    out_dir = tmp_path / "st"
    code, out, err = run(capsys, "statements", "--month", "2026-11", "--rules", str(rules),
                         "--issuer", "Northwind Reselling", "--out", str(out_dir), "--quiet")
    assert code == 0, err
    names = sorted(p.name for p in out_dir.iterdir() if not p.name.startswith("."))
    accounts = [a["sid"] for a in sim_env.dataset.accounts]
    assert names == sorted(["statements.csv", *[f"{s}-2026-11.{x}" for s in accounts
                                                for x in ("csv", "html")]])
    with open(out_dir / "statements.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["provisional"] for r in rows} == {"true"}           # November is not over
    charge = sum(Decimal(r["charge"]) for r in rows)
    assert charge >= Decimal("25.00") * len(accounts)
    assert "provisional" in out and "Master cross-check: every account" in out
    assert sim_env.auth_token not in out + err


def test_bad_rules_fail_before_fetching_and_write_nothing(capsys, tmp_path, sim_env):
    rules = tmp_path / "rules.toml"
    rules.write_text("[default]\npercent = 20\nmarkup = 3\n", encoding="utf-8")
    code, _, err = run(capsys, "statements", "--month", "2026-11", "--rules", str(rules),
                       "--out", str(tmp_path / "st"))
    assert code == 1 and "line 3" in err and "markup" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "st").exists()
    with pytest.raises(SystemExit) as exc:
        main(["statements", "--month", "Nov", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2 and "expected a month YYYY-MM" in capsys.readouterr().err


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "9999-12", "26-10"])
def test_a_month_that_is_not_yyyy_mm_is_a_usage_error(capsys, tmp_path, month):
    with pytest.raises(SystemExit) as exc:
        main(["statements", "--month", month, "--out", str(tmp_path / "x")])
    assert exc.value.code == 2 and "expected a month YYYY-MM" in capsys.readouterr().err


def test_a_month_without_usage_says_so_and_writes_nothing(capsys, tmp_path, sim_env):
    code, _, err = run(capsys, "statements", "--month", "2099-01", "--out",
                       str(tmp_path / "st"), "--quiet")
    assert code == 1 and "no Usage Records for 2099-01" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "st").exists()


def _files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")}


def test_statements_from_a_store_equal_statements_from_the_api(capsys, tmp_path, sim_env,
                                                               monkeypatch):
    root = tmp_path / "history"
    code, _, err = run(capsys, "sync", str(root), "--start", "2026-10-01", "--end",
                       "2026-11-01", "--resources", "accounts", "usage_records", "calls",
                       "messages", "--quiet")
    assert code == 0, err
    rules = tmp_path / "rules.toml"
    rules.write_text('minimum = "25.00"\n[default]\npercent = 20\n', encoding="utf-8")
    common = ["statements", "--month", "2026-10", "--rules", str(rules), "--quiet"]
    code, api_out, err = run(capsys, *common, "--out", str(tmp_path / "api"))
    assert code == 0, err
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):      # no credentials, no API
        monkeypatch.delenv(name)
    monkeypatch.setenv("TWILIO_API_BASE", "http://127.0.0.1:9")
    code, out, err = run(capsys, *common, "--store", str(root), "--out", str(tmp_path / "st"))
    assert code == 0, err
    api, store = _files(tmp_path / "api"), _files(tmp_path / "st")
    assert len(api) > 3 and api == store                  # byte for byte, every file
    assert err.strip() == "Master cross-check skipped: it needs the master's " \
        "IncludeSubaccounts=true totals, which a store does not keep."
    assert "Master cross-check: every account" in api_out and "every account" not in out
    table = [o.split("Master cross-check")[0].splitlines()[2:] for o in (api_out, out)]
    assert table[0] == table[1] and len(table[0]) > 3       # the same customers and sums

    code, _, err = run(capsys, *common, "--store", str(root), "--month", "2026-09",
                       "--out", str(tmp_path / "sep"))
    assert code == 1 and f"the store {root} holds no usage records for 2026-09" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "sep").exists()


def test_statements_from_a_store_synced_mid_month_say_what_the_detail_covers(
        capsys, tmp_path, sim_env):
    root = tmp_path / "history"
    code, _, err = run(capsys, "sync", str(root), "--start", "2026-10-28", "--resources",
                       "accounts", "usage_records", "calls", "messages", "--quiet")
    assert code == 0, err
    code, out, err = run(capsys, "statements", "--month", "2026-10", "--store", str(root),
                         "--out", str(tmp_path / "st"), "--quiet")
    assert code == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("warning: statement AC")
    assert "calls and messages 2026-10-28 to 2026-10-31, 4 of 31 days" in lines[0]
    assert lines[1].startswith("Master cross-check skipped")
    for page in (tmp_path / "st").glob("AC*-2026-10.html"):
        assert '<p class="coverage">Detail tables cover only part of' in page.read_text("utf-8")

