"""Hostile servers and bodies (issue 8.8), each against a small scripted server on 127.0.0.1.

Each case is bounded by a limit of the client and the bound is asserted loosely (2-3x
and more: this machine is shared), as the issue asks; the figures measured are in
``docs/benchmarks.md`` "Hostile servers" (``bench/hostile.py``).
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
import tracemalloc
import zlib
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import twilio_frames as tf

SID = "AC" + "1" * 32
TOKEN = "f" * 32
LIST = f"/2010-04-01/Accounts/{SID}/Calls.json"
MiB = 1 << 20


class Script(BaseHTTPRequestHandler):
    """Answers every GET with ``server.script(handler)``; counts the requests."""

    protocol_version = "HTTP/1.1"

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):    # the client gave up: fine
            pass

    def do_GET(self):  # noqa: N802 (http.server API)
        with self.server.lock:
            self.server.requests += 1
        try:
            self.server.script(self)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass

    def send(self, body: bytes, *, status=200, headers=()):
        self.send_response(status)
        for name, value in (("Content-Type", "application/json"), *headers):
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Hostile:
    """A scripted server on 127.0.0.1 for the duration of a ``with`` block."""

    def __init__(self, script):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Script)
        self.server.daemon_threads = True
        self.server.script, self.server.requests = script, 0
        self.server.lock = threading.Lock()
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"

    @property
    def requests(self) -> int:
        return self.server.requests

    def client(self, **kw) -> tf.Client:
        kw.setdefault("max_retries", 0)
        return tf.Client(SID, TOKEN, base_url=self.base_url, progress=False, **kw)

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def page(records=(), next_uri=None, **extra) -> bytes:
    return json.dumps({"calls": list(records), "next_page_uri": next_uri, "page": 0,
                       "page_size": 50, **extra}).encode()


# ---------------------------------------------------------------- (a) gzip bomb

@lru_cache(maxsize=1)
def gzip_bomb(size: int = 1 << 30) -> bytes:
    """A valid gzip stream of ``size`` zero bytes in about 1 MiB, built without
    compressing the whole gigabyte: after a full flush the compressor forgets its
    history, so each further MiB of zeros compresses to the same bytes."""
    chunk = bytes(MiB)
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    repeat = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    last = comp.compress(chunk) + comp.flush()
    crc = 0
    for _ in range(size // MiB):
        crc = zlib.crc32(chunk, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")
    return header + first + repeat * (size // MiB - 2) + last + trailer


def test_the_gzip_bomb_helper_is_what_it_says():
    small = gzip_bomb(8 * MiB)
    assert gzip.decompress(small) == bytes(8 * MiB)
    assert len(gzip_bomb()) < 1.1 * MiB


def test_gzip_bomb_stops_at_the_decoded_size_cap():
    bomb = gzip_bomb()

    def script(h):
        h.send(bomb, headers=[("Content-Encoding", "gzip")])
    with Hostile(script) as srv:
        c = srv.client()
        tracemalloc.start()
        t0 = time.perf_counter()
        try:
            with pytest.raises(tf.ParseError) as err:
                c.calls()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        seconds = time.perf_counter() - t0
    text = str(err.value)
    assert "64 MiB" in text and "max_body_bytes" in text and srv.base_url + LIST in text
    assert peak < 400 * MiB, f"peak traced memory {peak / MiB:.0f} MiB"   # 1 GiB uncapped
    assert srv.requests == 1 and seconds < 60
    print(f"\ngzip bomb: {seconds:.2f} s, peak traced {peak / MiB:.0f} MiB, "
          f"{srv.requests} request")


def test_a_smaller_cap_is_a_client_option_and_a_content_length_over_it_is_not_read():
    body = page([{"sid": f"CA{i:032x}"} for i in range(2000)])

    def script(h):
        h.send(body)
    with Hostile(script) as srv:
        with pytest.raises(tf.ParseError, match=r"more than the 10000-byte cap"):
            srv.client(max_body_bytes=10_000).calls()
        assert len(srv.client(max_body_bytes=len(body)).calls()) == 2000


def _deflate(data: bytes, wbits: int) -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return comp.compress(data) + comp.flush()


@pytest.mark.parametrize("encoding,encode", [
    ("gzip", gzip.compress), ("x-gzip", gzip.compress),
    ("gzip", lambda b: gzip.compress(b[:100]) + gzip.compress(b[100:])),   # two members
    ("deflate", lambda b: _deflate(b, zlib.MAX_WBITS)),                    # RFC 9110
    ("deflate", lambda b: _deflate(b, -zlib.MAX_WBITS)),                   # raw, as some send
    ("identity", lambda b: b),
])
def test_encoded_pages_decode(encoding, encode):
    body = page([{"sid": f"CA{i:032x}"} for i in range(50)])

    def script(h):
        h.send(encode(body), headers=[("Content-Encoding", encoding)])
    with Hostile(script) as srv:
        assert len(srv.client().calls()) == 50


def test_a_gzip_stream_cut_short_is_retried_as_a_truncated_body():
    def script(h):
        whole = h.server.requests > 1
        data = gzip.compress(page([{"sid": "CA" + "0" * 32}]))
        h.send(data if whole else data[:-12], headers=[("Content-Encoding", "gzip")])
    with Hostile(script) as srv:
        c = srv.client(max_retries=1)
        c.retry.sleep = lambda s: None
        assert len(c.calls()) == 1 and srv.requests == 2
    with Hostile(lambda h: h.send(gzip.compress(page())[:-12],
                                  headers=[("Content-Encoding", "gzip")])) as srv:
        with pytest.raises(tf.TransportError, match="before the response was complete"):
            srv.client().calls()


@pytest.mark.parametrize("encoding,data,words", [
    ("gzip", b"not gzip at all", "is not valid gzip"),
    ("br", b"\x0b\x02\x80{}\x03", "Content-Encoding 'br' was not asked for"),
])
def test_bad_encodings_are_parse_errors(encoding, data, words):
    def script(h):
        h.send(data, headers=[("Content-Encoding", encoding)])
    with Hostile(script) as srv:
        with pytest.raises(tf.ParseError, match=words) as err:
            srv.client().calls()
    assert srv.base_url in str(err.value)


@pytest.mark.parametrize("value", [0, -1, 1.5, "64MiB", True])
def test_bad_cap_and_deadline_options(value):
    with pytest.raises(tf.ConfigurationError, match="max_body_bytes"):
        tf.Client(SID, TOKEN, max_body_bytes=value)
    if not isinstance(value, float):
        with pytest.raises(tf.ConfigurationError, match="deadline"):
            tf.Client(SID, TOKEN, deadline=value)


# ---------------------------------------------------------------- (b) endless pages

def _endless(records):
    def script(h):
        n = h.server.requests
        h.send(page(records(n), f"{LIST}?Page={n}&PageToken=PA{n}"))
    return script


@pytest.mark.parametrize("kind,records", [
    ("empty pages", lambda n: []),
    ("the same records again", lambda n: [{"sid": f"CA{i:032x}"} for i in range(3)]),
    ("records seen two pages ago", lambda n: [{"sid": f"CA{n % 2:032x}"}]),
])
def test_endless_next_page_uris_without_new_records_stop(kind, records):
    with Hostile(_endless(records)) as srv:
        t0 = time.perf_counter()
        with pytest.raises(tf.ParseError) as err:
            srv.client().calls()
        seconds = time.perf_counter() - t0
    text = str(err.value)
    assert "in a row brought no new record" in text and f"{srv.base_url}{LIST}?Page=" in text
    assert srv.requests <= 15 and seconds < 30          # unbounded before: 567 in 25 s
    print(f"\nendless pages ({kind}): {srv.requests} requests, {seconds:.2f} s")


def test_a_long_history_with_some_repeats_is_followed_to_the_end():
    # 40 pages of 1 new record, each page repeating the previous page's record (as
    # records shifting during paging do): never cut.
    def script(h):
        n = h.server.requests
        recs = [{"sid": f"CA{n:032x}"}] + ([{"sid": f"CA{n - 1:032x}"}] if n > 1 else [])
        h.send(page(recs, f"{LIST}?Page={n}&PageToken=PA{n}" if n < 40 else None))
    with Hostile(script) as srv:
        assert list(srv.client().iter_records("calls")) and srv.requests == 40


# ---------------------------------------------------------------- (c) trickle

def test_a_trickling_body_ends_at_the_deadline():
    body = page([{"sid": "CA" + "0" * 32}])

    def script(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        for byte in body[:60]:                 # one byte a second, then it gives up
            h.wfile.write(bytes([byte]))
            h.wfile.flush()
            time.sleep(1.0)
    with Hostile(script) as srv:
        c = srv.client(timeout=(3, 3), deadline=4)
        t0 = time.perf_counter()
        with pytest.raises(tf.TransportError) as err:
            c.calls()
        seconds = time.perf_counter() - t0
    assert "4 s deadline" in str(err.value) and srv.requests == 1
    assert seconds < 3 * 4, f"{seconds:.1f} s"       # 66 s before, under a 3 s read timeout
    print(f"\ntrickle: {seconds:.2f} s under deadline=4, timeout=(3, 3), "
          f"{srv.requests} request")


def test_trickling_headers_end_at_the_deadline():
    def script(h):
        h.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(60):                    # a header line that never ends
            h.wfile.write(b"X")
            h.wfile.flush()
            time.sleep(1.0)
    with Hostile(script) as srv:
        c = srv.client(timeout=(3, 3), deadline=4)
        t0 = time.perf_counter()
        with pytest.raises(tf.TransportError, match="4 s deadline"):
            c.calls()
        seconds = time.perf_counter() - t0
    assert seconds < 3 * 4 and srv.requests == 1, f"{seconds:.1f} s"
    print(f"\ntrickled headers: {seconds:.2f} s under deadline=4, timeout=(3, 3)")


def test_waiting_for_a_free_slot_does_not_count_against_the_deadline():
    # max_workers=1: one request in flight per client; two threads share the client,
    # so one waits ~3 s for the slot, then gets its own 3 s answer: 6 s > deadline,
    # while each answer leaves 2 s of slack under it for a stalled machine.
    def script(h):
        time.sleep(3.0)
        h.send(page([{"sid": f"CA{h.server.requests:032x}"}]))
    with Hostile(script) as srv:
        c = srv.client(max_workers=1, deadline=5.0)
        results = []
        threads = [threading.Thread(target=lambda: results.append(len(c.calls())))
                   for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert results == [1, 1] and srv.requests == 2


def test_a_slow_but_steady_body_inside_the_deadline_is_read():
    body = page([{"sid": f"CA{i:032x}"} for i in range(5)])

    def script(h):
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        for i in range(0, len(body), 100):
            h.wfile.write(body[i:i + 100])
            h.wfile.flush()
            time.sleep(0.05)
    with Hostile(script) as srv:
        assert len(srv.client(deadline=30).calls()) == 5


# ---------------------------------------------------------------- (d) hostile JSON / XML

NESTED = b'{"calls": [], "next_page_uri": null, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.mark.parametrize("body,words", [
    (b'{"calls": [], "next_page_uri": null, "page": 1e400}', "page=inf is not an integer"),
    (b'{"calls": [], "next_page_uri": null, "page": 2.5}', "page=2.5 is not an integer"),
    (b'{"calls": [], "next_page_uri": 7}', "next_page_uri is a int, not a string"),
    (b'{"calls": [], "next_page_uri": {"a": 1}}', "next_page_uri is a dict, not a string"),
    (NESTED, "nested too deeply"),
    (b'{"calls": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "nested too deeply"),
])
def test_hostile_json_pages_are_parse_errors_naming_the_url(body, words):
    def script(h):
        h.send(body)
    with Hostile(script) as srv:
        with pytest.raises(tf.ParseError, match=words) as err:
            srv.client().calls()
    assert f"(from {srv.base_url}{LIST}" in str(err.value)


XML_LIST = f"/2010-04-01/Accounts/{SID}/Calls.xml"


@pytest.mark.parametrize("body,words", [
    (b'<TwilioResponse><Calls page="1e400" nextpageuri=""/></TwilioResponse>',
     "is not an integer"),
    (b'<TwilioResponse><Calls page="' + b"9" * 5000 + b'"/></TwilioResponse>',
     "is not an integer"),
    (b"<TwilioResponse><Calls><Call><Sid>CA1</Sid><X>" + b"<a>" * 100_000 + b"</a>" * 100_000
     + b"</X></Call></Calls></TwilioResponse>", "nested too deeply"),
    (b"<TwilioResponse>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</TwilioResponse>",
     "XML page has no <Calls> list"),
    (b"<TwilioResponse><Calls><Call><Sid>" + b"<a>" * 50 + b"</a>" * 50
     + b"</Sid></Call></Calls></TwilioResponse>", "nested too deeply"),
])
def test_hostile_xml_pages_are_parse_errors_naming_the_url(body, words):
    def script(h):
        h.send(body, headers=[("Content-Type", "application/xml")])
    with Hostile(script) as srv:
        with pytest.raises(tf.ParseError, match=words) as err:
            srv.client(format="xml").calls()
    assert f"(from {srv.base_url}{XML_LIST}" in str(err.value)


@pytest.mark.parametrize("body", [
    b'{"code": 1e400, "message": "x", "status": 1e400}',
    b'{"code": 20003, "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    b"<TwilioResponse><RestException><Code>" + b"<a>" * 100_000 + b"</a>" * 100_000
    + b"</Code></RestException></TwilioResponse>",
])
def test_hostile_error_bodies_still_give_the_api_error(body):
    def script(h):
        h.send(body, status=401)
    with Hostile(script) as srv:
        with pytest.raises(tf.AuthenticationError, match="HTTP 401"):
            srv.client().calls()


# ---------------------------------------------------------------- (e) echoed secrets

def _secrets(user=SID, password=TOKEN):
    pair = f"{user}:{password}".encode()
    return [password, base64.b64encode(pair).decode(), base64.urlsafe_b64encode(pair).decode(),
            base64.b64encode(pair).decode().rstrip("=")]


@pytest.mark.parametrize("status", [401, 500])
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_body_echoing_the_authorization_header_is_redacted(status, fmt, caplog):
    def script(h):
        auth = h.headers["Authorization"]
        echoed = f"bad credentials: Authorization: {auth} token={TOKEN} " \
                 f"{base64.urlsafe_b64encode(f'{SID}:{TOKEN}'.encode()).decode()}"
        body = json.dumps({"code": 20003, "message": echoed, "more_info": echoed,
                           "status": status}) if fmt == "json" else echoed
        h.send(body.encode(), status=status)
    caplog.set_level("DEBUG", logger="twilio_frames")
    with Hostile(script) as srv:
        with pytest.raises(tf.TwilioFramesError) as err:
            srv.client().calls()
    text = f"{err.value} {err.value.__dict__} {caplog.text}"
    assert "[redacted]" in str(err.value)
    for secret in _secrets():
        assert secret not in text and secret.upper() not in text.upper()


def test_api_key_secret_and_echoed_next_page_uri_are_redacted(caplog):
    key, secret = "SK" + "2" * 32, "s" * 32

    def script(h):
        h.send(page([], f"{LIST}?Secret={secret}&Page=1") if h.server.requests == 1 else
               b"<html>" + h.headers["Authorization"].encode() + secret.encode() + b"</html>",
               status=200 if h.server.requests == 1 else 502)
    caplog.set_level("DEBUG", logger="twilio_frames")
    with Hostile(script) as srv:
        c = tf.Client(SID, api_key=key, api_secret=secret, base_url=srv.base_url,
                      progress=False, max_retries=0)
        with pytest.raises(tf.APIError) as err:
            c.calls()
    text = f"{err.value} {err.value.__dict__} {caplog.text}"
    assert "HTTP 502" in str(err.value) and "[redacted]" in str(err.value)
    for s in _secrets(key, secret):
        assert s not in text


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_parse_and_paging_errors_quoting_a_server_are_redacted(fmt):
    pair = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    ext = ".json" if fmt == "json" else ".xml"

    def script(h):
        if h.server.requests == 1:      # a page whose next_page_uri leaves the server
            uri = f"https://evil.example/x?auth={pair}&token={TOKEN}"
            h.send(page([], uri) if fmt == "json" else
                   f'<TwilioResponse><Calls nextpageuri="{uri.replace("&", "&amp;")}"/>'
                   f"</TwilioResponse>".encode())
    with Hostile(script) as srv:
        with pytest.raises(tf.ParseError, match="refusing to follow it") as err:
            srv.client(format=fmt).calls()
    assert TOKEN not in str(err.value) and pair not in str(err.value)

    def garbage(h):
        h.send(f"Authorization: {h.headers['Authorization']} {TOKEN}".encode())
    with Hostile(garbage) as srv:
        for call in (lambda c: c.calls(), lambda c: list(c.iter_records("calls"))):
            with pytest.raises(tf.ParseError, match="not") as err:
                call(srv.client(format=fmt))
            assert TOKEN not in str(err.value) and pair not in str(err.value)
            assert "[redacted]" in str(err.value) and ext in str(err.value)


def test_a_record_value_echoing_the_token_is_redacted_from_the_frame_error():
    def script(h):
        h.send(page([{"sid": "CA" + "0" * 32, "date_created": f"echo {TOKEN}"}]))
    with Hostile(script) as srv:
        with pytest.raises(tf.ParseError, match="date_created") as err:
            srv.client().calls()
    assert TOKEN not in str(err.value) and "[redacted]" in str(err.value)
