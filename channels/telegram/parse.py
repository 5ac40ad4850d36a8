"""Telegram Bot API updates (plain JSON dicts) -> `InboundMessage`: pure, no I/O.

Ids are unique per channel: `"<chat>:<message>"` for messages,
`"<chat>:<message>:edit:<edit_date>"` for edits and `"cb:<query id>"` for
button taps, so a redelivered update is recognized by the runtime.
Media keep the platform `file_id`; the channel downloads them afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from channels.base import Contact, InboundMessage, Location, Media

CHANNEL = "telegram"
# Content we understand, checked in this order (a venue also carries a location,
# an animation also carries a document).
_UNSUPPORTED = ("sticker", "poll", "animation", "dice", "game", "story", "invoice", "video_note",
                "paid_media", "checklist", "giveaway", "passport_data", "successful_payment")
# Service messages: nothing the customer said.
_SERVICE = ("new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo", "delete_chat_photo",
            "group_chat_created", "supergroup_chat_created", "channel_chat_created", "pinned_message",
            "migrate_to_chat_id", "migrate_from_chat_id", "message_auto_delete_timer_changed",
            "forum_topic_created", "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened",
            "video_chat_started", "video_chat_ended", "video_chat_scheduled", "web_app_data",
            "write_access_allowed", "users_shared", "chat_shared", "boost_added", "chat_background_set")


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
    """The normalized message of one update, or None for updates that carry none."""
    if not isinstance(update, dict):
        return None
    if isinstance(update.get("callback_query"), dict):
        return _callback(update["callback_query"])
    if isinstance(update.get("message"), dict):
        return _message(update["message"], edited=False)
    if isinstance(update.get("edited_message"), dict):
        return _message(update["edited_message"], edited=True)
    return None


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


def _message(msg: dict[str, Any], *, edited: bool) -> InboundMessage | None:
    chat = msg.get("chat")
    if not isinstance(chat, dict) or "id" not in chat or "message_id" not in msg:
        return None
    chat_id = str(chat["id"])
    base_id = f"{chat_id}:{msg['message_id']}"
    user = msg.get("from")
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "chat_id": chat_id,
        "message_id": base_id,
        "sender_name": _name(user) or _name(chat),
        "language_hint": user.get("language_code") if isinstance(user, dict) else None,
        "timestamp": float(msg["date"]) if isinstance(msg.get("date"), int | float) else None,
    }
    text = str(msg.get("text") or msg.get("caption") or "")
    content = _content(msg)
    if content is None:
        return None
    kind, extra = content
    if edited:
        edit_date = msg.get("edit_date") or msg.get("date") or 0
        return InboundMessage(**common | {"message_id": f"{base_id}:edit:{edit_date}"}, text=text, kind="edited",
                              edited_of=base_id, **extra)
    return InboundMessage(**common, text=text, kind=kind, **extra)


def _content(msg: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(kind, extra InboundMessage fields) of a message; None for service messages."""
    if "text" in msg:
        return "text", {}
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
    if any(key in msg for key in _SERVICE):
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
    return InboundMessage(
        channel=CHANNEL,
        chat_id=str(chat_id),
        message_id=f"cb:{query['id']}",
        text=_button_title(message, data) or data,
        kind="button",
        button_payload=data,
        sender_name=_name(user),
        language_hint=user.get("language_code"),
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
