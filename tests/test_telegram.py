"""Telegram end to end: the real daemon against the fake Bot API, by polling and by webhook."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.conftest import SMALL_CATALOG, Harness, make_settings, running
from tests.fakes import telegram_api as tg
from tests.fakes import wait_until
from tests.fakes.telegram_api import FakeTelegram
from tools import TOOLS

TOKEN = "123:ABC"
SECRET = "s3cret-token_for-tests"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN, max_poll_wait=1.0) as server:
        yield server


@contextlib.asynccontextmanager
async def telegram_daemon(data_dir: Path, fake: FakeTelegram, **overrides: Any) -> AsyncIterator[Harness]:
    settings = make_settings(data_dir, telegram_bot_token=TOKEN, telegram_base_url=fake.base_url, **overrides)
    async with running(settings) as harness:
        assert (await harness.import_csv(SMALL_CATALOG))["status"] == 200
        yield harness


async def replies(fake: FakeTelegram, chat: int, count: int = 1) -> list[dict[str, Any]]:
    return await fake.wait_for("sendMessage", chat_id=chat, count=count)


async def stored(h: Harness, chat: int, count: int) -> list[dict[str, Any]]:
    """The conversation's messages once `count` of them are stored and none is still queued."""
    async def ready() -> list[dict[str, Any]] | None:
        resp = await h.client.get(f"/admin/conversations/telegram/{chat}", headers=h.admin)
        if resp.status != 200:
            return None
        messages = (await resp.json())["messages"]
        if len(messages) < count or any(m["delivery_status"] == "queued" for m in messages):
            return None
        return messages

    deadline = time.monotonic() + 10
    while (messages := await ready()) is None:
        assert time.monotonic() < deadline, f"conversation {chat} never reached {count} messages"
        await asyncio.sleep(0.05)
    return messages


async def sent_id(h: Harness, chat: int, count: int) -> int:
    """The Telegram message id of the last reply stored (as `"<chat>:<message id>"`)."""
    last = [m for m in await stored(h, chat, count) if m["direction"] == "out"][-1]
    return int(last["channel_message_id"].split(":")[1])


async def read(path: str | Path) -> bytes:
    return await asyncio.to_thread(Path(path).read_bytes)


async def test_polling_conversation_and_purchase_with_inline_buttons(data_dir: Path, fake: FakeTelegram) -> None:
    chat = 5550001111
    async with telegram_daemon(data_dir, fake) as h:
        fake.push_update(tg.text_update(chat, "hola", message_id=1))
        await replies(fake, chat)
        assert fake.calls("sendChatAction")[0]["action"] == "typing"

        fake.push_update(tg.text_update(chat, "quiero 2 martillos", message_id=2))
        sent = await replies(fake, chat, 2)
        offer = sent[-1]
        keyboard = offer["reply_markup"]["inline_keyboard"]
        assert [b["callback_data"] for row in keyboard for b in row] == ["confirm", "decline"]
        assert "parse_mode" not in offer  # plain text: nothing to escape
        offer_id = await sent_id(h, chat, 4)

        fake.push_update(tg.callback_update(chat, "confirm", message_id=offer_id, message=fake.message(chat, offer_id)))
        await replies(fake, chat, 3)
        await fake.wait_for("answerCallbackQuery")
        assert "reply_markup" not in fake.message(chat, offer_id)  # the keyboard is gone: one answer per offer
        assert (await h.product("MART-16"))["stock"] == 5

        messages = await stored(h, chat, 6)
        inbound = [m["channel_message_id"] for m in messages if m["direction"] == "in"]
        assert inbound[:2] == [f"{chat}:1", f"{chat}:2"] and inbound[2].startswith("cb:")
        outbound = [m for m in messages if m["direction"] == "out"]
        assert all(m["delivery_status"] == "sent" and m["channel_message_id"].startswith(f"{chat}:") for m in outbound)
        assert (await h.conversation(str(chat), "telegram"))["sales"][0]["quantity"] == 2


async def test_polling_media_contact_sticker_and_poison_update(data_dir: Path, fake: FakeTelegram) -> None:
    photo_chat, voice_chat, contact_chat, sticker_chat = 101, 102, 103, 104
    image = b"\xff\xd8\xff\xe0fake-jpeg-bytes" * 50
    fake.add_file("AgACphoto", image, "photos/file_1.jpg")
    fake.add_file("AwACvoice", b"OggS-voice", "voice/file_2.oga")
    async with telegram_daemon(data_dir, fake) as h:
        # A payload PTB cannot model is logged and skipped; polling goes on.
        fake.push_update({"update_id": 600_000_001, "message": {"message_id": 9, "chat": {"id": 99, "type": "private"},
                                                                 "date": 1, "photo": [1, 2]}})
        fake.push_update(tg.photo_update(photo_chat, "AgACphoto", caption="¿tienen martillos?", message_id=5))
        fake.push_update(tg.voice_update(voice_chat, "AwACvoice", message_id=6))
        fake.push_update(tg.contact_update(contact_chat, "+5491122334455", "Ana", "Pérez", message_id=7))
        fake.push_update(tg.sticker_update(sticker_chat, message_id=8))

        assert "Martillo" in (await replies(fake, photo_chat))[0]["text"]
        assert "audio" in (await replies(fake, voice_chat))[0]["text"].lower()
        await replies(fake, contact_chat)
        assert "texto" in (await replies(fake, sticker_chat))[0]["text"].lower()

        photo = (await stored(h, photo_chat, 2))[0]
        path = Path(photo["payload"]["media"][0]["path"])
        assert path.is_relative_to(data_dir / "media" / "telegram") and await read(path) == image
        voice = (await stored(h, voice_chat, 2))[0]
        assert voice["kind"] == "voice" and await read(voice["payload"]["media"][0]["path"]) == b"OggS-voice"
        detail = await h.conversation(str(contact_chat), "telegram")
        card = detail["messages"][0]["payload"]["contacts"][0]
        assert (card["phone"], card["first_name"], card["last_name"]) == ("+5491122334455", "Ana", "Pérez")
        if "qualify_lead" in TOOLS:  # the customer's own card (user_id is the sender) fills their lead
            assert detail["lead"] is not None and detail["lead"]["phone"] == "+5491122334455"
        assert not fake.pending_updates or all(u["update_id"] > 600_000_001 for u in fake.pending_updates)


async def test_voice_note_transcribed(data_dir: Path, fake: FakeTelegram) -> None:
    seen: list[dict[str, Any]] = []

    async def transcriptions(request: web.Request) -> web.Response:
        form = await request.post()
        seen.append({"model": form["model"], "size": len(form["file"].file.read())})
        return web.json_response({"text": "quiero 2 martillos"})

    app = web.Application()
    app.router.add_post("/v1/audio/transcriptions", transcriptions)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.add_file("AwACvoice2", b"OggS-spoken-order", "voice/file_3.oga")
    try:
        async with telegram_daemon(data_dir, fake, transcription_model="whisper-1",
                                   openai_base_url=f"http://127.0.0.1:{port}/v1"):
            fake.push_update(tg.voice_update(201, "AwACvoice2"))
            offer = (await replies(fake, 201))[-1]
            assert "2 × Martillo" in offer["text"] and offer["reply_markup"]["inline_keyboard"]
    finally:
        await runner.cleanup()
    assert seen == [{"model": "whisper-1", "size": len(b"OggS-spoken-order")}]


async def test_webhook_mode_secret_purchase_and_edit(data_dir: Path, fake: FakeTelegram) -> None:
    chat = 301
    async with telegram_daemon(data_dir, fake, telegram_webhook_url="https://bot.example.test/webhooks/telegram",
                               telegram_webhook_secret=SECRET) as h:
        assert fake.webhook is not None and fake.webhook["secret_token"] == SECRET
        assert fake.webhook["url"] == "https://bot.example.test/webhooks/telegram"
        url = str(h.client.make_url("/webhooks/telegram"))

        for secret in (None, "wrong"):
            status, _ = await tg.post_webhook(url, tg.text_update(chat, "hola"), secret_token=secret)
            assert status == 403
        resp = await h.client.post("/webhooks/telegram", data=b"{not json", headers={tg_header(): SECRET})
        assert resp.status == 400
        await asyncio.sleep(0.1)
        assert fake.texts(chat) == []
        assert (await h.client.get(f"/admin/conversations/telegram/{chat}", headers=h.admin)).status == 404

        started = time.monotonic()
        status, _ = await tg.post_webhook(url, tg.text_update(chat, "quiero 2 martillos", message_id=1), SECRET)
        assert status == 200 and time.monotonic() - started < 1.0
        offer = (await replies(fake, chat))[-1]
        offer_id = await sent_id(h, chat, 2)
        assert offer["reply_markup"]["inline_keyboard"]
        update = tg.callback_update(chat, "confirm", message_id=offer_id, message=fake.message(chat, offer_id))
        assert (await tg.post_webhook(url, update, SECRET))[0] == 200
        await replies(fake, chat, 2)
        assert (await h.product("MART-16"))["stock"] == 5

        # An edit changes the stored message (the old text kept in its history); it is not answered again.
        sent_before = len(fake.texts(chat))
        status, _ = await tg.post_webhook(url, tg.edited_text_update(chat, 1, "quiero 3 martillos"), SECRET)
        assert status == 200
        deadline = time.monotonic() + 10
        while (first := (await stored(h, chat, 4))[0])["text"] != "quiero 3 martillos":
            assert time.monotonic() < deadline, "the edit never reached the stored message"
            await asyncio.sleep(0.05)
        assert first["payload"]["edits"][0]["text"] == "quiero 2 martillos"
        await asyncio.sleep(0.3)
        messages = await stored(h, chat, 4)
        assert len(messages) == 4 and len(fake.texts(chat)) == sent_before
        assert not [m for m in messages if m["kind"] == "edited"]


def tg_header() -> str:
    return "X-Telegram-Bot-Api-Secret-Token"


async def test_flood_control_long_reply_and_human_handoff(data_dir: Path, fake: FakeTelegram) -> None:
    chat = 401
    async with telegram_daemon(data_dir, fake) as h:
        fake.fail_next("sendMessage", status=429, retry_after=1)
        started = time.monotonic()
        fake.push_update(tg.text_update(chat, "hola"))
        await replies(fake, chat)
        assert time.monotonic() - started >= 1.0
        assert [r.status for r in fake.requests if r.method == "sendMessage"] == [429, 200]
        await stored(h, chat, 2)

        repos = h.daemon.services.repos
        conv = await repos.conversations.get("telegram", str(chat))
        assert conv is not None
        await repos.conversations.update(conv.id, status="human")
        fake.push_update(tg.text_update(chat, "quiero 2 martillos"))
        await wait_until(lambda: not fake.pending_updates, what="update consumed")
        messages = await stored(h, chat, 3)
        await asyncio.sleep(0.2)
        assert len(fake.texts(chat)) == 1  # the bot says nothing while a person has the conversation
        assert [m["direction"] for m in messages] == ["in", "out", "in"]

        fake.fail_next("sendMessage", status=403)
        blocked = await h.daemon.runtime.human_reply(conv, "¿Seguís ahí?")
        assert blocked.delivery_status == "failed" and "blocked" in (blocked.error or "")

        paragraphs = [f"Párrafo {i}: " + " ".join(["detalle"] * 120) for i in range(10)]  # ~9,800 characters
        long_text = "\n\n".join(paragraphs)
        await h.daemon.runtime.human_reply(conv, long_text)
        parts = fake.texts(chat)[1:]  # the blocked one never reached the fake
        assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
        assert "\n\n".join(parts) == long_text and all(p.startswith("Párrafo") for p in parts)
        last = (await stored(h, chat, 4))[-1]
        assert last["delivery_status"] == "sent" and last["channel_message_id"].startswith(f"{chat}:")
