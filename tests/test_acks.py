"""The shared acknowledgement book: per database, expires, bounded."""

from __future__ import annotations

from datetime import datetime, timedelta

from dashboard.wall.acks import AckBook

T0 = datetime(2026, 12, 2, 8, 0)


def test_acknowledgements_are_per_database_and_expire():
    book = AckBook()
    book.acknowledge("db1", ["report:1", "task:2"], T0, "duty")
    assert set(book.acknowledged("db1", T0 + timedelta(minutes=5), timedelta(minutes=10))) == {"report:1", "task:2"}
    assert book.acknowledged("db2", T0, timedelta(minutes=10)) == {}
    book.acknowledge("db1", ["report:3"], T0 + timedelta(minutes=8), "chief")
    later = book.acknowledged("db1", T0 + timedelta(minutes=11), timedelta(minutes=10))
    assert set(later) == {"report:3"} and later["report:3"].by == "chief"
    assert book.size("db1") == 1  # the expired ones are gone, not only hidden


def test_the_book_is_bounded_and_keeps_the_newest():
    book = AckBook(max_entries=100)
    for i in range(1000):
        book.acknowledge("db", [f"report:{i}"], T0 + timedelta(seconds=i), "duty")
    held = book.acknowledged("db", T0 + timedelta(seconds=1000), timedelta(days=1))
    assert len(held) == 100 and "report:999" in held and "report:899" not in held
    book.acknowledge("db", ["report:900"], T0 + timedelta(seconds=2000), "duty")  # re-acknowledged: newest again
    book.acknowledge("db", ["report:5000"], T0 + timedelta(seconds=2001), "duty")
    held = book.acknowledged("db", T0 + timedelta(seconds=2001), timedelta(days=1))
    assert "report:900" in held and "report:901" not in held and len(held) == 100
