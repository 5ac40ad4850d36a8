"""A fake OpenAI Chat Completions server on 127.0.0.1 for tests.

The real `ChatOpenAI` client talks to it through `base_url`; replies are
shaped like the real API (`chat.completion` objects, `tool_calls` with JSON
string arguments, `usage`), streamed as SSE chunks when `stream` is set.

This module also holds `FakeLLMServer`, the base shared with the Gemini fake:
scripted replies (`push`, `script`), failure injection (`fail_next`,
`delay_next`, `hang`) and a record of every request body (`requests`).

    async with FakeOpenAI() as fake:
        fake.push(FakeOpenAI.tool_call("search_products", {"query": "martillo"}),
                  FakeOpenAI.text("Tenemos 3 martillos."))
        model = ChatOpenAI(base_url=fake.base_url, api_key="sk-test")
"""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web


@dataclass
class ToolCallSpec:
    """One function call the fake model makes."""

    name: str
    args: dict[str, Any]
    id: str | None = None


@dataclass
class Reply:
    """What the fake model answers: text, tool calls, or both."""

    text: str | None = None
    tool_calls: list[ToolCallSpec] = field(default_factory=list)
    usage: tuple[int, int] | None = None  # (prompt, completion) tokens; estimated when None


ReplySpec = Reply | str | Sequence[Reply]
ScriptFn = Callable[[dict[str, Any]], ReplySpec | Awaitable[ReplySpec]]


def as_reply(spec: ReplySpec) -> Reply:
    """Normalize a spec: a str is text, a list of replies is merged into one turn."""
    if isinstance(spec, Reply):
        return spec
    if isinstance(spec, str):
        return Reply(text=spec)
    merged = Reply()
    texts = [r.text for r in spec if r.text]
    merged.text = "".join(texts) if texts else None
    for part in spec:
        merged.tool_calls.extend(part.tool_calls)
    return merged


def approx_tokens(text: str) -> int:
    """A deterministic token estimate (~4 characters a token)."""
    return max(1, len(text) // 4)


class FakeLLMServer:
    """Base of the fake model servers: lifecycle, scripting, failures, records.

    Reply order: queued replies (`push`) first, then the `script` function,
    then an echo of the last user text. Injected failures and delays do not
    consume queued replies, so a retried request gets the reply meant for it.
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self._queue: deque[Reply] = deque()
        self._script: ScriptFn | None = None
        self._failures: deque[tuple[int, float | None]] = deque()
        self._delays: deque[float] = deque()
        self._hanging = False
        self.hung = 0  # requests currently held open without an answer
        self._none_hung = asyncio.Event()
        self._none_hung.set()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------

    def _routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> Self:
        app = web.Application()
        self._routes(app)
        # handler_cancellation: a client that gives up (timeout) cancels the
        # delayed handler instead of leaving it sleeping until shutdown.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- test API ----------------------------------------------------------

    @staticmethod
    def text(content: str, *, usage: tuple[int, int] | None = None) -> Reply:
        return Reply(text=content, usage=usage)

    @staticmethod
    def tool_call(
        name: str, args: dict[str, Any] | None = None, *, id: str | None = None, text: str | None = None
    ) -> Reply:
        return Reply(text=text, tool_calls=[ToolCallSpec(name, dict(args or {}), id)])

    def push(self, *specs: ReplySpec) -> None:
        """Queue replies, one per request, in order."""
        self._queue.extend(as_reply(s) for s in specs)

    def script(self, fn: ScriptFn | None) -> None:
        """Answer with `fn(request_json)` (sync or async) once the queue is empty."""
        self._script = fn

    def fail_next(self, status: int = 500, times: int = 1, *, retry_after: float | None = None) -> None:
        """The next `times` requests get an error in the provider's format."""
        self._failures.extend([(status, retry_after)] * times)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """The next `times` requests wait `seconds` before answering."""
        self._delays.extend([seconds] * times)

    def hang(self, on: bool = True) -> None:
        """While on, every request is read, recorded and never answered (a provider that hangs).

        The handler waits until the client gives up and closes the connection.
        """
        self._hanging = on

    async def released(self, timeout_s: float = 3.0) -> bool:
        """Whether every hung request's client gave up and closed its connection (within `timeout_s`)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._none_hung.wait()
        except TimeoutError:
            return False
        return True

    def reset(self) -> None:
        self.requests.clear()
        self.paths.clear()
        self._queue.clear()
        self._failures.clear()
        self._delays.clear()
        self._script = None
        self._hanging = False

    @property
    def pending(self) -> int:
        """Queued replies not yet served."""
        return len(self._queue)

    # -- helpers for subclasses -------------------------------------------

    async def _gate(self) -> web.Response | None:
        """Hang if told to, else apply an injected delay, then an injected failure, if any."""
        if self._hanging:
            self.hung += 1
            self._none_hung.clear()
            try:
                await asyncio.Event().wait()  # until the client disconnects (handler cancellation)
            finally:
                self.hung -= 1
                if not self.hung:
                    self._none_hung.set()
        if self._delays:
            await asyncio.sleep(self._delays.popleft())
        if self._failures:
            status, retry_after = self._failures.popleft()
            response = self._error(status)
            if retry_after is not None:
                response.headers["Retry-After"] = f"{retry_after:g}"
            return response
        return None

    async def _next_reply(self, body: dict[str, Any]) -> Reply:
        if self._queue:
            return self._queue.popleft()
        if self._script is not None:
            spec = self._script(body)
            if inspect.isawaitable(spec):
                spec = await spec
            return as_reply(spec)  # type: ignore[arg-type]
        return Reply(text=f"echo: {self._last_user_text(body)}")

    def _error(self, status: int) -> web.Response:
        raise NotImplementedError

    def _last_user_text(self, body: dict[str, Any]) -> str:
        raise NotImplementedError


_ERRORS = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    404: (
        "invalid_request_error",
        "model_not_found",
        "The model does not exist or you do not have access to it.",
    ),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


def openai_error(status: int, message: str | None = None, *, param: str | None = None) -> web.Response:
    kind, code, default = _ERRORS.get(status, ("server_error", None, "Error."))
    body = {"error": {"message": message or default, "type": kind, "param": param, "code": code}}
    return web.json_response(body, status=status)


def _check_tool_sequence(messages: list[dict[str, Any]]) -> str | None:
    """The real API's 400s for dangling or orphan tool messages."""
    open_ids: set[str] = set()
    for i, msg in enumerate(messages):
        role = msg.get("role")
        if role == "tool":
            if msg.get("tool_call_id") not in open_ids:
                return (
                    f"Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                    f"message with 'tool_calls'. (messages[{i}])"
                )
            open_ids.discard(msg["tool_call_id"])
            continue
        if open_ids:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages responding "
                f"to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
                f"{', '.join(sorted(open_ids))}"
            )
        if role == "assistant":
            open_ids = {c["id"] for c in msg.get("tool_calls") or []}
    return None


class FakeOpenAI(FakeLLMServer):
    """`POST /v1/chat/completions` and `GET /v1/models`, bearer key checked."""

    def __init__(self, *, api_key: str | None = "sk-test", strict: bool = True) -> None:
        super().__init__()
        self.api_key = api_key
        self.strict = strict

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_get("/v1/models", self._models)

    def _error(self, status: int) -> web.Response:
        return openai_error(status)

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            return False
        return self.api_key is None or header[7:] == self.api_key

    def _last_user_text(self, body: dict[str, Any]) -> str:
        for msg in reversed(body.get("messages") or []):
            if msg.get("role") == "user":
                content = msg.get("content")
                if isinstance(content, list):
                    return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
                return str(content or "")
        return ""

    async def _models(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return openai_error(401)
        created = int(time.time())
        data = [
            {"id": name, "object": "model", "created": created, "owned_by": "openai"}
            for name in ("gpt-4o-mini", "gpt-4o")
        ]
        return web.json_response({"object": "list", "data": data})

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        self.paths.append(request.path_qs)
        try:
            body = await request.json()
        except json.JSONDecodeError:
            self.requests.append({})
            return openai_error(400, "We could not parse the JSON body of your request.")
        self.requests.append(body)
        if not self._authorized(request):
            return openai_error(401)
        failure = await self._gate()
        if failure is not None:
            return failure
        if not body.get("model"):
            return openai_error(400, "you must provide a model parameter", param="model")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return openai_error(400, "[] is too short - 'messages'", param="messages")
        if self.strict and (problem := _check_tool_sequence(messages)):
            return openai_error(400, problem, param="messages")
        reply = await self._next_reply(body)
        completion = self._completion(body, reply)
        if body.get("stream"):
            return await self._stream(request, body, completion)
        return web.json_response(completion)

    def _completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text, "refusal": None}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id or f"call_{uuid.uuid4().hex[:24]}",
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(call.args, ensure_ascii=False)},
                }
                for call in reply.tool_calls
            ]
        if reply.usage is not None:
            prompt, completion = reply.usage
        else:
            prompt = approx_tokens(json.dumps(body.get("messages"), ensure_ascii=False))
            completion = approx_tokens(json.dumps(message, ensure_ascii=False))
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:29]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
            },
            "system_fingerprint": "fp_fake",
        }

    async def _stream(
        self, request: web.Request, body: dict[str, Any], completion: dict[str, Any]
    ) -> web.StreamResponse:
        """Replay a completion as `chat.completion.chunk` SSE events."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        base = {k: completion[k] for k in ("id", "created", "model", "system_fingerprint")}
        base["object"] = "chat.completion.chunk"
        choice = completion["choices"][0]
        message = choice["message"]

        async def send(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> None:
            chunk = {
                **base,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            if include_usage:
                chunk["usage"] = usage
            await response.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())

        await send({"role": "assistant", "content": "", "refusal": None})
        text = message.get("content") or ""
        for start in range(0, len(text), 16):
            await send({"content": text[start : start + 16]})
        for index, call in enumerate(message.get("tool_calls") or []):
            head = {
                "index": index,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""},
            }
            await send({"tool_calls": [head]})
            await send(
                {"tool_calls": [{"index": index, "function": {"arguments": call["function"]["arguments"]}}]}
            )
        await send({}, choice["finish_reason"])
        if include_usage:
            chunk = {**base, "choices": [], "usage": completion["usage"]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
