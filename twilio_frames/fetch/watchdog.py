"""The request deadline while the status line and headers arrive.

Socket timeouts bound each read, not the whole: a server trickling its headers a byte
at a time would hold an attempt for as long as it likes. :mod:`twilio_frames.fetch.body`
bounds the body; this module bounds what comes before it. :class:`DeadlineAdapter`
(a ``requests`` adapter) makes its connections arm a timer while they wait for the
response head, for the deadline the calling thread set with :func:`deadline`; at the
deadline the timer shuts the socket, the read fails, and the caller, seeing the time,
reports the deadline.

One watchdog thread keeps every armed deadline of the process (a heap), instead of a
``threading.Timer`` per request: a timer's thread start cost 0.24-0.57 ms per GET on the
loaded 2-core machine (its start waits for the GIL, which the consumer converting
records holds), arming the heap 2 us.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["DeadlineAdapter", "deadline"]

_local = threading.local()


@contextlib.contextmanager
def deadline(at: float):
    """Requests of this thread inside the block must have their headers by
    ``time.monotonic()`` ``at``."""
    _local.at = at
    try:
        yield
    finally:
        _local.at = None


def _shut(sock) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """Sockets to shut at their deadlines, watched by one daemon thread (started on the
    first :meth:`arm`, again after a fork). Disarmed entries leave the heap lazily: when
    they reach its top, or when they outnumber the armed ones."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int]] = []     # (deadline, ticket)
        self._armed: dict[int, socket.socket] = {}   # ticket -> socket
        self._tickets = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, at: float, sock) -> int:
        """Shut ``sock`` at ``time.monotonic()`` ``at`` unless :meth:`disarm` comes first."""
        with self._cond:
            ticket = next(self._tickets)
            self._armed[ticket] = sock
            heapq.heappush(self._heap, (at, ticket))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, daemon=True,
                                                name="twilio-frames-deadlines")
                self._thread.start()
            elif self._heap[0][1] == ticket:          # sooner than what it waits for
                self._cond.notify()
            return ticket

    def disarm(self, ticket: int) -> None:
        with self._cond:
            self._armed.pop(ticket, None)
            if len(self._heap) > 2 * len(self._armed) + 64:
                self._heap = [e for e in self._heap if e[1] in self._armed]
                heapq.heapify(self._heap)

    def _watch(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][1] not in self._armed:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                at, ticket = self._heap[0]
                left = at - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                heapq.heappop(self._heap)
                _shut(self._armed.pop(ticket))


_WATCHDOG = _Watchdog()


class _Guarded:
    """Mixin for urllib3 connections: the watchdog shuts the socket at the deadline."""

    def getresponse(self):
        at, sock = getattr(_local, "at", None), getattr(self, "sock", None)
        if at is None or sock is None:
            return super().getresponse()
        ticket = _WATCHDOG.arm(at, sock)
        try:
            return super().getresponse()
        finally:
            _WATCHDOG.disarm(ticket)


class _HTTPConnection(_Guarded, HTTPConnection):
    pass


class _HTTPSConnection(_Guarded, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections (direct or through a proxy) honour
    :func:`deadline` while waiting for the response head."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager
