"""A loopback TCP relay that counts the bytes passing each way.

A database that computes aggregates itself should send a check bytes in
proportion to its periods and segments, not to the rows behind them. Timing
cannot show that (a fast network hides a row-pulling read), so the benchmark
points pdca's URL at this relay and reads the count: every byte the server
sends reaches the client through :meth:`WireCount._pump`, and nothing else.

Each accepted connection gets one upstream connection and two threads, one per
direction. A chunk is counted before it is forwarded, so once the client has
read a byte, the count includes it. Standard library only: the relay has to be
trusted more than what it measures.

    with WireCount("127.0.0.1", 5432) as wire:
        ...  # connect to 127.0.0.1:wire.port instead
        print(wire.counts().to_client)
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass
from types import TracebackType

CHUNK = 1 << 16


@dataclass(frozen=True)
class Counts:
    """Bytes relayed so far, and the connections accepted."""

    to_client: int
    """Bytes the server sent (what reading from the database costs)."""
    to_server: int
    connections: int


class WireCount:
    """Listen on a free loopback port; relay every connection to ``host:port``, counting."""

    def __init__(self, host: str, port: int):
        self.upstream = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # the accept loop looks at the stop flag this often
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._to_client = self._to_server = self._connections = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, name="wirecount", daemon=True)

    def __enter__(self) -> WireCount:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._accepter.start()

    def stop(self) -> None:
        """Stop accepting; relays still open end when their client or server hangs up."""
        self._stop.set()
        self._accepter.join()
        self._listener.close()

    def counts(self) -> Counts:
        with self._lock:
            return Counts(self._to_client, self._to_server, self._connections)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._connections += 1
            done = threading.Barrier(2, action=lambda c=client, s=server: (c.close(), s.close()))
            for source, sink, to_client in ((server, client, True), (client, server, False)):
                thread = threading.Thread(
                    target=self._pump, args=(source, sink, to_client, done), daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def _pump(
        self, source: socket.socket, sink: socket.socket, to_client: bool, done: threading.Barrier
    ) -> None:
        """Copy ``source`` to ``sink`` until ``source`` ends, then pass the end on; the
        second of a connection's two pumps to finish closes both sockets."""
        try:
            while chunk := source.recv(CHUNK):
                with self._lock:
                    if to_client:
                        self._to_client += len(chunk)
                    else:
                        self._to_server += len(chunk)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
            done.wait()
