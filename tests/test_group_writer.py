"""Group commit on SQLite: every write lands once, and a bad one fails only its own caller."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.exc import IntegrityError

from storage.group_writer import GroupWriter

META = MetaData()
ITEMS = Table("items", META, Column("id", Integer, primary_key=True), Column("name", String, unique=True))


@pytest.fixture
def engine(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'w.db'}", connect_args={"check_same_thread": False})
    META.create_all(engine)
    yield engine
    engine.dispose()


def _add(conn, name: str) -> int:
    return conn.execute(insert(ITEMS).values(name=name).returning(ITEMS.c.id)).scalar_one()


def _names(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(ITEMS.c.name)).scalars())


async def test_concurrent_writes_share_commits_and_all_land(engine) -> None:
    writer = GroupWriter(engine)
    release = threading.Event()
    try:
        # Hold the writer thread so the next writes queue up and go in as one batch.
        blocker = asyncio.ensure_future(writer.submit(lambda conn: release.wait(5)))
        await asyncio.sleep(0.05)
        writes = [asyncio.ensure_future(writer.submit(_add, f"item-{i}")) for i in range(40)]
        await asyncio.sleep(0.05)
        assert not any(w.done() for w in writes)  # nothing resolves before its commit
        release.set()
        ids = await asyncio.gather(*writes)
        await blocker
    finally:
        await writer.close()
    assert len(set(ids)) == 40
    assert _names(engine) == sorted(f"item-{i}" for i in range(40))


async def test_a_failing_job_fails_alone(engine) -> None:
    writer = GroupWriter(engine)
    release = threading.Event()
    try:
        await writer.submit(_add, "taken")
        blocker = asyncio.ensure_future(writer.submit(lambda conn: release.wait(5)))
        await asyncio.sleep(0.05)
        good_before = asyncio.ensure_future(writer.submit(_add, "a"))
        bad = asyncio.ensure_future(writer.submit(_add, "taken"))  # unique violation
        good_after = asyncio.ensure_future(writer.submit(_add, "b"))
        release.set()
        await blocker
        assert isinstance(await good_before, int) and isinstance(await good_after, int)
        with pytest.raises(IntegrityError):
            await bad
    finally:
        await writer.close()
    assert _names(engine) == ["a", "b", "taken"]


async def test_close_finishes_what_is_queued(engine) -> None:
    writer = GroupWriter(engine)
    writes = [asyncio.ensure_future(writer.submit(_add, f"late-{i}")) for i in range(10)]
    await asyncio.sleep(0)
    await writer.close()
    assert len(await asyncio.gather(*writes)) == 10
    assert len(_names(engine)) == 10
