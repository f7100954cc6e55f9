"""Alarm acknowledgements shared by every screen of one server.

A command room runs several walls (and desk screens) off one dashboard
server. When the duty officer presses 已知悉 on one of them, the alarm stops
flashing on all of them at their next alarm tick, and a wall opened later
does not raise it again while the alarm window lasts. The book lives in the
server process (every Streamlit session shares it), keyed by the database
(alarm keys such as ``report:123`` are that database's ids). It is bounded
twice: entries older than the window they were kept for are dropped, and no
more than ``max_entries`` are held per database (the oldest go first).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable


@dataclass(frozen=True)
class Ack:
    at: datetime  # UTC, naive
    by: str  # who pressed 已知悉 (the signed-in user, or the demo user)


class AckBook:
    def __init__(self, max_entries: int = 5000) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._books: dict[str, OrderedDict[str, Ack]] = {}

    def acknowledge(self, db_key: str, keys: Iterable[str], at: datetime, by: str) -> None:
        with self._lock:
            book = self._books.setdefault(db_key, OrderedDict())
            for k in keys:
                book.pop(k, None)  # re-acknowledged: it moves to the newest end
                book[k] = Ack(at, by)
            while len(book) > self.max_entries:
                book.popitem(last=False)

    def acknowledged(self, db_key: str, now: datetime, keep: timedelta) -> dict[str, Ack]:
        """The acknowledgements of the last ``keep`` (older ones are forgotten here)."""
        with self._lock:
            book = self._books.get(db_key)
            if not book:
                return {}
            while book:
                oldest = next(iter(book.values()))
                if now - oldest.at <= keep:
                    break
                book.popitem(last=False)
            return dict(book)

    def size(self, db_key: str) -> int:
        with self._lock:
            return len(self._books.get(db_key, ()))

    def clear(self) -> None:
        with self._lock:
            self._books.clear()


BOOK = AckBook()
