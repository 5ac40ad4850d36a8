"""Human takeover on every channel: the bot goes quiet, a person replies through the channel, the bot comes back."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.conftest import SMALL_CATALOG, Harness, make_settings, running
from tests.fakes import telegram_api as tg
from tests.fakes import whatsapp_api as wa
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.whatsapp_api import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, FakeWhatsApp

MARTA = "Hola, soy Marta"


def as_owner(h: Harness) -> dict[str, str]:
    return {**h.admin, "X-Admin-User": "marta"}


async def admin_post(
    h: Harness, channel: str, chat_id: str, action: str, body: dict[str, Any] | None = None
) -> Any:
    resp = await h.client.post(
        f"/admin/conversations/{channel}/{chat_id}/{action}", json=body, headers=as_owner(h)
    )
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def settled(h: Harness, channel: str, chat_id: str, count: int) -> list[dict[str, Any]]:
    """The conversation's messages once `count` are stored and (push channels) none is waiting to be sent.

    The web channel answers in the HTTP response, so its bot replies are never "sent" by a push.
    """
    deadline = time.monotonic() + 10
    while True:
        resp = await h.client.get(f"/admin/conversations/{channel}/{chat_id}", headers=h.admin)
        if resp.status == 200:
            messages = (await resp.json())["messages"]
            pending = channel != "web" and any(m["delivery_status"] == "queued" for m in messages)
            if len(messages) >= count and not pending:
                return messages
        assert time.monotonic() < deadline, f"{channel}/{chat_id} never reached {count} messages"
        await asyncio.sleep(0.05)


async def check_human_reply_stored(h: Harness, channel: str, chat_id: str, count: int) -> dict[str, Any]:
    last = (await settled(h, channel, chat_id, count))[-1]
    assert (last["direction"], last["author"], last["text"]) == ("out", "human", MARTA)
    assert last["delivery_status"] == "sent"
    return last


# -- web -------------------------------------------------------------------------------------


async def test_web_handoff_reply_and_resume(bot: Harness) -> None:
    assert await bot.say("w1", "hola")
    detail = await admin_post(bot, "web", "w1", "handoff")
    assert detail["status"] == "human" and detail["needs_attention"] is True

    resp = await bot.client.post("/api/chat", json={"chat_id": "w1", "text": "quiero 2 martillos"})
    assert resp.status == 200 and (await resp.json())["replies"] == []
    messages = (await bot.conversation("w1"))["messages"]
    inbound = messages[-1]
    assert (inbound["direction"], inbound["author"], inbound["text"]) == (
        "in",
        "customer",
        "quiero 2 martillos",
    )
    assert [m["direction"] for m in messages] == ["in", "out", "in"]

    sent = (await admin_post(bot, "web", "w1", "reply", {"text": MARTA}))["message"]
    assert (sent["author"], sent["text"], sent["delivery_status"]) == ("human", MARTA, "sent")
    resp = await bot.client.get(f"/api/chat/w1/messages?after={inbound['id']}")
    assert resp.status == 200
    later = (await resp.json())["messages"]
    assert [(m["author"], m["text"]) for m in later] == [("human", MARTA)]
    assert "delivery_status" not in later[0]  # the public transcript has no internal fields
    await check_human_reply_stored(bot, "web", "w1", 4)

    for bad in ({}, {"text": "  "}, {"text": 5}):
        resp = await bot.client.post("/admin/conversations/web/w1/reply", json=bad, headers=bot.admin)
        assert resp.status == 400
    assert (await bot.client.post("/admin/conversations/web/nobody/handoff", headers=bot.admin)).status == 404

    detail = await admin_post(bot, "web", "w1", "resume")
    assert detail["status"] == "bot" and detail["needs_attention"] is False
    replies = await bot.say("w1", "quiero 2 martillos")
    assert "2 × Martillo" in replies[-1]["text"] and replies[-1]["buttons"]

    entries = (await (await bot.client.get("/admin/audit", headers=bot.admin)).json())["items"]
    assert [(e["actor"], e["action"], e["target"]) for e in reversed(entries)] == [
        ("marta", "conversation.handoff", "web/w1"),
        ("marta", "conversation.reply", "web/w1"),
        ("marta", "conversation.resume", "web/w1"),
    ]


async def test_customer_asking_for_a_person_is_flagged_and_listed(bot: Harness) -> None:
    await bot.say("other", "hola")
    replies = await bot.say("needs-person", "quiero hablar con una persona")
    assert replies and "persona" in replies[0]["text"]
    detail = await bot.conversation("needs-person")
    assert detail["status"] == "human" and detail["needs_attention"] is True and detail["attention_reason"]

    resp = await bot.client.get("/admin/conversations", params={"status": "human"}, headers=bot.admin)
    listed = await resp.json()
    assert listed["total"] == 1 and [i["chat_id"] for i in listed["items"]] == ["needs-person"]
    assert await bot.say("needs-person", "¿hola? ¿hay alguien?") == []
    assert (await bot.conversation("needs-person"))["messages"][-1]["text"] == "¿hola? ¿hay alguien?"

    await admin_post(bot, "web", "needs-person", "resume")
    assert await bot.say("needs-person", "hola")
    listed = await (await bot.client.get("/admin/conversations?status=human", headers=bot.admin)).json()
    assert listed["total"] == 0


# -- Telegram ----------------------------------------------------------------------------------

TG_TOKEN = "123:ABC"


@contextlib.asynccontextmanager
async def telegram(tmp_path: Path) -> AsyncIterator[tuple[Harness, FakeTelegram]]:
    async with FakeTelegram(TG_TOKEN, max_poll_wait=1.0) as fake:
        settings = make_settings(
            tmp_path / "data", telegram_bot_token=TG_TOKEN, telegram_base_url=fake.base_url
        )
        async with running(settings) as h:
            assert (await h.import_csv(SMALL_CATALOG))["status"] == 200
            yield h, fake


async def quiet(condition: Callable[[], Awaitable[None]] | None = None, seconds: float = 0.4) -> None:
    """Give a wrong message room to show up before asserting there is none."""
    if condition is not None:
        await condition()
    await asyncio.sleep(seconds)


async def test_telegram_handoff_reply_and_resume(tmp_path: Path) -> None:
    chat = 880001
    async with telegram(tmp_path) as (h, fake):
        fake.push_update(tg.text_update(chat, "hola", message_id=1))
        await fake.wait_for("sendMessage", chat_id=chat, count=1)
        await settled(h, "telegram", str(chat), 2)
        await admin_post(h, "telegram", str(chat), "handoff")

        fake.push_update(tg.text_update(chat, "quiero 2 martillos", message_id=2))
        messages = await settled(h, "telegram", str(chat), 3)
        await quiet()
        assert len(fake.texts(chat)) == 1  # nothing sent by the bot after the handoff
        assert messages[-1]["text"] == "quiero 2 martillos" and messages[-1]["author"] == "customer"
        assert len((await h.conversation(str(chat), "telegram"))["messages"]) == 3

        await admin_post(h, "telegram", str(chat), "reply", {"text": MARTA})
        sent = await fake.wait_for("sendMessage", chat_id=chat, count=2)
        assert sent[-1]["text"] == MARTA
        stored = await check_human_reply_stored(h, "telegram", str(chat), 4)
        assert stored["channel_message_id"].startswith(f"{chat}:")

        await admin_post(h, "telegram", str(chat), "resume")
        fake.push_update(tg.text_update(chat, "quiero 2 martillos", message_id=3))
        sent = await fake.wait_for("sendMessage", chat_id=chat, count=3)
        assert "2 × Martillo" in sent[-1]["text"] and sent[-1]["reply_markup"]["inline_keyboard"]


# -- WhatsApp ----------------------------------------------------------------------------------

WA_ID = "5491199887766"


@contextlib.asynccontextmanager
async def whatsapp(tmp_path: Path) -> AsyncIterator[tuple[Harness, FakeWhatsApp]]:
    async with FakeWhatsApp() as fake:
        settings = make_settings(
            tmp_path / "data",
            whatsapp_access_token=ACCESS_TOKEN,
            whatsapp_phone_number_id=PHONE_NUMBER_ID,
            whatsapp_app_secret=APP_SECRET,
            whatsapp_verify_token="verify",
            whatsapp_api_base_url=fake.base_url,
        )
        async with running(settings) as h:
            assert (await h.import_csv(SMALL_CATALOG))["status"] == 200
            yield h, fake


async def wa_deliver(h: Harness, payload: dict[str, Any]) -> None:
    status, _ = await wa.post_webhook(str(h.client.make_url("/webhooks/whatsapp")), payload, APP_SECRET)
    assert status == 200


async def test_whatsapp_handoff_reply_and_resume(tmp_path: Path) -> None:
    async with whatsapp(tmp_path) as (h, fake):
        await wa_deliver(h, wa.text_message(WA_ID, "hola"))
        await fake.wait_for("text", to=WA_ID)
        await settled(h, "whatsapp", WA_ID, 2)
        await admin_post(h, "whatsapp", WA_ID, "handoff")

        await wa_deliver(h, wa.text_message(WA_ID, "quiero 2 martillos"))
        messages = await settled(h, "whatsapp", WA_ID, 3)
        await quiet()
        assert len(fake.messages(to=WA_ID)) == 1  # nothing sent by the bot after the handoff
        assert messages[-1]["text"] == "quiero 2 martillos" and messages[-1]["author"] == "customer"
        assert len((await h.conversation(WA_ID, "whatsapp"))["messages"]) == 3

        await admin_post(h, "whatsapp", WA_ID, "reply", {"text": MARTA})
        await fake.wait_for("text", to=WA_ID, count=2)
        assert fake.texts(WA_ID)[-1] == MARTA
        stored = await check_human_reply_stored(h, "whatsapp", WA_ID, 4)
        assert stored["channel_message_id"] in fake.wamids

        await admin_post(h, "whatsapp", WA_ID, "resume")
        await wa_deliver(h, wa.text_message(WA_ID, "quiero 2 martillos"))
        (offer,) = await fake.wait_for("interactive", to=WA_ID)
        assert "2 × Martillo" in offer["interactive"]["body"]["text"]
