"""A network link between the browser and the app stack that a test can cut and restore.

The browser's own offline switch (`context.set_offline`) covers pages, not every service worker
instance (a worker that the browser restarted, or one woken by Background Sync, still reaches the
network), so "no connection" here is real: while the link is down every connection is refused
and every open one is cut, as a phone that lost its signal sees it.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class Link:
    def __init__(self, target_port: int, host: str = "127.0.0.1"):
        self.target = (host, target_port)
        self._server = socket.create_server((host, 0))
        self.port = self._server.getsockname()[1]
        self.base_url = f"http://{host}:{self.port}"
        self._up = threading.Event()
        self._up.set()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def is_up(self) -> bool:
        return self._up.is_set()

    def down(self) -> None:
        self._up.clear()
        with self._lock:
            for sock in list(self._open):
                self._close(sock)
            self._open.clear()

    def up(self) -> None:
        self._up.set()

    def close(self) -> None:
        self._closed = True
        self.down()
        self._server.close()

    @staticmethod
    def _close(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _address = self._server.accept()
            except OSError:
                return
            if not self._up.is_set():
                self._close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                self._close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
            self._close(source)
            self._close(sink)
