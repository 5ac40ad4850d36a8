"""The Telegram channel: polling or webhook in, Bot API sends out.

- Polling (`TELEGRAM_BOT_TOKEN` only): PTB's Updater inside our event loop.
- Webhook (`TELEGRAM_WEBHOOK_URL`): `POST /webhooks/telegram` on our aiohttp
  app; the secret-token header is checked with `hmac.compare_digest`, the
  request answered at once and the update processed in the background.
- Every update becomes an `InboundMessage` (pure `parse`) and a job in a
  per-chat ordered inbox: media download (and transcription), typing
  indicator, then `runtime.dispatch`, which stores, answers and sends.
- Sends are plain text (no parse_mode, nothing to escape), split at 4,096
  characters, with an inline keyboard for buttons; flood control (429) is
  waited out a bounded number of times, other errors become a failed
  `SendResult`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from channels.base import Button, InboundMessage, Media, MessageHandler, OutboundMessage, SendResult
from channels.media import MediaStore, OrderedInbox, extension, split_text, utf16_len
from channels.metrics import INBOUND
from channels.telegram.client import TolerantBot, build_application
from channels.telegram.parse import CHANNEL, CallbackRef, callback_ref, parse
from channels.transcription import Transcriber
from config.settings import TelegramSettings
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

log = logging.getLogger(__name__)
MAX_TEXT = 4096
MAX_WEBHOOK_BODY = 1024 * 1024
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
    ) -> None:
        self.settings = settings
        self.handler = handler
        self.transcriber = transcriber
        self.send_attempts = send_attempts
        self.max_retry_after_s = max_retry_after_s
        self.poll_timeout_s = poll_timeout_s
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
        self.accept(raw)

    async def webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.json_response({"error": "invalid secret token"}, status=403)
        if request.content_length is not None and request.content_length > MAX_WEBHOOK_BODY:
            return web.json_response({"error": "request body too large"}, status=413)
        try:
            payload = json.loads(await request.read())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "malformed JSON"}, status=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            return web.json_response({"error": "not a Telegram update"}, status=400)
        self.accept(payload)
        return web.Response(status=200)

    def accept(self, update: dict[str, Any]) -> None:
        """Queue one raw update for processing; must be called in arrival order."""
        try:
            msg = parse(update)
            ref = callback_ref(update)
        except Exception:  # one odd update never stops the others
            log.exception("skipping a Telegram update that cannot be parsed",
                          extra={"update_id": update.get("update_id")})
            return
        if msg is None:
            return
        INBOUND.labels(CHANNEL, msg.kind).inc()
        if ref is not None:
            self.handler.track(self._acknowledge(ref), name="telegram-callback-ack")
        self.inbox.submit(msg.chat_id, lambda: self._process(msg), name="telegram-update")

    async def _process(self, msg: InboundMessage) -> None:
        typing = asyncio.create_task(self._typing(msg.chat_id))
        try:
            msg = await self._fetch_media(msg)
            await self.handler.dispatch(msg, self)
        finally:
            typing.cancel()

    async def _acknowledge(self, ref: CallbackRef) -> None:
        """Stop the button's spinner and retire the keyboard so an offer is answered once."""
        try:
            await self.bot.answer_callback_query(ref.query_id)
        except TelegramError as exc:
            log.debug("answerCallbackQuery failed: %s", exc)
        if ref.chat_id is not None and ref.message_id is not None:
            try:
                await self.bot.edit_message_reply_markup(chat_id=_chat(ref.chat_id), message_id=ref.message_id,
                                                         reply_markup=None)
            except TelegramError as exc:
                log.debug("removing the keyboard failed: %s", exc)

    async def _typing(self, chat_id: str) -> None:
        while True:
            try:
                await self.bot.send_chat_action(_chat(chat_id), ChatAction.TYPING)
            except TelegramError:
                return
            await asyncio.sleep(TYPING_EVERY_S)

    async def _fetch_media(self, msg: InboundMessage) -> InboundMessage:
        if not msg.media:
            return msg
        return replace(msg, media=tuple([await self._fetch_one(msg, m) for m in msg.media]))

    async def _fetch_one(self, msg: InboundMessage, media: Media) -> Media:
        """Download a file to the media dir (and transcribe audio); on failure keep the reference."""
        try:
            file = await self.bot.get_file(media.file_id)
            data = await file.download_as_bytearray()
            name = msg.message_id.partition(":")[2] or msg.message_id
            ext = extension(media.mime_type, media.file_name or file.file_path)
            path = await self.media.save(self.media.path_for(msg.chat_id, name, ext), bytes(data))
        except (TelegramError, OSError) as exc:
            log.warning("telegram media download failed: %s", type(exc).__name__, extra={"chat_id": msg.chat_id})
            return media
        transcript = None
        if media.kind in ("voice", "audio") and self.transcriber is not None:
            transcript = await self.transcriber.transcribe(path, media.mime_type, msg.language_hint)
        return replace(media, path=str(path), transcript=transcript)

    # -- outbound --------------------------------------------------------------------

    async def send(self, chat_id: str, message: OutboundMessage) -> SendResult:
        parts = split_text(message.text, MAX_TEXT, utf16_len)
        if not parts:
            return SendResult(ok=False, status="failed", error="empty message")
        markup = _keyboard(message.buttons)
        sent_id: str | None = None
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            result = await self._send_part(chat_id, part, markup if last else None)
            if not result.ok:
                where = f" (part {index + 1} of {len(parts)})" if len(parts) > 1 else ""
                return replace(result, error=f"{result.error}{where}", channel_message_id=sent_id)
            sent_id = result.channel_message_id
        return SendResult(ok=True, channel_message_id=sent_id, status="sent")

    async def _send_part(self, chat_id: str, text: str, markup: InlineKeyboardMarkup | None) -> SendResult:
        for attempt in range(1, self.send_attempts + 1):
            try:
                sent = await self.bot.send_message(_chat(chat_id), text, reply_markup=markup)
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


def _chat(chat_id: str) -> int | str:
    try:
        return int(chat_id)
    except ValueError:
        return chat_id


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
