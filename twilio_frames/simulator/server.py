"""A threaded HTTP/1.1 loopback server for a WSGI app, with transport faults.

``wsgiref.simple_server`` answers HTTP/1.0 and closes every connection, so clients could
not reuse connections; this is a minimal WSGI gateway on ``http.server`` that speaks
HTTP/1.1 keep-alive instead. It serves only 127.0.0.1. After the app has answered, it obeys
``environ[TRANSPORT_FAULT]``: ``"truncate"`` sends the headers (with the full
``Content-Length``) and half the body, then closes; ``"drop"`` closes without a byte.

Shutdown is clean: :meth:`LoopbackServer.close` stops the accept loop, shuts down every
open keep-alive connection so the handler threads finish, and joins them.
"""

from __future__ import annotations

import io
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from email.utils import formatdate
from urllib.parse import unquote

from .app import TRANSPORT_FAULT

__all__ = ["LoopbackServer"]

HOST = "127.0.0.1"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "twilio-frames-simulator"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        """Silent: the simulator logs nothing (a request line could carry anything)."""

    def _environ(self, body: bytes) -> dict:
        path, _, query = self.path.partition("?")
        environ = {
            "REQUEST_METHOD": self.command, "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, encoding="latin-1"), "QUERY_STRING": query,
            "SERVER_NAME": HOST, "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version, "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(len(body)), "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True,
            "wsgi.multiprocess": False, "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_LENGTH", "CONTENT_TYPE"):
                key = "HTTP_" + key
            environ[key] = value
        return environ

    def _serve(self, *, send_body: bool) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        environ = self._environ(self.rfile.read(length) if length > 0 else b"")
        result: dict = {}

        def start_response(status, headers, exc_info=None):
            result["status"], result["headers"] = status, headers

        body = b"".join(self.server.app(environ, start_response))
        fault = environ.get(TRANSPORT_FAULT)
        if fault == "drop":
            self.close_connection = True
            return
        head = [f"HTTP/1.1 {result['status']}", f"Server: {self.server_version}",
                f"Date: {_server_date(self.server.app)}",
                *(f"{name}: {value}" for name, value in result["headers"]), "", ""]
        head_bytes = "\r\n".join(head).encode("latin-1")
        if fault == "truncate":
            self.wfile.write(head_bytes + body[: len(body) // 2])
            self.close_connection = True
        else:    # one write: headers then body in two writes would meet Nagle + delayed ACK
            self.wfile.write(head_bytes + body if send_body else head_bytes)


def _server_date(app) -> str:
    """The HTTP ``Date``: the simulated present (the dataset's ``now``), as a real
    server's Date is its present; a client judging how recent a day is reads it."""
    now = getattr(getattr(app, "dataset", None), "now", None)
    return formatdate(now.timestamp() if now is not None else None, usegmt=True)


class LoopbackServer(ThreadingHTTPServer):
    """Serve ``app`` (WSGI) on 127.0.0.1:``port`` (0 = a free port) in background threads."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, app, *, port: int = 0) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__((HOST, port), _Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def process_request(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up mid-request is normal here; anything else is reported."""
        if isinstance(sys.exception(), OSError):
            return
        super().handle_error(request, client_address)

    def start(self) -> LoopbackServer:
        """Run the accept loop in a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"twilio-frames-sim-{self.port}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop accepting, end open connections, join every thread, close the socket."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        with self._connections_lock:
            open_connections = list(self._connections)
        for connection in open_connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server_close()
