"""Take the session's database away for a while and bring it back, on either backend.

SQLite: the file is made unreadable. Tests run as root in CI, and root reads a
file whatever its mode, so ``chmod 000`` alone would not stop anything: the file
is also moved away (both undone on ``restore``). PostgreSQL: the URL handed to
the code under test goes through a ``TcpProxy`` that ``cut`` closes and
``restore`` reopens; the server itself is never touched.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.tcpproxy import TcpProxy


class Outage:
    def __init__(self, url: str):
        u = make_url(url)
        self.proxy: TcpProxy | None = None
        self.path: Path | None = None
        if u.get_backend_name() == "sqlite":
            self.path = Path(u.database)
            self.away = self.path.with_name(self.path.name + ".away")
            self.url = url
        else:
            self.proxy = TcpProxy(u.port or 5432, u.host or "127.0.0.1")
            self.url = u.set(host="127.0.0.1", port=self.proxy.port).render_as_string(hide_password=False)
        self.down = False

    @property
    def how(self) -> str:
        return "sqlite: chmod 000 and moved away" if self.proxy is None else "postgresql: tcp proxy cut"

    def cut(self) -> None:
        if self.proxy is not None:
            self.proxy.cut()
        else:
            os.chmod(self.path, 0)  # stops a non-root reader ...
            os.rename(self.path, self.away)  # ... and this stops root too
        self.down = True

    def restore(self) -> None:
        if self.proxy is not None:
            self.proxy.restore()
        elif self.down:
            os.rename(self.away, self.path)
            os.chmod(self.path, 0o644)
        self.down = False

    def close(self) -> None:
        if self.down:
            self.restore()
        if self.proxy is not None:
            self.proxy.close()

    def __enter__(self) -> Outage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
