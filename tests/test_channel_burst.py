"""A burst of WhatsApp webhooks: 50 customers x 4 messages, all answered once and in order.

Conversations post concurrently; each customer's messages are posted one
after another (as Meta does per customer). The elapsed time, from the first
POST to the last reply recorded as sent, goes to tests/artifacts/channel_burst.json.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from pathlib import Path

import aiohttp
from sqlalchemy import select

from storage.models import Message
from tests.conftest import SMALL_CATALOG, make_settings, running
from tests.fakes import wait_until
from tests.fakes import whatsapp_api as wa
from tests.fakes.whatsapp_api import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, FakeWhatsApp

ARTIFACT = Path(__file__).parent / "artifacts" / "channel_burst.json"
CONVERSATIONS, PER_CONVERSATION = 50, 4
TEXTS = ("hola", "tenés martillos?", "y destornilladores?", "gracias")


async def test_burst_of_webhooks_answered_once_in_order(data_dir: Path) -> None:
    async with FakeWhatsApp() as fake:
        settings = make_settings(
            data_dir, whatsapp_access_token=ACCESS_TOKEN, whatsapp_phone_number_id=PHONE_NUMBER_ID,
            whatsapp_app_secret=APP_SECRET, whatsapp_api_base_url=fake.base_url,
        )
        async with running(settings) as h:
            assert (await h.import_csv(SMALL_CATALOG))["status"] == 200
            url = str(h.client.make_url("/webhooks/whatsapp"))
            customers = [f"54911{i:08d}" for i in range(CONVERSATIONS)]
            posted: dict[str, list[str]] = {c: [] for c in customers}

            async def customer(wa_id: str, session: aiohttp.ClientSession) -> None:
                for text in TEXTS[:PER_CONVERSATION]:
                    payload = wa.text_message(wa_id, text)
                    posted[wa_id].append(payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"])
                    body = wa.meta_json(payload)
                    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": wa.sign(body, APP_SECRET)}
                    async with session.post(url, data=body, headers=headers) as resp:
                        assert resp.status == 200

            repos = h.daemon.services.repos

            async def settled() -> list[Message]:
                async with repos.db.session() as s:
                    return list((await s.execute(select(Message).where(Message.channel == "whatsapp")
                                                 .order_by(Message.id))).scalars())

            started = time.perf_counter()
            async with aiohttp.ClientSession() as session:
                await asyncio.gather(*(customer(c, session) for c in customers))
            total = CONVERSATIONS * PER_CONVERSATION
            await wait_until(lambda: len({b["to"] for b in fake.sent}) == CONVERSATIONS and len(fake.sent) >= total,
                             timeout=40, what="a reply to every message")
            deadline = time.monotonic() + 20
            while True:
                messages = await settled()
                inbound = [m for m in messages if m.direction == "in"]
                outbound = [m for m in messages if m.direction == "out"]
                if (len(inbound) == total and all(m.turn_status == "done" for m in inbound)
                        and len(outbound) == len(fake.sent) and all(m.delivery_status == "sent" for m in outbound)):
                    break
                assert time.monotonic() < deadline, "the burst never settled"
                await asyncio.sleep(0.1)
            elapsed = time.perf_counter() - started

    by_conversation: dict[int, list[Message]] = defaultdict(list)
    for m in messages:
        by_conversation[m.conversation_id].append(m)
    assert len(by_conversation) == CONVERSATIONS
    sent_order: dict[str, list[str]] = defaultdict(list)
    for wamid, body in fake.wamids.items():
        sent_order[body["to"]].append(wamid)
    for rows in by_conversation.values():
        ins = [r for r in rows if r.direction == "in"]
        outs = [r for r in rows if r.direction == "out"]
        customer_id = next(c for c, ids in posted.items() if ids[0] == ins[0].channel_message_id)
        assert [r.channel_message_id for r in ins] == posted[customer_id], "stored out of order"
        assert [r.text for r in ins] == list(TEXTS[:PER_CONVERSATION])
        # Every message answered, each reply after its own message and before the next one's.
        assert {r.reply_to_id for r in outs} == {r.id for r in ins}
        order = [r.id for r in ins]
        assert [order.index(r.reply_to_id) for r in outs] == sorted(order.index(r.reply_to_id) for r in outs)
        assert all(r.id > r.reply_to_id for r in outs)
        # The platform received them in that same order.
        assert [r.channel_message_id for r in outs] == sent_order[customer_id]

    result = {
        "webhooks": total,
        "conversations": CONVERSATIONS,
        "replies": len(fake.sent),
        "elapsed_s": round(elapsed, 3),
        "messages_per_s": round(total / elapsed, 1),
    }
    print(f"\nchannel burst: {json.dumps(result)}")
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(ARTIFACT.write_text, json.dumps(result, indent=2) + "\n", "utf-8")
