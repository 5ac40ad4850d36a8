"""Fake external services that speak the vendors' real wire formats.

Each fake is a real aiohttp server bound to 127.0.0.1 on a free port; the
product under test reaches it through its ordinary base-URL settings, so the
code path is the one used in production (see STYLE.md, "Fakes at the
transport, not mocks of our code").  :class:`FakeServer` holds the shared
start/stop plumbing and a small polling ``wait_until`` used by the fakes'
``wait_for`` helpers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from aiohttp import web

__all__ = ["FakeServer", "wait_until"]


async def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float = 10.0,  # noqa: ASYNC109 - a deadline for polling, not a cancellation scope
    interval: float = 0.01,
    what: str = "condition",
) -> None:
    """Poll ``condition`` until it holds; raise ``AssertionError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


class FakeServer:
    """An aiohttp application served on 127.0.0.1:<free port>.

    Subclasses implement :meth:`build_app`; ``url`` is ``http://127.0.0.1:PORT``
    once started.  Usable as ``async with Fake() as fake: ...``.
    """

    shutdown_timeout: float = 0.5

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    def build_app(self) -> web.Application:
        """Return the application to serve (routes registered)."""
        raise NotImplementedError

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port

    @property
    def url(self) -> str:
        """Root URL of the running server, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        if self._runner is not None:
            return
        runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=self.shutdown_timeout)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def before_stop(self) -> None:
        """Hook for subclasses: release waiters (long polls) before the server closes."""

    async def stop(self) -> None:
        if self._runner is None:
            return
        await self.before_stop()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
