"""Credentials and base URL: argument > environment > an error listing every way."""

from __future__ import annotations

import pytest

import twilio_frames as tf
from twilio_frames.fetch.config import resolve_base_url, resolve_credentials

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


REAL_TOKEN = "9dff0c6b1e4a4f2c8b7d5e3a1c0f9e8d"      # what an auth token looks like
REAL_SECRET = "Qm7vX2pL9sK4tR8wZ1yN6bC3hF5jD0aE"     # what an API key secret looks like


def leaks(text, secret):
    """Any 8 consecutive characters of ``secret`` in ``text``."""
    return any(secret[i:i + 8] in text for i in range(len(secret) - 7))


def refused(*args, env, **kw):
    with pytest.raises(tf.ConfigurationError) as info:
        resolve_credentials(*args, env=env, **kw)
    return info.value


@pytest.mark.parametrize("args,kw,env,where", [
    ((REAL_TOKEN, SID), {}, {}, "account_sid argument"),                       # swapped
    ((REAL_TOKEN,), {}, {"TWILIO_AUTH_TOKEN": REAL_TOKEN}, "account_sid argument"),
    ((), {}, {"TWILIO_ACCOUNT_SID": REAL_TOKEN, "TWILIO_AUTH_TOKEN": SID}, "TWILIO_ACCOUNT_SID"),
    ((), {}, {"TWILIO_ACCOUNT_SID": REAL_SECRET, "TWILIO_AUTH_TOKEN": REAL_TOKEN}, "TWILIO_ACCOUNT_SID"),
    ((SID,), {"api_key": REAL_SECRET, "api_secret": KEY}, {}, "api_key argument"),
    ((SID,), {"api_key": REAL_TOKEN, "api_secret": REAL_SECRET}, {}, "api_key argument"),
    ((), {}, {"TWILIO_ACCOUNT_SID": SID, "TWILIO_API_KEY": REAL_SECRET,
              "TWILIO_API_SECRET": REAL_TOKEN}, "TWILIO_API_KEY"),
    ((SID,), {"api_secret": REAL_SECRET}, {"TWILIO_AUTH_TOKEN": REAL_TOKEN}, "together"),
    ((SID,), {"api_key": KEY}, {"TWILIO_API_SECRET": REAL_SECRET}, "together"),
    ((), {}, {"TWILIO_ACCOUNT_SID": SID, "TWILIO_API_SECRET": REAL_SECRET}, "TWILIO_API_KEY is missing"),
    ((SID,), {}, {"TWILIO_API_KEY": KEY, "TWILIO_AUTH_TOKEN": ""}, "TWILIO_API_SECRET is missing"),
])
def test_credential_errors_never_echo_a_secret(args, kw, env, where):
    err = refused(*args, env=env, **kw)
    for text in (str(err), repr(err)):
        assert where in text
        assert not leaks(text, REAL_TOKEN) and not leaks(text, REAL_SECRET)


def test_swapped_sid_and_token_says_what_is_wrong_and_where():
    err = refused(REAL_TOKEN, SID, env={})
    first = str(err).splitlines()[0]
    assert first == ("the account SID from the account_sid argument does not look like 'AC' + "
                     "32 hex digits: it has 32 characters, does not start with 'AC' (like an "
                     "auth token or secret: are two values swapped?).")
    assert "not 'AC' followed by hex" in str(refused("AC" + "z" * 32, TOKEN, env={}))


def test_client_with_swapped_arguments_never_echoes_the_token(monkeypatch):
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(tf.ConfigurationError) as info:
        tf.Client(REAL_TOKEN, SID, base_url="http://127.0.0.1:1")
    assert not leaks(str(info.value) + repr(info.value), REAL_TOKEN)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", REAL_TOKEN)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", SID)
    with pytest.raises(tf.ConfigurationError, match="TWILIO_ACCOUNT_SID") as info:
        tf.Client(base_url="http://127.0.0.1:1")
    assert not leaks(str(info.value) + repr(info.value), REAL_TOKEN)


@pytest.mark.parametrize("url,env,where", [
    (f"https://{SID}:{REAL_TOKEN}@api.twilio.com", {}, "base_url argument"),
    (f"ftp://{SID}:{REAL_TOKEN}@127.0.0.1", {}, "base_url argument"),
    (f"http://user:{REAL_TOKEN}@example.com", {}, "base_url argument"),
    (f"https://api.twilio.com/?AuthToken={REAL_TOKEN}", {}, "base_url argument"),
    (f"https://api.twilio.com/#{REAL_TOKEN}", {}, "base_url argument"),
    (None, {"TWILIO_API_BASE": f"https://x:{REAL_TOKEN}@api.twilio.com"}, "TWILIO_API_BASE"),
    (f"http://[::1:{REAL_TOKEN}", {}, "base_url argument"),
    (f"https://api.twilio.com:{REAL_TOKEN}", {}, "base_url argument"),
])
def test_base_url_errors_never_echo_credentials_in_it(url, env, where):
    with pytest.raises(tf.ConfigurationError) as info:
        resolve_base_url(url, env=env)
    for text in (str(info.value), repr(info.value)):
        assert where in text and not leaks(text, REAL_TOKEN)
