"""CLI outputs are what their names say (issue 8.4) and options that do not apply are usage
errors (issue 8.12): all found before anything is fetched or written."""

from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames.cli.main import main

from cli_run import run

RANGE = ["--start", "2026-11-01", "--end", "2026-11-15"]


def usage_exit(capsys, *argv) -> str:
    """Run argv, expect argparse's usage error (exit 2); return stderr."""
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "usage: twilio-frames" in err, err
    assert "Traceback" not in err
    return err


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


@pytest.mark.parametrize("argv, complaint", [
    (["export", "line-items", *RANGE, "--freq", "D"],
     "--freq applies to 'twilio-frames export billing' only"),
    (["export", "line-items", *RANGE, "--by", "our_number"],
     "--by applies to 'twilio-frames export billing' only"),
    (["export", "billing", *RANGE, "--resource", "messages"],
     "--resource applies to 'twilio-frames export line-items' only"),
    (["export", "billing", *RANGE, "--bogus"], "unrecognized arguments: --bogus"),
    (["fetch", "usage_records", "--subresource", "weekly"], "invalid choice: 'weekly'"),
    (["fetch", "calls", "--subresource", "daily"], "applies to usage_records only"),
    (["fetch", "accounts", "--accounts", "AC" + "0" * 32], "drop --accounts"),
    (["report", *RANGE, "--tz", "Mars/Olympus", "--out", "r"], "unknown time zone"),
])
def test_options_that_do_not_apply_are_usage_errors(capsys, tmp_path, sim_env, argv,
                                                    complaint):
    err = usage_exit(capsys, *[a if a != "r" else str(tmp_path / "r") for a in argv],
                     *([] if "--out" in argv else ["--out", str(tmp_path / "x.csv")]))
    assert complaint in err
    assert sim_env.stats.requests == 0 and list(tmp_path.iterdir()) == []


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"twilio-frames {tf.__version__}"


def test_every_option_of_every_command_has_help_text():
    import argparse

    from twilio_frames.cli.main import build_parser

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, [*path, name])
            elif action.help != argparse.SUPPRESS:
                yield path, action
    missing = [(" ".join(path), action.dest) for path, action in walk(build_parser(), [])
               if not action.help]
    assert missing == []


@pytest.mark.parametrize("command", [["export", "billing", *RANGE],
                                     ["fetch", "calls", *RANGE],
                                     ["report", *RANGE]])
def test_out_into_a_missing_folder_is_named_not_created(capsys, tmp_path, sim_env, command):
    target = tmp_path / "no-such-folder" / ("r" if command[0] == "report" else "b.csv")
    code, _, err = run(capsys, *command, "--out", str(target), "--quiet")
    lines = [x for x in err.splitlines() if x.strip()]
    assert code == 1 and lines == [f"twilio-frames: error: folder does not exist (create it "
                                   f"first): {tmp_path / 'no-such-folder'}"]
    assert sim_env.stats.requests == 0 and list(tmp_path.iterdir()) == []


def test_report_tz_draws_the_activity_charts_in_that_zone(capsys, tmp_path, sim_env):
    for zone in ("UTC", "Asia/Kolkata"):
        code, _, err = run(capsys, "report", *RANGE, "--tz", zone, "--quiet",
                           "--out", str(tmp_path / zone.replace("/", "-")))
        assert code == 0, err
    utc, ist = tmp_path / "UTC", tmp_path / "Asia-Kolkata"
    page = " ".join((ist / "index.html").read_text(encoding="utf-8").split())
    assert "Calls by weekday and hour (Asia/Kolkata)" in page
    assert "Asia/Kolkata for the activity charts; costs, billing and reconciliation in UTC" \
        in page
    assert (utc / "call_heatmap.png").read_bytes() != (ist / "call_heatmap.png").read_bytes()
    assert (utc / "billing.csv").read_bytes() == (ist / "billing.csv").read_bytes()
