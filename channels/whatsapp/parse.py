"""WhatsApp Cloud API webhook payloads (plain JSON) -> messages and statuses: pure, no I/O.

One webhook POST may carry several messages and delivery statuses, for
several customers. Each inbound message becomes an `InboundMessage` whose
`message_id` is the WhatsApp message id (wamid), so a redelivery is
recognized by the runtime; media keep the WhatsApp media id for the channel
to download.

- Business-scoped user ids: a user with a WhatsApp username may write with
  no phone number: empty `from` / `contacts[].wa_id`, and `from_user_id` /
  `contacts[].user_id` (a BSUID such as `US.13491208655302741918`, as BSPs
  such as Sinch and 8x8 describe Meta's 2026 rollout). The conversation is
  then keyed by that id (replies go to it with `recipient`, see the channel).
- Edits and deletions are events on an earlier message (`kind` "edited" /
  "revoked", `edited_of` its wamid), not turns. Meta's documented shape for
  them was not found in the material available here; the parser accepts
  `type` "edit" / "revoke" (or "deleted") naming the original with
  `original_message_id` in the type's object or with `context.id`.
- `order` (a cart from the catalog) keeps its lines; `contacts` keeps every
  card; `referral` (click-to-WhatsApp ads) is kept as sent; `context.id`
  becomes `reply_to`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from channels.base import Contact, InboundMessage, Location, Media, OrderItem

CHANNEL = "whatsapp"
STATUSES = ("sent", "delivered", "read", "failed")
_MEDIA_KINDS = ("image", "video", "document")
_IGNORED = ("system", "request_welcome")  # number changes, "start chat" pings: nothing said


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """A delivery report for a message we sent."""

    message_id: str
    status: str
    recipient_id: str | None = None
    error: str | None = None


@dataclass
class WebhookEvents:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusEvent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse(payload: dict[str, Any], phone_number_id: str | None = None) -> WebhookEvents:
    """Everything in one webhook body, in order; changes for other phone numbers are left out."""
    events = WebhookEvents()
    if not isinstance(payload, dict):
        return events
    for entry in _dicts(payload.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field", "messages") != "messages" or not isinstance(value, dict):
                continue
            metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
            if phone_number_id and metadata.get("phone_number_id") not in (None, phone_number_id):
                continue
            names = {}
            for c in _dicts(value.get("contacts")):
                for key in ("wa_id", "user_id"):
                    if c.get(key):
                        names[str(c[key])] = _profile_name(c)
            for message in _dicts(value.get("messages")):
                parsed = parse_message(message, names)
                if parsed is not None:
                    events.messages.append(parsed)
            for status in _dicts(value.get("statuses")):
                parsed_status = parse_status(status)
                if parsed_status is not None:
                    events.statuses.append(parsed_status)
            events.errors.extend(describe_error(e) for e in _dicts(value.get("errors")))
    return events


def parse_message(message: dict[str, Any], names: dict[str, str | None] | None = None) -> InboundMessage | None:
    wa_id = message.get("from") or message.get("from_user_id")
    wamid, msg_type = message.get("id"), message.get("type")
    if not wa_id or not wamid or msg_type in _IGNORED:
        return None
    context = message.get("context") if isinstance(message.get("context"), dict) else {}
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "chat_id": str(wa_id),
        "message_id": str(wamid),
        "sender_name": (names or {}).get(str(wa_id)),
        "timestamp": _float(message.get("timestamp")),
        "sender_id": str(message.get("from_user_id") or wa_id),
        "reply_to": str(context["id"]) if context.get("id") else None,
        "referral": message["referral"] if isinstance(message.get("referral"), dict) else None,
    }
    body = message.get(msg_type) if isinstance(message.get(msg_type), dict) else {}
    if msg_type in ("edit", "revoke", "deleted"):
        return _event(common, msg_type, body, context)
    if message.get("errors") or msg_type == "unsupported":
        raw = (body or {}).get("type") or msg_type or "unknown"
        return InboundMessage(**common, kind="unsupported", raw_type=str(raw))
    if msg_type == "text":
        return InboundMessage(**common, text=str(body.get("body") or ""), kind="text")
    if msg_type == "interactive":
        reply = body.get(body.get("type")) if body.get("type") in ("button_reply", "list_reply") else None
        if not isinstance(reply, dict):
            return InboundMessage(**common, kind="unsupported", raw_type=f"interactive:{body.get('type')}")
        return InboundMessage(**common, text=str(reply.get("title") or reply.get("id") or ""), kind="button",
                              button_payload=str(reply.get("id") or ""))
    if msg_type == "button":  # a quick-reply button of a template
        payload = str(body.get("payload") or body.get("text") or "")
        return InboundMessage(**common, text=str(body.get("text") or payload), kind="button", button_payload=payload)
    if msg_type in _MEDIA_KINDS:
        media = Media(kind=msg_type, file_id=str(body.get("id") or ""), mime_type=body.get("mime_type"),
                      file_name=body.get("filename"))
        return InboundMessage(**common, text=str(body.get("caption") or ""), kind=msg_type, media=(media,))
    if msg_type == "audio":
        kind = "voice" if body.get("voice") else "audio"
        media = Media(kind=kind, file_id=str(body.get("id") or ""), mime_type=body.get("mime_type"))
        return InboundMessage(**common, kind=kind, media=(media,))
    if msg_type == "location" and "latitude" in body and "longitude" in body:
        location = Location(float(body["latitude"]), float(body["longitude"]), name=body.get("name"),
                            address=body.get("address"))
        return InboundMessage(**common, kind="location", location=location)
    if msg_type == "contacts":
        cards = _dicts(message.get("contacts"))
        if cards:
            return InboundMessage(**common, kind="contact", contacts=tuple(_contact(c) for c in cards))
    if msg_type == "order":
        items = tuple(
            OrderItem(sku=str(i.get("product_retailer_id") or ""), quantity=_int(i.get("quantity")),
                      unit_price=str(i["item_price"]) if i.get("item_price") is not None else None,
                      currency=i.get("currency"))
            for i in _dicts(body.get("product_items")) if i.get("product_retailer_id")
        )
        return InboundMessage(**common, kind="order", text=str(body.get("text") or ""), order=items)
    if msg_type == "reaction":
        return InboundMessage(**common, kind="reaction", reaction=str(body.get("emoji") or ""),
                              reacts_to=str(body.get("message_id") or "") or None)
    return InboundMessage(**common, kind="unsupported", raw_type=str(msg_type or "unknown"))


def _event(common: dict[str, Any], msg_type: str, body: dict[str, Any], context: dict[str, Any]) -> InboundMessage | None:
    """An edit or a deletion of an earlier message (by its wamid)."""
    original = body.get("original_message_id") or body.get("message_id") or context.get("id")
    if not original:
        return None
    if msg_type != "edit":
        return InboundMessage(**common, kind="revoked", edited_of=str(original))
    inner = body.get("message") if isinstance(body.get("message"), dict) else body
    text = (inner.get("text") or {}).get("body") if isinstance(inner.get("text"), dict) else inner.get("body")
    return InboundMessage(**common, kind="edited", edited_of=str(original), text=str(text or ""))


def parse_status(status: dict[str, Any]) -> StatusEvent | None:
    if not status.get("id") or status.get("status") not in STATUSES:
        return None
    errors = _dicts(status.get("errors"))
    return StatusEvent(
        message_id=str(status["id"]),
        status=str(status["status"]),
        recipient_id=status.get("recipient_id"),
        error=describe_error(errors[0]) if errors else None,
    )


def describe_error(error: dict[str, Any]) -> str:
    """`"<code> <title>: <details>"` from a webhook or Graph API error object."""
    code = error.get("code")
    title = error.get("title") or error.get("message") or "error"
    data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
    details = data.get("details")
    text = f"{code} {title}" if code is not None else str(title)
    return f"{text}: {details}" if details and details != title else text


def _contact(card: dict[str, Any]) -> Contact:
    name = card.get("name") if isinstance(card.get("name"), dict) else {}
    phones = _dicts(card.get("phones"))
    emails = _dicts(card.get("emails"))
    first = name.get("first_name") or (name.get("formatted_name") if not name.get("last_name") else None)
    return Contact(
        phone=phones[0].get("phone") if phones else None,
        first_name=first,
        last_name=name.get("last_name"),
        email=emails[0].get("email") if emails else None,
        user_id=phones[0].get("wa_id") if phones else None,
    )


def _profile_name(contact: dict[str, Any]) -> str | None:
    profile = contact.get("profile")
    return profile.get("name") if isinstance(profile, dict) else None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _int(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
