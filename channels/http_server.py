"""The daemon's HTTP server: the app (body deadline, URL check) and a deadline on request headers.

aiohttp has no header timeout; `serve_http` adds one (see below), and
`make_app` builds the one application every route registers on.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from channels.http_input import BODY_TIMEOUT, DEFAULT_BODY_TIMEOUT_S, clean_url

log = logging.getLogger(__name__)

# -- the server: a deadline on request headers ------------------------------------------
#
# aiohttp has no header timeout: a client that sends one header byte a second holds a
# connection (and a file descriptor) forever. Its keep-alive timer only runs between
# requests (and, since 3.14.5, from the connection's start), and it is the idle timeout,
# which must stay longer than a reverse proxy's. So each connection is wrapped: a timer
# runs from the connection's start, and from the first byte after a request was answered,
# until the next request reaches the app; if it fires first, the connection is closed.

CONNECTIONS = web.AppKey("http_connections", dict)
DEFAULT_HEADER_TIMEOUT_S = 15.0
# An idle keep-alive connection is closed after this long (aiohttp's default is an hour);
# longer than the usual reverse proxy's idle timeout (nginx: 60 s), so the proxy closes first.
IDLE_TIMEOUT_S = 75.0


def make_app(*, middlewares: list[Any], body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S,
             client_max_size: int = 1024 * 1024) -> web.Application:
    """The daemon's application: the body deadline for `read_body` and the header-deadline bookkeeping.

    Routes read bodies with `read_body` and their own cap (the catalog import
    allows 50 MB); `client_max_size` only bounds a stray `request.read()`.
    """
    app = web.Application(middlewares=[_request_arrived, clean_url, *middlewares], client_max_size=client_max_size)
    app[BODY_TIMEOUT] = body_timeout_s
    app[CONNECTIONS] = {}
    return app


@web.middleware
async def _request_arrived(request: web.Request, handler: Any) -> web.StreamResponse:
    """Stops the connection's header deadline while a request is being handled."""
    conn = request.config_dict.get(CONNECTIONS, {}).get(request.transport)
    if conn is None:  # not served by serve_http (e.g. a test server)
        return await handler(request)
    conn.request_started()
    try:
        return await handler(request)
    finally:
        conn.request_finished()


async def serve_http(app: web.Application, host: str, port: int, *,
                     header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S) -> tuple[web.AppRunner, web.BaseSite]:
    """Start serving `app` on host:port with the header deadline; returns (runner, site)."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None, keepalive_timeout=IDLE_TIMEOUT_S,
                           logger=_ServerLog(logging.getLogger("aiohttp.server"), {}))
    await runner.setup()
    site = _HeaderDeadlineSite(runner, host, port, header_timeout_s)
    await site.start()
    return runner, site


class _ServerLog(logging.LoggerAdapter):
    """aiohttp's server log, where a malformed request (the client's fault, answered 400) is one line.

    aiohttp logs a bad request line or header (too long, not HTTP) as an error
    with a traceback; a handler's real failure stays an error with its traceback.
    """

    def exception(self, msg: Any, *args: Any, exc_info: Any = True, **kwargs: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            reason = (str(exc_info.message).strip().splitlines() or [""])[0][:120]
            self.info("refused a malformed request (%s): %s", type(exc_info).__name__, reason)
            return
        self.error(msg, *args, exc_info=exc_info, **kwargs)


class _HeaderDeadlineSite(web.BaseSite):
    """A TCP site whose connections each get a `_Deadline` around aiohttp's protocol."""

    __slots__ = ("_host", "_port", "_limit_s")

    def __init__(self, runner: web.AppRunner, host: str, port: int, limit_s: float) -> None:
        super().__init__(runner)
        self._host, self._port, self._limit_s = host, port, limit_s

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        runner = self._runner
        make_protocol = runner.server
        connections = runner.app[CONNECTIONS]
        self._server = await asyncio.get_running_loop().create_server(
            lambda: _Deadline(make_protocol(), connections, self._limit_s),
            self._host, self._port, backlog=self._backlog, reuse_address=True,
        )


class _Deadline(asyncio.Protocol):
    """aiohttp's protocol for one connection, closed when a request's headers do not arrive in time."""

    def __init__(self, inner: asyncio.Protocol, connections: dict[Any, _Deadline], limit_s: float) -> None:
        self.inner, self.connections, self.limit_s = inner, connections, limit_s
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.in_flight = 0
        self.paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.connections[transport] = self
        self.inner.connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.timer is None and self.in_flight == 0:
            self._arm()  # the first byte of the next request
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.paused = True
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.paused = False
        self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.connections.pop(self.transport, None)
        self.inner.connection_lost(exc)

    def request_started(self) -> None:
        self.in_flight += 1
        self._disarm()

    def request_finished(self) -> None:
        self.in_flight -= 1

    def _arm(self) -> None:
        self.timer = asyncio.get_running_loop().call_later(self.limit_s, self._expire)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _expire(self) -> None:
        self.timer = None
        transport = self.transport
        if transport is None or transport.is_closing() or self.in_flight:
            return
        if self.paused or transport.get_write_buffer_size():
            self._arm()  # still sending an answer to a slow reader: not a stalled request
            return
        log.info("closed a connection whose request headers took longer than %g s", self.limit_s)
        transport.close()
