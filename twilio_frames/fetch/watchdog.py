"""The request deadline while the status line and headers arrive.

Socket timeouts bound each read, not the whole: a server trickling its headers a byte
at a time would hold an attempt for as long as it likes. :mod:`twilio_frames.fetch.body`
bounds the body; this module bounds what comes before it. :class:`DeadlineAdapter`
(a ``requests`` adapter) makes its connections arm a timer while they wait for the
response head, for the deadline the calling thread set with :func:`deadline`; at the
deadline the timer shuts the socket, the read fails, and the caller, seeing the time,
reports the deadline.
"""

from __future__ import annotations

import contextlib
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


class _Guarded:
    """Mixin for urllib3 connections: a timer shuts the socket at the deadline."""

    def getresponse(self):
        at, sock = getattr(_local, "at", None), getattr(self, "sock", None)
        if at is None or sock is None:
            return super().getresponse()
        timer = threading.Timer(max(0.0, at - time.monotonic()), _shut, (sock,))
        timer.daemon = True
        timer.start()
        try:
            return super().getresponse()
        finally:
            timer.cancel()


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
