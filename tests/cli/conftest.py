"""Fixtures shared by the CLI tests."""

import pytest


@pytest.fixture
def sim_env(sim, monkeypatch):
    """The session simulator's credentials in the environment, as a user would set them,
    with its request counters reset so a test counts only its own requests."""
    for name in ("TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", sim.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", sim.auth_token)
    monkeypatch.setenv("TWILIO_API_BASE", sim.base_url)
    sim.reset_stats()
    return sim
