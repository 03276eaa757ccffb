"""Automatic garbage collection is off while a fetch reads pages, and comes back after."""

from __future__ import annotations

import gc
import threading

import pytest

import twilio_frames as tf
from twilio_frames.fetch import gcpause

from conftest import in_forked_child


@pytest.fixture(autouse=True)
def collection_on():
    gc.enable()
    yield
    gc.enable()


def test_paused_turns_collection_off_and_back_on_even_on_error():
    with gcpause.paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError):
        with gcpause.paused():
            raise ValueError("boom")
    assert gc.isenabled()


def test_nested_and_overlapping_pauses_end_with_the_last():
    outer_done, inner_started = threading.Event(), threading.Event()
    seen = []

    def other_fetch():
        with gcpause.paused():
            inner_started.set()
            outer_done.wait(5)
            seen.append(gc.isenabled())      # the first fetch ended: still off for this one
        seen.append(gc.isenabled())

    with gcpause.paused():
        with gcpause.paused():
            pass
        assert not gc.isenabled()            # the nested one ended, the outer has not
        t = threading.Thread(target=other_fetch)
        t.start()
        assert inner_started.wait(5)
    outer_done.set()
    t.join(5)
    assert seen == [False, True]
    assert gc.isenabled()


def test_collection_the_caller_turned_off_stays_off():
    gc.disable()
    with gcpause.paused():
        pass
    assert not gc.isenabled()


def test_a_fetch_pauses_collection_while_reading_pages_and_restores_it(sim, monkeypatch):
    from twilio_frames.fetch import assemble
    states = []
    add = assemble.FrameBuilder.add

    def spy(self, *args, **kwargs):
        states.append(gc.isenabled())
        return add(self, *args, **kwargs)

    monkeypatch.setattr(assemble.FrameBuilder, "add", spy)
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False,
                       page_size=50)
    df = client.calls()
    assert len(df) > 50 and states and not any(states)
    assert gc.isenabled()


def test_a_failed_fetch_restores_collection(sim):
    client = tf.Client(sim.account_sid, "not-the-token", base_url=sim.base_url, progress=False)
    with pytest.raises(tf.APIError):
        client.calls()
    assert gc.isenabled()


def test_a_child_forked_during_a_fetch_collects_again():
    with gcpause.paused():
        assert in_forked_child(gc.isenabled)
    assert gc.isenabled()
