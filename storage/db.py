"""Async engine, sessions and schema migrations (Alembic, applied at start-up)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import TimeoutError as SATimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.group_writer import GroupWriter

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
T = TypeVar("T")
# Seconds a statement waits for a pooled PostgreSQL connection before giving up (a busy reply, not a hang).
POOL_TIMEOUT_S = 10.0


class LockTimeout(Exception):
    """A conversation's lock, or a database connection, could not be had in time."""


def sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()


def make_engine(url: str, pool_timeout_s: float = POOL_TIMEOUT_S) -> AsyncEngine:
    """Create the engine; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        sqlite_pragmas(engine.sync_engine)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, pool_timeout=pool_timeout_s)


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the latest revision (idempotent)."""

    def _upgrade(sync_conn) -> None:
        cfg = _alembic_config()
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, "head")

    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


class Database:
    """The engine plus a session factory; one per process."""

    def __init__(self, url: str, *, pool_timeout_s: float = POOL_TIMEOUT_S) -> None:
        self.url = url
        self.engine = make_engine(url, pool_timeout_s)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.is_sqlite = url.startswith("sqlite")
        # SQLite has one writer; serialising our own writes avoids busy retries.
        self.write_lock = asyncio.Lock() if self.is_sqlite else None
        # The per-turn writes run whole in one thread hop on SQLite (see `write`).
        # Session-level advisory locks hold a connection for a whole turn: their own pool.
        self.lock_engine = None if self.is_sqlite else create_async_engine(
            url, pool_size=20, max_overflow=200, pool_timeout=pool_timeout_s
        )
        self._writer: GroupWriter | None = None
        self._reader: ThreadPoolExecutor | None = None
        self._sync_engine: Engine | None = None
        if self.is_sqlite:
            self._sync_engine = create_engine(
                url.replace("+aiosqlite", ""), connect_args={"timeout": 30, "check_same_thread": False}
            )
            sqlite_pragmas(self._sync_engine)
            self._writer = GroupWriter(self._sync_engine)
            # WAL lets readers run beside the writer: hot-path reads get their own thread.
            self._reader = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sqlite-reader")

    async def start(self) -> None:
        await migrate(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()
        if self.lock_engine is not None:
            await self.lock_engine.dispose()
        if self._writer is not None:
            await self._writer.close()
        if self._reader is not None:
            self._reader.shutdown(wait=True)
        if self._sync_engine is not None:
            await asyncio.to_thread(self._sync_engine.dispose)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(connection, *args)` in a write transaction (Core statements, sync code); returns once committed.

        On SQLite it runs on the one writer thread, committed together with
        whatever other writes queued up meanwhile (storage/group_writer.py):
        no lock is held across event-loop iterations and the per-transaction
        costs are shared. On PostgreSQL the same function runs through the
        async connection, in a transaction of its own.
        """
        if self._writer is None:
            async with self.engine.begin() as conn:
                return await conn.run_sync(fn, *args)
        return await self._writer.submit(fn, *args)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(connection, *args)` (Core statements, sync code) for a read on the turn's hot path.

        On SQLite it is one hop to a reader thread, no ORM and no async
        adaptation per row; on PostgreSQL the same function runs through the
        async connection.
        """
        if self._reader is None or self._sync_engine is None:
            async with self.engine.connect() as conn:
                return await conn.run_sync(fn, *args)

        def work() -> T:
            assert self._sync_engine is not None
            with self._sync_engine.connect() as conn:
                return fn(conn, *args)

        return await asyncio.get_running_loop().run_in_executor(self._reader, work)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def conversation_lock(self, key: str, timeout_s: float = 20.0) -> AsyncIterator[None]:
        """Serialize turns of one conversation across replicas (PostgreSQL advisory lock).

        Raises `LockTimeout` when neither the lock nor a connection for it
        can be had within `timeout_s`: the caller tells the customer to wait
        and leaves the stored message for the sweep. Try-lock polling, so no
        server-side wait outlives the deadline. On SQLite there is one daemon
        per database and the runtime's in-process FIFO lock is enough, so
        this is a no-op there.
        """
        if self.is_sqlite:
            yield
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        try:
            async with asyncio.timeout(timeout_s):
                conn = await self.lock_engine.connect()
        except (TimeoutError, SATimeoutError) as exc:
            raise LockTimeout("no database connection for the conversation lock") from exc
        try:
            pause = 0.02
            while not (await conn.execute(text("SELECT pg_try_advisory_lock(hashtextextended(:k, 0))"),
                                          {"k": key})).scalar_one():
                if loop.time() + pause > deadline:
                    raise LockTimeout("the conversation is busy")
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.25)
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(hashtextextended(:k, 0))"), {"k": key})
                await conn.commit()
        finally:
            await conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction; on SQLite it holds the process-wide write lock."""
        if self.write_lock is None:
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with self.write_lock, self.sessions() as session, session.begin():
            yield session
