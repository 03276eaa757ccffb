"""Reading a response body with two bounds: its decoded size and the request's deadline.

A hostile or broken server can send a small gzip body that expands without end (1 MiB
of gzip is 1 GiB of zeros), or trickle a byte a second so that no read ever times out.
:func:`read_body` therefore reads the raw stream in pieces, decodes ``gzip`` and
``deflate`` itself with a bound on every step (:mod:`zlib` ``max_length``), and stops:

* past ``max_bytes`` decoded bytes (or a ``Content-Length`` above it) with a
  :class:`~twilio_frames.errors.ParseError` naming the URL and the cap;
* at the deadline with :class:`DeadlineExceeded`: every socket read waits at most
  until then, so a trickle ends at the deadline, not at the read timeout times the
  number of bytes.

A body that is not valid gzip/deflate is a ParseError; one cut short inside its gzip
stream is a ``urllib3`` ProtocolError, retried like any truncated body.

Only ``identity``, ``gzip`` and ``deflate`` are asked for (``Accept-Encoding``) and
accepted; Twilio sends gzip when asked.
"""

from __future__ import annotations

import socket
import time
import zlib

import urllib3

from ..errors import ParseError

__all__ = ["ACCEPT_ENCODING", "DeadlineExceeded", "read_body", "size_text"]

ACCEPT_ENCODING = "gzip, deflate"
#: Raw bytes asked of the socket per read (a read returns what has arrived, up to this).
#: Kept under glibc's 128 KiB mmap threshold: 256 KiB reads measured 2x slower per page.
CHUNK = 64 * 1024
#: Decoded bytes produced per decompression step (bounds the memory of one step).
STEP = 1 << 20


class DeadlineExceeded(Exception):
    """The response was not complete by the request's deadline (retryable)."""


def size_text(n: int) -> str:
    """``67108864`` -> ``"64 MiB"``; other sizes in bytes."""
    return f"{n >> 20} MiB" if n >= 1 << 20 and n % (1 << 20) == 0 else f"{n}-byte"


def read_body(raw, url: str, *, max_bytes: int, deadline: float,
              clock=time.monotonic) -> bytes:
    """The decoded body of ``raw`` (a urllib3 response, not yet read).

    ``deadline`` is a ``clock()`` time. Raises ParseError past ``max_bytes``,
    DeadlineExceeded at the deadline, urllib3 errors for a broken stream.
    """
    def too_big() -> ParseError:
        return ParseError(f"response body is more than the {size_text(max_bytes)} cap "
                          "(tf.Client(max_body_bytes=...)); stopped reading", url=url)

    length = raw.headers.get("Content-Length")
    if length and length.strip().isdigit() and int(length) > max_bytes:
        raise too_big()
    decoder = _Decoder(raw.headers.get("Content-Encoding"), url)
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    sock = sock if isinstance(sock, socket.socket) else None
    timeout = sock.gettimeout() if sock is not None else None
    out = bytearray()
    while True:
        left = deadline - clock()
        if left <= 0:
            raise DeadlineExceeded
        if sock is not None:      # the next read gives up by the deadline, if not sooner
            sock.settimeout(left if timeout is None else min(timeout, left))
        try:
            data = raw.read1(CHUNK, decode_content=False)
        except Exception as exc:
            if clock() >= deadline and _timed_out(exc):
                raise DeadlineExceeded from None
            raise
        if data:
            decoder.feed(data, out, max_bytes)
        else:
            decoder.end()
        if len(out) > max_bytes:
            raise too_big()
        if not data:
            if sock is not None and sock.fileno() != -1:
                sock.settimeout(timeout)     # the pooled connection keeps its own timeout
            return bytes(out)


def _timed_out(exc: BaseException) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, (TimeoutError, socket.timeout)) or "timed out" in str(exc):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


class _Decoder:
    """``Content-Encoding`` decoding with a bound on each step's output."""

    def __init__(self, encoding: str | None, url: str) -> None:
        enc = (encoding or "identity").strip().lower()
        if enc not in ("identity", "gzip", "x-gzip", "deflate"):
            raise ParseError(f"response Content-Encoding {enc[:40]!r} was not asked for "
                             f"(only {ACCEPT_ENCODING})", url=url)
        self.url, self.kind, self.raw_deflate = url, enc, False
        self.z = None if enc == "identity" else self._new(first=True)

    def _new(self, first: bool):
        if self.kind == "deflate":          # zlib-wrapped as the RFC says; raw if not
            return zlib.decompressobj(zlib.MAX_WBITS if first else -zlib.MAX_WBITS)
        return zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes, out: bytearray, limit: int) -> None:
        """Decode ``data`` onto ``out``, at most :data:`STEP` bytes a step; stop once
        ``out`` holds more than ``limit`` bytes."""
        if self.z is None:
            out += data
            return
        try:
            while data and len(out) <= limit:
                out += self.z.decompress(data, min(STEP, limit + 1 - len(out)))
                data = self.z.unconsumed_tail
                if self.z.eof and self.z.unused_data and self.kind != "deflate":
                    # another gzip member follows
                    data, self.z = self.z.unused_data + data, self._new(first=False)
        except zlib.error:
            if self.kind == "deflate" and not out and not self.raw_deflate:
                self.z, self.raw_deflate = self._new(first=False), True   # raw, not zlib
                return self.feed(data, out, limit)
            raise ParseError(f"response body is not valid {self.kind}", url=self.url) from None

    def end(self) -> None:
        """The body ended: inside a gzip stream means it was cut short (retryable, as
        any truncated body)."""
        if self.z is not None and not self.z.eof and self.kind != "deflate":
            raise urllib3.exceptions.ProtocolError(f"body ended inside its {self.kind} stream")
