"""What a ``kill -9`` leaves behind is removed by the next write there (issue 8.10): only
temporaries of ours (marker and name), only once their process is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from twilio_frames.output.leftovers import OWNER_FILE, clean_leftovers
from twilio_frames.output.outputs import REPORT_MARKER, atomic_file, atomic_folder

WRITER = textwrap.dedent("""
    import os, sys, time
    from twilio_frames.output import outputs
    out, mode = sys.argv[1], sys.argv[2]
    if mode == "swap":       # stop between the two renames of replacing a report
        real = os.rename
        def rename(src, dst):
            real(src, dst)
            if ".old-" in str(dst):
                print("ready", flush=True)
                time.sleep(600)
        outputs.os.rename = rename
    with outputs.atomic_folder(out + "/report", marker=outputs.REPORT_MARKER,
                               overwrite=mode == "swap") as tmp:
        (tmp / "billing.csv").write_text("half")
        with outputs.atomic_file(out + "/calls.csv") as part:
            part.write_text("half")
            if mode == "write":
                print("ready", flush=True)
                time.sleep(600)
""")


def start_writer(folder: Path, mode: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(folder), mode],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    return proc


def kill_9(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_kill_9_leftovers_are_removed_by_the_next_write_not_while_alive(tmp_path):
    proc = start_writer(tmp_path, "write")
    try:
        left = hidden(tmp_path)
        assert len(left) == 2 and any(".report.partial-tf" in n for n in left)
        assert any(n.startswith(".calls.tf") and n.endswith(".part.csv") for n in left)
        with atomic_file(tmp_path / "other.csv") as tmp:     # the writer is alive:
            tmp.write_text("ok")                             # its temporaries stay
        assert hidden(tmp_path) == left
    finally:
        kill_9(proc)
    assert hidden(tmp_path) == left                          # kill -9 ran no cleanup
    with atomic_folder(tmp_path / "next", marker=REPORT_MARKER):
        pass
    assert hidden(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["next", "other.csv"]
    assert sorted(p.name for p in (tmp_path / "next").iterdir()) == [REPORT_MARKER]


def test_kill_9_between_the_renames_puts_the_old_report_back(tmp_path):
    with atomic_folder(tmp_path / "report", marker=REPORT_MARKER) as tmp:
        (tmp / "index.html").write_text("the old report")
    proc = start_writer(tmp_path, "swap")
    kill_9(proc)
    assert not (tmp_path / "report").exists()                # mid-swap: name is free
    assert clean_leftovers(tmp_path)
    assert (tmp_path / "report" / "index.html").read_text() == "the old report"
    assert hidden(tmp_path) == []


def test_lookalikes_that_are_not_ours_are_kept(tmp_path):
    dead = "tf999999999-1"                         # no such process id
    no_marker = tmp_path / f".report.partial-{dead}-0123abcd"
    no_marker.mkdir()
    (no_marker / "index.html").write_text("someone's")
    wrong_marker = tmp_path / f".report.partial-{dead}-4567abcd"
    wrong_marker.mkdir()
    (wrong_marker / OWNER_FILE).write_text("tf1-2\n")
    for name in (".report.partial-abc", ".calls.part.csv", f".calls.{dead}.part.csv",
                 ".notes", "report.partial-x"):
        (tmp_path / name).write_text("keep")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert clean_leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    ours = tmp_path / f".calls.{dead}.0123abcd.part.csv"
    ours.write_text("half")
    unmarked_empty = tmp_path / f".report.partial-{dead}-89abcdef"   # killed before the
    unmarked_empty.mkdir()                                           # marker was written
    half_marked = tmp_path / f".report.old-{dead}-89abcdef"          # or while writing it
    half_marked.mkdir()
    (half_marked / OWNER_FILE).write_text(dead[:5])
    assert sorted(clean_leftovers(tmp_path)) == sorted([ours.name, unmarked_empty.name,
                                                        half_marked.name])
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.slow
def test_kill_9_during_demo_report_is_cleaned_by_the_next_demo(tmp_path):
    """The real thing: the CLI writing a report, killed while its hidden folder exists."""
    argv = [sys.executable, "-m", "twilio_frames", "demo", "--days", "3", "--quiet",
            "--now", "2026-11-15T12:00:00Z", "--out", str(tmp_path / "r")]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120      # a bound on waiting, not an assertion
        while not any(".r.partial-" in n for n in hidden(tmp_path)):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.005)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert hidden(tmp_path) and not (tmp_path / "r").exists()
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert hidden(tmp_path) == [] and (tmp_path / "r" / "index.html").is_file()
    assert OWNER_FILE not in os.listdir(tmp_path / "r")
