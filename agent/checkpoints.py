"""LangGraph checkpointers (SQLite by default, PostgreSQL for scale-out) and pruning.

Durability is `exit`: one checkpoint per turn, written when the turn ends.
A crash mid-turn loses only that turn's state; the inbound message is
already stored with `turn_status=pending`, so a redelivery re-runs it, and
commits are idempotent by order id. Older checkpoints of a thread (and, on
PostgreSQL, the channel blobs only they used) are pruned every few turns
(`agent.runtime.PRUNE_EVERY`), so storage per conversation stays flat.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import OrderedDict
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple, get_checkpoint_metadata
from sqlalchemy import Connection, create_engine

from storage.db import sqlite_pragmas
from storage.group_writer import GroupWriter

DURABILITY = "exit"


@asynccontextmanager
async def open_checkpointer(database_url: str, data_dir: Path) -> AsyncIterator[BaseCheckpointSaver]:
    if database_url.startswith("postgresql"):
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        dsn = "postgresql://" + database_url.split("://", 1)[1]
        kwargs = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
        async with AsyncConnectionPool(dsn, kwargs=kwargs, max_size=10, open=False) as pool:
            saver = AsyncPostgresSaver(pool)
            await saver.setup()
            yield saver
        return
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    saver = await ThreadedSqliteSaver.open(data_dir / "checkpoints.db")
    try:
        yield saver
    finally:
        await saver.close()


class ThreadedSqliteSaver(BaseCheckpointSaver):
    """LangGraph's own `SqliteSaver` off the event loop, with group-committed writes and the latest checkpoints in memory.

    `AsyncSqliteSaver` holds an asyncio lock across several event-loop hops
    per call, so under load every conversation queues behind it (measured:
    ~200 ms per checkpoint read or write at 32 concurrent conversations).
    Here reads and maintenance are one hop each to a thread that owns
    SqliteSaver's connection, and checkpoint writes go to a group-commit
    writer on a second connection (storage/group_writer.py): the turns that
    end together share one COMMIT. Nothing blocks the event loop, nothing is
    held across loop iterations, and the rows are SqliteSaver's own.

    One daemon owns a SQLite database, so the checkpoint it last wrote for a
    thread is the newest there is: reading it back is served from memory
    (LangGraph never mutates a checkpoint it handed over; it may still be
    serialising it in the background). Pending writes or a deleted thread
    drop the entry; at most LATEST_CACHED threads are kept, least recent out.
    """

    LATEST_CACHED = 2048

    def __init__(self, saver: Any, executor: ThreadPoolExecutor, puts: GroupWriter) -> None:
        super().__init__(serde=saver.serde)
        self.saver = saver
        self.executor = executor
        self.puts = puts  # checkpoint writes, group-committed on their own connection
        self._latest: OrderedDict[str, CheckpointTuple] = OrderedDict()

    def _remember(self, thread_id: str, item: CheckpointTuple) -> None:
        self._latest[thread_id] = item
        self._latest.move_to_end(thread_id)
        if len(self._latest) > self.LATEST_CACHED:
            self._latest.popitem(last=False)

    @classmethod
    async def open(cls, path: Path) -> ThreadedSqliteSaver:
        from langgraph.checkpoint.sqlite import SqliteSaver

        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoints")

        def connect() -> Any:
            conn = sqlite3.connect(str(path), check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            saver = SqliteSaver(conn)
            saver.setup()
            return saver

        saver = await asyncio.get_running_loop().run_in_executor(executor, connect)
        engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30, "check_same_thread": False})
        sqlite_pragmas(engine)
        return cls(saver, executor, GroupWriter(engine, name="checkpoint-writer"))

    async def _run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, partial(fn, *args, **kwargs))

    async def close(self) -> None:
        await self.puts.close()
        await asyncio.to_thread(self.puts.engine.dispose)
        await self._run(self.saver.conn.close)
        self.executor.shutdown(wait=True)

    # sync API (used by LangGraph's sync paths and tools): straight to SqliteSaver
    def get_tuple(self, config: Any) -> Any:
        return self.saver.get_tuple(config)

    def list(self, config: Any, **kwargs: Any) -> Any:
        return self.saver.list(config, **kwargs)

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        self._latest.pop(str(config["configurable"]["thread_id"]), None)
        return self.saver.put(config, checkpoint, metadata, new_versions)

    def put_writes(self, config: Any, writes: Any, task_id: str, task_path: str = "") -> None:
        self._latest.pop(str(config["configurable"]["thread_id"]), None)
        self.saver.put_writes(config, writes, task_id, task_path)

    def delete_thread(self, thread_id: str) -> None:
        self._latest.pop(str(thread_id), None)
        self.saver.delete_thread(thread_id)

    def get_next_version(self, current: Any, channel: Any) -> Any:
        return self.saver.get_next_version(current, channel)

    # async API: one hop each
    async def aget_tuple(self, config: Any) -> Any:
        conf = config["configurable"]
        cached = self._latest.get(str(conf["thread_id"]))
        if cached is not None and not conf.get("checkpoint_ns") and (
            not conf.get("checkpoint_id") or conf["checkpoint_id"] == cached.checkpoint["id"]
        ):
            self._latest.move_to_end(str(conf["thread_id"]))
            return cached
        return await self._run(self.saver.get_tuple, config)

    async def alist(self, config: Any, **kwargs: Any) -> AsyncIterator[Any]:
        for item in await self._run(lambda: list(self.saver.list(config, **kwargs))):
            yield item

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        conf = config["configurable"]
        thread_id, ns = str(conf["thread_id"]), conf.get("checkpoint_ns", "")
        self._latest.pop(thread_id, None)
        stored_metadata = await self.puts.submit(self._put_sync, config, checkpoint, metadata)
        saved = {"configurable": {"thread_id": conf["thread_id"], "checkpoint_ns": ns, "checkpoint_id": checkpoint["id"]}}
        if not ns:
            parent = conf.get("checkpoint_id")
            self._remember(thread_id, CheckpointTuple(
                config=saved,
                checkpoint=checkpoint,
                metadata=json.loads(stored_metadata),  # as get_tuple would return it
                parent_config={"configurable": {**saved["configurable"], "checkpoint_id": parent}} if parent else None,
                pending_writes=[],
            ))
        return saved

    def _put_sync(self, conn: Connection, config: Any, checkpoint: Any, metadata: Any) -> bytes:
        """SqliteSaver.put's row, written in the checkpoint writer's current batch; returns the stored metadata."""
        conf = config["configurable"]
        type_, blob = self.serde.dumps_typed(checkpoint)
        stored = json.dumps(get_checkpoint_metadata(config, metadata), ensure_ascii=False).encode("utf-8", "ignore")
        conn.exec_driver_sql(
            "INSERT OR REPLACE INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type,"
            " checkpoint, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (str(conf["thread_id"]), conf.get("checkpoint_ns", ""), checkpoint["id"], conf.get("checkpoint_id"),
             type_, blob, stored),
        )
        return stored

    async def aput_writes(self, config: Any, writes: Any, task_id: str, task_path: str = "") -> None:
        self._latest.pop(str(config["configurable"]["thread_id"]), None)
        await self._run(self.saver.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        self._latest.pop(str(thread_id), None)
        await self._run(self.saver.delete_thread, thread_id)

    async def aget_delta_channel_history(self, **kwargs: Any) -> Any:
        return await self._run(partial(self.saver.get_delta_channel_history, **kwargs))

    def prune_thread(self, thread_id: str) -> None:
        """Delete all but the newest checkpoint of a thread (runs on the saver's thread)."""
        newest = "(SELECT MAX(checkpoint_id) FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '')"
        with self.saver.cursor() as cur:
            cur.execute(f"DELETE FROM writes WHERE thread_id = ? AND checkpoint_id < {newest}", (thread_id, thread_id))
            cur.execute(
                f"DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_id < {newest}", (thread_id, thread_id)
            )


async def prune(saver: BaseCheckpointSaver, thread_id: str) -> None:
    """Keep only the newest checkpoint (and its writes) of a thread; nothing is deserialized."""
    name = type(saver).__name__
    if isinstance(saver, ThreadedSqliteSaver):
        await saver._run(saver.prune_thread, thread_id)
    elif name == "AsyncSqliteSaver":
        newest = "(SELECT MAX(checkpoint_id) FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '')"
        async with saver.lock:
            await saver.conn.execute(
                f"DELETE FROM writes WHERE thread_id = ? AND checkpoint_id < {newest}", (thread_id, thread_id)
            )
            await saver.conn.execute(
                f"DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_id < {newest}", (thread_id, thread_id)
            )
            await saver.conn.commit()
    elif name == "AsyncPostgresSaver":
        newest = "(SELECT MAX(checkpoint_id) FROM checkpoints WHERE thread_id = %s AND checkpoint_ns = '')"
        async with saver.conn.connection() as conn:  # type: ignore[union-attr]
            await conn.execute(
                f"DELETE FROM checkpoint_writes WHERE thread_id = %s AND checkpoint_id < {newest}", (thread_id, thread_id)
            )
            await conn.execute(
                f"DELETE FROM checkpoints WHERE thread_id = %s AND checkpoint_id < {newest}", (thread_id, thread_id)
            )
            # Channel values live in checkpoint_blobs, one row per channel version: keep those the
            # remaining checkpoint points at, or every turn leaves its messages behind for good.
            await conn.execute(
                "DELETE FROM checkpoint_blobs b WHERE b.thread_id = %s AND b.checkpoint_ns = '' AND NOT EXISTS ("
                " SELECT 1 FROM checkpoints c WHERE c.thread_id = b.thread_id AND c.checkpoint_ns = b.checkpoint_ns"
                " AND c.checkpoint -> 'channel_versions' ->> b.channel = b.version)",
                (thread_id,),
            )
