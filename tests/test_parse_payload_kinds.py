"""The parsers on payloads written by others: every recorded update and webhook, and what becomes of it.

The payloads live in tests/fakes/payloads/ with a `_source` naming where each
came from: teloxide's deserialization tests (many recorded from real chats),
pywa's test data, Meta's WhatsApp Cloud API documentation, one recorded
webhook with a business-scoped user id. Each table row says whether the
payload becomes a message (and of which kind, for which conversation) or
nothing; a payload added to a collection without a row fails the test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from channels.base import OrderItem
from channels.telegram.parse import BotIdentity
from channels.telegram.parse import parse as tg_parse
from channels.whatsapp.parse import parse as wa_parse

PAYLOADS = Path(__file__).parent / "fakes" / "payloads"
BOT = BotIdentity(id=7000000001, username="mostrador_bot")  # in none of the recorded chats


def _collection(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))["payloads"]


TELEGRAM = _collection("telegram_teloxide.json")
WA_PYWA = _collection("whatsapp_pywa.json")
WA_META = _collection("whatsapp_meta_docs.json")

# name -> None (not a message: not stored, not answered) or (kind, chat_id, sender_id, group)
TELEGRAM_EXPECTED: dict[str, tuple[str, str, str | None, bool] | None] = {
    "update.rs::message": ("text", "218485655", "218485655", False),
    "update.rs::de_private_chat_text_message": ("text", "408258968", "408258968", False),
    "update.rs::issue_1107": None,  # a story forwarded to a supergroup, bot not addressed
    "update.rs::issue_1107#2": ("text", "-1001293752024", "5964236329", True),  # "/report": a command
    "update.rs::pinned_message_works": None,
    "update.rs::dice_works": None,  # a supergroup message that does not address the bot
    "update.rs::new_update_kind_error": None,
    "update.rs::issue_523": None,  # my_chat_member
    "update.rs::message_reaction_updated": None,
    "update.rs::message_reaction_updated#2": None,
    "update.rs::message_reaction_count_updated": None,
    "update.rs::chat_boost_updated": None,
    "update.rs::chat_boost_removed": None,
    "update.rs::paid_media_purchased_de": None,
    "message.rs::de_text": ("text", "250918540", "250918540", False),
    "message.rs::de_media_forwarded": ("video", "250918540", "250918540", False),
    "message.rs::de_media_group_forwarded": ("video", "250918540", "250918540", False),
    "message.rs::de_sticker": ("unsupported", "250918540", "250918540", False),
    "message.rs::de_image": ("image", "250918540", "250918540", False),
    "message.rs::de_shared_chat": None,  # chat_shared: a service message
    "message.rs::issue_419": None,  # an anonymous admin's text in a supergroup, not addressed
    "message.rs::issue_427": None,  # migrate_to_chat_id
    "message.rs::issue_427#2": None,  # migrate_from_chat_id
    "message.rs::issue_481": ("location", "0", None, False),  # a venue
    "message.rs::issue_475": None,  # "video_chat_started": {} (an empty object is still set)
    "message.rs::parse_caption_entities": ("image", "27433968", "27433968", False),
    "message.rs::topic_created": None,
    "message.rs::topic_message": None,  # a forum-topic message, not addressed
    "message.rs::empty_message": ("unsupported", "1234567890", None, False),
    "message.rs::issue_874": None,  # "forum_topic_closed": {}
    "message.rs::giveaway": None,  # channel chats: never answered
    "message.rs::giveaway_created": None,
    "message.rs::giveaway_completed": None,
    "message.rs::giveaway_winners": None,
    "message.rs::paid_message_price_changed": None,
    "message.rs::suggested_post_approved": None,
    "message.rs::suggested_post_approval_failed": None,
    "message.rs::suggested_post_declined": None,
    "message.rs::suggested_post_paid": None,
    "message.rs::suggested_post_refunded": None,
    "message.rs::gift_info": None,
    "message.rs::unique_gift_info": None,
    "message.rs::chat_boost_added": None,
    "message.rs::effect_id": ("text", "1459074222", "1459074222", False),
    "message.rs::show_caption_above_media": ("image", "1459074222", "1459074222", False),
}
# Recorded service messages of channel chats: still nothing when moved into a private chat.
SERVICE_IN_CHANNELS = ("giveaway_created", "giveaway_completed", "giveaway_winners", "paid_message_price_changed",
                       "suggested_post_approved", "suggested_post_approval_failed", "suggested_post_declined",
                       "suggested_post_paid", "suggested_post_refunded", "gift_info", "unique_gift_info",
                       "chat_boost_added")


def test_every_recorded_telegram_payload_has_an_expectation() -> None:
    assert set(TELEGRAM) == set(TELEGRAM_EXPECTED)
    assert len(TELEGRAM) >= 40


@pytest.mark.parametrize("name", sorted(TELEGRAM_EXPECTED))
def test_recorded_telegram_update(name: str) -> None:
    msg = tg_parse(TELEGRAM[name], bot=BOT)
    expected = TELEGRAM_EXPECTED[name]
    if expected is None:
        assert msg is None
        return
    assert msg is not None
    assert (msg.kind, msg.chat_id, msg.sender_id, msg.group) == expected
    assert msg.message_id == f"{msg.chat_id}:{_message(TELEGRAM[name])['message_id']}"


@pytest.mark.parametrize("name", SERVICE_IN_CHANNELS)
def test_recorded_service_messages_are_silent_in_private_chats_too(name: str) -> None:
    update = json.loads(json.dumps(TELEGRAM[f"message.rs::{name}"]))
    update["message"]["chat"] = {"id": 5550001111, "first_name": "Ana", "type": "private"}
    update["message"]["from"] = {"id": 5550001111, "is_bot": False, "first_name": "Ana"}
    assert tg_parse(update, bot=BOT) is None


def test_recorded_telegram_details() -> None:
    command = tg_parse(TELEGRAM["update.rs::issue_1107#2"], bot=BOT)
    assert command is not None and command.text == "/report"
    assert command.reply_to == "-1001293752024:134545" and command.conversation_key == "-1001293752024:5964236329"
    venue = tg_parse(TELEGRAM["message.rs::issue_481"], bot=BOT)
    assert venue is not None and venue.location is not None
    assert (venue.location.name, venue.location.address) == ("Title", "Address")
    photo = tg_parse(TELEGRAM["message.rs::parse_caption_entities"], bot=BOT)
    assert photo is not None and photo.text == "www.example.com"
    assert photo.media[0].file_id == TELEGRAM["message.rs::parse_caption_entities"]["message"]["photo"][-1]["file_id"]
    # In a forum topic every message points at the topic's opening message: that is neither a reply
    # (no reply_to) nor, when the bot opened the topic, a way of addressing it.
    topic = TELEGRAM["message.rs::topic_message"]
    assert tg_parse(topic, bot=BotIdentity(1253681278, "wafflelapkin")) is None  # the topic's author as "the bot"


# -- WhatsApp -------------------------------------------------------------------------------------

# name -> ([(kind, chat_id, sender_id)] of its messages, [(status, recipient_id)] of its statuses)
WA_EXPECTED: dict[str, tuple[list[tuple[str, str, str]], list[tuple[str, str]]]] = {
    **{f"message/{k}": ([(kind, "972987654321", "972987654321")], []) for k, kind in {
        "text": "text", "image": "image", "media_with_url": "image", "video": "video", "document": "document",
        "audio": "audio", "voice": "voice", "static_sticker": "unsupported", "animated_sticker": "unsupported",
        "reaction": "reaction", "unreaction_empty": "reaction", "unreaction_no_emoji": "reaction",
        "current_location": "location", "chosen_location": "location", "contacts": "contact", "order": "order",
        "unsupported": "unsupported", "unsupported_with_type": "unsupported", "reply": "text",
        "forwarded": "text", "forwarded_many_times": "text", "interactive_message_with_err": "unsupported",
        "referral": "text"}.items()},
    "callback_button/button": ([("button", "972987654321", "972987654321")], []),
    "callback_button/quick_reply": ([("button", "972987654321", "972987654321")], []),
    "callback_button/quick_reply_without_context": ([("button", "972987654321", "US.13491208655302741918")], []),
    "callback_selection/callback": ([("button", "972987654321", "972987654321")], []),
    "callback_selection/description": ([("button", "972987654321", "972987654321")], []),
    "flow_completion/completion": ([("text", "972987654321", "972987654321")], []),
    "flow_completion/without_flow_token": ([("text", "972987654321", "972987654321")], []),
    "deleted_message/revoke": ([("revoked", "<WHATSAPP_USER_PHONE_NUMBER>", "<WHATSAPP_USER_PHONE_NUMBER>")], []),
    "edited_message/image": ([("edited", "16505551234", "16505551234")], []),
    "system/phone_number_change": ([], []),
    "system/identity_change": ([], []),
    "message_status/sent": ([], [("sent", "972987654321")]),
    "message_status/delivered": ([], [("delivered", "972987654321")]),
    "message_status/read": ([], [("read", "972987654321")]),
    "message_status/played": ([], []),
    "message_status/failed": ([], [("failed", "972987654321")]),
    "message_status/with_tracker": ([], [("sent", "972987654321")]),
    "message_status/group": ([], [("read", "fowefinoewcnw")]),
    "outgoing_message/text": ([], []),  # smb_message_echoes: what the business itself sent
    "outgoing_message/delete": ([], []),
    "outgoing_message/edit": ([], []),
    "bsuid_text_no_phone": ([("text", "user.93737...", "user.93737...")], []),
    "bsuid_status_to_phone": ([], [("delivered", "16505551234")]),
    "bsuid_status_to_bsuid": ([], [("delivered", "user.9373795779eb6441c8adb2eaee5b848e7dd174ddd302d7db62142f4722d574b6")]),
    "order": ([("order", "16505551234", "16505551234")], []),
    "text_product_inquiry": ([("text", "16505551234", "16505551234")], []),
    "text_ctwa_referral": ([("text", "16505551234", "16505551234")], []),
    "contacts": ([("contact", "16505551234", "16505551234")], []),
    "unsupported": ([], []),  # `"unsupported": {"type": "edit"}`: an edit Cloud API could not describe
    "status_sent": ([], [("sent", "16505551234")]),
    "status_sent_minimal": ([], [("sent", "16505551234")]),
    "status_failed": ([], [("failed", "16505551234")]),
    "location": ([("location", "16505551234", "16505551234")], []),
    "audio": ([("voice", "16505551234", "16505551234")], []),
    "image": ([("image", "16505551234", "16505551234")], []),
    "button": ([("button", "16505551234", "16505551234")], []),
    "system": ([], []),
    "video": ([("video", "16505551234", "16505551234")], []),
    "sticker": ([("unsupported", "16505551234", "16505551234")], []),
    "document": ([("document", "16505551234", "16505551234")], []),
    "address_message_reply": ([("text", "16505551234", "16505551234")], []),
}
WHATSAPP = {**WA_PYWA, **WA_META}


def test_every_recorded_whatsapp_payload_has_an_expectation() -> None:
    assert not set(WA_PYWA) & set(WA_META)
    assert set(WHATSAPP) == set(WA_EXPECTED)
    assert len(WHATSAPP) >= 60


@pytest.mark.parametrize("name", sorted(WA_EXPECTED))
def test_recorded_whatsapp_webhook(name: str) -> None:
    events = wa_parse(WHATSAPP[name])
    messages, statuses = WA_EXPECTED[name]
    assert [(m.kind, m.chat_id, m.sender_id) for m in events.messages] == messages
    assert [(s.status, s.recipient_id) for s in events.statuses] == statuses
    sent = [m for v in _values(WHATSAPP[name]) for m in v.get("messages") or []]
    assert {m.message_id for m in events.messages} <= {m["id"] for m in sent}


def test_business_scoped_user_ids() -> None:
    (no_phone,) = wa_parse(WA_META["bsuid_text_no_phone"]).messages  # "from": "", "wa_id": ""
    assert (no_phone.chat_id, no_phone.sender_id, no_phone.sender_name) == ("user.93737...", "user.93737...",
                                                                            "Sheena Nelson")
    assert no_phone.text == "Does it come in another color?"
    recorded = json.loads((PAYLOADS / "whatsapp_bsuid_recorded.json").read_text(encoding="utf-8"))
    (both,) = wa_parse(recorded).messages
    assert (both.chat_id, both.sender_id, both.sender_name, both.text) == (
        "919800000001", "IN.1410000000000001", "Cliente Prueba", "Hey")
    # A message naming no sender (as in netflie/whatsapp-cloud-api's tests): the change's only contact wrote it.
    unnamed = json.loads(json.dumps(WA_META["bsuid_text_no_phone"]))
    del _values(unnamed)[0]["messages"][0]["from_user_id"]
    (from_contact,) = wa_parse(unnamed).messages
    assert (from_contact.chat_id, from_contact.sender_id) == ("user.93737...", "user.93737...")
    del _values(unnamed)[0]["contacts"]
    assert wa_parse(unnamed).messages == []  # no phone and no BSUID anywhere: nobody to answer


def test_edits_and_deletions_are_events_on_the_original() -> None:
    (revoked,) = wa_parse(WA_PYWA["deleted_message/revoke"]).messages
    assert (revoked.kind, revoked.edited_of, revoked.message_id, revoked.text) == (
        "revoked", "<ORIGINAL_WHATSAPP_MESSAGE_ID>", "<WHATSAPP_MESSAGE_ID>", "")
    (edited,) = wa_parse(WA_PYWA["edited_message/image"]).messages
    assert (edited.kind, edited.text, edited.raw_type) == ("edited", "Updated image caption", "image")
    assert edited.edited_of == "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="
    assert edited.message_id == "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=" and not edited.media
    # A text edit: the `edit` object of pywa's smb_message_echoes sample, delivered as a customer's message.
    echo = _values(WA_PYWA["outgoing_message/edit"])[0]["message_echoes"][0]
    text_edit = json.loads(json.dumps(WA_PYWA["edited_message/image"]))
    _values(text_edit)[0]["messages"][0]["edit"] = echo["edit"]
    (edited_text,) = wa_parse(text_edit).messages
    assert (edited_text.kind, edited_text.text, edited_text.edited_of) == ("edited", "Text was edited", "wamid.zzzzzz")


def test_orders_contacts_referrals_and_forms() -> None:
    (order,) = wa_parse(WA_PYWA["message/order"]).messages
    assert order.order == (OrderItem("HAMBURGER", 3, "30", "ILS"), OrderItem("FRENCH_FRIES", 2, "35", "ILS"),
                           OrderItem("SODA", 2, "10", "ILS"))
    assert order.text == "" and order.payload_json()["order"][0] == {
        "sku": "HAMBURGER", "quantity": 3, "unit_price": "30", "currency": "ILS"}
    (meta_order,) = wa_parse(WA_META["order"]).messages
    assert meta_order.text == "Love these!" and [i.sku for i in meta_order.order]
    assert all(isinstance(i.quantity, int) and i.unit_price for i in meta_order.order)

    (cards,) = wa_parse(WA_PYWA["message/contacts"]).messages
    assert [(c.full_name, c.phone) for c in cards.contacts] == [
        ("Chandler Bing", "+1 555-555-5555"), ("Monica", "+1 666-666-6666"), ("Rachel Green", "+1 777-777-7777")]
    assert cards.contact == cards.contacts[0] and len(cards.payload_json()["contacts"]) == 3

    for payload in (WA_PYWA["message/referral"], WA_META["text_ctwa_referral"]):
        (ad,) = wa_parse(payload).messages
        assert ad.referral == _values(payload)[0]["messages"][0]["referral"] and ad.payload_json()["referral"]

    (reply,) = wa_parse(WA_PYWA["message/reply"]).messages
    assert reply.reply_to == "wamid.xyzxyz==" and reply.text == "replied text"

    (flow,) = wa_parse(WA_PYWA["flow_completion/completion"]).messages
    assert (flow.raw_type, flow.reply_to) == ("nfm_reply:flow", "wamid.gvwegfretge==")
    assert flow.text.splitlines() == ["comment_text: Comment Text", "delivery_rating: 4", "purchase_rating: 2",
                                      "recommend_radio: 0", "cs_rating: 0"]  # no flow_token
    (address,) = wa_parse(WA_META["address_message_reply"]).messages
    assert address.raw_type == "nfm_reply:address_message" and "Goregaon" in address.text


def _message(update: dict[str, Any]) -> dict[str, Any]:
    return update.get("message") or update.get("edited_message") or {}


def _values(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [c["value"] for e in payload.get("entry", []) for c in e.get("changes", [])]
