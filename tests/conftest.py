"""Shared fixtures.

``sim``      session-scoped: one simulator (a fixed seed and a fixed ``now``, so data and
             bytes are the same on every run) served on 127.0.0.1 for the whole test run.
             Read-only use: don't leave faults on. Use ``faulty_sim`` to change faults.
             Attributes: ``base_url``, ``account_sid``, ``auth_token``, ``api_key``,
             ``api_secret``, ``dataset`` (the ground truth), ``stats``.
``http``     a fresh ``requests.Session`` (keep-alive), closed after the test.
``faulty_sim`` the same ``sim``; its faults are switched off and its stats reset after the
             test, whatever the test did with ``sim.set_faults(...)``.

``browser_page`` a function: ``with browser_page(path) as page:`` opens a local HTML file in
             headless Chromium (Playwright) and yields ``browser.LoadedPage`` (console
             ``problems``, ``table_rows()``, ``scroll_width()``, ``images()``, ``text()``);
             skips the test when no Chromium is installed. See tests/browser.py.

``SIM_OPTIONS`` are the dataset options of ``sim``; build a second simulator with the
same options to compare bytes.
"""

from __future__ import annotations

import os
import warnings

import pytest
import requests

import browser

from twilio_frames import simulator

#: Dataset options of the session simulator: small enough to build in well under a second.
SIM_OPTIONS = {"seed": 20261115, "now": "2026-11-15T12:00:00Z", "days": 21,
               "subaccounts": 2}


@pytest.fixture(scope="session")
def sim():
    with simulator.running(**SIM_OPTIONS) as running_sim:
        yield running_sim


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture
def faulty_sim(sim):
    sim.set_faults(simulator.Faults())
    sim.reset_stats()
    yield sim
    sim.set_faults(simulator.Faults())
    sim.reset_stats()


@pytest.fixture
def browser_page():
    if browser.find_chromium() is None:
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    return browser.open_html


@pytest.fixture
def sim_env(sim, monkeypatch):
    """The session simulator's credentials in the environment, as a user would set them,
    with its request counters reset so a test counts only its own requests (the CLI tests)."""
    for name in ("TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", sim.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", sim.auth_token)
    monkeypatch.setenv("TWILIO_API_BASE", sim.base_url)
    sim.reset_stats()
    return sim


def in_forked_child(check) -> bool:
    """``check()`` run in a child forked here (what a fork inherits, say a paused
    collector or idle pools); True when it returned truthy there. The child leaves with
    ``os._exit``, never through pytest; an exception in it answers False."""
    read, write = os.pipe()
    with warnings.catch_warnings():             # 3.12+: fork() of a threaded process warns
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        try:
            os.write(write, b"1" if check() else b"0")
        finally:
            os._exit(0)
    os.close(write)
    try:
        return os.read(read, 1) == b"1"
    finally:
        os.close(read)
        os.waitpid(pid, 0)
