"""A real HTTP server on 127.0.0.1 standing in for Slack or Teams, and a clean environment.

Servers answer a bounded number of requests and never reach beyond the
loopback interface; a "down" server is a port nobody listens on.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import pdca_webhook

MAX_REQUESTS = 50
"""A plugin stuck in a retry loop fails the test instead of hammering the server."""
SECRET_PATH = "/services/T0001/B0002/s3cr3t-t0k3n"


@dataclass
class Hook:
    """What one fake webhook received, and how it answers."""

    url: str
    fail_first: int = 0
    fail_status: int = 500
    always: int | None = None
    retry_after: str | None = None
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [r["body"].get("text", "") for r in self.received]


def _handler(hook: Hook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if len(hook.received) >= MAX_REQUESTS:
                self.send_error(503)
                return
            hook.received.append(
                {
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "body": json.loads(raw or b"{}"),
                }
            )
            n = len(hook.received)
            status = hook.always or (hook.fail_status if n <= hook.fail_first else 200)
            self.send_response(status)
            if status >= 400 and hook.retry_after is not None:
                self.send_header("Retry-After", hook.retry_after)
            body = b"ok" if status < 400 else b"no"
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def webhook_server() -> Iterator[Callable[..., Hook]]:
    """A factory: ``webhook_server(fail_first=2)`` starts a fake webhook and returns it."""
    servers: list[ThreadingHTTPServer] = []

    def start(**options: Any) -> Hook:
        hook = Hook(url="", **options)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hook))
        server.daemon_threads = True
        servers.append(server)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        hook.url = f"http://127.0.0.1:{server.server_address[1]}{SECRET_PATH}"
        return hook

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def down_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{SECRET_PATH}"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No webhook settings from the machine, short delays, no proxy for loopback."""
    import os

    for name in list(os.environ):
        if name.startswith("PDCA_WEBHOOK"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PDCA_WEBHOOK_BACKOFF", "0.01")
    monkeypatch.setenv("PDCA_WEBHOOK_TIMEOUT", "5")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    pdca_webhook._resting.clear()
    yield
    pdca_webhook._resting.clear()
