"""Telegram Bot API updates (plain JSON dicts) -> `InboundMessage`: pure, no I/O.

Ids are unique per channel: `"<chat>:<message>"` for messages,
`"<chat>:<message>:edit:<edit_date>"` for edits and `"cb:<query id>"` for
button taps, so a redelivered update is recognized by the runtime.
Media keep the platform `file_id`; the channel downloads them afterwards.

What becomes a message (everything else is None: not stored, not answered):
- `message` in private chats, groups and supergroups. In a group the bot
  answers only when addressed: a `mention` of `@<bot username>`, a
  `text_mention` of the bot, a reply to one of its messages, or a command
  (`bot_command` at offset 0; `/cmd@otherbot` is for another bot). The
  mention is removed from the text. Each member has their own conversation
  (`group`, `sender_id`: see `InboundMessage.conversation_key`). Without a
  `BotIdentity` only a bare command (no `@bot` suffix) or a reply to a
  message written by a bot counts; the channel always passes one (getMe).
- `edited_message`: kind "edited" on the original id. In groups the
  addressing rule does not apply (the runtime ignores edits of messages it
  never stored).
- `callback_query`: a button tap; in a group the member who tapped is the
  sender, and a tap on the keyboard of the bot's answer to another member
  is ignored (it is not theirs to press).
- `business_message`: a chat of a Telegram Business account connected to
  the bot, handled as a private chat (the lead's decision; the channel
  subscribes to it). Only the customer's messages count: in that private
  chat the customer's id is the chat id, so a message from anyone else is
  the business owner writing by hand, or a bot writing for them
  (`sender_business_bot`), and is not a turn. Caveats for the channel: a
  reply sent without the connection's `business_connection_id` comes from
  the bot, not the business account, and the chat id and message numbers
  are those of the bot's own private chat with the same user (the Bot API
  says the business chat is independent of it).

Never a message: channel posts, service messages (members joining, pins,
payments, proximity alerts, topics, video chats, giveaways, gifts, ...: the
Bot API's "Service message" fields of Message, checked against
python-telegram-bot 22.8 / Bot API 10.0), and the other update kinds (inline
queries, polls, reactions, member changes, boosts, guest messages, ...).

Flags are tested by value, not presence: python-telegram-bot's `to_dict()`
writes `"group_chat_created": false` into every message, while a real
service message may carry an empty object (`"video_chat_started": {}`).
Entity offsets and lengths count UTF-16 code units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from channels.base import Contact, InboundMessage, Location, Media

CHANNEL = "telegram"
GROUP_TYPES = ("group", "supergroup")
# Content we understand, checked in this order (a venue also carries a location,
# an animation also carries a document, a live photo also carries a photo).
_UNSUPPORTED = ("sticker", "poll", "animation", "dice", "game", "story", "invoice", "video_note",
                "paid_media", "checklist", "giveaway")
# Service messages (Bot API `Message` fields described as "Service message", checked
# against python-telegram-bot 22.8 / Bot API 10.0): nothing the customer said.
_SERVICE = (
    "new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo", "delete_chat_photo",
    "group_chat_created", "supergroup_chat_created", "channel_chat_created", "message_auto_delete_timer_changed",
    "migrate_to_chat_id", "migrate_from_chat_id", "pinned_message", "successful_payment", "refunded_payment",
    "users_shared", "chat_shared", "gift", "unique_gift", "gift_upgrade_sent", "connected_website",
    "write_access_allowed", "passport_data", "proximity_alert_triggered", "boost_added", "chat_background_set",
    "checklist_tasks_done", "checklist_tasks_added", "direct_message_price_changed", "forum_topic_created",
    "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened", "general_forum_topic_hidden",
    "general_forum_topic_unhidden", "giveaway_created", "giveaway_completed", "giveaway_winners",
    "paid_message_price_changed", "suggested_post_approved", "suggested_post_approval_failed",
    "suggested_post_declined", "suggested_post_paid", "suggested_post_refunded", "video_chat_scheduled",
    "video_chat_started", "video_chat_ended", "video_chat_participants_invited", "web_app_data",
    "chat_owner_left", "chat_owner_changed", "poll_option_added", "poll_option_deleted", "managed_bot_created",
)
_SPACES = re.compile(r"[ \t\u00a0]+")
_CUT = "\x00"  # where a mention of the bot was removed
_CUT_RULES = (  # (pattern, replacement) around a removed mention, in this order
    (re.compile(r"[ \t]*\x00[,:;][ \t]*"), " "),  # "@bot, hola" -> "hola"
    (re.compile(r"[ \t]*\x00[ \t]*(?=[?!.]|$)", re.MULTILINE), ""),  # "¿abren @bot?" -> "¿abren?"
    (re.compile(r"[ \t]*\x00[ \t]*"), " "),
)


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
    """The normalized message of one update, or None for updates that carry none.

    `groups=False` drops everything from group chats, button taps included.
    """
    if not isinstance(update, dict):
        return None
    if isinstance(update.get("callback_query"), dict):
        return _callback(update["callback_query"], groups=groups)
    for key, edited in (("message", False), ("edited_message", True)):
        if isinstance(update.get(key), dict):
            return _message(update[key], edited=edited, bot=bot, groups=groups)
    business = update.get("business_message")
    if isinstance(business, dict) and _from_the_customer(business):
        return _message(business, edited=False, bot=bot, groups=groups)
    return None


def _from_the_customer(msg: dict[str, Any]) -> bool:
    """In a business account's private chat: written by the customer, not the owner or a bot for them."""
    chat, user = msg.get("chat"), msg.get("from")
    if not isinstance(chat, dict) or not isinstance(user, dict) or _is_set(msg.get("sender_business_bot")):
        return False
    return chat.get("type") == "private" and user.get("id") is not None and user.get("id") == chat.get("id")


def callback_ref(update: dict[str, Any]) -> CallbackRef | None:
    query = update.get("callback_query") if isinstance(update, dict) else None
    if not isinstance(query, dict) or not query.get("id"):
        return None
    message = query.get("message") if isinstance(query.get("message"), dict) else {}
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    mid = message.get("message_id")
    return CallbackRef(str(query["id"]), str(chat["id"]) if "id" in chat else None,
                       mid if isinstance(mid, int) else None)


def _is_set(value: Any) -> bool:
    """A field that says something: not missing, not `false` (PTB's to_dict), not empty."""
    return value is not None and value is not False and value != [] and value != ""


def _name(user: Any) -> str | None:
    if not isinstance(user, dict):
        return None
    name = " ".join(str(user[k]) for k in ("first_name", "last_name") if user.get(k))
    return name or user.get("username") or user.get("title") or None


def _sender_id(msg: dict[str, Any]) -> str | None:
    for key in ("from", "sender_chat"):
        who = msg.get(key)
        if isinstance(who, dict) and who.get("id") is not None:
            return str(who["id"])
    return None


def _message(msg: dict[str, Any], *, edited: bool, bot: BotIdentity | None, groups: bool) -> InboundMessage | None:
    chat = msg.get("chat")
    if not isinstance(chat, dict) or "id" not in chat or "message_id" not in msg:
        return None
    group = chat.get("type") in GROUP_TYPES
    if chat.get("type") == "channel" or (group and not groups):
        return None
    if any(_is_set(msg.get(key)) for key in _SERVICE):
        return None
    text = str(msg.get("text") or msg.get("caption") or "")
    if group:
        addressed, text = _addressing(msg, text, bot)
        if not addressed and not edited:
            return None
    kind, extra = _content(msg)
    chat_id = str(chat["id"])
    base_id = f"{chat_id}:{msg['message_id']}"
    user = msg.get("from")
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "chat_id": chat_id,
        "message_id": base_id,
        "text": text,
        "sender_name": _name(user) or _name(msg.get("sender_chat")) or (None if group else _name(chat)),
        "sender_id": _sender_id(msg),
        "group": group,
        "reply_to": _reply_to(chat_id, msg),
        "language_hint": user.get("language_code") if isinstance(user, dict) else None,
        "timestamp": float(msg["date"]) if isinstance(msg.get("date"), int | float) else None,
    }
    if edited:
        edit_date = msg.get("edit_date") or msg.get("date") or 0
        return InboundMessage(**common | {"message_id": f"{base_id}:edit:{edit_date}"}, kind="edited",
                              edited_of=base_id, **extra)
    return InboundMessage(**common, kind=kind, **extra)


def _reply_to(chat_id: str, msg: dict[str, Any]) -> str | None:
    """The message this one answers; not the topic's opening message every forum-topic message points to."""
    replied = msg.get("reply_to_message")
    if not isinstance(replied, dict) or replied.get("message_id") is None or _is_set(replied.get("forum_topic_created")):
        return None
    return f"{chat_id}:{replied['message_id']}"


def _content(msg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(kind, extra InboundMessage fields) of a message."""
    if _is_set(msg.get("text")):
        return "text", {}
    photos = [p for p in msg.get("photo") or [] if isinstance(p, dict)] if isinstance(msg.get("photo"), list) else []
    if photos:
        best = max(photos, key=lambda p: (p.get("file_size") or 0, (p.get("width") or 0) * (p.get("height") or 0)))
        return "image", {"media": (_media("image", best, "image/jpeg"),)}
    for key in _UNSUPPORTED:
        if _is_set(msg.get(key)):
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
    if _is_set(msg.get("caption")):
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
             "has_media_spoiler", "is_automatic_forward", "paid_star_count", "sender_tag", "is_paid_post",
             "direct_messages_topic", "suggested_post_info", "reply_to_story", "reply_to_checklist_task_id",
             "reply_to_poll_option_id", "guest_bot_caller_user", "guest_bot_caller_chat", "guest_query_id",
             "text", "caption"}


def _guess_type(msg: dict[str, Any]) -> str:
    return next((k for k, v in msg.items() if k not in _ENVELOPE and _is_set(v)), "unknown")


# -- groups: is the bot addressed? -----------------------------------------------------------------


def _addressing(msg: dict[str, Any], text: str, bot: BotIdentity | None) -> tuple[bool, str]:
    """(addressed to the bot, the text without the bot's mention) of a group message."""
    entities = msg.get("entities" if "text" in msg else "caption_entities")
    units = text.encode("utf-16-le", "surrogatepass")
    cuts: list[tuple[int, int]] = []  # UTF-16 spans to remove
    addressed = _replies_to_bot(msg, bot)
    for entity in entities if isinstance(entities, list) else []:
        if not isinstance(entity, dict):
            continue
        start, length = entity.get("offset"), entity.get("length")
        if not isinstance(start, int) or not isinstance(length, int) or start < 0 or length <= 0:
            continue
        piece = units[2 * start:2 * (start + length)].decode("utf-16-le", "surrogatepass")
        kind = entity.get("type")
        mention = kind == "mention" and bot is not None and piece.lower() == f"@{bot.username}".lower()
        if mention or (kind == "text_mention" and bot and (entity.get("user") or {}).get("id") == bot.id):
            addressed = True
            cuts.append((start, length))
        elif kind == "bot_command" and start == 0:
            command, _, target = piece.partition("@")
            if not target or (bot and target.lower() == bot.username.lower()):
                addressed = True
                if target:  # "/start@mostrador_bot" -> "/start"
                    cuts.append((len(command.encode("utf-16-le", "surrogatepass")) // 2, len(target) + 1))
    if not cuts:
        return addressed, text
    for start, length in sorted(cuts, reverse=True):
        units = units[:2 * start] + _CUT.encode("utf-16-le") + units[2 * (start + length):]
    return addressed, _tidy(units.decode("utf-16-le", "surrogatepass")) or text


def _replies_to_bot(msg: dict[str, Any], bot: BotIdentity | None) -> bool:
    """A reply to the bot's message (not the forum topic's opening message, which every topic message points to)."""
    replied = msg.get("reply_to_message")
    if not isinstance(replied, dict) or _is_set(replied.get("forum_topic_created")):
        return False
    author = replied.get("from")
    if not isinstance(author, dict):
        return False
    return author.get("id") == bot.id if bot else author.get("is_bot") is True


def _tidy(text: str) -> str:
    """The text around removed mentions: "@bot, hola" -> "hola", spaces collapsed."""
    for pattern, replacement in _CUT_RULES:
        text = pattern.sub(replacement, text)
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n")).strip()


# -- button taps ----------------------------------------------------------------------------------


def _callback(query: dict[str, Any], *, groups: bool) -> InboundMessage | None:
    if not query.get("id"):
        return None
    message = query.get("message") if isinstance(query.get("message"), dict) else {}
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    user = query.get("from") if isinstance(query.get("from"), dict) else {}
    chat_id = chat.get("id", user.get("id"))
    group = chat.get("type") in GROUP_TYPES
    if chat_id is None or (group and not groups) or (group and not _tapped_by_owner(message, user)):
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
        sender_id=str(user["id"]) if user.get("id") is not None else None,
        group=group,
        reply_to=f"{chat_id}:{message['message_id']}" if message.get("message_id") is not None else None,
        language_hint=user.get("language_code"),
    )


def _tapped_by_owner(message: dict[str, Any], user: dict[str, Any]) -> bool:
    """In a group the bot's keyboard answers one member's message: only that member may press it."""
    answered = message.get("reply_to_message")
    owner = answered.get("from") if isinstance(answered, dict) else None
    return not isinstance(owner, dict) or owner.get("id") is None or owner.get("id") == user.get("id")


def _button_title(message: dict[str, Any], data: str) -> str | None:
    """The label of the tapped button, found in the keyboard of the message it belongs to."""
    markup = message.get("reply_markup")
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    for row in rows if isinstance(rows, list) else []:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == data:
                return str(button.get("text") or "") or None
    return None
