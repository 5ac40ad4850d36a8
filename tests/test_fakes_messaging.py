"""The Telegram and WhatsApp fakes speak the real protocols.

Proved with the real clients: python-telegram-bot (polling, replies, file
downloads, flood-control errors) against :class:`FakeTelegram`, and a plain
aiohttp client doing what a Cloud API adapter does against
:class:`FakeWhatsApp`. Also checks that the recorded payloads under
``tests/fakes/payloads`` have the builders' shapes.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import hashlib
import hmac
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from tests.fakes import telegram_api as tg
from tests.fakes import wait_until
from tests.fakes import whatsapp_api as wa
from tests.fakes.telegram_api import FakeTelegram, UploadedFile
from tests.fakes.whatsapp_api import ACCESS_TOKEN, PHONE_NUMBER_ID, FakeWhatsApp

PAYLOADS = Path(__file__).parent / "fakes" / "payloads"
TOKEN = "123:ABC"
CHAT = 5550001111
WA_ID = "5491122334455"


def _payload(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def _shape(value: Any) -> Any:
    """Structure of a JSON value: dict keys recursively, lists by their first item, leaves by type."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def _seconds(value: int | float | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


@pytest.fixture
async def fake_tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(max_poll_wait=1.0) as fake:
        yield fake


@pytest.fixture
async def tg_bot(fake_tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake_tg.base_url, base_file_url=fake_tg.base_file_url) as client:
        yield client


@pytest.fixture
async def fake_wa() -> AsyncIterator[FakeWhatsApp]:
    async with FakeWhatsApp() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {ACCESS_TOKEN}"}) as session:
        yield session


# ---------------------------------------------------------------------------
# Telegram
# ---------------------------------------------------------------------------


async def test_ptb_application_polls_update_and_reply_arrives(fake_tg: FakeTelegram) -> None:
    seen: list[str] = []

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text is not None
        seen.append(update.effective_message.text)
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Comprar", callback_data="buy:SKU-1")]])
        await update.effective_message.reply_text(
            f"eco: {update.effective_message.text}", reply_markup=keyboard
        )

    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(fake_tg.base_url)
        .base_file_url(fake_tg.base_file_url)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            fake_tg.push_update(tg.text_update(CHAT, "Hola, ¿tienen martillos?"))
            (params,) = await fake_tg.wait_for("sendMessage", chat_id=CHAT)
            # confirmed by the next getUpdates offset, so it is not redelivered
            await wait_until(lambda: not fake_tg.pending_updates, timeout=5, what="update confirmation")
        finally:
            await application.updater.stop()
            await application.stop()

    assert seen == ["Hola, ¿tienen martillos?"]
    assert params["chat_id"] == CHAT and params["text"] == "eco: Hola, ¿tienen martillos?"
    assert params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Comprar", "callback_data": "buy:SKU-1"}]]
    }
    assert [name for name, _ in fake_tg.sent][:2] == ["getMe", "deleteWebhook"]
    assert fake_tg.tokens == [TOKEN]
    assert fake_tg.poll_count >= 1
    echoed = fake_tg.message(CHAT, 10_001)
    assert echoed["reply_markup"] == params["reply_markup"] and echoed["from"]["is_bot"] is True


async def test_ptb_callback_query_answer_and_edit(fake_tg: FakeTelegram) -> None:
    answered: list[str] = []

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        answered.append(query.data)
        await query.answer("Listo")
        await query.edit_message_text("Pedido confirmado ✅")

    application = Application.builder().token(TOKEN).base_url(fake_tg.base_url).build()
    application.add_handler(CallbackQueryHandler(on_button))
    async with application:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Sí", callback_data="confirm:yes")]])
        sent = await application.bot.send_message(CHAT, "¿Confirmás?", reply_markup=keyboard)
        assert sent.reply_markup == keyboard and sent.message_id == 10_001
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=1)
        try:
            update = tg.callback_update(
                CHAT,
                "confirm:yes",
                message_id=sent.message_id,
                message=fake_tg.message(CHAT, sent.message_id),
            )
            fake_tg.push_update(update)
            (edit,) = await fake_tg.wait_for("editMessageText", chat_id=CHAT)
        finally:
            await application.updater.stop()
            await application.stop()

    assert answered == ["confirm:yes"]
    (answer,) = fake_tg.calls("answerCallbackQuery")
    assert answer["callback_query_id"] == update["callback_query"]["id"] and answer["text"] == "Listo"
    assert edit["message_id"] == sent.message_id and edit["text"] == "Pedido confirmado ✅"
    assert "reply_markup" not in fake_tg.message(CHAT, sent.message_id)


async def test_get_file_and_download_to_memory(fake_tg: FakeTelegram, tg_bot: Bot) -> None:
    audio = b"OggS\x00\x02" + bytes(range(256)) * 4
    fake_tg.add_file("AwACAgEVOICE1", audio, "voice/file_7.oga")
    update = Update.de_json(tg.voice_update(CHAT, "AwACAgEVOICE1", duration=4), tg_bot)
    assert update.effective_message is not None and update.effective_message.voice is not None

    file = await update.effective_message.voice.get_file()
    assert file.file_path == f"{fake_tg.base_file_url}{TOKEN}/voice/file_7.oga"
    assert file.file_size == len(audio)
    buffer = io.BytesIO()
    await file.download_to_memory(buffer)
    assert buffer.getvalue() == audio
    assert bytes(await file.download_as_bytearray()) == audio

    with pytest.raises(BadRequest, match="(?i)invalid file_id"):
        await tg_bot.get_file("nope")


async def test_injected_errors_raise_ptb_exceptions(fake_tg: FakeTelegram, tg_bot: Bot) -> None:
    fake_tg.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await tg_bot.send_message(CHAT, "hola")
    assert _seconds(caught.value.retry_after) == 7
    assert fake_tg.requests[-1].status == 429 and fake_tg.calls("sendMessage") == []

    fake_tg.fail_next("sendMessage", status=403)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await tg_bot.send_message(CHAT, "hola")
    fake_tg.fail_next("sendChatAction", status=500, times=2)
    for _ in range(2):
        with pytest.raises(Exception, match="Internal Server Error"):
            await tg_bot.send_chat_action(CHAT, "typing")
    assert await tg_bot.send_chat_action(CHAT, "typing") is True

    message = await tg_bot.send_message(CHAT, "hola")
    assert message.text == "hola" and message.chat.id == CHAT
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await tg_bot.edit_message_text("hola", chat_id=CHAT, message_id=message.message_id)
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await tg_bot.send_message(CHAT, "x" * 4097)
    assert await tg_bot.delete_message(CHAT, message.message_id) is True
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await tg_bot.delete_message(CHAT, message.message_id)


async def test_webhook_mode_conflict_and_post_webhook(
    fake_tg: FakeTelegram, tg_bot: Bot, aiohttp_server: Any
) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def webhook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhooks/telegram", webhook)
    server = await aiohttp_server(app)
    url = str(server.make_url("/webhooks/telegram"))

    assert await tg_bot.set_webhook(url, secret_token="s3cret", allowed_updates=["message", "callback_query"])
    info = await tg_bot.get_webhook_info()
    assert info.url == url and info.allowed_updates == ("message", "callback_query")
    with pytest.raises(Conflict, match="webhook is active"):
        await tg_bot.get_updates()

    update = tg.text_update(CHAT, "/start")
    assert await tg.post_webhook(url, update, "s3cret") == (200, "ok")
    assert received == [("s3cret", update)]
    parsed = Update.de_json(received[0][1], tg_bot)
    assert parsed.message is not None and parsed.message.text == "/start"
    assert parsed.message.entities[0].type == "bot_command"

    assert await tg_bot.delete_webhook(drop_pending_updates=True)
    assert await tg_bot.get_updates(timeout=0) == ()


async def test_uploads_and_json_bodies(fake_tg: FakeTelegram, tg_bot: Bot) -> None:
    photo = await tg_bot.send_photo(
        CHAT, InputFile(b"\x89PNG fake", filename="catalogo.png"), caption="Catálogo"
    )
    assert photo.caption == "Catálogo" and photo.photo[-1].file_size == len(b"\x89PNG fake")
    (params,) = fake_tg.calls("sendPhoto")
    assert isinstance(params["photo"], UploadedFile) and params["photo"].data == b"\x89PNG fake"
    assert fake_tg.file_data(photo.photo[-1].file_id) == b"\x89PNG fake"

    doc = await tg_bot.send_document(CHAT, InputFile(b"%PDF-1.4", filename="factura.pdf"))
    assert doc.document is not None and doc.document.file_name == "factura.pdf"

    assert await tg_bot.set_my_commands([("start", "Empezar"), ("ayuda", "Ayuda")])
    assert [c.command for c in await tg_bot.get_my_commands()] == ["start", "ayuda"]

    async with aiohttp.ClientSession() as session:
        body = {
            "chat_id": CHAT,
            "text": "json",
            "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]},
        }
        async with session.post(f"{fake_tg.base_url}{TOKEN}/sendmessage", json=body) as resp:
            answer = await resp.json()
        async with session.get(f"{fake_tg.base_url}{TOKEN}/unknownMethod") as resp:
            assert resp.status == 404 and (await resp.json())["description"] == "Not Found"
    assert answer["ok"] is True and answer["result"]["reply_markup"] == body["reply_markup"]
    assert fake_tg.sent[-1] == ("sendMessage", body)


async def test_expected_token_is_enforced() -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        wrong = Bot("999:WRONG", base_url=fake.base_url)
        with pytest.raises(InvalidToken, match="rejected by the server"):
            await wrong.initialize()  # getMe answered 401 Unauthorized
        await wrong.shutdown()
        async with Bot(TOKEN, base_url=fake.base_url) as right:
            me = await right.get_me()
    assert me.id == 123 and me.username == "mostrador_bot"
    assert fake.tokens == ["999:WRONG", TOKEN]


def test_update_builders_parse_with_ptb() -> None:
    voice = Update.de_json(tg.voice_update(CHAT, "V1", duration=3), None).effective_message
    assert voice is not None and voice.voice is not None and voice.voice.mime_type == "audio/ogg"
    audio = Update.de_json(tg.audio_update(CHAT, "A1", title="Jingle"), None).effective_message
    assert audio is not None and audio.audio is not None and audio.audio.title == "Jingle"
    photo = Update.de_json(tg.photo_update(CHAT, "P1", caption="este"), None).effective_message
    assert photo is not None and photo.photo[-1].file_id == "P1" and photo.caption == "este"
    doc = Update.de_json(tg.document_update(CHAT, "D1", "lista.csv", "text/csv"), None).effective_message
    assert doc is not None and doc.document is not None and doc.document.file_name == "lista.csv"
    contact = Update.de_json(
        tg.contact_update(CHAT, "+5491122334455", "Ana", "Pérez"), None
    ).effective_message
    assert contact is not None and contact.contact is not None and contact.contact.user_id == CHAT
    loc = Update.de_json(tg.location_update(CHAT, -34.6, -58.4), None).effective_message
    assert loc is not None and loc.location is not None and loc.location.latitude == -34.6
    sticker = Update.de_json(tg.sticker_update(CHAT), None).effective_message
    assert sticker is not None and sticker.sticker is not None and sticker.sticker.type == "regular"
    poll = Update.de_json(tg.poll_update(CHAT), None).effective_message
    assert poll is not None and poll.poll is not None and len(poll.poll.options) == 2
    edited = Update.de_json(tg.edited_text_update(CHAT, 42, "corregido"), None)
    assert edited.edited_message is not None and edited.edited_message.edit_date is not None
    text = Update.de_json(tg.text_update(CHAT, "hola", user_id=77, first_name="Beto"), None)
    assert text.effective_user is not None and text.effective_user.id == 77 and text.effective_chat.id == CHAT
    ids = {tg.text_update(CHAT, "x")["update_id"] for _ in range(5)}
    assert len(ids) == 5


def test_telegram_payload_files_match_builders() -> None:
    text = _payload("telegram_text_update.json")
    assert _shape(text) == _shape(tg.text_update(CHAT, "hola"))
    parsed = Update.de_json(text, None)
    assert parsed.message is not None and parsed.message.text == "Hola, ¿tienen martillos?"

    callback = _payload("telegram_callback_query.json")
    built = tg.callback_update(
        CHAT, "confirm:yes", message_id=1, message=callback["callback_query"]["message"]
    )
    assert _shape(callback) == _shape(built)
    query = Update.de_json(callback, None).callback_query
    assert query is not None and query.data == "confirm:yes" and query.message is not None


# ---------------------------------------------------------------------------
# WhatsApp
# ---------------------------------------------------------------------------


def _messages_url(fake: FakeWhatsApp) -> str:
    return f"{fake.base_url}/{PHONE_NUMBER_ID}/messages"


def _text_body(to: str, text: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": text},
    }


async def test_whatsapp_send_text_returns_wamid(fake_wa: FakeWhatsApp, http: aiohttp.ClientSession) -> None:
    async with http.post(_messages_url(fake_wa), json=_text_body(f"+{WA_ID}", "¡Hola!")) as resp:
        assert resp.status == 200
        answer = await resp.json()
    assert answer["messaging_product"] == "whatsapp"
    assert answer["contacts"] == [{"input": f"+{WA_ID}", "wa_id": WA_ID}]
    wamid = answer["messages"][0]["id"]
    assert wamid.startswith("wamid.") and fake_wa.wamids[wamid]["text"]["body"] == "¡Hola!"
    (sent,) = await fake_wa.wait_for("text", to=WA_ID)
    assert sent["text"]["body"] == "¡Hola!" and fake_wa.texts(WA_ID) == ["¡Hola!"]

    async with http.post(_messages_url(fake_wa), json=_text_body(WA_ID, "otra")) as resp:
        assert (await resp.json())["messages"][0]["id"] != wamid

    async with aiohttp.ClientSession() as anonymous:
        headers = {"Authorization": "Bearer wrong"}
        async with anonymous.post(
            _messages_url(fake_wa), json=_text_body(WA_ID, "x"), headers=headers
        ) as resp:
            assert resp.status == 401
            error = (await resp.json())["error"]
    assert error["code"] == 190 and error["type"] == "OAuthException" and error["fbtrace_id"]
    assert len(fake_wa.sent) == 2

    async with http.post(f"{fake_wa.base_url}/999/messages", json=_text_body(WA_ID, "x")) as resp:
        assert resp.status == 400 and (await resp.json())["error"]["error_subcode"] == 33


async def test_whatsapp_interactive_template_reaction_and_read(
    fake_wa: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    buttons = {
        "type": "button",
        "body": {"text": "¿Confirmás el pedido?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Sí"}}]},
    }
    body = {"messaging_product": "whatsapp", "to": WA_ID, "type": "interactive", "interactive": buttons}
    async with http.post(_messages_url(fake_wa), json=body) as resp:
        assert resp.status == 200
    too_long = json.loads(json.dumps(body))
    too_long["interactive"]["action"]["buttons"][0]["reply"]["title"] = "Sí, confirmo el pedido completo"
    async with http.post(_messages_url(fake_wa), json=too_long) as resp:
        assert resp.status == 400
        error = (await resp.json())["error"]
    assert error["code"] == 131009 and "Max length: 20" in error["error_data"]["details"]

    listing = {
        "type": "list",
        "body": {"text": "Elegí un producto"},
        "action": {
            "button": "Ver",
            "sections": [{"title": "Herramientas", "rows": [{"id": "SKU-1", "title": "Martillo"}]}],
        },
    }
    template = {"name": "seguimiento", "language": {"code": "es_AR"}}
    reaction = {"message_id": wa.new_wamid(WA_ID), "emoji": "👍"}
    for kind, content in (("interactive", listing), ("template", template), ("reaction", reaction)):
        async with http.post(
            _messages_url(fake_wa),
            json={"messaging_product": "whatsapp", "to": WA_ID, "type": kind, kind: content},
        ) as resp:
            assert resp.status == 200, await resp.text()
            answer = await resp.json()
    assert answer["messages"][0]["id"].startswith("wamid.")
    assert [b["type"] for b in fake_wa.sent] == ["interactive", "interactive", "template", "reaction"]
    assert len(await fake_wa.wait_for(lambda b: b["type"] == "interactive", count=2)) == 2

    inbound = wa.new_wamid(WA_ID)
    read = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": inbound,
        "typing_indicator": {"type": "text"},
    }
    async with http.post(_messages_url(fake_wa), json=read) as resp:
        assert await resp.json() == {"success": True}
    assert fake_wa.reads == [inbound] and fake_wa.typing == [inbound] and len(fake_wa.sent) == 4


async def test_whatsapp_media_lookup_and_download(fake_wa: FakeWhatsApp, http: aiohttp.ClientSession) -> None:
    data = b"\xff\xd8\xff\xe0 jpeg bytes"
    fake_wa.add_media("1603251480458322", data, "image/jpeg")
    async with http.get(f"{fake_wa.base_url}/1603251480458322") as resp:
        meta = await resp.json()
    assert meta["messaging_product"] == "whatsapp" and meta["id"] == "1603251480458322"
    assert meta["mime_type"] == "image/jpeg" and meta["file_size"] == len(data)
    assert meta["sha256"] == hashlib.sha256(data).hexdigest()
    assert meta["url"].startswith(f"{fake_wa.url}/media-files/1603251480458322?")

    async with http.get(meta["url"]) as resp:
        assert resp.status == 200 and resp.content_type == "image/jpeg"
        assert await resp.read() == data
    async with aiohttp.ClientSession() as anonymous, anonymous.get(meta["url"]) as resp:
        assert resp.status == 401
    async with http.get(meta["url"].split("?")[0]) as resp:
        assert resp.status == 404

    async with http.get(f"{fake_wa.base_url}/404404") as resp:
        assert resp.status == 400
        error = (await resp.json())["error"]
    assert error["code"] == 100 and error["error_subcode"] == 33 and error["type"] == "GraphMethodException"

    form = aiohttp.FormData()
    form.add_field("messaging_product", "whatsapp")
    form.add_field("type", "application/pdf")
    form.add_field("file", b"%PDF-1.4", filename="factura.pdf", content_type="application/pdf")
    async with http.post(f"{fake_wa.base_url}/{PHONE_NUMBER_ID}/media", data=form) as resp:
        media_id = (await resp.json())["id"]
    doc = {
        "messaging_product": "whatsapp",
        "to": WA_ID,
        "type": "document",
        "document": {"id": media_id, "filename": "factura.pdf"},
    }
    async with http.post(_messages_url(fake_wa), json=doc) as resp:
        assert resp.status == 200
    doc["document"]["id"] = "not-uploaded"
    async with http.post(_messages_url(fake_wa), json=doc) as resp:
        assert resp.status == 400


async def test_whatsapp_outside_window_131047(fake_wa: FakeWhatsApp, http: aiohttp.ClientSession) -> None:
    fake_wa.set_outside_window(WA_ID)
    async with http.post(_messages_url(fake_wa), json=_text_body(WA_ID, "¿Seguís ahí?")) as resp:
        assert resp.status == 400
        error = (await resp.json())["error"]
    assert error["code"] == 131047 and error["message"] == "(#131047) Re-engagement message"
    assert (
        error["error_data"]["messaging_product"] == "whatsapp"
        and "24 hours" in error["error_data"]["details"]
    )
    assert fake_wa.sent == []

    template = {"name": "seguimiento", "language": {"code": "es_AR"}}
    body = {"messaging_product": "whatsapp", "to": WA_ID, "type": "template", "template": template}
    async with http.post(_messages_url(fake_wa), json=body) as resp:
        assert resp.status == 200
        assert (await resp.json())["messages"][0]["message_status"] == "accepted"

    fake_wa.set_outside_window(WA_ID, async_failure=True)
    async with http.post(_messages_url(fake_wa), json=_text_body(WA_ID, "hola")) as resp:
        wamid = (await resp.json())["messages"][0]["id"]
    (failed,) = fake_wa.pending_statuses
    status = failed["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert status["id"] == wamid and status["status"] == "failed" and status["errors"][0]["code"] == 131047

    fake_wa.set_outside_window(WA_ID, outside=False)
    async with http.post(_messages_url(fake_wa), json=_text_body(WA_ID, "hola")) as resp:
        assert resp.status == 200


async def test_whatsapp_injected_failures(fake_wa: FakeWhatsApp, http: aiohttp.ClientSession) -> None:
    fake_wa.fail_next("messages", status=429)
    fake_wa.fail_next("messages", status=400, error_code=4)
    fake_wa.fail_next("media", status=500)
    async with http.post(_messages_url(fake_wa), json=_text_body(WA_ID, "1")) as resp:
        assert resp.status == 429
        first = (await resp.json())["error"]
    async with http.post(_messages_url(fake_wa), json=_text_body(WA_ID, "2")) as resp:
        second = (await resp.json())["error"]
    async with http.post(_messages_url(fake_wa), json=_text_body(WA_ID, "3")) as resp:
        assert resp.status == 200
    assert first["code"] == 130429 and first["message"] == "(#130429) Rate limit hit"
    assert second["code"] == 4 and second["type"] == "OAuthException"
    assert fake_wa.texts() == ["3"]
    assert [status for kind, status, _ in fake_wa.requests] == [429, 400, 200]

    fake_wa.add_media("m1", b"x", "audio/ogg")
    async with http.get(f"{fake_wa.base_url}/m1") as resp:
        assert resp.status == 500 and (await resp.json())["error"]["is_transient"] is True
    async with http.get(f"{fake_wa.base_url}/m1") as resp:
        assert resp.status == 200


async def test_whatsapp_signature_and_post_webhook(aiohttp_server: Any) -> None:
    secret = "app-secret"
    received: list[dict[str, Any]] = []

    async def webhook(request: web.Request) -> web.Response:
        raw = await request.read()
        expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-Hub-Signature-256", ""), expected):
            return web.Response(status=401, text="bad signature")
        received.append(json.loads(raw))
        return web.Response(text="EVENT_RECEIVED")

    async def verify(request: web.Request) -> web.Response:
        if request.query.get("hub.verify_token") == "vt" and request.query.get("hub.mode") == "subscribe":
            return web.Response(text=request.query["hub.challenge"])
        return web.Response(status=403)

    app = web.Application()
    app.router.add_post("/webhooks/whatsapp", webhook)
    app.router.add_get("/webhooks/whatsapp", verify)
    server = await aiohttp_server(app)
    url = str(server.make_url("/webhooks/whatsapp"))

    body = b'{"object":"whatsapp_business_account"}'
    assert wa.sign(body, secret) == "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert wa.meta_json({"t": "¿sí?/"}) == b'{"t":"\\u00bfs\\u00ed?\\/"}'

    payload = wa.text_message(WA_ID, "¿Tienen envío a Córdoba?")
    assert await wa.post_webhook(url, payload, secret) == (200, "EVENT_RECEIVED")
    assert received == [payload]
    assert (await wa.post_webhook(url, payload, signature="sha256=" + "0" * 64))[0] == 401
    assert (await wa.post_webhook(url, payload))[0] == 401
    assert await wa.verify_webhook(url, "vt", "12345") == (200, "12345")
    assert (await wa.verify_webhook(url, "wrong"))[0] == 403


def test_whatsapp_builders_and_batch() -> None:
    def value(payload: dict[str, Any]) -> dict[str, Any]:
        assert payload["object"] == "whatsapp_business_account"
        change = payload["entry"][0]["changes"][0]
        assert change["field"] == "messages" and change["value"]["messaging_product"] == "whatsapp"
        return change["value"]

    text = value(wa.text_message(WA_ID, "hola", name="Beto", timestamp=1700000000))
    assert text["contacts"] == [{"profile": {"name": "Beto"}, "wa_id": WA_ID}]
    assert text["messages"][0]["timestamp"] == "1700000000" and text["messages"][0]["from"] == WA_ID

    button = value(wa.button_reply(WA_ID, "yes", "Sí", context_id="wamid.CTX"))["messages"][0]
    assert button["context"]["id"] == "wamid.CTX" and button["interactive"]["button_reply"] == {
        "id": "yes",
        "title": "Sí",
    }
    row = value(wa.list_reply(WA_ID, "SKU-1", "Martillo", "Acero"))["messages"][0]["interactive"]
    assert row == {
        "type": "list_reply",
        "list_reply": {"id": "SKU-1", "title": "Martillo", "description": "Acero"},
    }
    voice = value(wa.audio_message(WA_ID, "a1"))["messages"][0]["audio"]
    assert voice["voice"] is True and voice["mime_type"].startswith("audio/ogg")
    doc = value(wa.document_message(WA_ID, "d1", "lista.pdf"))["messages"][0]["document"]
    assert doc["filename"] == "lista.pdf"
    loc = value(wa.location_message(WA_ID, -31.4, -64.2, name="Local", address="Av. Colón 1"))["messages"][0]
    assert loc["location"] == {
        "latitude": -31.4,
        "longitude": -64.2,
        "address": "Av. Colón 1",
        "name": "Local",
    }
    card = value(wa.contacts_message(WA_ID, "+54 9 351 555 1234", "Juan Pérez"))["messages"][0]["contacts"][0]
    assert card["name"]["formatted_name"] == "Juan Pérez" and card["phones"][0]["wa_id"] == "5493515551234"
    reaction = value(wa.reaction_message(WA_ID, "wamid.X", "❤️"))["messages"][0]
    assert reaction["reaction"] == {"message_id": "wamid.X", "emoji": "❤️"}
    unsupported = value(wa.unsupported_message(WA_ID))["messages"][0]
    assert unsupported["type"] == "unsupported" and unsupported["errors"][0]["code"] == 131051

    sent = value(wa.status_update(WA_ID, "wamid.S", "sent"))
    assert "contacts" not in sent and sent["statuses"][0]["pricing"]["billable"] is True
    assert "expiration_timestamp" in sent["statuses"][0]["conversation"]
    read = value(wa.status_update(WA_ID, "wamid.S", "read"))["statuses"][0]
    assert "pricing" not in read and "errors" not in read
    failed = value(wa.status_update(WA_ID, "wamid.S", "failed", errors=[131026]))["statuses"][0]
    assert failed["errors"][0]["code"] == 131026 and failed["errors"][0]["title"] == "Message undeliverable"

    merged = value(
        wa.batch(
            wa.text_message(WA_ID, "uno"),
            wa.text_message(WA_ID, "dos"),
            wa.text_message("5491100000000", "tres"),
        )
    )
    assert [m["text"]["body"] for m in merged["messages"]] == ["uno", "dos", "tres"]
    assert [c["wa_id"] for c in merged["contacts"]] == [WA_ID, "5491100000000"]
    mixed = value(wa.batch(wa.status_update(WA_ID, "wamid.S", "delivered"), wa.text_message(WA_ID, "hola")))
    assert len(mixed["statuses"]) == 1 and len(mixed["messages"]) == 1


def test_whatsapp_payload_files_match_builders() -> None:
    cases = {
        "whatsapp_text.json": wa.text_message(WA_ID, "hola"),
        "whatsapp_image.json": wa.image_message(WA_ID, "1", "caption"),
        "whatsapp_status_delivered.json": wa.status_update(WA_ID, "wamid.S", "delivered"),
        "whatsapp_button_reply.json": wa.button_reply(WA_ID, "yes", "Sí"),
    }
    for name, built in cases.items():
        assert _shape(_payload(name)) == _shape(built), name


async def test_long_poll_wakes_on_push_and_stop_is_prompt() -> None:
    fake = FakeTelegram(max_poll_wait=30.0)
    await fake.start()
    async with Bot(TOKEN, base_url=fake.base_url) as client:
        poll = asyncio.create_task(client.get_updates(timeout=30, read_timeout=35))
        await wait_until(lambda: fake.poll_count == 1, timeout=5, what="long poll")
        fake.push_update(tg.text_update(CHAT, "despertá"))
        (update,) = await asyncio.wait_for(poll, 5)
        assert update.message is not None and update.message.text == "despertá"

        lingering = asyncio.create_task(
            client.get_updates(offset=update.update_id + 1, timeout=30, read_timeout=35)
        )
        await wait_until(lambda: fake.poll_count == 2, timeout=5, what="second long poll")
        started = asyncio.get_running_loop().time()
        await fake.stop()
        assert asyncio.get_running_loop().time() - started < 2
        assert await asyncio.wait_for(lingering, 5) == ()
