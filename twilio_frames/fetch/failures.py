"""What a network failure was, in words: fixed phrases chosen from the exception chain.

Used by :mod:`twilio_frames.fetch.http` for log lines and for the ``last`` failure a
:class:`~twilio_frames.errors.TransportError` reports. Exception texts (which quote
hosts and URLs) are never repeated.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Callable

import requests
import urllib3

__all__ = ["describe_failure"]


def describe_failure(exc: BaseException) -> str:
    """What a network failure was, in words ("connection refused", "name not
    resolved", "read timed out"...), from the exception and the ones it wraps. Fixed
    phrases only: exception texts (which quote hosts and URLs) are never repeated."""
    chain = _exception_chain(exc)
    proxy = any(isinstance(e, (requests.exceptions.ProxyError, urllib3.exceptions.ProxyError))
                for e in chain)
    for test, words in _FAILURE_WORDS:
        if any(test(e) for e in chain):
            return f"proxy: {words}" if proxy else words
    return f"proxy error ({type(exc).__name__})" if proxy else type(exc).__name__


def _exception_chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it wraps (args, urllib3's ``reason``, causes)."""
    seen, todo, out = set(), [exc], []
    while todo and len(out) < 20:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        out.append(e)
        todo += [a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]
        todo += [getattr(e, "reason", None), e.__cause__, e.__context__]
    return [e for e in out if isinstance(e, BaseException)]


def _kind(*types: type) -> Callable[[BaseException], bool]:
    return lambda e: isinstance(e, types)


def _connect_timeout(e: BaseException) -> bool:
    # urllib3 2 makes NewConnectionError (refused, unresolved...) a ConnectTimeoutError
    return (isinstance(e, (requests.exceptions.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError))
            and not isinstance(e, urllib3.exceptions.NewConnectionError))


#: (test on any exception of the chain, words): the first test that matches wins.
_FAILURE_WORDS: tuple[tuple[Callable[[BaseException], bool], str], ...] = (
    (_kind(socket.gaierror, urllib3.exceptions.NameResolutionError), "name not resolved"),
    (_kind(ConnectionRefusedError), "connection refused"),
    (_kind(ssl.SSLCertVerificationError), "TLS certificate not trusted"),
    (_kind(ssl.SSLError, requests.exceptions.SSLError), "TLS handshake failed"),
    (_connect_timeout, "connect timed out"),
    (_kind(requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError), "read timed out"),
    (_kind(TimeoutError, requests.Timeout), "timed out"),
    (_kind(ConnectionResetError), "connection reset"),
    (_kind(urllib3.exceptions.ProtocolError, requests.exceptions.ChunkedEncodingError,
           http.client.IncompleteRead, http.client.RemoteDisconnected),
     "connection closed before the response was complete"),
    (_kind(requests.exceptions.ContentDecodingError, urllib3.exceptions.DecodeError),
     "response body could not be decoded"),
)
