"""The pure `parse` of Telegram updates and WhatsApp webhooks, on recorded JSON and real-shaped builders.

Payloads written by third parties, one table row each, are in test_parse_payload_kinds.py.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from telegram import Chat, Message, User

from channels.base import Button, Contact, Location, OutboundMessage
from channels.media import split_text, utf16_len
from channels.telegram.parse import BotIdentity, callback_ref
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


# -- Telegram groups -------------------------------------------------------------------------------

BOT = BotIdentity(id=tg.DEFAULT_BOT_ID, username="mostrador_bot")
GROUP = {"id": -1001293752024, "title": "Compras del barrio", "type": "supergroup"}  # shaped as teloxide's recorded one
ANA, BETO = 5001, 5002


def group_update(text: str | None, *, user: int = ANA, entities: list[dict[str, Any]] | None = None,
                 kind: str = "message", **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"message_id": 77, "date": 1763790000, "chat": GROUP,
                               "from": {"id": user, "is_bot": False, "first_name": f"Miembro{user}"}, **extra}
    if text is not None:
        message["text"] = text
    if entities:
        message["entities"] = entities
    return {"update_id": 1, kind: message}


def mention(text: str, handle: str = "@mostrador_bot") -> list[dict[str, Any]]:
    """A `mention` entity; offsets count UTF-16 code units, as Telegram sends them."""
    return [{"type": "mention", "offset": utf16_len(text[:text.index(handle)]), "length": utf16_len(handle)}]


def command(text: str) -> list[dict[str, Any]]:
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])}]


BOT_MESSAGE = {"message_id": 70, "date": 1763789000, "chat": GROUP, "text": "¿Confirmás?",
               "from": {"id": tg.DEFAULT_BOT_ID, "is_bot": True, "first_name": "Mostrador", "username": "mostrador_bot"}}
MEMBER_MESSAGE = {**BOT_MESSAGE, "message_id": 71, "from": {"id": BETO, "is_bot": False, "first_name": "Beto"}}
GROUP_CASES = [
    # (update, expected text or None when the bot is not addressed)
    (group_update("hola a todos"), None),
    (group_update("😀 @Mostrador_Bot,  quiero 2 martillos", entities=mention("😀 @Mostrador_Bot,  quiero 2 martillos",
                                                                            "@Mostrador_Bot")), "😀 quiero 2 martillos"),
    (group_update("¿precio del martillo @mostrador_bot?", entities=mention("¿precio del martillo @mostrador_bot?")),
     "¿precio del martillo?"),
    (group_update("@mostrador_bot", entities=mention("@mostrador_bot")), "@mostrador_bot"),  # nothing else to say
    (group_update("@otro_bot hola", entities=mention("@otro_bot hola", "@otro_bot")), None),
    (group_update("Mostrador, ¿abren hoy?", entities=[{"type": "text_mention", "offset": 0, "length": 9,
                                                       "user": {"id": tg.DEFAULT_BOT_ID, "is_bot": True,
                                                                "first_name": "Mostrador"}}]), "¿abren hoy?"),
    (group_update("Beto, ¿vas?", entities=[{"type": "text_mention", "offset": 0, "length": 4,
                                            "user": {"id": BETO, "is_bot": False, "first_name": "Beto"}}]), None),
    (group_update("sí", reply_to_message=BOT_MESSAGE), "sí"),
    (group_update("sí", reply_to_message=MEMBER_MESSAGE), None),
    (group_update("/start", entities=command("/start")), "/start"),
    (group_update("/precio@mostrador_bot martillo", entities=command("/precio@mostrador_bot martillo")),
     "/precio martillo"),
    (group_update("/start@otro_bot", entities=command("/start@otro_bot")), None),
    (group_update("hola /start", entities=[{"type": "bot_command", "offset": 5, "length": 6}]), None),
    (group_update(None, photo=[{"file_id": "AgAC1", "file_unique_id": "u1", "width": 90, "height": 90}],
                  caption="@mostrador_bot ¿lo tienen?",
                  caption_entities=mention("@mostrador_bot ¿lo tienen?")), "¿lo tienen?"),
    (group_update(None, photo=[{"file_id": "AgAC1", "file_unique_id": "u1", "width": 90, "height": 90}]), None),
]


@pytest.mark.parametrize(("update", "expected"), GROUP_CASES)
def test_group_messages_answered_only_when_addressed(update: dict[str, Any], expected: str | None) -> None:
    msg = tg_parse(update, bot=BOT)
    if expected is None:
        assert msg is None
        return
    assert msg is not None and msg.text == expected
    assert (msg.chat_id, msg.sender_id, msg.group, msg.message_id) == (
        str(GROUP["id"]), str(ANA), True, f"{GROUP['id']}:77")
    assert msg.conversation_key == f"{GROUP['id']}:{ANA}"
    assert tg_parse(update, bot=BOT, groups=False) is None


def test_groups_without_a_bot_identity_and_group_events() -> None:
    # Without getMe: only a bare command or a reply to a bot's message address the bot.
    assert tg_parse(group_update("/start", entities=command("/start"))) is not None
    assert tg_parse(group_update("/start@mostrador_bot", entities=command("/start@mostrador_bot"))) is None
    assert tg_parse(group_update("@mostrador_bot hola", entities=mention("@mostrador_bot hola"))) is None
    assert tg_parse(group_update("sí", reply_to_message=BOT_MESSAGE)) is not None
    assert tg_parse(group_update("sí", reply_to_message=MEMBER_MESSAGE)) is None

    # Edits in groups are events whatever they say (the runtime ignores edits of messages it never stored).
    edit = group_update("mejor 3", kind="edited_message", edit_date=1763790100)
    edited = tg_parse(edit, bot=BOT)
    assert edited is not None and (edited.kind, edited.edited_of, edited.sender_id, edited.group) == (
        "edited", f"{GROUP['id']}:77", str(ANA), True)
    assert edited.message_id == f"{GROUP['id']}:77:edit:1763790100"
    text = "@mostrador_bot mejor 3"
    assert tg_parse(group_update(text, entities=mention(text), kind="edited_message"), bot=BOT).text == "mejor 3"
    assert tg_parse(edit, bot=BOT, groups=False) is None

    # A button tapped in a group belongs to the member who tapped it.
    tap = {"update_id": 2, "callback_query": {"id": "cbq-1", "chat_instance": "-9", "data": "confirm",
                                              "from": {"id": BETO, "is_bot": False, "first_name": "Beto"},
                                              "message": BOT_MESSAGE}}
    button = tg_parse(tap, bot=BOT)
    assert button is not None and (button.chat_id, button.sender_id, button.group, button.kind) == (
        str(GROUP["id"]), str(BETO), True, "button")
    assert button.conversation_key == f"{GROUP['id']}:{BETO}" and button.reply_to == f"{GROUP['id']}:70"
    assert tg_parse(tap, bot=BOT, groups=False) is None

    # Service messages never, even when they reply to the bot; channels and other update kinds never.
    joined = group_update(None, new_chat_members=[{"id": 9, "is_bot": False, "first_name": "N"}],
                          reply_to_message=BOT_MESSAGE)
    assert tg_parse(joined, bot=BOT) is None
    channel = {"id": -1002236736395, "title": "Novedades", "type": "channel"}
    assert tg_parse({"update_id": 3, "channel_post": {"message_id": 1, "date": 1, "chat": channel, "text": "x"}}) is None
    assert tg_parse({"update_id": 4, "message": {"message_id": 1, "date": 1, "chat": channel, "text": "x"}}) is None


def test_business_chats_are_private_chats_with_the_customer() -> None:
    business = tg.text_update(CHAT, "hola", message_id=12)
    business["business_message"] = {**business.pop("message"), "business_connection_id": "bc-1"}
    msg = tg_parse(business, bot=BOT)
    assert msg is not None and (msg.chat_id, msg.sender_id, msg.text, msg.group) == (str(CHAT), str(CHAT), "hola", False)
    owner = json.loads(json.dumps(business))  # the business owner answering by hand in the same chat
    owner["business_message"]["from"] = {"id": 9000, "is_bot": False, "first_name": "Dueño"}
    assert tg_parse(owner, bot=BOT) is None
    by_bot = json.loads(json.dumps(owner))  # a bot writing on the owner's behalf
    by_bot["business_message"]["sender_business_bot"] = {"id": 77, "is_bot": True, "first_name": "Otro"}
    assert tg_parse(by_bot, bot=BOT) is None


def test_a_member_cannot_press_the_keyboard_of_anothers_answer() -> None:
    answer_to_ana = {**BOT_MESSAGE, "reply_to_message": {"message_id": 77, "date": 1, "chat": GROUP,
                                                         "from": {"id": ANA, "is_bot": False, "first_name": "Ana"}}}

    def tap(user: int) -> dict[str, Any]:
        return {"update_id": 6, "callback_query": {"id": f"cbq-{user}", "chat_instance": "-9", "data": "confirm",
                                                   "from": {"id": user, "is_bot": False, "first_name": "M"},
                                                   "message": answer_to_ana}}

    assert tg_parse(tap(BETO), bot=BOT) is None
    mine = tg_parse(tap(ANA), bot=BOT)
    assert mine is not None and mine.conversation_key == f"{GROUP['id']}:{ANA}" and mine.button_payload == "confirm"


def test_private_messages_carry_the_sender_and_false_flags_are_not_service() -> None:
    msg = tg_parse(tg.text_update(CHAT, "hola", message_id=9), bot=BOT)
    assert msg is not None and (msg.sender_id, msg.group, msg.conversation_key) == (str(CHAT), False, str(CHAT))
    # What python-telegram-bot's to_dict() writes for a plain text message: flags set to false.
    written = Message(9, datetime.datetime(2025, 11, 22, tzinfo=datetime.UTC), Chat(CHAT, "private"), from_user=User(CHAT, "Ana", False), text="hola").to_dict()
    assert written.get("group_chat_created") is False
    parsed = tg_parse({"update_id": 5, "message": written}, bot=BOT)
    assert parsed is not None and (parsed.kind, parsed.text) == ("text", "hola")
    # ... while a real service message may carry an empty object.
    started = tg.text_update(CHAT, "x")
    del started["message"]["text"]
    started["message"]["video_chat_started"] = {}
    assert tg_parse(started, bot=BOT) is None
    paid = tg.text_update(CHAT, "x")
    del paid["message"]["text"]
    paid["message"]["successful_payment"] = {"currency": "ARS", "total_amount": 890000, "invoice_payload": "o-1",
                                             "telegram_payment_charge_id": "t", "provider_payment_charge_id": "p"}
    assert tg_parse(paid, bot=BOT) is None  # was "unsupported" (answered) before
    reply = tg.text_update(CHAT, "ese", message_id=10)
    reply["message"]["reply_to_message"] = {"message_id": 4, "date": 1, "chat": {"id": CHAT, "type": "private"}}
    assert tg_parse(reply, bot=BOT).reply_to == f"{CHAT}:4"




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
