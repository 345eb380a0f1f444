"""Engines, the UTC instant column type, SQLite/PostgreSQL locking, and schema migration."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pendulum
from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlalchemy.types import TypeDecorator

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class UTCInstant(TypeDecorator):
    """Instants stored in UTC, returned as pendulum values.

    SQLite drops offsets silently, so every value is converted to naive UTC on the way
    in and given back its UTC zone on the way out; naive input is refused.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise ValueError(f"instants must be timezone-aware, got {value!r}")
        utc = value.astimezone(dt.timezone.utc)
        # A plain datetime, not pendulum's subclass: drivers subtract an epoch from each value they
        # send, and pendulum's subtraction builds an Interval (a tenth of a millisecond per value).
        return dt.datetime(utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return pendulum.instance(value, tz="UTC")


READ_ONLY = "ogp_read_only"  # execution option of the engine behind read-only sessions


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine whose transactions lock as the architecture needs.

    SQLite: every transaction starts with ``BEGIN IMMEDIATE`` so that two writers
    serialize on the database lock instead of failing at commit; WAL lets readers on.
    PostgreSQL: subjects are locked with ``SELECT … FOR UPDATE`` by the unit of work.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            # Readers (see read_only_factory) take no write lock, so pages and
            # claims never queue behind a unit of work; WAL gives them a consistent snapshot.
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, echo=echo, pool_pre_ping=True)


def make_session_factory(engine: Engine, *, reminder_days: tuple[int, ...] | None = None) -> sessionmaker:
    """Sessions for units of work; policy parameters set by the entry point travel in ``info``."""
    info = {"reminder_days": tuple(reminder_days)} if reminder_days is not None else {}
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True, info=info)


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply the migrations up to ``revision``; the only way the schema is created."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def read_only_factory(factory: sessionmaker) -> sessionmaker:
    """Sessions for reading (pages, listings, claims) on the same engine, pool and ``info`` as ``factory``.

    On SQLite their transactions start with a plain ``BEGIN`` instead of ``BEGIN IMMEDIATE``, so
    they do not wait for writers. Never write in them: they are not serialized with units of work.
    """
    bind = factory.kw["bind"]
    engine = bind if isinstance(bind, Engine) else bind.engine
    return sessionmaker(bind=engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False,
                        autoflush=True, info=dict(factory.kw.get("info") or {}))
