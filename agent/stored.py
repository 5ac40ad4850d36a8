"""Stored messages as the runtime hands them on: to channels (outbound), to the public transcript,
and back into an `InboundMessage` for a turn taken up later (a backlog, a sweep)."""

from __future__ import annotations

from typing import Any

from agent.language import detect_language
from channels.base import Button, Contact, InboundMessage, Location, Media, OrderItem, OutboundMessage
from storage.models import Conversation, Message


def public_message(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": m.id,
        "direction": m.direction,
        "author": m.author,
        "kind": m.kind,
        "text": m.text,
        "created_at": m.created_at.isoformat() if m.created_at else None,
    }
    buttons = (m.payload or {}).get("buttons")
    if buttons:
        out["buttons"] = buttons
    return out


def outbound(message: Message, reply_to: str | None, *, author: str | None = None) -> OutboundMessage:
    """A stored reply as a channel sends it; `reply_to` is the platform id of the message it answers."""
    buttons = tuple(Button(b["title"], b["payload"]) for b in (message.payload or {}).get("buttons", []))
    metadata: dict[str, Any] = {"message_id": message.id}
    if reply_to:
        metadata["reply_to"] = reply_to
    if author == "human":
        metadata["author"] = "human"
    return OutboundMessage(text=message.text, buttons=buttons, metadata=metadata)


def turn_language(conv: Conversation, text: str, config: Any) -> str:
    """The conversation's language for a turn: detected from the text, within the configured languages."""
    current = conv.language or config.default_language
    lang = detect_language(text, default=current) if text.strip() else current
    return lang if lang in config.languages else config.default_language


def from_row(row: Message, conv: Conversation) -> InboundMessage:
    """The inbound message as it was stored (for a turn taken up later: a backlog, a sweep)."""
    payload = row.payload or {}
    media = tuple(Media(**{k: m.get(k) for k in Media.__slots__}) for m in payload.get("media") or [])
    contacts = tuple(Contact(**{k: c.get(k) for k in Contact.__slots__}) for c in payload.get("contacts") or [])
    order = tuple(OrderItem(**{k: i.get(k) for k in OrderItem.__slots__}) for i in payload.get("order") or [])
    location = Location(**payload["location"]) if payload.get("location") else None
    return InboundMessage(
        channel=row.channel, chat_id=conv.chat_id, message_id=row.channel_message_id or f"row-{row.id}",
        text=row.text or "", kind=row.kind or "text", sender_name=payload.get("sender_name"),
        button_payload=payload.get("button_payload"), location=location, contacts=contacts, media=media,
        order=order, reaction=payload.get("reaction"), reacts_to=payload.get("reacts_to"),
        raw_type=payload.get("raw_type"), referral=payload.get("referral"), sender_id=payload.get("sender_id"),
        reply_to=payload.get("reply_to"),
    )
