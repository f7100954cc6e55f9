"""Many short-lived threads querying one reader engine at once, as Streamlit's
sessions do (each rerun runs in a thread of its own).

``python -m tests.hammer URL [SECONDS] [THREADS]`` prints ``queries=N errors=M``
and exits 0 when no query failed. It runs in a child process of the test
(``test_database.py``) so that a crash of the driver (a segmentation fault
with SQLAlchemy's SingletonThreadPool on SQLite) fails that test rather than
killing the whole suite.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import datetime, timezone

from dashboard.config import load_settings
from dashboard.db.database import make_reader
from dashboard.filters import Filters
from queries import dispatch, places, reports


def hammer(url: str, seconds: float = 3.0, threads: int = 16) -> tuple[int, list[str]]:
    engine = make_reader(load_settings({"DATABASE_URL": url}))
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    errors: list[str] = []
    done = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    pf = Filters()

    def one(i: int) -> None:
        try:
            for _ in range(3):
                if i % 3 == 0:
                    reports.latest_id(engine)
                elif i % 3 == 1:
                    places.catalogue(engine)
                else:
                    dispatch.unclosed_count(engine, pf, now)
                with lock:
                    done[0] += 1
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")

    i = 0
    while time.monotonic() < stop:
        batch = [threading.Thread(target=one, args=(i + k,)) for k in range(threads)]
        i += threads
        for t in batch:
            t.start()
        for t in batch:
            t.join()
    engine.dispose()
    return done[0], errors


if __name__ == "__main__":
    url = sys.argv[1]
    secs = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    done, errs = hammer(url, secs, n)
    print(f"queries={done} errors={len(errs)}")
    for e in errs[:5]:
        print(e)
    sys.exit(1 if errs or done == 0 else 0)
