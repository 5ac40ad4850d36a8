"""LangGraph checkpointers (SQLite by default, PostgreSQL for scale-out) and pruning.

Durability is `exit`: one checkpoint per turn, written when the turn ends.
A crash mid-turn loses only that turn's state; the inbound message is
already stored with `turn_status=pending`, so a redelivery re-runs it, and
commits are idempotent by order id. Older checkpoints of a thread are
pruned after each turn, so storage per conversation stays flat.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver

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
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(str(data_dir / "checkpoints.db")) as saver:
        await saver.setup()
        await saver.conn.execute("PRAGMA synchronous=NORMAL")
        yield saver


async def prune(saver: BaseCheckpointSaver, thread_id: str) -> None:
    """Keep only the newest checkpoint (and its writes) of a thread; nothing is deserialized."""
    name = type(saver).__name__
    if name == "AsyncSqliteSaver":
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
