"""The HTTP transport against a scripted loopback server: retries, errors, secrets, logs."""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pathlib import Path

import pytest

import twilio_frames as tf
from twilio_frames.fetch.config import Credentials
from twilio_frames.fetch.http import (RetryPolicy, Transport, api_error, parse_error_body,
                                 retry_after_seconds)

PAGES = Path(__file__).parent.parent / "data" / "pages"
SID = "AC" + "1" * 32
SECRET = "s3cr3t-" + "f" * 25


class Scripted:
    """A loopback server answering each GET with the next scripted (status, headers, body)."""

    def __init__(self, script):
        self.script = list(script)
        self.requests: list[tuple[str, str | None]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                outer.requests.append((self.path, self.headers.get("Authorization")))
                status, headers, body = outer.script.pop(0) if outer.script else (200, {}, b"{}")
                if status == "truncate":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body) * 2))
                    self.end_headers()
                    self.wfile.write(body)
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted():
    servers = []

    def make(*script):
        s = Scripted(script)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


def transport(sleeps, **kw):
    policy = RetryPolicy(sleep=sleeps.append, random=lambda: 0.5, **kw)
    return Transport(Credentials(SID, SID, SECRET), timeout=5, retry=policy, max_in_flight=4)


def test_retries_429_and_5xx_then_succeeds(scripted):
    srv = scripted((429, {}, b'{"code": 20429, "message": "Too many", "status": 429}'),
                   (500, {}, b""), (502, {}, b"x"), (503, {}, b""), (504, {}, b""),
                   (200, {}, b'{"ok": 1}'))
    sleeps = []
    r = transport(sleeps).get(srv.url + "/x")
    assert r.body == b'{"ok": 1}' and r.attempts == 6
    # Full jitter with random()=0.5: 0.5 * min(cap, base * 2**n).
    assert sleeps == [0.125, 0.25, 0.5, 1.0, 2.0]


def test_retry_after_seconds_and_http_date_are_honoured(scripted, monkeypatch):
    # the client's wall clock is held at `now`: the date is then exactly 30 s ahead
    # however long the machine takes between here and the 503 (a bound of 25-31 s on
    # the real clock failed whenever that took over 4 s)
    import types

    from twilio_frames.fetch import http as http_module
    now = 1_795_000_000.0
    clock = types.SimpleNamespace(**{n: getattr(time, n) for n in dir(time)
                                     if not n.startswith("_")})
    clock.time = lambda: now
    monkeypatch.setattr(http_module, "time", clock)
    later = email.utils.formatdate(now + 30, usegmt=True)
    srv = scripted((429, {"Retry-After": "3"}, b""), (503, {"Retry-After": later}, b""),
                   (200, {}, b"{}"))
    sleeps = []
    transport(sleeps).get(srv.url + "/x")
    # jittered upwards by up to a quarter (random() = 0.5 here): never sooner than asked
    assert sleeps == [3.0 * 1.125, 30.0 * 1.125]


def test_final_error_names_attempts_and_last_status(scripted):
    srv = scripted(*[(503, {}, b'{"code": 20503, "message": "Service unavailable", "status": 503}')] * 4)
    sleeps = []
    with pytest.raises(tf.APIError) as info:
        transport(sleeps, max_retries=3).get(srv.url + "/x")
    err = info.value
    assert err.status == 503 and err.attempts == 4 and err.code == 20503
    assert "after 4 attempts" in str(err) and "HTTP 503" in str(err)
    assert len(srv.requests) == 4 and len(sleeps) == 3


def test_total_time_bounds_retries(scripted):
    srv = scripted(*[(429, {"Retry-After": "100"}, b"")] * 3)
    sleeps = []
    with pytest.raises(tf.RateLimitError) as info:
        transport(sleeps, max_total=10).get(srv.url + "/x")
    assert info.value.retry_after == 100 and sleeps == [] and len(srv.requests) == 1


@pytest.mark.parametrize("status,cls", [(400, tf.APIError), (401, tf.AuthenticationError),
                                        (403, tf.APIError), (404, tf.NotFoundError)])
def test_client_errors_are_never_retried(scripted, status, cls):
    srv = scripted((status, {}, b'{"code": 20003, "message": "no", "status": %d}' % status))
    sleeps = []
    with pytest.raises(cls) as info:
        transport(sleeps).get(srv.url + "/x")
    assert len(srv.requests) == 1 and sleeps == [] and info.value.status == status


def test_truncated_body_and_dropped_connection_are_retried(scripted):
    srv = scripted(("truncate", {}, b'{"calls": [{"sid": "CA'), (200, {}, b'{"done": 1}'))
    sleeps = []
    assert transport(sleeps).get(srv.url + "/x").body == b'{"done": 1}'
    assert len(sleeps) == 1


def test_connection_refused_gives_transport_error():
    sleeps = []
    with pytest.raises(tf.TransportError) as info:
        transport(sleeps, max_retries=2).get("http://127.0.0.1:9/x")
    assert info.value.attempts == 3
    assert str(info.value) == "GET http://127.0.0.1:9/x failed after 3 attempts; last: connection refused"
    assert info.value.last_error == "connection refused"


def unreachable(url, **kw):
    with pytest.raises(tf.TransportError) as info:
        transport([], max_retries=1, **kw).get(url)
    text = str(info.value)
    assert "\n" not in text and SECRET not in text and SECRET not in repr(info.value)
    return text.rsplit("; last: ", 1)[1]


def test_unresolved_name_is_said_in_words(monkeypatch, clean_proxy_env):
    import socket

    def no_such_name(*args, **kw):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)      # no DNS query leaves
    assert unreachable("http://api.example.invalid/x") == "name not resolved"


def test_timeouts_are_said_in_words(monkeypatch):
    import socket

    import urllib3.util.connection
    silent = socket.socket()                   # accepts (backlog) but never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        port = silent.getsockname()[1]
        policy = RetryPolicy(max_retries=0, sleep=lambda s: None)
        t = Transport(Credentials(SID, SID, SECRET), timeout=(2, 0.2), retry=policy,
                      max_in_flight=1)
        with pytest.raises(tf.TransportError, match="last: read timed out$"):
            t.get(f"http://127.0.0.1:{port}/x")
    finally:
        silent.close()

    def slow_connect(*args, **kw):
        raise socket.timeout("timed out")
    monkeypatch.setattr(urllib3.util.connection, "create_connection", slow_connect)
    assert unreachable("http://127.0.0.1:9/x") == "connect timed out"


def test_truncated_bodies_and_proxies_are_said_in_words(scripted, clean_proxy_env):
    srv = scripted(*[("truncate", {}, b'{"calls": [{"sid": "CA')] * 2)
    assert unreachable(srv.url + "/x") == "connection closed before the response was complete"
    clean_proxy_env.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    assert unreachable("http://api.example.invalid/x") == "proxy: connection refused"


def test_non_twilio_error_body_still_gives_api_error():
    err = api_error(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "http://h/x")
    assert type(err) is tf.APIError and err.status == 502 and err.code is None
    assert "502 Bad Gateway" in err.message
    assert "empty" in api_error(500, b"", "http://h/x").message


def test_xml_error_body_maps_to_authentication_error():
    body = (b"<?xml version='1.0' encoding='UTF-8'?>\n<TwilioResponse><RestException>"
            b"<Code>20003</Code><Detail>Your AccountSid or AuthToken was incorrect.</Detail>"
            b"<Message>Authenticate</Message><MoreInfo>https://www.twilio.com/docs/errors/20003"
            b"</MoreInfo><Status>401</Status></RestException></TwilioResponse>")
    err = api_error(401, body, "http://h/x")
    assert isinstance(err, tf.AuthenticationError)
    assert (err.code, err.more_info) == (20003, "https://www.twilio.com/docs/errors/20003")
    assert "incorrect" in err.message


def test_error_bodies():
    assert parse_error_body((PAGES / "error_401.xml").read_bytes()) == {
        "status": 401, "code": 20003, "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "detail": "Your AccountSid or AuthToken was incorrect."}
    assert parse_error_body((PAGES / "error_400.json").read_bytes())["code"] == 20001
    assert parse_error_body(b"<html>proxy error</html>") is None
    assert parse_error_body(b"") is None


def test_retry_after_parsing():
    assert retry_after_seconds("2.5") == 2.5
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0


def test_basic_auth_user_agent_and_no_secret_in_logs(scripted, caplog):
    srv = scripted((200, {}, b"{}"), (500, {}, b""), (200, {}, b"{}"))
    t = transport([])
    caplog.set_level(logging.DEBUG, logger="twilio_frames")
    t.get(srv.url + "/2010-04-01/Accounts/%s/Calls.json?PageSize=5" % SID)
    t.get(srv.url + "/y")
    assert srv.requests[0][1].startswith("Basic ")
    assert t.session.headers["User-Agent"].startswith(f"twilio-frames/{tf.__version__}")
    text = caplog.text
    assert "GET /2010-04-01/Accounts/%s/Calls.json?PageSize=5 -> 200" % SID in text
    assert "attempt 2" in text and "-> 500" in text
    assert SECRET not in text and srv.requests[0][1].split()[1] not in text


def test_bodies_are_read_whole_and_the_connection_is_reused(sim, monkeypatch):
    import urllib3.connection
    connects = []
    original = urllib3.connection.HTTPConnection.connect

    def connect(self):
        connects.append(1)
        return original(self)
    monkeypatch.setattr(urllib3.connection.HTTPConnection, "connect", connect)
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False,
                       page_size=20, max_workers=1)
    calls = client.calls()
    assert len(calls) > 100 and len(connects) == 1       # every page on one keep-alive connection


PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def clean_proxy_env(monkeypatch):
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def test_netrc_never_replaces_our_credentials(scripted, tmp_path, clean_proxy_env):
    import base64

    import requests
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login intruder password netrc-pw\n"
                     "machine localhost login intruder password netrc-pw\n")
    netrc.chmod(0o600)
    clean_proxy_env.setenv("NETRC", str(netrc))
    srv = scripted((200, {}, b"{}"), (200, {}, b"{}"))
    requests.get(srv.url + "/plain", timeout=5)        # the fake .netrc is live for requests
    assert srv.requests[0][1] == "Basic " + base64.b64encode(b"intruder:netrc-pw").decode()
    transport([]).get(srv.url + "/ours")
    assert srv.requests[1][1] == "Basic " + base64.b64encode(f"{SID}:{SECRET}".encode()).decode()


def test_proxy_environment_is_bypassed_for_loopback(scripted, sim, clean_proxy_env):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        clean_proxy_env.setenv(name, "http://127.0.0.1:9")      # nothing listens there
        clean_proxy_env.setenv(name.lower(), "http://127.0.0.1:9")
    srv = scripted((200, {}, b'{"a": 1}'), (200, {}, b'{"a": 2}'))
    t = transport([], max_retries=0)
    assert t.get(srv.url + "/x").body == b'{"a": 1}'
    port = srv.url.rsplit(":", 1)[1]
    assert t.get(f"http://localhost:{port}/y").body == b'{"a": 2}'
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False,
                       max_retries=0)
    assert len(client.accounts()) == len(sim.dataset.accounts)


def test_proxy_environment_is_used_for_other_hosts(scripted, clean_proxy_env):
    # The scripted server plays the proxy: a proxied GET asks it for the absolute URL, so
    # this proves HTTP_PROXY applies without any traffic leaving 127.0.0.1.
    proxy = scripted((200, {}, b'{"via": "proxy"}'))
    clean_proxy_env.setenv("HTTP_PROXY", proxy.url)
    assert transport([]).get("http://api.example.invalid/2010-04-01/x").body == b'{"via": "proxy"}'
    assert proxy.requests[0][0] == "http://api.example.invalid/2010-04-01/x"


def test_ca_bundle_from_the_environment_applies(clean_proxy_env, tmp_path):
    bundle = tmp_path / "corp-ca.pem"
    clean_proxy_env.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    session = transport([]).session
    settings = session.merge_environment_settings("https://api.twilio.com/x", {}, None, None, None)
    assert settings["verify"] == str(bundle)


def test_http_never_imports_the_page_parser():
    # DESIGN §2: imports flow http -> parse -> paging -> frames -> client.
    import ast
    import inspect

    import twilio_frames.fetch.http as http_module
    tree = ast.parse(inspect.getsource(http_module))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {m for m in imported if m and m.lstrip(".").split(".")[0] in
                ("parse", "paging", "frames", "assemble", "client")}
    assert "xmlsafe" in imported
