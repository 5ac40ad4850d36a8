"""The Telegram channel: polling or webhook in, Bot API sends out.

- Polling (`TELEGRAM_BOT_TOKEN` only): PTB's Updater inside our event loop.
- Webhook (`TELEGRAM_WEBHOOK_URL`): `POST /webhooks/telegram` on our aiohttp
  app; the secret-token header is checked with `hmac.compare_digest`; the
  update is durably stored (`runtime.accept`) before the 200, then processed
  in the background (Telegram does not redeliver after a 2xx).
- Every update becomes an `InboundMessage` (pure `parse`) and a job in a
  per-conversation ordered inbox: media download (and transcription),
  typing indicator, then `runtime.dispatch`, which answers and sends. A
  failed download does not hold the message back: it is answered, and the
  download retried in the background.
- Groups: the bot answers only when addressed (mention, reply, command);
  each member is a conversation of their own, answered in the group as a
  reply to their message. `TELEGRAM_GROUPS=false` ignores groups.
  Edits change the stored message; they are not answered again.
- Sends are plain text (no parse_mode, nothing to escape), split at 4,096
  characters, with an inline keyboard for buttons; flood control (429) is
  waited out a bounded number of times, other errors become a failed
  `SendResult`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from channels.base import (
    Button,
    InboundMessage,
    Media,
    MessageHandler,
    OutboundMessage,
    SendResult,
    member_of,
)
from channels.http_input import BadJson, loads_json, read_body
from channels.media import MediaStore, OrderedInbox, extension, fetch_media, split_text, utf16_len
from channels.metrics import INBOUND
from channels.telegram.client import TolerantBot, build_application
from channels.telegram.parse import CHANNEL, BotIdentity, CallbackRef, callback_ref, parse
from channels.transcription import Transcriber
from config.settings import TelegramSettings
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters, Update
from telegram.constants import ChatAction
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

log = logging.getLogger(__name__)
MAX_TEXT = 4096
MAX_WEBHOOK_BODY = 1024 * 1024
# Not business_message: replies to a Telegram Business chat need its business_connection_id (not supported yet).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TYPING_EVERY_S = 4.5  # Telegram shows "typing…" for 5 s


class TelegramChannel:
    name = CHANNEL

    def __init__(
        self,
        settings: TelegramSettings,
        handler: MessageHandler,
        *,
        media_dir: Path,
        transcriber: Transcriber | None = None,
        send_attempts: int = 4,
        max_retry_after_s: float = 60.0,
        poll_timeout_s: int = 10,
        media_retry_delays_s: tuple[float, ...] = (5.0, 30.0, 120.0),
    ) -> None:
        self.settings = settings
        self.handler = handler
        self.transcriber = transcriber
        self.send_attempts = send_attempts
        self.max_retry_after_s = max_retry_after_s
        self.poll_timeout_s = poll_timeout_s
        self.media_retry_delays_s = media_retry_delays_s
        self.identity: BotIdentity | None = None
        self.webhook_mode = bool(settings.webhook_url)
        self.secret = webhook_secret(settings)
        self.media = MediaStore(media_dir, CHANNEL)
        self.inbox = OrderedInbox(handler.track)
        self.application: Application = build_application(settings, polling=not self.webhook_mode)
        self.application.add_handler(TypeHandler(Update, self._on_update))

    @property
    def bot(self) -> TolerantBot:
        return self.application.bot  # type: ignore[return-value]

    # -- lifecycle -------------------------------------------------------------------

    def register(self, app: web.Application) -> None:
        if self.webhook_mode:
            app.router.add_post("/webhooks/telegram", self.webhook)

    async def start(self) -> None:
        await self.application.initialize()  # getMe: a wrong token fails here, loudly
        # Who we are, to tell when a group message is addressed to us.
        self.identity = BotIdentity(id=self.bot.id, username=self.bot.username or "")
        await self.application.start()
        if self.webhook_mode:
            await self.bot.set_webhook(
                url=str(self.settings.webhook_url), secret_token=self.secret, allowed_updates=ALLOWED_UPDATES
            )
            log.info("telegram: webhook mode")
        else:
            assert self.application.updater is not None
            await self.application.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, timeout=timedelta(seconds=self.poll_timeout_s)
            )
            log.info("telegram: polling")

    async def stop(self) -> None:
        """Stop taking updates, finish the jobs in flight (they still send), then close."""
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        await self.inbox.join()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    # -- inbound ---------------------------------------------------------------------

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        raw = self.bot.take_raw(update.update_id) or update.to_dict()
        try:
            await self.accept(raw)
        except Exception:  # polling: PTB has taken the update; log loudly, keep polling
            log.exception("could not store a Telegram update", extra={"update_id": raw.get("update_id")})

    async def webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.json_response({"error": "invalid secret token"}, status=403)
        try:
            payload = loads_json(await read_body(request, MAX_WEBHOOK_BODY), lone_surrogates="replace")
        except BadJson as exc:
            return web.json_response({"error": str(exc)}, status=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            return web.json_response({"error": "not a Telegram update"}, status=400)
        try:
            await self.accept(payload)
        except Exception:  # not stored: a non-2xx makes Telegram deliver it again
            log.exception("could not store a Telegram update", extra={"update_id": payload.get("update_id")})
            return web.json_response({"error": "temporarily unavailable"}, status=503,
                                     headers={"Retry-After": "5"})
        return web.Response(status=200)

    async def accept(self, update: dict[str, Any]) -> None:
        """Store one raw update, then queue its processing; must be called in arrival order.

        Returns once the message is durably stored (or known: a redelivery).
        """
        try:
            msg = parse(update, bot=self.identity, groups=self.settings.groups)
            ref = callback_ref(update)
        except Exception:  # one odd update never stops the others
            log.exception("skipping a Telegram update that cannot be parsed",
                          extra={"update_id": update.get("update_id")})
            return
        if ref is not None:  # every tap is acknowledged (the button stops spinning), even one we ignore
            self.handler.track(self._acknowledge(ref, retire=msg is not None), name="telegram-callback-ack")
        if msg is None:
            return
        INBOUND.labels(CHANNEL, msg.kind).inc()
        for pending in await self.handler.accept([msg]):
            self.inbox.submit(pending.conversation_key, lambda m=pending: self._process(m), name="telegram-update")

    async def _process(self, msg: InboundMessage) -> None:
        typing = asyncio.create_task(self._typing(msg.chat_id))
        try:
            msg = await self._fetch_media(msg)
            await self.handler.dispatch(msg, self)
        finally:
            typing.cancel()

    async def _acknowledge(self, ref: CallbackRef, *, retire: bool = True) -> None:
        """Stop the button's spinner and (for a tap we take) retire the keyboard so an offer is answered once."""
        try:
            await self.bot.answer_callback_query(ref.query_id)
        except TelegramError as exc:
            log.debug("answerCallbackQuery failed: %s", exc)
        if retire and ref.chat_id is not None and ref.message_id is not None:
            try:
                await self.bot.edit_message_reply_markup(chat_id=_chat(ref.chat_id), message_id=ref.message_id,
                                                         reply_markup=None)
            except TelegramError as exc:
                log.debug("removing the keyboard failed: %s", exc)

    async def _typing(self, chat_id: str) -> None:
        chat_id, _ = member_of(chat_id)
        while True:
            try:
                await self.bot.send_chat_action(_chat(chat_id), ChatAction.TYPING)
            except TelegramError:
                return
            await asyncio.sleep(TYPING_EVERY_S)

    async def _fetch_media(self, msg: InboundMessage) -> InboundMessage:
        return await fetch_media(self.handler, msg, self._fetch_one, self.media_retry_delays_s, (TelegramError, OSError), CHANNEL)

    async def _fetch_one(self, msg: InboundMessage, media: Media) -> Media:
        """Download a file to the media dir (and transcribe audio)."""
        if media.path:
            return media
        file = await self.bot.get_file(media.file_id)
        data = await file.download_as_bytearray()
        name = msg.message_id.partition(":")[2] or msg.message_id
        ext = extension(media.mime_type, media.file_name or file.file_path)
        path = await self.media.save(self.media.path_for(msg.chat_id, name, ext), bytes(data))
        transcript = None
        if media.kind in ("voice", "audio") and self.transcriber is not None:
            transcript = await self.transcriber.transcribe(path, media.mime_type, msg.language_hint)
        return replace(media, path=str(path), transcript=transcript)

    # -- outbound --------------------------------------------------------------------

    async def send(self, chat_id: str, message: OutboundMessage) -> SendResult:
        """Send to the conversation's chat; in a group, as a reply to the member's message."""
        parts = split_text(message.text, MAX_TEXT, utf16_len)
        if not parts:
            return SendResult(ok=False, status="failed", error="empty message")
        chat_id, member = member_of(chat_id)
        reply = _reply_parameters(message.metadata.get("reply_to")) if member else None
        markup = _keyboard(message.buttons)
        sent_id: str | None = None
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            result = await self._send_part(chat_id, part, markup if last else None, reply if index == 0 else None)
            if not result.ok:
                where = f" (part {index + 1} of {len(parts)})" if len(parts) > 1 else ""
                return replace(result, error=f"{result.error}{where}", channel_message_id=sent_id)
            sent_id = result.channel_message_id
        return SendResult(ok=True, channel_message_id=sent_id, status="sent")

    async def _send_part(self, chat_id: str, text: str, markup: InlineKeyboardMarkup | None,
                         reply: ReplyParameters | None = None) -> SendResult:
        for attempt in range(1, self.send_attempts + 1):
            try:
                sent = await self.bot.send_message(_chat(chat_id), text, reply_markup=markup, reply_parameters=reply)
                return SendResult(ok=True, channel_message_id=f"{chat_id}:{sent.message_id}")
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                if attempt == self.send_attempts or wait > self.max_retry_after_s:
                    return SendResult(ok=False, status="failed", error=f"rate limited (429): retry after {wait:g}s")
                log.info("telegram flood control: retrying in %gs", wait, extra={"chat_id": chat_id})
                await asyncio.sleep(wait)
            except Forbidden as exc:
                return SendResult(ok=False, status="failed", error=f"forbidden: {exc.message}")
            except TelegramError as exc:
                return SendResult(ok=False, status="failed", error=f"{type(exc).__name__}: {exc.message}")
        return SendResult(ok=False, status="failed", error="not sent")


def webhook_secret(settings: TelegramSettings) -> str:
    """TELEGRAM_WEBHOOK_SECRET, or one derived from the token (replicas agree on it)."""
    if settings.webhook_secret is not None and settings.webhook_secret.get_secret_value():
        return settings.webhook_secret.get_secret_value()
    token = settings.token.get_secret_value().encode()
    return hashlib.sha256(b"mostrador/telegram-webhook/" + token).hexdigest()


def _keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    usable = [b for b in buttons if 0 < len(b.payload.encode()) <= 64 and b.title]
    if not usable:
        return None
    keys = [InlineKeyboardButton(b.title, callback_data=b.payload) for b in usable]
    rows = [keys] if len(keys) <= 3 else [[k] for k in keys]
    return InlineKeyboardMarkup(rows)


def _reply_parameters(reply_to: object) -> ReplyParameters | None:
    """Reply to the member's message (`"<chat>:<message>"`), or to nothing if it is gone."""
    if not isinstance(reply_to, str):
        return None
    _, _, message_id = reply_to.partition(":")
    if not message_id.isdigit():
        return None
    return ReplyParameters(message_id=int(message_id), allow_sending_without_reply=True)


def _chat(chat_id: str) -> int | str:
    try:
        return int(chat_id)
    except ValueError:
        return chat_id


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
