"""The web chat channel: `POST /api/chat`, `GET /api/chat/{chat_id}/messages`, the page at `/`.

Replies come back in the POST response; replies that come later (a human
taking over) are fetched with the messages route, which the page polls.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from aiohttp import web

from channels.base import InboundMessage, MessageHandler, OutboundMessage, SendResult
from channels.http_input import MAX_ROW_ID, has_unstorable, query_int, read_json

PAGE = Path(__file__).with_name("static") / "chat.html"
MAX_TEXT = 4000
MAX_ID = 128
MAX_BODY = 64 * 1024


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def parse(payload: object) -> InboundMessage | str:
    """Validate a chat request body; returns the message or the reason it is invalid."""
    if not isinstance(payload, dict):
        return "the body must be a JSON object"
    chat_id, text, message_id = payload.get("chat_id"), payload.get("text"), payload.get("message_id")
    if not isinstance(chat_id, str) or not chat_id.strip() or len(chat_id) > MAX_ID or has_unstorable(chat_id):
        return f"chat_id must be a non-empty string of at most {MAX_ID} characters"
    if not isinstance(text, str) or not text.strip():
        return "text must be a non-empty string"
    if has_unstorable(text):
        return "text must not hold NUL characters"
    if message_id is not None and (not isinstance(message_id, str) or not message_id.strip()
                                   or len(message_id) > MAX_ID or has_unstorable(message_id)):
        return f"message_id must be a non-empty string of at most {MAX_ID} characters"
    button = payload.get("button_payload")
    if button is not None and (not isinstance(button, str) or len(button) > MAX_TEXT or has_unstorable(button)):
        return f"button_payload must be a string of at most {MAX_TEXT} characters"
    return InboundMessage(
        channel="web",
        chat_id=chat_id.strip(),
        message_id=message_id if message_id is not None else uuid.uuid4().hex,
        text=text,
        kind="button" if isinstance(button, str) else "text",
        button_payload=button if isinstance(button, str) else None,
    )


class WebChannel:
    """Always on; sending is storing, since the browser polls for new messages."""

    name = "web"

    def __init__(self, handler: MessageHandler) -> None:
        self.handler = handler

    def register(self, app: web.Application) -> None:
        app.router.add_get("/", self.page)
        app.router.add_post("/api/chat", self.chat)
        app.router.add_get("/api/chat/{chat_id}/messages", self.messages)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, chat_id: str, message: OutboundMessage) -> SendResult:
        return SendResult(ok=True, status="sent")

    async def page(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(PAGE, headers={"Cache-Control": "no-cache"})

    async def chat(self, request: web.Request) -> web.Response:
        parsed = parse(await read_json(request, MAX_BODY))
        if isinstance(parsed, str):
            return _error(400, parsed)
        if len(parsed.text) > MAX_TEXT:
            return _error(413, f"text longer than {MAX_TEXT} characters")
        result = await self.handler.handle(parsed, inline=True)  # the replies go back in this response
        if getattr(result, "busy", False):  # kept (stored); the same message_id asked again gets the answer
            return web.json_response(
                {"error": "busy, retry with the same message_id", "chat_id": parsed.chat_id,
                 "message_id": parsed.message_id, "replies": [_reply_json(r) for r in result.replies]},
                status=503, headers={"Retry-After": str(result.retry_after_s or 5)},
            )
        return web.json_response(
            {
                "chat_id": parsed.chat_id,
                "message_id": parsed.message_id,
                "replies": [_reply_json(r) for r in result.replies],
            }
        )

    async def messages(self, request: web.Request) -> web.Response:
        after = query_int(request, "after", 0, 0, MAX_ROW_ID)
        chat_id = request.match_info["chat_id"]
        if len(chat_id) > MAX_ID:
            return _error(400, f"chat_id longer than {MAX_ID} characters")
        return web.json_response({"messages": await self.handler.history("web", chat_id, after)})


def _reply_json(message: OutboundMessage) -> dict[str, object]:
    out: dict[str, object] = {"text": message.text}
    if message.buttons:
        out["buttons"] = [{"title": b.title, "payload": b.payload} for b in message.buttons]
    return out
