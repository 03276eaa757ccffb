"""Credentials and base URL: argument > environment > an error listing every way."""

from __future__ import annotations

import pytest

import twilio_frames as tf
from twilio_frames.config import resolve_base_url, resolve_credentials

SID = "AC" + "a" * 32
TOKEN = "tok-" + "9" * 28
KEY, SECRET = "SK" + "b" * 32, "sec-" + "8" * 28


def test_arguments_win_over_environment():
    env = {"TWILIO_ACCOUNT_SID": "AC" + "c" * 32, "TWILIO_AUTH_TOKEN": "other"}
    c = resolve_credentials(SID, TOKEN, env=env)
    assert (c.account_sid, c.username, c.password, c.kind) == (SID, SID, TOKEN, "auth_token")


def test_environment_token_and_api_key():
    c = resolve_credentials(env={"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN})
    assert c.password == TOKEN
    c = resolve_credentials(env={"TWILIO_ACCOUNT_SID": SID, "TWILIO_API_KEY": KEY,
                                 "TWILIO_API_SECRET": SECRET})
    assert (c.account_sid, c.username, c.password, c.kind) == (SID, KEY, SECRET, "api_key")
    c = resolve_credentials(SID, api_key=KEY, api_secret=SECRET, env={"TWILIO_AUTH_TOKEN": TOKEN})
    assert c.username == KEY


@pytest.mark.parametrize("args,env,what", [
    ((), {}, "no Twilio account SID"),
    ((SID,), {}, "no Twilio secret"),
    ((SID,), {"TWILIO_API_KEY": KEY}, "TWILIO_API_SECRET is missing"),
    (("ACshort", TOKEN), {}, "does not look like"),
])
def test_missing_credentials_error_lists_every_way(args, env, what):
    with pytest.raises(tf.ConfigurationError, match=what) as info:
        resolve_credentials(*args, env=env)
    text = str(info.value)
    for way in ("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "api_key=",
                "tf.Client(account_sid, auth_token)"):
        assert way in text
    assert isinstance(info.value, ValueError)


def test_api_key_without_secret_is_refused():
    with pytest.raises(tf.ConfigurationError, match="together"):
        resolve_credentials(SID, api_key=KEY, env={})


def test_secret_not_in_repr():
    c = resolve_credentials(SID, TOKEN, env={})
    assert TOKEN not in repr(c)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://127.1.2.3", "http://[::1]:9",
                                 "http://localhost:5000/", "https://api.twilio.com",
                                 "https://example.com"])
def test_allowed_base_urls(url):
    assert resolve_base_url(url, env={}) == url.rstrip("/")


@pytest.mark.parametrize("url,what", [
    ("http://example.com", "refusing plain http"),
    ("http://10.0.0.1:80", "refusing plain http"),
    ("http://127.0.0.1.example.com", "refusing plain http"),
    ("ftp://127.0.0.1", "http"),
    ("https://user:pw@api.twilio.com", "credentials"),
])
def test_refused_base_urls(url, what):
    with pytest.raises(tf.ConfigurationError, match=what):
        resolve_base_url(url, env={})


def test_base_url_default_and_environment():
    assert resolve_base_url(env={}) == "https://api.twilio.com"
    assert resolve_base_url(env={"TWILIO_API_BASE": "http://127.0.0.1:1"}) == "http://127.0.0.1:1"
    with pytest.raises(tf.ConfigurationError):
        resolve_base_url(env={"TWILIO_API_BASE": "http://example.com"})
