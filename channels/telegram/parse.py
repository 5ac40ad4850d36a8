"""Telegram Bot API updates (plain JSON dicts) -> `InboundMessage`: pure, no I/O.

Ids: `"<chat>:<message>"` for messages, `"<chat>:<message>:edit:<edit_date>"`
for edits (an event on the original, not a turn) and `"cb:<query id>"` for
button taps, so a redelivered update is recognized by the runtime.
Media keep the platform `file_id`; the channel downloads them afterwards.

Groups and supergroups: a message is taken only when it is addressed to
the bot (a mention of its username or a `text_mention` of it, a reply to
one of its messages, a command with no bot name or ours); it then belongs
to the member's own conversation (`group=True`, `sender_id`). Service
messages (members joining, pins, payments, proximity alerts, …) are never
a turn; flags such as `group_chat_created` are tested by value, since
PTB's `to_dict()` writes them as `false` on ordinary messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from channels.base import Contact, InboundMessage, Location, Media

CHANNEL = "telegram"
GROUP_TYPES = ("group", "supergroup")
# Content we understand, checked in this order (a venue also carries a location,
# an animation also carries a document).
_UNSUPPORTED = ("sticker", "poll", "animation", "dice", "game", "story", "invoice", "video_note",
                "paid_media", "checklist", "giveaway")
# Service messages: nothing the customer said.
_SERVICE = ("new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo", "delete_chat_photo",
            "group_chat_created", "supergroup_chat_created", "channel_chat_created", "pinned_message",
            "migrate_to_chat_id", "migrate_from_chat_id", "message_auto_delete_timer_changed",
            "forum_topic_created", "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened",
            "video_chat_started", "video_chat_ended", "video_chat_scheduled", "video_chat_participants_invited",
            "web_app_data", "write_access_allowed", "users_shared", "chat_shared", "boost_added",
            "chat_background_set", "proximity_alert_triggered", "successful_payment", "refunded_payment",
            "passport_data", "connected_website", "general_forum_topic_hidden", "general_forum_topic_unhidden",
            "giveaway_created", "giveaway_completed", "giveaway_winners", "paid_message_price_changed",
            "direct_message_price_changed", "gift", "unique_gift", "checklist_tasks_done", "checklist_tasks_added",
            "suggested_post_approved", "suggested_post_declined", "suggested_post_paid", "suggested_post_refunded",
            "suggested_post_approval_failed", "chat_owner_left", "chat_owner_changed")


@dataclass(frozen=True, slots=True)
class CallbackRef:
    """What the channel needs to acknowledge a button tap and retire its keyboard."""

    query_id: str
    chat_id: str | None
    message_id: int | None


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """The bot itself (getMe), to tell when a group message is addressed to it."""

    id: int
    username: str


def parse(update: dict[str, Any], *, bot: BotIdentity | None = None, groups: bool = True) -> InboundMessage | None:
    """The normalized message of one update, or None for updates that carry none for us.

    `bot` is who we are (to tell when a group message is addressed to us);
    `groups=False` ignores group chats entirely.
    """
    if not isinstance(update, dict):
        return None
    if isinstance(update.get("callback_query"), dict):
        msg = _callback(update["callback_query"])
    elif isinstance(update.get("message"), dict):
        msg = _message(update["message"], edited=False, bot=bot)
    elif isinstance(update.get("business_message"), dict):  # a Telegram Business chat: a private chat
        msg = _message(update["business_message"], edited=False, bot=bot)
    elif isinstance(update.get("edited_message"), dict):
        msg = _message(update["edited_message"], edited=True, bot=bot)
    else:
        return None
    if msg is not None and msg.group and not groups:
        return None
    return msg


def callback_ref(update: dict[str, Any]) -> CallbackRef | None:
    query = update.get("callback_query") if isinstance(update, dict) else None
    if not isinstance(query, dict) or not query.get("id"):
        return None
    message = query.get("message") if isinstance(query.get("message"), dict) else {}
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    mid = message.get("message_id")
    return CallbackRef(str(query["id"]), str(chat["id"]) if "id" in chat else None,
                       mid if isinstance(mid, int) else None)


def _name(user: Any) -> str | None:
    if not isinstance(user, dict):
        return None
    name = " ".join(str(user[k]) for k in ("first_name", "last_name") if user.get(k))
    return name or user.get("username") or None


def _message(msg: dict[str, Any], *, edited: bool, bot: BotIdentity | None = None) -> InboundMessage | None:
    chat = msg.get("chat")
    if not isinstance(chat, dict) or "id" not in chat or "message_id" not in msg:
        return None
    if chat.get("type") == "channel":
        return None
    group = chat.get("type") in GROUP_TYPES
    chat_id = str(chat["id"])
    base_id = f"{chat_id}:{msg['message_id']}"
    user = msg.get("from") if isinstance(msg.get("from"), dict) else None
    sender = user or (msg.get("sender_chat") if isinstance(msg.get("sender_chat"), dict) else None)
    reply = msg.get("reply_to_message") if isinstance(msg.get("reply_to_message"), dict) else None
    text = str(msg.get("text") or msg.get("caption") or "")
    if group and not edited:
        if not _addressed(msg, text, reply, bot):
            return None
        text = _without_mention(text, bot)
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "chat_id": chat_id,
        "message_id": base_id,
        "sender_name": _name(user) or (None if group else _name(chat)),
        "language_hint": user.get("language_code") if user else None,
        "timestamp": float(msg["date"]) if isinstance(msg.get("date"), int | float) else None,
        "sender_id": str(sender["id"]) if sender and "id" in sender else None,
        "group": group,
        "reply_to": f"{chat_id}:{reply['message_id']}" if reply and "message_id" in reply else None,
    }
    content = _content(msg)
    if content is None:
        return None
    kind, extra = content
    if edited:
        edit_date = msg.get("edit_date") or msg.get("date") or 0
        return InboundMessage(**common | {"message_id": f"{base_id}:edit:{edit_date}"}, text=text, kind="edited",
                              edited_of=base_id, **extra)
    return InboundMessage(**common, text=text, kind=kind, **extra)


def _entities(msg: dict[str, Any]) -> list[dict[str, Any]]:
    found = msg.get("entities") if "text" in msg else msg.get("caption_entities")
    return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []


def _slice(text: str, entity: dict[str, Any]) -> str:
    """An entity's text: Telegram counts offsets and lengths in UTF-16 code units."""
    units = text.encode("utf-16-le")
    start, length = int(entity.get("offset", 0)) * 2, int(entity.get("length", 0)) * 2
    return units[start:start + length].decode("utf-16-le", errors="ignore")


def _addressed(msg: dict[str, Any], text: str, reply: dict[str, Any] | None, bot: BotIdentity | None) -> bool:
    """In a group: a mention of us, a reply to one of our messages, or a command meant for us."""
    if any(_service(msg, key) for key in _SERVICE):
        return False
    if bot is not None and reply is not None and isinstance(reply.get("from"), dict):
        if reply["from"].get("id") == bot.id:
            return True
    for entity in _entities(msg):
        kind = entity.get("type")
        if kind == "mention" and bot is not None and bot.username:
            if _slice(text, entity).lower() == f"@{bot.username.lower()}":
                return True
        if kind == "text_mention" and bot is not None and isinstance(entity.get("user"), dict):
            if entity["user"].get("id") == bot.id:
                return True
        if kind == "bot_command" and entity.get("offset") == 0:
            command = _slice(text, entity)
            target = command.partition("@")[2].lower()
            if not target or (bot is not None and target == bot.username.lower()):
                return True
    return False


def _without_mention(text: str, bot: BotIdentity | None) -> str:
    if bot is None or not bot.username:
        return text
    cleaned = re.sub(rf"@{re.escape(bot.username)}\b", " ", text, flags=re.IGNORECASE)
    return " ".join(cleaned.split()).strip(" ,:")


def _service(msg: dict[str, Any], key: str) -> bool:
    """A service flag or object is present (PTB writes absent flags as `false`: test the value)."""
    value = msg.get(key)
    return value is not None and value is not False and value != [] and value != {}


def _content(msg: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(kind, extra InboundMessage fields) of a message; None for service messages."""
    if "text" in msg:
        return "text", {}
    if any(_service(msg, key) for key in _SERVICE):
        return None
    photos = [p for p in msg.get("photo") or [] if isinstance(p, dict)] if isinstance(msg.get("photo"), list) else []
    if photos:
        best = max(photos, key=lambda p: (p.get("file_size") or 0, (p.get("width") or 0) * (p.get("height") or 0)))
        return "image", {"media": (_media("image", best, "image/jpeg"),)}
    for key in _UNSUPPORTED:
        if key in msg:
            return "unsupported", {"raw_type": key}
    for key, kind in (("voice", "voice"), ("audio", "audio"), ("video", "video"), ("document", "document")):
        if isinstance(msg.get(key), dict):
            return kind, {"media": (_media(kind, msg[key]),)}
    if isinstance(msg.get("contact"), dict):
        c = msg["contact"]
        contact = Contact(
            phone=c.get("phone_number"), first_name=c.get("first_name"), last_name=c.get("last_name"),
            user_id=str(c["user_id"]) if c.get("user_id") is not None else None,
        )
        return "contact", {"contacts": (contact,)}
    venue = msg.get("venue") if isinstance(msg.get("venue"), dict) else None
    loc = (venue or {}).get("location") or msg.get("location")
    if isinstance(loc, dict) and "latitude" in loc and "longitude" in loc:
        location = Location(float(loc["latitude"]), float(loc["longitude"]),
                            name=(venue or {}).get("title"), address=(venue or {}).get("address"))
        return "location", {"location": location}
    if any(_service(msg, key) for key in _SERVICE):
        return None
    if "caption" in msg:
        return "text", {}
    return "unsupported", {"raw_type": _guess_type(msg)}


def _media(kind: Any, obj: dict[str, Any], mime: str | None = None) -> Media:
    return Media(
        kind=kind,
        file_id=str(obj.get("file_id", "")),
        mime_type=obj.get("mime_type") or mime,
        file_name=obj.get("file_name"),
    )


_ENVELOPE = {"message_id", "message_thread_id", "from", "sender_chat", "chat", "date", "edit_date",
             "entities", "caption_entities", "reply_to_message", "forward_origin", "is_topic_message",
             "via_bot", "has_protected_content", "media_group_id", "author_signature", "reply_markup",
             "link_preview_options", "quote", "external_reply", "effect_id", "is_from_offline",
             "sender_boost_count", "business_connection_id", "sender_business_bot", "show_caption_above_media",
             "has_media_spoiler", "is_automatic_forward", "paid_star_count"}


def _guess_type(msg: dict[str, Any]) -> str:
    return next((k for k in msg if k not in _ENVELOPE), "unknown")


def _callback(query: dict[str, Any]) -> InboundMessage | None:
    if not query.get("id"):
        return None
    message = query.get("message") if isinstance(query.get("message"), dict) else {}
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    user = query.get("from") if isinstance(query.get("from"), dict) else {}
    chat_id = chat.get("id", user.get("id"))
    if chat_id is None:
        return None
    data = str(query.get("data") or "")
    group = chat.get("type") in GROUP_TYPES
    if group:
        # Our buttons in a group answer one member's message: another member's tap is not theirs to make.
        answered = message.get("reply_to_message") if isinstance(message.get("reply_to_message"), dict) else {}
        owner = answered.get("from") if isinstance(answered.get("from"), dict) else {}
        if owner.get("id") is not None and owner.get("id") != user.get("id"):
            return None
    return InboundMessage(
        channel=CHANNEL,
        chat_id=str(chat_id),
        message_id=f"cb:{query['id']}",
        text=_button_title(message, data) or data,
        kind="button",
        button_payload=data,
        sender_name=_name(user),
        language_hint=user.get("language_code"),
        sender_id=str(user["id"]) if "id" in user else None,
        group=group,
    )


def _button_title(message: dict[str, Any], data: str) -> str | None:
    """The label of the tapped button, found in the keyboard of the message it belongs to."""
    markup = message.get("reply_markup")
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    for row in rows if isinstance(rows, list) else []:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == data:
                return str(button.get("text") or "") or None
    return None
