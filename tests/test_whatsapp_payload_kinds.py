"""WhatsApp payloads as Meta sends them: business-scoped user ids, catalog carts, several contact cards,
click-to-WhatsApp referrals, edits and deletions. The real daemon against the fake Cloud API, webhooks
signed like Meta's; payload shapes from Meta's webhook reference (orders, contacts, referral)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from tests.conftest import Harness
from tests.fakes import whatsapp_api as wa
from tests.fakes.whatsapp_api import APP_SECRET, FakeWhatsApp
from tests.test_whatsapp import deliver, fake, whatsapp_daemon  # noqa: F401 - the fixture

BSUID = "AR.13491208655302741918"


def _message(payload: dict[str, Any]) -> dict[str, Any]:
    return payload["entry"][0]["changes"][0]["value"]["messages"][0]


async def detail(h: Harness, chat: str, count: int) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        resp = await h.client.get(f"/admin/conversations/whatsapp/{chat}", headers=h.admin)
        if resp.status == 200:
            body = await resp.json()
            if len(body["messages"]) >= count and all(m["delivery_status"] != "queued" for m in body["messages"]):
                return body
        assert time.monotonic() < deadline, f"{chat} never reached {count} messages"
        await asyncio.sleep(0.05)


async def test_business_scoped_user_id_is_stored_and_answered(data_dir: Path, fake: FakeWhatsApp) -> None:
    async with whatsapp_daemon(data_dir, fake) as h:
        payload = wa.text_message("", "hola, ¿tienen taladros?", name="Usuario")
        value = payload["entry"][0]["changes"][0]["value"]
        value["contacts"] = [{"profile": {"name": "Usuario"}, "wa_id": "", "user_id": BSUID}]
        message = _message(payload)
        message["from"] = ""
        message["from_user_id"] = BSUID
        await deliver(h, payload)
        sent = await fake.wait_for("text", to=BSUID)
        assert sent[0]["recipient"] == BSUID and "to" not in sent[0] and "Taladro" in sent[0]["text"]["body"]
        body = await detail(h, BSUID, 2)
        assert body["messages"][0]["text"] == "hola, ¿tienen taladros?"


async def test_catalog_cart_becomes_an_order_the_customer_confirms(data_dir: Path, fake: FakeWhatsApp) -> None:
    chat = "5491166667777"
    async with whatsapp_daemon(data_dir, fake) as h:
        order = {"order": {"catalog_id": "1234567890", "text": "lo de siempre", "product_items": [
            {"product_retailer_id": "MART-16", "quantity": 2, "item_price": 1, "currency": "ARS"},
            {"product_retailer_id": "DEST-PH2", "quantity": "3", "item_price": 1, "currency": "ARS"},
            {"product_retailer_id": "NO-EXISTE", "quantity": 1, "item_price": 5, "currency": "ARS"},
        ]}}
        await deliver(h, wa._inbound(chat, "order", order))
        offer = (await fake.wait_for(lambda b: b.get("type") == "interactive", to=chat))[0]
        text = offer["interactive"]["body"]["text"]
        assert "2 × Martillo carpintero 16 oz" in text and "3 × Destornillador Phillips PH2" in text
        assert "$34.601,50" in text  # 2 x 12.500 + 3 x 3.200,50 from our catalog, never the cart's price
        assert "NO-EXISTE" in text
        assert (await h.product("MART-16"))["stock"] == 7  # nothing sold before the yes
        await deliver(h, wa.button_reply(chat, "confirm", "Sí"))
        await fake.wait_for("text", to=chat)
        sales = (await detail(h, chat, 4))["sales"]
        assert sorted((s["sku"], s["quantity"]) for s in sales) == [("DEST-PH2", 3), ("MART-16", 2)]
        assert (await h.product("MART-16"))["stock"] == 5 and (await h.product("DEST-PH2"))["stock"] == 37


async def test_contact_cards_are_all_kept_and_never_overwrite_the_senders_lead(data_dir: Path,
                                                                             fake: FakeWhatsApp) -> None:
    chat = "5491155550000"
    async with whatsapp_daemon(data_dir, fake) as h:
        await deliver(h, wa.text_message(chat, "soy Laura Gómez, mi mail es laura@ejemplo.com"))
        await fake.wait_for("text", to=chat)
        payload = wa.contacts_message(chat, "+54 9 11 4444-1111", "Pedro Ruiz")
        _message(payload)["contacts"].append(
            {"name": {"formatted_name": "Marta Díaz", "first_name": "Marta", "last_name": "Díaz"},
             "phones": [{"phone": "+57 300 555 0101", "wa_id": "573005550101", "type": "CELL"}]})
        await deliver(h, payload)
        reply = (await fake.wait_for("text", to=chat, count=2))[-1]["text"]["body"]
        assert "Pedro Ruiz" in reply and "Marta Díaz" in reply
        body = await detail(h, chat, 4)
        cards = body["messages"][2]["payload"]["contacts"]
        assert [c["first_name"] for c in cards] == ["Pedro", "Marta"]
        lead = body["lead"]
        assert lead is None or (lead.get("phone") in (None, "") or "4444" not in lead["phone"])
        if lead is not None:
            assert lead.get("name") != "Pedro Ruiz"


async def test_referral_kept_edits_and_deletions_are_events_not_turns(data_dir: Path, fake: FakeWhatsApp) -> None:
    chat = "5491177778888"
    async with whatsapp_daemon(data_dir, fake) as h:
        first = wa.text_message(chat, "quiero 2 martillos")
        _message(first)["referral"] = {
            "source_url": "https://fb.me/3cr4Wqqkv", "source_id": "120208432", "source_type": "ad",
            "headline": "Martillos en oferta", "body": "Llevá 2", "media_type": "image",
            "image_url": "https://example.test/ad.jpg", "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a"}
        wamid = _message(first)["id"]
        await deliver(h, first)
        await fake.wait_for("interactive", to=chat)
        edit = wa._inbound(chat, "edit", {"edit": {"original_message_id": wamid,
                                                   "message": {"type": "text", "text": {"body": "quiero 3 martillos"}}}})
        revoke = wa._inbound(chat, "revoke", {"revoke": {"original_message_id": wamid}})
        for payload in (edit, revoke, edit):  # a redelivered edit changes nothing more
            await deliver(h, payload)
        await asyncio.sleep(0.3)
        body = await detail(h, chat, 2)
        assert len(body["messages"]) == 2 and len(fake.messages(to=chat)) == 1
        inbound = body["messages"][0]
        assert inbound["text"] == "quiero 3 martillos"
        assert inbound["payload"]["edits"] == [{"text": "quiero 2 martillos", "replaced_at": inbound["payload"]["edits"][0]["replaced_at"]}]
        assert inbound["payload"]["revoked_at"] and inbound["payload"]["referral"]["source_id"] == "120208432"
        assert APP_SECRET


def test_group_messages_are_not_answered_privately() -> None:
    from channels.whatsapp.parse import parse

    payload = wa.text_message("5491100001111", "hola grupo")
    _message(payload)["group_id"] = "120363025246125486"
    assert parse(payload).messages == []


async def test_broken_character_in_a_webhook_is_stored_not_refused(data_dir: Path, fake: FakeWhatsApp) -> None:
    chat = "5491100002222"
    async with whatsapp_daemon(data_dir, fake) as h:
        body = wa.meta_json(wa.text_message(chat, "hola XX")).replace(b"XX", b"\\ud83d")  # half an emoji
        status, _ = await wa.post_webhook(str(h.client.make_url("/webhooks/whatsapp")), body, APP_SECRET)
        assert status == 200  # a 400 would make Meta redeliver it forever and the customer never answered
        await fake.wait_for("text", to=chat)
        assert (await detail(h, chat, 2))["messages"][0]["text"] == "hola \ufffd"
