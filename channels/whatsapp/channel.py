"""The WhatsApp Cloud API channel: `GET/POST /webhooks/whatsapp` in, Graph API sends out.

- GET answers Meta's subscription handshake (`hub.verify_token`).
- POST reads at most MAX_WEBHOOK_BODY bytes and checks `X-Hub-Signature-256`
  (HMAC-SHA256 of the raw body with the app secret, `hmac.compare_digest`)
  before anything else: a missing or bad signature gets 403 and nothing is
  processed or stored. A valid body's messages are durably stored
  (`runtime.accept`) before the 200 (Meta does not redeliver after a 2xx);
  the turns run in background jobs, in order per customer.
- Redeliveries are recognized by the runtime (the wamid is the stored
  message id). Media are downloaded before the turn; a failed download
  does not hold the message back: it is answered, and the download retried
  in the background.
- Edits and deletions change the stored message; they are not turns.
- Statuses (sent, delivered, read, failed) go to `runtime.record_status`,
  which never moves a message backwards.
- The 24-hour customer-service window: past it, free text is not sent; the
  configured template is, or the send fails with a clear error the owner
  sees on the message. An API 131047 answer is handled the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiohttp import web

from channels.base import Button, InboundMessage, Media, MessageHandler, OutboundMessage, SendResult
from channels.http_input import BadJson, loads_json, read_body
from channels.media import MediaStore, OrderedInbox, extension, fetch_media, split_text
from channels.metrics import INBOUND
from channels.transcription import Transcriber
from channels.whatsapp.client import CloudApi, GraphError
from channels.whatsapp.parse import CHANNEL, StatusEvent, parse
from config.business import WhatsAppConfig
from config.settings import WhatsAppSettings

log = logging.getLogger(__name__)
WINDOW_S = 24 * 3600
MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_BUTTONS, MAX_BUTTON_TITLE = 3, 20
OUTSIDE_WINDOW = 131047
MAX_WEBHOOK_BODY = 3 * 1024 * 1024  # Meta batches up to 1,000 updates; they are small JSON objects
WINDOW_ERROR = (
    "outside the 24-hour window (131047): WhatsApp refuses free text more than 24 h after the customer's "
    "last message; set whatsapp.template_name in the business config to re-engage with a template"
)


class MediaUnavailable(Exception):
    """A customer's media could not be downloaded (now); the download is retried in the background."""


class WhatsAppChannel:
    name = CHANNEL

    def __init__(
        self,
        settings: WhatsAppSettings,
        handler: MessageHandler,
        *,
        media_dir: Path,
        transcriber: Transcriber | None = None,
        templates: Callable[[], WhatsAppConfig] | None = None,
        attempts: int = 4,
        backoff_s: float = 0.5,
        clock: Callable[[], float] = time.time,
        media_retry_delays_s: tuple[float, ...] = (5.0, 30.0, 120.0),
    ) -> None:
        self.settings = settings
        self.handler = handler
        self.transcriber = transcriber
        self.templates = templates
        self.clock = clock
        self.media_retry_delays_s = media_retry_delays_s
        self.api = CloudApi(settings, attempts=attempts, backoff_s=backoff_s)
        self.media = MediaStore(media_dir, CHANNEL)
        self.inbox = OrderedInbox(handler.track)
        secret = settings.app_secret.get_secret_value() if settings.app_secret else ""
        self._secret = secret.encode()

    # -- lifecycle -------------------------------------------------------------------

    def register(self, app: web.Application) -> None:
        app.router.add_get("/webhooks/whatsapp", self.verify)
        app.router.add_post("/webhooks/whatsapp", self.webhook)

    async def start(self) -> None:
        await self.api.start()
        if not self._secret:
            log.error("WHATSAPP_APP_SECRET is not set: every webhook POST will be refused (403)")
        log.info("whatsapp: webhook mode")

    async def stop(self) -> None:
        await self.inbox.join()
        await self.api.close()

    # -- inbound ---------------------------------------------------------------------

    async def verify(self, request: web.Request) -> web.Response:
        expected = self.settings.verify_token.get_secret_value() if self.settings.verify_token else ""
        given = request.query.get("hub.verify_token", "")
        if (request.query.get("hub.mode") != "subscribe" or not expected
                or not hmac.compare_digest(given.encode(), expected.encode())):
            return web.Response(status=403, text="verification failed")
        return web.Response(text=request.query.get("hub.challenge", ""), content_type="text/plain")

    async def webhook(self, request: web.Request) -> web.Response:
        body = await read_body(request, MAX_WEBHOOK_BODY)
        if not self.signature_ok(body, request.headers.get("X-Hub-Signature-256")):
            return web.json_response({"error": "invalid signature"}, status=403)
        try:
            payload = loads_json(body, lone_surrogates="replace")  # a broken character must not lose the message
        except BadJson as exc:
            return web.json_response({"error": str(exc)}, status=400)
        if not isinstance(payload, dict):
            return web.json_response({"error": "the body must be a JSON object"}, status=400)
        try:
            await self.accept(payload)
        except Exception:  # not stored: a non-2xx makes Meta deliver it again
            log.exception("could not store a WhatsApp webhook")
            return web.json_response({"error": "temporarily unavailable"}, status=503, headers={"Retry-After": "5"})
        return web.Response(text="ok")

    def signature_ok(self, body: bytes, header: str | None) -> bool:
        if not self._secret or not header:
            return False
        expected = "sha256=" + hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(header.strip().lower().encode(), expected.encode())

    async def accept(self, payload: dict[str, Any]) -> None:
        """Store the messages of one webhook body, then queue them and its statuses; in arrival order.

        Returns once every message is durably stored (or known: a redelivery).
        """
        try:
            events = parse(payload, self.settings.phone_number_id)
        except Exception:  # a body we cannot read must not break the ones after it
            log.exception("skipping a WhatsApp webhook that cannot be parsed")
            return
        for error in events.errors:
            log.warning("whatsapp webhook error: %s", error)
        for msg in events.messages:
            INBOUND.labels(CHANNEL, msg.kind).inc()
        for msg in await self.handler.accept(events.messages):
            self.inbox.submit(msg.conversation_key, lambda m=msg: self._process(m), name="whatsapp-message")
        for status in events.statuses:
            # Behind the customer's in-flight jobs, so a reply's id is stored before its status arrives.
            key = status.recipient_id or status.message_id
            self.inbox.submit(key, lambda s=status: self._record(s), name="whatsapp-status")

    async def _process(self, msg: InboundMessage) -> None:
        msg = await self._fetch_media(msg)
        try:
            await self.api.mark_read(msg.message_id)
        except GraphError as exc:
            log.info("whatsapp mark-as-read failed: %s", exc.description, extra={"wamid": msg.message_id})
        await self.handler.dispatch(msg, self)

    async def _record(self, status: StatusEvent) -> None:
        await self.handler.record_status(CHANNEL, status.message_id, status.status, status.error)

    async def _fetch_media(self, msg: InboundMessage) -> InboundMessage:
        return await fetch_media(self.handler, msg, self._fetch_one, self.media_retry_delays_s, (MediaUnavailable,), CHANNEL)

    async def _fetch_one(self, msg: InboundMessage, media: Media) -> Media:
        if media.path:
            return media
        if not media.file_id:
            raise MediaUnavailable("no media id")
        try:
            data, mime = await self.api.download_media(media.file_id)
            ext = extension(mime or media.mime_type, media.file_name)
            path = await self.media.save(self.media.path_for(msg.chat_id, media.file_id, ext), data)
        except (GraphError, OSError) as exc:
            raise MediaUnavailable(getattr(exc, "description", type(exc).__name__)) from exc
        transcript = None
        if media.kind in ("voice", "audio") and self.transcriber is not None:
            transcript = await self.transcriber.transcribe(path, mime or media.mime_type, msg.language_hint)
        return replace(media, path=str(path), mime_type=media.mime_type or mime, transcript=transcript)

    # -- outbound --------------------------------------------------------------------

    async def send(self, chat_id: str, message: OutboundMessage) -> SendResult:
        if not message.text.strip():
            return SendResult(ok=False, status="failed", error="empty message")
        if not self._in_window(message):
            return await self._outside_window(chat_id)
        wamid: str | None = None
        for body in self._bodies(chat_id, message):
            try:
                wamid = await self.api.send(body)
            except GraphError as exc:
                if exc.code == OUTSIDE_WINDOW:
                    return await self._outside_window(chat_id)
                return SendResult(ok=False, status="failed", error=exc.description, channel_message_id=wamid)
        return SendResult(ok=True, channel_message_id=wamid, status="sent")

    def _in_window(self, message: OutboundMessage) -> bool:
        last = message.metadata.get("last_inbound_at")
        return not isinstance(last, int | float) or self.clock() - float(last) < WINDOW_S

    async def _outside_window(self, chat_id: str) -> SendResult:
        config = self.templates() if self.templates is not None else None
        if config is None or not config.template_name:
            return SendResult(ok=False, status="failed", error=WINDOW_ERROR)
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            **address(chat_id),
            "type": "template",
            "template": {"name": config.template_name, "language": {"code": config.template_language}},
        }
        try:
            wamid = await self.api.send(body)
        except GraphError as exc:
            return SendResult(ok=False, status="failed",
                              error=f"outside the 24-hour window; template {config.template_name!r} failed: "
                                    f"{exc.description}")
        return SendResult(ok=True, channel_message_id=wamid, status="sent",
                          error=f"outside the 24-hour window: sent template {config.template_name!r} instead")

    def _bodies(self, chat_id: str, message: OutboundMessage) -> list[dict[str, Any]]:
        """Request bodies for one reply: text parts, the last one interactive when it has buttons."""
        buttons = _reply_buttons(message.buttons)
        text = message.text
        if message.buttons and buttons is None:  # cannot be buttons: list the options in the text
            text = text.rstrip() + "\n\n" + "\n".join(f"• {b.title}" for b in message.buttons)
        parts = split_text(text, MAX_TEXT)
        if buttons is not None and len(parts[-1]) > MAX_INTERACTIVE_BODY:
            parts[-1:] = split_text(parts[-1], MAX_INTERACTIVE_BODY)
        envelope = {"messaging_product": "whatsapp", "recipient_type": "individual", **address(chat_id)}
        bodies: list[dict[str, Any]] = [
            {**envelope, "type": "text", "text": {"body": part, "preview_url": False}} for part in parts
        ]
        if buttons is not None:
            bodies[-1] = {**envelope, "type": "interactive", "interactive": {
                "type": "button", "body": {"text": parts[-1]}, "action": {"buttons": buttons},
            }}
        return bodies


def address(chat_id: str) -> dict[str, str]:
    """Who a send goes to: a phone number (`to`), or a business-scoped user id (`recipient`).

    Users who adopted a WhatsApp username may reach the business with no
    phone number, only a business-scoped user id such as
    `US.13491208655302741918` (country code, period, digits); the Cloud API
    addresses those with `recipient` instead of `to`.
    """
    if chat_id.lstrip("+").isdigit():
        return {"to": chat_id}
    return {"recipient": chat_id}


def _reply_buttons(buttons: tuple[Button, ...]) -> list[dict[str, Any]] | None:
    """Reply buttons (max 3, unique titles of at most 20 characters), or None when they don't fit."""
    if not buttons or len(buttons) > MAX_BUTTONS:
        return None
    titles = [b.title.strip()[:MAX_BUTTON_TITLE].strip() for b in buttons]
    if len(set(titles)) != len(titles) or not all(titles) or any(not 0 < len(b.payload) <= 256 for b in buttons):
        return None
    return [{"type": "reply", "reply": {"id": b.payload, "title": t}} for b, t in zip(buttons, titles, strict=True)]
