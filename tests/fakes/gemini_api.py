"""A fake Gemini API (Generative Language v1 and v1beta) on 127.0.0.1 for tests.

`ChatGoogleGenerativeAI(base_url=fake.base_url, google_api_key=...)` sends
`POST /v1beta/models/{model}:generateContent` (header `x-goog-api-key`) for
`ainvoke`, and `:streamGenerateContent?alt=sse` when streaming. Replies carry
`candidates[0].content.parts` with `text` or `functionCall {name, args}`,
`finishReason`, `usageMetadata` and `modelVersion`, as the real API does.
Scripting and failure injection are those of `FakeLLMServer`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from .openai_api import FakeLLMServer, Reply, approx_tokens

_STATUS = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    403: ("PERMISSION_DENIED", "Method doesn't allow unregistered callers."),
    404: ("NOT_FOUND", "models/unknown is not found for API version v1beta."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: (
        "INTERNAL",
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    ),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}


def gemini_error(
    status: int, message: str | None = None, details: list[dict[str, Any]] | None = None
) -> web.Response:
    name, default = _STATUS.get(status, ("UNKNOWN", "Unknown error."))
    error: dict[str, Any] = {"code": status, "message": message or default, "status": name}
    if details:
        error["details"] = details
    return web.json_response({"error": error}, status=status)


def _check_function_turns(contents: list[dict[str, Any]]) -> str | None:
    """The real API's 400 when function responses do not answer the previous call turn."""
    for i, content in enumerate(contents):
        responses = [p for p in content.get("parts") or [] if "functionResponse" in p]
        if not responses:
            continue
        previous = contents[i - 1] if i else {}
        calls = [p for p in previous.get("parts") or [] if "functionCall" in p]
        if not calls:
            return "Please ensure that function response turn comes immediately after a function call turn."
        if len(calls) != len(responses):
            return (
                "Please ensure that the number of function response parts is equal to the number of "
                "function call parts of the function call turn."
            )
    return None


class FakeGemini(FakeLLMServer):
    """`generateContent` and `streamGenerateContent`, API key checked."""

    def __init__(self, *, api_key: str | None = "k", strict: bool = True) -> None:
        super().__init__()
        self.api_key = api_key
        self.strict = strict
        self.models: list[str] = []  # the model named in each request path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/{version}/models/{target}", self._dispatch)

    def _error(self, status: int) -> web.Response:
        return gemini_error(status)

    def _authorized(self, request: web.Request) -> bool:
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        return bool(key) and (self.api_key is None or key == self.api_key)

    def _last_user_text(self, body: dict[str, Any]) -> str:
        for content in reversed(body.get("contents") or []):
            if content.get("role", "user") == "user":
                texts = [p["text"] for p in content.get("parts") or [] if "text" in p]
                if texts:
                    return " ".join(texts)
        return ""

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.paths.append(request.path_qs)
        model, _, method = request.match_info["target"].partition(":")
        try:
            body = await request.json()
        except json.JSONDecodeError:
            self.requests.append({})
            return gemini_error(400, "Invalid JSON payload received.")
        self.requests.append(body)
        self.models.append(model)
        if request.match_info["version"] not in ("v1", "v1beta") or method not in (
            "generateContent",
            "streamGenerateContent",
        ):
            return gemini_error(
                404, f"{method or 'method'} is not found for API version {request.match_info['version']}."
            )
        if not self._authorized(request):
            detail = {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
            return gemini_error(400, "API key not valid. Please pass a valid API key.", [detail])
        failure = await self._gate()
        if failure is not None:
            return failure
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            return gemini_error(400, "* GenerateContentRequest.contents: contents is not specified")
        if self.strict and (problem := _check_function_turns(contents)):
            return gemini_error(400, problem)
        reply = await self._next_reply(body)
        response = self._response(model, body, reply)
        if method == "streamGenerateContent":
            return await self._stream(request, response)
        return web.json_response(response)

    def _response(self, model: str, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        parts: list[dict[str, Any]] = []
        if reply.text:
            parts.append({"text": reply.text})
        parts.extend({"functionCall": {"name": c.name, "args": c.args}} for c in reply.tool_calls)
        if reply.usage is not None:
            prompt, output = reply.usage
        else:
            prompt = approx_tokens(json.dumps(body.get("contents"), ensure_ascii=False))
            output = approx_tokens(json.dumps(parts, ensure_ascii=False))
        return {
            "candidates": [
                {"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {
                "promptTokenCount": prompt,
                "candidatesTokenCount": output,
                "totalTokenCount": prompt + output,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
            },
            "modelVersion": model,
            "responseId": uuid.uuid4().hex[:22],
        }

    async def _stream(self, request: web.Request, response: dict[str, Any]) -> web.StreamResponse:
        """One SSE event per part; the last carries finishReason and usage."""
        stream = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await stream.prepare(request)
        candidate = response["candidates"][0]
        parts = candidate["content"]["parts"] or [{"text": ""}]
        for i, part in enumerate(parts):
            chunk: dict[str, Any] = {
                "candidates": [{"content": {"parts": [part], "role": "model"}, "index": 0}],
                "modelVersion": response["modelVersion"],
                "responseId": response["responseId"],
            }
            if i == len(parts) - 1:
                chunk["candidates"][0]["finishReason"] = candidate["finishReason"]
                chunk["usageMetadata"] = response["usageMetadata"]
            await stream.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\r\n\r\n".encode())
        await stream.write_eof()
        return stream
