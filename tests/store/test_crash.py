"""kill -9 in the middle of a sync (a real subprocess): the store still reads, and the next
sync resumes without fetching settled days again and ends equal to a fresh fetch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames.store import layout

from conftest import SIM_OPTIONS

START = "2026-10-26"
SYNC = """
import twilio_frames as tf
client = tf.Client(progress=False, max_workers=2)
tf.Store({root!r}).sync(client, start={start!r})
"""


def partitions(root) -> list:
    return [p for r in layout.PERIOD for p in layout.iter_partitions(root, r)]


@pytest.mark.parametrize("kill_after", [12, 80])
def test_kill_9_mid_sync_then_resume_equals_a_fresh_fetch(tmp_path, kill_after):
    root = tmp_path / "s"
    with tf.simulator.running(**SIM_OPTIONS, latency=0.02) as sim:
        env = {**os.environ, "TWILIO_ACCOUNT_SID": sim.account_sid,
               "TWILIO_AUTH_TOKEN": sim.auth_token, "TWILIO_API_BASE": sim.base_url}
        proc = subprocess.Popen([sys.executable, "-c", SYNC.format(root=str(root), start=START)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 120
            while len(partitions(root)) < kill_after and proc.poll() is None:
                assert time.monotonic() < deadline, "the sync made no progress"
                time.sleep(0.005)
            assert proc.poll() is None, "the sync finished before it could be killed"
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=60)
            proc.stdout.close()
            proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        sim.set_faults(tf.simulator.Faults())       # no latency from here on

        store = tf.Store(root)
        for resource in layout.PERIOD:              # every partition reads, none half-written
            store.frame(resource)
        before = store.status()
        assert before["rows"].notna().all() and len(before) >= kill_after
        client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url,
                           progress=False)
        resumed = store.sync(client, start=START)      # the same command, run again
        after = store.status().set_index("path")
        settled = before[before["settled"].astype(bool)].set_index("path")["fetched_at"]
        assert resumed.skipped >= len(settled) > 0
        assert after.loc[settled.index, "fetched_at"].equals(settled)   # not fetched again
        assert not list(root.rglob("*.tmp"))
        now = pd.Timestamp(SIM_OPTIONS["now"])
        for resource in ("calls", "messages", "recordings"):
            pd.testing.assert_frame_equal(
                store.frame(resource, START, now),
                getattr(client, resource)(start=START, end=now, accounts="all"))
        pd.testing.assert_frame_equal(
            store.frame("usage_records", START, now),
            client.usage_records("daily", start=START, end=now, accounts="all"))
