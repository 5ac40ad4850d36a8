"""SQLite writes with group commit: one thread, and whatever queued up commits together.

SQLite has one writer at a time, so every per-turn write goes through one
thread. Under load that thread is the queue every conversation waits in, and
most of its time is not the statements themselves but what surrounds each
transaction: BEGIN and COMMIT, a connection checkout, a wake-up of the event
loop, and, for every call into SQLite, getting the GIL back from a busy event
loop. So the thread takes all the jobs that are waiting and runs them in one
transaction, then wakes the loop once for all of them.

Each job is `fn(connection, *args)`, sync Core code that must not commit.
Its future resolves only after the COMMIT that made it durable, exactly as
with a transaction of its own. If any job raises, the batch is rolled back
and every job re-runs alone, so one bad job fails only its own caller.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

MAX_BATCH = 64

Job = tuple[Callable[..., Any], tuple[Any, ...], asyncio.AbstractEventLoop, asyncio.Future[Any]]
Outcome = tuple[asyncio.Future[Any], Any, BaseException | None]


class GroupWriter:
    def __init__(self, engine: Engine, *, name: str = "sqlite-writer") -> None:
        self.engine = engine
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    async def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._jobs.put((fn, args, loop, future))
        return await future

    async def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        self._jobs.put(None)
        await asyncio.to_thread(self._thread.join)

    # -- the writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._jobs.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                batch.append(job)
            self._deliver(batch, self._execute(batch))

    def _execute(self, batch: list[Job]) -> list[Outcome]:
        try:
            with self.engine.begin() as conn:
                results = [fn(conn, *args) for fn, args, _, _ in batch]
            return [(job[3], result, None) for job, result in zip(batch, results, strict=True)]
        except BaseException as exc:
            if len(batch) == 1:
                return [(batch[0][3], None, exc)]
        return [outcome for job in batch for outcome in self._execute([job])]  # isolate the failing job

    @staticmethod
    def _deliver(batch: list[Job], outcomes: list[Outcome]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
        for job, outcome in zip(batch, outcomes, strict=True):
            by_loop.setdefault(job[2], []).append(outcome)
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, items)
            except RuntimeError:  # the loop closed meanwhile: nobody is waiting any more
                pass


def _resolve(items: list[Outcome]) -> None:
    for future, result, error in items:
        if future.cancelled():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
