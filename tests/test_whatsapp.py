"""WhatsApp end to end: the real daemon against the fake Cloud API, webhooks signed like Meta's."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from config.business import WhatsAppConfig
from tests.conftest import SMALL_CATALOG, Harness, make_settings, running
from tests.fakes import wait_until
from tests.fakes import whatsapp_api as wa
from tests.fakes.whatsapp_api import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, FakeWhatsApp

WA_ID = "5491122334455"
VERIFY = "verify-me-please"


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhatsApp]:
    async with FakeWhatsApp() as server:
        yield server


@contextlib.asynccontextmanager
async def whatsapp_daemon(data_dir: Path, fake: FakeWhatsApp) -> AsyncIterator[Harness]:
    settings = make_settings(
        data_dir,
        whatsapp_access_token=ACCESS_TOKEN,
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token=VERIFY,
        whatsapp_api_base_url=fake.base_url,
    )
    async with running(settings) as harness:
        assert (await harness.import_csv(SMALL_CATALOG))["status"] == 200
        yield harness


def hook(h: Harness) -> str:
    return str(h.client.make_url("/webhooks/whatsapp"))


async def deliver(h: Harness, payload: dict[str, Any]) -> None:
    status, _ = await wa.post_webhook(hook(h), payload, APP_SECRET)
    assert status == 200


async def stored(h: Harness, wa_id: str, count: int, *, settled: bool = True) -> list[dict[str, Any]]:
    """The conversation's messages once there are `count` and (if `settled`) none is still queued."""
    deadline = time.monotonic() + 10
    while True:
        resp = await h.client.get(f"/admin/conversations/whatsapp/{wa_id}", headers=h.admin)
        if resp.status == 200:
            messages = (await resp.json())["messages"]
            if len(messages) >= count and not (settled and any(m["delivery_status"] == "queued" for m in messages)):
                return messages
        assert time.monotonic() < deadline, f"conversation {wa_id} never reached {count} messages"
        await asyncio.sleep(0.05)


async def nothing_stored(h: Harness, wa_id: str) -> bool:
    resp = await h.client.get(f"/admin/conversations/whatsapp/{wa_id}", headers=h.admin)
    return resp.status == 404


async def test_verification_signature_and_malformed_bodies(data_dir: Path, fake: FakeWhatsApp) -> None:
    async with whatsapp_daemon(data_dir, fake) as h:
        status, text = await wa.verify_webhook(hook(h), VERIFY, challenge="1158201444")
        assert (status, text) == (200, "1158201444")
        resp = await h.client.get("/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY,
                                                                "hub.challenge": "42"})
        assert resp.content_type == "text/plain"
        assert (await wa.verify_webhook(hook(h), "wrong-token"))[0] == 403

        payload = wa.text_message(WA_ID, "hola")
        assert (await wa.post_webhook(hook(h), payload))[0] == 403  # no signature
        assert (await wa.post_webhook(hook(h), payload, "another-secret"))[0] == 403
        assert (await wa.post_webhook(hook(h), payload, signature="sha256=" + "0" * 64))[0] == 403
        assert (await wa.post_webhook(hook(h), b"{not json", APP_SECRET))[0] == 400
        await asyncio.sleep(0.2)
        assert fake.sent == [] and fake.reads == [] and await nothing_stored(h, WA_ID)


async def test_redelivered_webhook_processed_once(data_dir: Path, fake: FakeWhatsApp) -> None:
    async with whatsapp_daemon(data_dir, fake) as h:
        first = wa.text_message(WA_ID, "hola", msg_id=wa.new_wamid(WA_ID))
        for _ in range(3):
            await deliver(h, first)
        second = wa.text_message(WA_ID, "tenés martillos?", msg_id=wa.new_wamid(WA_ID))
        await asyncio.gather(*(deliver(h, second) for _ in range(3)))
        messages = await stored(h, WA_ID, 4)
        await asyncio.sleep(0.3)  # room for a wrong second reply to show up
        messages = await stored(h, WA_ID, 4)
        inbound = [m for m in messages if m["direction"] == "in"]
        outbound = [m for m in messages if m["direction"] == "out"]
        assert [m["channel_message_id"] for m in inbound] == [
            first["entry"][0]["changes"][0]["value"]["messages"][0]["id"],
            second["entry"][0]["changes"][0]["value"]["messages"][0]["id"],
        ]
        assert len(fake.sent) == len(outbound) == 2
        assert [m["channel_message_id"] for m in outbound] == list(fake.wamids)


async def test_purchase_confirmed_with_interactive_button(data_dir: Path, fake: FakeWhatsApp) -> None:
    async with whatsapp_daemon(data_dir, fake) as h:
        await deliver(h, wa.text_message(WA_ID, "quiero 2 martillos"))
        (offer,) = await fake.wait_for("interactive", to=WA_ID)
        buttons = offer["interactive"]["action"]["buttons"]
        assert [b["reply"]["id"] for b in buttons] == ["confirm", "decline"]
        assert all(len(b["reply"]["title"]) <= 20 for b in buttons)
        assert "Martillo" in offer["interactive"]["body"]["text"]
        offer_wamid = next(w for w, body in fake.wamids.items() if body is offer)

        await deliver(h, wa.button_reply(WA_ID, "confirm", buttons[0]["reply"]["title"], context_id=offer_wamid))
        await fake.wait_for("text", to=WA_ID)
        assert (await h.product("MART-16"))["stock"] == 5
        messages = await stored(h, WA_ID, 4)
        assert len(fake.reads) == 2 and fake.reads == [m["channel_message_id"] for m in messages if m["direction"] == "in"]
        assert (await h.conversation(WA_ID, "whatsapp"))["sales"][0]["quantity"] == 2


async def test_image_downloaded_then_statuses_never_downgrade(data_dir: Path, fake: FakeWhatsApp) -> None:
    data = b"\x89PNG-not-really" * 1000
    fake.add_media("4455667788", data, "image/jpeg")
    async with whatsapp_daemon(data_dir, fake) as h:
        await deliver(h, wa.image_message(WA_ID, "4455667788", caption="¿tienen martillos?", data=data))
        (reply,) = await fake.wait_for("text", to=WA_ID)
        assert "Martillo" in reply["text"]["body"]
        inbound, out = await stored(h, WA_ID, 2)
        path = Path(inbound["payload"]["media"][0]["path"])
        assert path.is_relative_to(data_dir / "media" / "whatsapp")
        assert await asyncio.to_thread(path.read_bytes) == data

        await deliver(h, wa.audio_message("5491100000003", "3344", voice=True))  # not registered: no download
        fake.add_media("3345", b"OggS-voice-note", "audio/ogg")
        await deliver(h, wa.audio_message("5491100000003", "3345", voice=True))
        (polite,) = await fake.wait_for("text", to="5491100000003")
        assert "audio" in polite["text"]["body"]

        wamid = out["channel_message_id"]
        assert wamid in fake.wamids and out["delivery_status"] == "sent"
        for status, expected in (("sent", "sent"), ("delivered", "delivered"), ("read", "read"), ("delivered", "read"),
                                 ("failed", "read")):
            await deliver(h, wa.status_update(WA_ID, wamid, status))
            await asyncio.sleep(0.05)
            await wait_until_status(h, out["id"], expected)


async def wait_until_status(h: Harness, message_id: int, expected: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        messages = (await h.conversation(WA_ID, "whatsapp"))["messages"]
        message = next(m for m in messages if m["id"] == message_id)
        if message["delivery_status"] == expected:
            return message
        assert time.monotonic() < deadline, f"status stayed {message['delivery_status']}, wanted {expected}"
        await asyncio.sleep(0.05)


async def test_24_hour_window_template_or_recorded_failure(data_dir: Path, fake: FakeWhatsApp) -> None:
    async with whatsapp_daemon(data_dir, fake) as h:
        await deliver(h, wa.text_message(WA_ID, "hola"))
        await stored(h, WA_ID, 2)
        repos = h.daemon.services.repos
        conv = await repos.conversations.get("whatsapp", WA_ID)
        assert conv is not None
        await repos.conversations.update(conv.id, last_inbound_at=datetime.now(UTC) - timedelta(hours=25))
        sent_before = len(fake.sent)

        failed = await h.daemon.runtime.human_reply(conv, "¿Seguís interesada en el martillo?")
        assert failed.delivery_status == "failed" and "24-hour window (131047)" in (failed.error or "")
        assert len(fake.sent) == sent_before  # no free text outside the window

        config = h.daemon.config.current
        await h.daemon.config.replace(config.model_copy(update={"whatsapp": WhatsAppConfig(template_name="reengage")}))
        templated = await h.daemon.runtime.human_reply(conv, "¿Seguís interesada en el martillo?")
        assert templated.delivery_status == "sent" and templated.channel_message_id in fake.wamids
        (template,) = fake.messages("template", to=WA_ID)
        assert template["template"] == {"name": "reengage", "language": {"code": "es"}}

        # The API's own 131047 answer (the window closed on Meta's side) is handled the same way.
        await repos.conversations.update(conv.id, last_inbound_at=datetime.now(UTC))
        fake.set_outside_window(WA_ID)
        via_api = await h.daemon.runtime.human_reply(conv, "¿Te lo reservo?")
        assert via_api.delivery_status == "sent" and len(fake.messages("template", to=WA_ID)) == 2
        await h.daemon.config.replace(config)
        refused = await h.daemon.runtime.human_reply(conv, "¿Te lo reservo?")
        assert refused.delivery_status == "failed" and "131047" in (refused.error or "")

        # Accepted by the API, then reported failed by a status webhook: recorded with its error.
        fake.set_outside_window(WA_ID, async_failure=True)
        accepted = await h.daemon.runtime.human_reply(conv, "¿Te lo reservo?")
        assert accepted.delivery_status == "sent"
        (failure,) = fake.pending_statuses
        await deliver(h, failure)
        message = await wait_until_status(h, accepted.id, "failed")
        assert message["error"].startswith("131047 Re-engagement message")


async def test_rate_limit_retried_media_failure_redelivered_and_handoff(data_dir: Path, fake: FakeWhatsApp) -> None:
    async with whatsapp_daemon(data_dir, fake) as h:
        fake.fail_next("messages", status=429)
        await deliver(h, wa.text_message(WA_ID, "hola"))
        await fake.wait_for("text", to=WA_ID)
        assert [(kind, status) for kind, status, _ in fake.requests if kind == "messages"] == [("messages", 429),
                                                                                               ("messages", 200)]
        await stored(h, WA_ID, 2)

        # A failed media download does not hold the message back: stored (before the 200), answered,
        # naming what arrived in the customer's language, and the download retried in the background.
        h.daemon.channels.get("whatsapp").media_retry_delays_s = (0.2, 0.2)
        other = "5491100000002"
        data = b"%PDF-1.4 lista de precios"
        fake.add_media("990011", data, "application/pdf")
        fake.fail_next("media", status=404)
        payload = wa.document_message(other, "990011", "precios.pdf", data=data)
        await deliver(h, payload)
        inbound, reply = await stored(h, other, 2)
        assert inbound["kind"] == "document" and reply["delivery_status"] == "sent"
        assert "documento" in reply["text"] and "document" != reply["text"].split()[-1].strip(".")
        assert ("media", 404, "990011") in fake.requests

        deadline = time.monotonic() + 10
        while not (inbound := (await h.conversation(other, "whatsapp"))["messages"][0])["payload"]["media"][0].get("path"):
            assert time.monotonic() < deadline, "the background download never finished"
            await asyncio.sleep(0.05)
        assert await asyncio.to_thread(Path(inbound["payload"]["media"][0]["path"]).read_bytes) == data
        await deliver(h, payload)  # Meta's redelivery: the same message, not answered again
        await asyncio.sleep(0.2)
        assert len(fake.messages(to=other)) == 1

        conv = await h.daemon.services.repos.conversations.get("whatsapp", WA_ID)
        assert conv is not None
        await h.daemon.services.repos.conversations.update(conv.id, status="human")
        sent_before = len(fake.sent)
        await deliver(h, wa.text_message(WA_ID, "quiero 2 martillos"))
        messages = await stored(h, WA_ID, 3)
        await asyncio.sleep(0.3)
        assert len(fake.sent) == sent_before and messages[-1]["direction"] == "in"
