"""A TCP proxy that breaks connections on purpose, to test that clients resume.

It forwards 127.0.0.1:<port> to a target port byte for byte. For each of the first
`cuts` connections, it forwards only `cut_after_bytes` bytes of the server's answer and
then resets both sides (RST, like a proxy or a network dying mid-response). Later
connections pass through untouched.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

from tests.support.servers import _Server


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN: the peer sees a broken connection, not an end."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    # SHUT_RD wakes the other pump thread blocked in recv() on this socket; until it
    # lets go, close() alone would not send the RST.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    with contextlib.suppress(OSError):
        sock.close()


class CuttingProxy(_Server):
    def __init__(self, target_port: int, *, cut_after_bytes: int, cuts: int = 1) -> None:
        self.target_port = target_port
        self.cut_after_bytes = cut_after_bytes
        self.cuts = cuts
        self.connections = 0
        self.cuts_done = 0
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._listener.listen(16)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(timeout=5)

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                limit = self.cut_after_bytes if self.connections <= self.cuts else None
            threading.Thread(target=self._serve, args=(client, limit), daemon=True).start()

    def _serve(self, client: socket.socket, limit: int | None) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            _reset(client)
            return
        requests = threading.Thread(target=self._pump, args=(client, upstream, None), daemon=True)
        requests.start()
        self._pump(upstream, client, limit)
        requests.join(timeout=10)
        for sock in (client, upstream):
            with contextlib.suppress(OSError):
                sock.close()

    def _pump(self, source: socket.socket, sink: socket.socket, limit: int | None) -> None:
        forwarded = 0
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if limit is not None and forwarded + len(data) >= limit:
                    sink.sendall(data[: limit - forwarded])
                    with self._lock:
                        self.cuts_done += 1
                    break
                sink.sendall(data)
                forwarded += len(data)
        except OSError:
            pass
        finally:
            if limit is not None:
                _reset(sink)
                _reset(source)
            else:
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)
