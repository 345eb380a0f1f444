"""Read-only sessions: pages, listings and the scheduler's claims do not queue behind units of work."""

from __future__ import annotations

import time

from sqlalchemy import event, func, select, text

from lifecycle.db import make_engine, make_session_factory, read_only_factory
from lifecycle.models import Member


def test_on_sqlite_a_read_only_session_reads_at_once_while_a_unit_of_work_holds_the_write_lock(sqlite_url):
    engine = make_engine(sqlite_url)
    writers = make_session_factory(engine, reminder_days=(14,))
    readers = read_only_factory(writers)
    assert readers.kw["info"] == {"reminder_days": (14,)}  # same policy parameters as the units of work
    with writers() as writer:
        writer.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the database's write lock is held from here
        started = time.monotonic()
        with readers() as reader:
            assert reader.scalar(select(func.count()).select_from(Member)) == 0
        assert time.monotonic() - started < 1.0
    engine.dispose()


def test_on_sqlite_units_of_work_still_begin_immediate_and_serialize(sqlite_url):
    engine = make_engine(sqlite_url)
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(conn, cursor, statement, *args):
        seen.append(statement)

    writers = make_session_factory(engine)
    with writers() as s:
        s.execute(text("SELECT 1"))
    with read_only_factory(writers)() as s:
        s.execute(text("SELECT 2"))
    assert [x for x in seen if x.startswith("BEGIN")] == ["BEGIN IMMEDIATE", "BEGIN"]
    engine.dispose()
