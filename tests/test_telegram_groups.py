"""Telegram groups: answered only when addressed, each member's own conversation, service messages silent.

The real daemon in webhook mode against the fake Bot API; updates shaped
as the Bot API documents them (supergroup chats, `mention` entities,
`reply_to_message`, `callback_query` from another member).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from tests.conftest import SMALL_CATALOG, make_settings, running
from tests.fakes import telegram_api as tg
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123:GROUPS"  # the fake's bot: id 123, @mostrador_bot
SECRET = "groups-secret"
GROUP = -1001234567890
ANA, BETO = 5001, 5002
_updates = iter(range(900_000, 999_999))


def group_message(user: int, text: str, message_id: int, *, mention: bool = False, reply_to: dict | None = None,
                  **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id, "date": int(time.time()),
        "from": {"id": user, "is_bot": False, "first_name": f"Miembro{user}", "language_code": "es"},
        "chat": {"id": GROUP, "title": "Compras del barrio", "type": "supergroup"},
        **extra,
    }
    if text:
        message["text"] = text
    if mention:
        at = text.index("@mostrador_bot")
        message["entities"] = [{"type": "mention", "offset": at, "length": len("@mostrador_bot")}]
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    return {"update_id": next(_updates), "message": message}


async def post(h, update: dict[str, Any]) -> None:
    resp = await h.client.post("/webhooks/telegram", data=json.dumps(update),
                               headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"})
    assert resp.status == 200, await resp.text()


async def settle(h) -> None:
    """Every update taken so far has been processed (the channel's ordered inbox is empty)."""
    await asyncio.sleep(0.05)
    await h.daemon.channels.get("telegram").inbox.join()


def settings(data_dir: Path, fake: FakeTelegram, **overrides: Any):
    return make_settings(data_dir, telegram_bot_token=TOKEN, telegram_base_url=fake.base_url,
                         telegram_webhook_url="https://bot.example.test/webhooks/telegram",
                         telegram_webhook_secret=SECRET, **overrides)


async def test_group_members_each_have_their_own_order(data_dir: Path) -> None:
    async with FakeTelegram(TOKEN) as fake, running(settings(data_dir, fake)) as h:
        assert (await h.import_csv(SMALL_CATALOG))["status"] == 200
        await post(h, group_message(ANA, "hola a todos, ¿alguien fue a la ferretería?", 1))
        await post(h, group_message(BETO, "yo fui ayer", 2))
        await settle(h)
        assert fake.calls("sendMessage") == []  # not addressed: not answered, not stored
        assert (await h.client.get("/admin/conversations", headers=h.admin, params={"channel": "telegram"})).status == 200
        listed = await (await h.client.get("/admin/conversations", headers=h.admin, params={"channel": "telegram"})).json()
        assert not (listed.get("conversations") if isinstance(listed, dict) else listed)

        await post(h, group_message(ANA, "@mostrador_bot quiero 2 martillos", 3, mention=True))
        offer = (await fake.wait_for("sendMessage", chat_id=GROUP))[-1]
        assert "Martillo" in offer["text"] and offer["reply_markup"]["inline_keyboard"]
        reply = offer["reply_parameters"]
        assert (json.loads(reply) if isinstance(reply, str) else reply)["message_id"] == 3  # a reply to Ana
        await settle(h)
        ana = await h.conversation(f"{GROUP}:{ANA}", "telegram")
        offer_id = int(ana["messages"][-1]["channel_message_id"].split(":")[1])
        offer_msg = fake.message(GROUP, offer_id)

        # Beto cannot confirm Ana's order: not by replying to the offer, not by tapping its button.
        await post(h, group_message(BETO, "sí", 4, reply_to=offer_msg))
        await post(h, {"update_id": next(_updates), "callback_query": {
            "id": "cbq-beto", "chat_instance": "-99", "data": "confirm",
            "from": {"id": BETO, "is_bot": False, "first_name": "Beto"}, "message": offer_msg}})
        await settle(h)
        assert (await h.product("MART-16"))["stock"] == 7
        assert not any("Registré" in c["text"] for c in fake.calls("sendMessage"))
        beto = await h.conversation(f"{GROUP}:{BETO}", "telegram")
        assert beto["sales"] == [] and all("Registré" not in m["text"] for m in beto["messages"])

        # Ana's own yes commits her order.
        await post(h, group_message(ANA, "sí", 5, reply_to=offer_msg))
        await settle(h)
        assert (await h.product("MART-16"))["stock"] == 5
        ana = await h.conversation(f"{GROUP}:{ANA}", "telegram")
        assert [s["quantity"] for s in ana["sales"]] == [2]
        assert all(m["text"] != "hola a todos, ¿alguien fue a la ferretería?" for m in ana["messages"])

        # A command addressed to the bot is answered; one for another bot is not.
        sent = len(fake.calls("sendMessage"))
        command = group_message(BETO, "/start@otro_bot", 6)
        command["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 15}]
        await post(h, command)
        await settle(h)
        assert len(fake.calls("sendMessage")) == sent
        command = group_message(BETO, "/start", 7)
        command["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 6}]
        await post(h, command)
        await fake.wait_for("sendMessage", chat_id=GROUP, count=sent + 1)


async def test_service_messages_and_edits_get_no_reply(data_dir: Path) -> None:
    async with FakeTelegram(TOKEN) as fake, running(settings(data_dir, fake)) as h:
        service = [
            {"new_chat_members": [{"id": 77, "is_bot": False, "first_name": "Nuevo"}]},
            {"left_chat_member": {"id": 77, "is_bot": False, "first_name": "Nuevo"}},
            {"pinned_message": {"message_id": 1, "date": 1, "chat": {"id": GROUP, "type": "supergroup"}, "text": "x"}},
            {"group_chat_created": True},
            {"proximity_alert_triggered": {"traveler": {"id": ANA, "is_bot": False, "first_name": "A"},
                                           "watcher": {"id": BETO, "is_bot": False, "first_name": "B"}, "distance": 40}},
        ]
        for n, extra in enumerate(service, start=10):
            await post(h, group_message(ANA, "", n, **extra))
        private = {"id": ANA, "first_name": "Ana", "type": "private"}
        payment = tg.text_update(ANA, "x", message_id=20)
        del payment["message"]["text"]
        payment["message"]["successful_payment"] = {
            "currency": "ARS", "total_amount": 890000, "invoice_payload": "order-1",
            "telegram_payment_charge_id": "tg-1", "provider_payment_charge_id": "pp-1"}
        await post(h, payment)
        await settle(h)
        assert fake.calls("sendMessage") == []

        await post(h, tg.text_update(ANA, "quiero 2 martillos", message_id=30))
        await fake.wait_for("sendMessage", chat_id=ANA)
        edit = tg.edited_text_update(ANA, 30, "quiero 3 martillos")
        await post(h, edit)
        await settle(h)
        assert len(fake.calls("sendMessage")) == 1
        detail = await h.conversation(str(ANA), "telegram")
        assert detail["messages"][0]["text"] == "quiero 3 martillos"
        assert private["type"] == "private"


async def test_groups_can_be_turned_off(data_dir: Path) -> None:
    async with FakeTelegram(TOKEN) as fake, running(settings(data_dir, fake, telegram_groups=False)) as h:
        await post(h, group_message(ANA, "@mostrador_bot hola", 1, mention=True))
        await post(h, tg.text_update(ANA, "hola", message_id=2))
        await fake.wait_for("sendMessage", chat_id=ANA)
        await settle(h)
        assert [c["chat_id"] for c in fake.calls("sendMessage")] in ([ANA], [str(ANA)])
