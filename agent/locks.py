"""In-process conversation locks: one FIFO lock per key, with an optional deadline."""

from __future__ import annotations

import asyncio

from storage.db import LockTimeout


class KeyedLocks:
    """One FIFO lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def __call__(self, key: str, timeout_s: float | None = None) -> KeyedLock:
        return KeyedLock(self, key, timeout_s)

    def _leave(self, key: str) -> None:
        lock, users = self._locks[key]
        if users <= 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, users - 1)


class KeyedLock:
    def __init__(self, owner: KeyedLocks, key: str, timeout_s: float | None) -> None:
        self.owner, self.key, self.timeout_s = owner, key, timeout_s

    async def __aenter__(self) -> None:
        lock, users = self.owner._locks.get(self.key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self.owner._locks[self.key] = (lock, users + 1)
        try:
            if self.timeout_s is None or not lock.locked():  # free: taken at once, no timer needed
                await lock.acquire()
            else:
                async with asyncio.timeout(self.timeout_s):
                    await lock.acquire()
        except TimeoutError as exc:
            self.owner._leave(self.key)
            raise LockTimeout("the conversation is busy") from exc
        except BaseException:
            self.owner._leave(self.key)
            raise

    async def __aexit__(self, *exc: object) -> None:
        lock, _ = self.owner._locks[self.key]
        lock.release()
        self.owner._leave(self.key)
