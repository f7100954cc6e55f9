"""A small TCP proxy for outage tests: 127.0.0.1:<free port> → a target (PostgreSQL).

``cut()`` closes every live connection (with a reset, as a crashed server or a
dropped link would) and refuses new ones; ``restore()`` forwards again.
``hang()`` keeps every socket open but forwards nothing (a network that
swallows packets); ``restore()`` then delivers what was held back, in order.

"Refused" means accepted and reset at once, not a closed listening socket:
the port stays ours, so a restore can never find it taken by another program.
Threads only (one accept loop, two pumps per connection); use as a context
manager or call ``close()``.
"""

from __future__ import annotations

import socket
import struct
import threading

OPEN, CUT, HANG = "open", "cut", "hang"


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0) and wake any thread blocked on the socket."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._state = OPEN
        self._flowing = threading.Event()
        self._flowing.set()
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._closed = False
        self.accepted = 0  # connections accepted and forwarded, ever
        self.refused = 0  # connections reset on arrival while cut
        self._thread = threading.Thread(target=self._accept_loop, name=f"tcpproxy-{self.port}", daemon=True)
        self._thread.start()

    # --- control ----------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    @property
    def live(self) -> int:
        """Connections open through the proxy right now."""
        with self._lock:
            return len(self._pairs)

    def cut(self) -> None:
        """Close every live connection and refuse new ones."""
        with self._lock:
            self._state = CUT
            pairs, self._pairs = self._pairs, set()
        for a, b in pairs:
            _reset(a)
            _reset(b)
        self._flowing.set()  # pumps held by hang() wake up and find their sockets closed

    def hang(self) -> None:
        """Keep every socket open but forward nothing, old or new connections alike."""
        with self._lock:
            self._state = HANG
            self._flowing.clear()

    def restore(self) -> None:
        with self._lock:
            self._state = OPEN
            self._flowing.set()

    def close(self) -> None:
        self._closed = True
        self.cut()
        _reset(self._listener)
        self._thread.join(5)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- forwarding -------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._state == CUT or self._closed:
                self.refused += 1
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            pair = (client, upstream)
            with self._lock:
                if self._state == CUT:
                    _reset(client)
                    _reset(upstream)
                    continue
                self._pairs.add(pair)
                self.accepted += 1
            for src, dst in (pair, pair[::-1]):
                threading.Thread(target=self._pump, args=(src, dst, pair), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, pair: tuple[socket.socket, socket.socket]) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self._flowing.wait()  # held while hung
                dst.sendall(data)
        except OSError:
            pass
        with self._lock:
            mine = pair in self._pairs
            self._pairs.discard(pair)
        if mine:  # one side closed normally: close the other (cut() closes its own)
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
