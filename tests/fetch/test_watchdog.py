"""The one watchdog thread behind every request's head deadline."""

from __future__ import annotations

import socket
import threading
import time

import twilio_frames as tf
from twilio_frames.fetch import watchdog
from twilio_frames.fetch.watchdog import _Watchdog

from conftest import SIM_OPTIONS


def watchdog_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "twilio-frames-deadlines"]


def test_a_socket_is_shut_at_its_deadline_and_not_when_disarmed_first():
    dog = _Watchdog()
    late, spare = socket.socketpair()
    kept, other = socket.socketpair()
    with late, spare, kept, other:
        late.settimeout(5)
        dog.disarm(dog.arm(time.monotonic() + 0.2, kept))
        t0 = time.monotonic()
        dog.arm(t0 + 0.3, late)
        assert late.recv(10) == b""                  # shut: the read ends, no data
        assert 0.25 <= time.monotonic() - t0 < 4
        other.sendall(b"x")
        kept.settimeout(5)
        assert kept.recv(10) == b"x"                 # disarmed: still open


def test_a_sooner_deadline_armed_later_is_still_kept():
    dog = _Watchdog()
    a, b = socket.socketpair()
    c, d = socket.socketpair()
    with a, b, c, d:
        dog.arm(time.monotonic() + 60, a)            # the thread now waits for this one
        t0 = time.monotonic()
        dog.arm(t0 + 0.2, c)
        c.settimeout(5)
        assert c.recv(10) == b"" and time.monotonic() - t0 < 4


def test_disarmed_entries_do_not_pile_up():
    dog = _Watchdog()
    a, b = socket.socketpair()
    with a, b:
        for _ in range(5_000):
            dog.disarm(dog.arm(time.monotonic() + 120, a))
        assert len(dog._heap) <= 64 + 2 and not dog._armed


def test_many_requests_share_one_watchdog_thread():
    with tf.simulator.running(**SIM_OPTIONS) as sim:
        client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url,
                           progress=False, page_size=20)
        client.calls(limit=1)                        # the watchdog thread is started
        dogs, before = watchdog_threads(), threading.active_count()
        assert watchdog._WATCHDOG._thread in dogs
        df = client.calls(limit=200)                 # ten GETs
        assert len(df) == 200 and watchdog_threads() == dogs
        assert threading.active_count() <= before + client.max_workers
