"""The pure `parse` of Telegram updates and WhatsApp webhooks, on recorded JSON and real-shaped builders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from channels.base import Button, Contact, Location, OutboundMessage
from channels.media import split_text, utf16_len
from channels.telegram.parse import callback_ref
from channels.telegram.parse import parse as tg_parse
from channels.whatsapp.channel import _reply_buttons
from channels.whatsapp.parse import parse as wa_parse
from tests.fakes import telegram_api as tg
from tests.fakes import whatsapp_api as wa

PAYLOADS = Path(__file__).parent / "fakes" / "payloads"
CHAT = 5550001111
WA_ID = "5491122334455"


def _payload(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


# -- Telegram ----------------------------------------------------------------------------------


def test_telegram_recorded_text() -> None:
    msg = tg_parse(_payload("telegram_text_update.json"))
    assert msg is not None
    assert (msg.channel, msg.chat_id, msg.message_id, msg.kind) == ("telegram", "5550001111", "5550001111:42", "text")
    assert msg.text == "Hola, ¿tienen martillos?"
    assert msg.sender_name == "Ana" and msg.language_hint == "es" and msg.timestamp == 1763790000


def test_telegram_recorded_callback_query() -> None:
    update = _payload("telegram_callback_query.json")
    msg = tg_parse(update)
    assert msg is not None
    assert (msg.kind, msg.message_id, msg.button_payload, msg.text) == (
        "button", "cb:4382000000000000043", "confirm:yes", "Sí")
    assert msg.chat_id == "5550001111"
    ref = callback_ref(update)
    assert ref is not None and (ref.query_id, ref.chat_id, ref.message_id) == ("4382000000000000043", "5550001111", 10001)


def test_telegram_media_and_structured_content() -> None:
    photo = tg_parse(tg.photo_update(CHAT, "AgACphoto1", caption="¿Tienen este?", message_id=7))
    assert photo is not None and photo.kind == "image" and photo.text == "¿Tienen este?"
    assert photo.media[0].file_id == "AgACphoto1" and photo.media[0].kind == "image"  # the largest size

    doc = tg_parse(tg.document_update(CHAT, "BQACdoc", "lista.pdf", "application/pdf", caption="precios"))
    assert doc is not None and doc.kind == "document" and doc.text == "precios"
    assert (doc.media[0].file_name, doc.media[0].mime_type) == ("lista.pdf", "application/pdf")

    voice = tg_parse(tg.voice_update(CHAT, "AwACvoice"))
    assert voice is not None and voice.kind == "voice" and voice.text == "" and voice.media[0].mime_type == "audio/ogg"
    audio = tg_parse(tg.audio_update(CHAT, "CQACaudio"))
    assert audio is not None and audio.kind == "audio" and audio.media[0].file_name == "audio.mp3"

    contact = tg_parse(tg.contact_update(CHAT, "+5491122334455", "Ana", "Pérez"))
    assert contact is not None and contact.kind == "contact"
    assert contact.contact == Contact(phone="+5491122334455", first_name="Ana", last_name="Pérez", user_id=str(CHAT))

    location = tg_parse(tg.location_update(CHAT, -34.6, -58.38))
    assert location is not None and location.kind == "location" and location.location == Location(-34.6, -58.38)


def test_telegram_edits_and_unsupported() -> None:
    edited = tg_parse(tg.edited_text_update(CHAT, 55, "mejor 3 martillos"))
    assert edited is not None and edited.kind == "edited" and edited.text == "mejor 3 martillos"
    assert edited.edited_of == f"{CHAT}:55" and edited.message_id.startswith(f"{CHAT}:55:edit:")

    sticker = tg_parse(tg.sticker_update(CHAT))
    assert sticker is not None and (sticker.kind, sticker.raw_type) == ("unsupported", "sticker")
    poll = tg_parse(tg.poll_update(CHAT))
    assert poll is not None and (poll.kind, poll.raw_type) == ("unsupported", "poll")

    service = tg.text_update(CHAT, "x")
    del service["message"]["text"]
    service["message"]["pinned_message"] = {"message_id": 1}
    assert tg_parse(service) is None
    assert tg_parse({"update_id": 1, "my_chat_member": {}}) is None
    assert tg_parse({"update_id": 1, "message": {"chat": "not-a-dict"}}) is None


# -- WhatsApp ----------------------------------------------------------------------------------


def test_whatsapp_recorded_payloads() -> None:
    text = wa_parse(_payload("whatsapp_text.json")).messages
    assert len(text) == 1 and text[0].kind == "text" and text[0].chat_id == WA_ID and text[0].message_id.startswith("wamid.")

    image = wa_parse(_payload("whatsapp_image.json")).messages[0]
    assert (image.kind, image.text, image.sender_name) == ("image", "Este modelo", "Ana")
    assert (image.media[0].file_id, image.media[0].mime_type) == ("1603251480458322", "image/jpeg")

    button = wa_parse(_payload("whatsapp_button_reply.json")).messages[0]
    assert (button.kind, button.button_payload, button.text) == ("button", "confirm:yes", "Sí, confirmo")

    status = wa_parse(_payload("whatsapp_status_delivered.json"))
    assert not status.messages and [s.status for s in status.statuses] == ["delivered"]


def test_whatsapp_builders() -> None:
    (voice,) = wa_parse(wa.audio_message(WA_ID, "111", voice=True)).messages
    assert voice.kind == "voice" and voice.media[0].kind == "voice"
    (audio,) = wa_parse(wa.audio_message(WA_ID, "112", voice=False)).messages
    assert audio.kind == "audio"
    (doc,) = wa_parse(wa.document_message(WA_ID, "113", "factura.pdf", caption="mirá")).messages
    assert (doc.kind, doc.text, doc.media[0].file_name) == ("document", "mirá", "factura.pdf")
    (row,) = wa_parse(wa.list_reply(WA_ID, "sku:MART-16", "Martillo")).messages
    assert (row.kind, row.button_payload, row.text) == ("button", "sku:MART-16", "Martillo")
    (loc,) = wa_parse(wa.location_message(WA_ID, -34.6, -58.4, name="Local", address="Av. 1")).messages
    assert loc.location == Location(-34.6, -58.4, name="Local", address="Av. 1")
    (card,) = wa_parse(wa.contacts_message(WA_ID, "+54 9 11 5555-0000", "Juan Pérez")).messages
    assert card.kind == "contact" and card.contact is not None
    assert (card.contact.phone, card.contact.first_name, card.contact.last_name) == ("+54 9 11 5555-0000", "Juan", "Pérez")
    target = wa.new_wamid()
    (reaction,) = wa_parse(wa.reaction_message(WA_ID, target, "👍")).messages
    assert (reaction.kind, reaction.reaction, reaction.reacts_to) == ("reaction", "👍", target)
    assert {k: reaction.payload_json()[k] for k in ("reaction", "reacts_to")} == {"reaction": "👍", "reacts_to": target}
    (removed,) = wa_parse(wa.reaction_message(WA_ID, target, "")).messages
    assert (removed.kind, removed.reaction, removed.reacts_to) == ("reaction", "", target)
    (sticker,) = wa_parse(wa.sticker_message(WA_ID)).messages
    assert (sticker.kind, sticker.raw_type) == ("unsupported", "sticker")
    (poll,) = wa_parse(wa.unsupported_message(WA_ID)).messages
    assert (poll.kind, poll.raw_type) == ("unsupported", "poll_creation")


def test_whatsapp_batch_statuses_and_other_numbers() -> None:
    wamid = wa.new_wamid(WA_ID)
    body = wa.batch(
        wa.text_message(WA_ID, "hola"),
        wa.status_update(WA_ID, wamid, "read"),
        wa.status_update(WA_ID, wamid, "failed", errors=[131047]),
    )
    events = wa_parse(body, phone_number_id=wa.PHONE_NUMBER_ID)
    assert [m.text for m in events.messages] == ["hola"]
    assert [(s.status, s.message_id) for s in events.statuses] == [("read", wamid), ("failed", wamid)]
    assert events.statuses[1].error is not None and events.statuses[1].error.startswith("131047 Re-engagement message")
    assert wa_parse(body, phone_number_id="999").messages == []


# -- shared helpers ----------------------------------------------------------------------------


def test_split_text_prefers_paragraphs_lines_then_words() -> None:
    para = "a" * 3000
    text = f"{para}\n\n{'b' * 3000}"
    assert split_text(text, 4096) == [para, "b" * 3000]
    words = " ".join(["palabra"] * 1200)  # 9,599 characters, no newlines
    parts = split_text(words, 4096)
    assert all(len(p) <= 4096 for p in parts) and " ".join(parts) == words
    assert split_text("x" * 5000, 4096) == ["x" * 4096, "x" * 904]
    emoji = "😀" * 3000  # 6,000 UTF-16 code units
    assert all(utf16_len(p) <= 4096 for p in split_text(emoji, 4096, utf16_len))


def test_whatsapp_reply_buttons_limits() -> None:
    ok = _reply_buttons((Button("Sí", "confirm"), Button("No", "decline")))
    assert ok == [{"type": "reply", "reply": {"id": "confirm", "title": "Sí"}},
                  {"type": "reply", "reply": {"id": "decline", "title": "No"}}]
    long = _reply_buttons((Button("Confirmar el pedido completo ahora", "confirm"),))
    assert long is not None and len(long[0]["reply"]["title"]) <= 20
    assert _reply_buttons(tuple(Button(str(i), str(i)) for i in range(4))) is None
    assert OutboundMessage("x").buttons == ()
