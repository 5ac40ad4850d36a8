"""WhatsApp Cloud API webhook payloads (plain JSON) -> messages and statuses: pure, no I/O.

One webhook POST may carry several messages and delivery statuses, for
several customers. Each inbound message becomes an `InboundMessage` whose
`message_id` is the WhatsApp message id (wamid), so a redelivery is
recognized by the runtime; media keep the WhatsApp media id for the channel
to download.

Who wrote. A user who adopted a WhatsApp username may reach the business
with no phone number: `messages[].from` and `contacts[].wa_id` are then
empty strings, and the business-scoped user id (BSUID, e.g.
`US.13491208655302741918`: country code, a period, alphanumerics) is in
`messages[].from_user_id` and `contacts[].user_id` (present for every user
once rolled out). Sources: Meta, "Business-scoped user IDs", section
"Incoming messages webhooks" (developers.facebook.com/documentation/
business-messaging/whatsapp/business-scoped-user-ids; copy of the Nov 2025
page in github.com/kapso-meta-docs/documentation, file
documentation/whatsapp/business-scoped-user-ids.mdx, with an example whose
`from` is ""); a recorded webhook carrying both `from` and `from_user_id`
(tests/fakes/payloads/whatsapp_bsuid_recorded.json); pywa's test data
(github.com/david-lev/pywa, tests/data/updates/*.json: `contacts[].user_id`,
`parent_user_id`). The conversation (`chat_id`) is the phone number when
there is one, else the BSUID; `sender_id` is the BSUID, else the phone. A
message naming no sender at all takes it from the change's only `contacts[]`
entry (a payload of netflie/whatsapp-cloud-api's tests). Replies to a BSUID
go in the send request's `recipient` field instead of `to` (Meta's page as
updated in March 2026, as relayed by BSPs such as Kapso and Dualhook, and
pywa's `resolve_recipient`); the channel does that.

Events on earlier messages (kinds "edited"/"revoked", `edited_of` = the
original wamid), from Meta's "Edit messages webhook reference" and "Revoke
messages webhook reference" (developers.facebook.com/documentation/
business-messaging/whatsapp/webhooks/reference/messages/edit and .../revoke;
both say they are sent only for WhatsApp Business app "Coexistence" numbers,
and a June 2026 note says edits are temporarily delivered as `unsupported`)
and pywa's tests/data/updates/edited_message.json and deleted_message.json:
  {"type": "revoke", "revoke": {"original_message_id": "<wamid>"}}
  {"type": "edit", "edit": {"original_message_id": "<wamid>",
                            "message": {"type": "image", "image": {"caption": ...}}}}

Other decisions: an `order` (a cart from the catalog) keeps one `OrderItem`
per `product_items[]` (Meta's "Order messages webhook reference"; a line
without a `product_retailer_id` or with a quantity below 1 is dropped, and a
cart left with no line is "unsupported"); all cards
of a `contacts` message are kept; `referral` (click-to-WhatsApp ad) is kept
as sent; `context.id` is `reply_to`. A Flow or address form submission
(`interactive` `nfm_reply`) is a "text" turn: its text is what the customer
filled in (the `body` WhatsApp shows for an address message, else the
`response_json` fields as "name: value" lines, without `flow_token`), with
`raw_type` "nfm_reply:<name>". `system` and `request_welcome` are not turns,
nor is an `unsupported` message whose `unsupported.type` is "edit" or "revoke" (how
edits arrive while Meta's edit webhook is suspended: nothing said, and no
original id to apply it to); other `unsupported` messages and messages with
`errors` are kind "unsupported".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from channels.base import Contact, InboundMessage, Location, Media, OrderItem

CHANNEL = "whatsapp"
STATUSES = ("sent", "delivered", "read", "failed")
_MEDIA_KINDS = ("image", "video", "document")
_IGNORED = ("system", "request_welcome")  # number or BSUID changes, "start chat" pings: nothing said
# An edit or deletion Cloud API could not describe (Meta's "Unsupported messages webhook reference" shows
# `"unsupported": {"type": "edit"}`): not something the customer said, and no original id to apply it to.
_UNSUPPORTED_EVENTS = ("edit", "revoke")


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """A delivery report for a message we sent."""

    message_id: str
    status: str
    recipient_id: str | None = None  # the phone number, or the BSUID when the message went to one
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
            names = _names(value.get("contacts"))
            contacts = _dicts(value.get("contacts"))
            only = contacts[0] if len(contacts) == 1 else {}
            for message in _dicts(value.get("messages")):
                parsed = parse_message(message, names, contact=only)
                if parsed is not None:
                    events.messages.append(parsed)
            for status in _dicts(value.get("statuses")):
                parsed_status = parse_status(status)
                if parsed_status is not None:
                    events.statuses.append(parsed_status)
            events.errors.extend(describe_error(e) for e in _dicts(value.get("errors")))
    return events


def parse_message(message: dict[str, Any], names: dict[str, str | None] | None = None, *,
                  contact: dict[str, Any] | None = None) -> InboundMessage | None:
    """One `messages[]` object; `names` maps a phone number or BSUID to the sender's profile name.

    `contact` is the change's only `contacts[]` entry, the sender: used when the message itself names
    no sender (netflie/whatsapp-cloud-api's tests have such a payload, with only `contacts[0].user_id`).
    """
    if message.get("group_id"):
        # A WhatsApp group (Cloud API groups): not supported yet; answering the member privately would
        # leak the group's talk into a 1:1 chat, so it is not a turn.
        return None
    phone, user_id = _text(message.get("from")), _text(message.get("from_user_id"))
    if not (phone or user_id) and contact:
        phone, user_id = _text(contact.get("wa_id")), _text(contact.get("user_id"))
    wamid, msg_type = _text(message.get("id")), message.get("type")
    if not (phone or user_id) or not wamid or msg_type in _IGNORED:
        return None
    names = names or {}
    context = message.get("context") if isinstance(message.get("context"), dict) else {}
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "chat_id": phone or user_id,
        "message_id": wamid,
        "sender_id": user_id or phone,
        "sender_name": names.get(phone) or names.get(user_id),
        "reply_to": _text(context.get("id")) or None,
        "referral": message["referral"] if isinstance(message.get("referral"), dict) else None,
        "timestamp": _float(message.get("timestamp")),
    }
    if message.get("errors") or msg_type == "unsupported":
        body = message.get("unsupported") if isinstance(message.get("unsupported"), dict) else {}
        if body.get("type") in _UNSUPPORTED_EVENTS:
            return None
        return InboundMessage(**common, kind="unsupported", raw_type=str(body.get("type") or msg_type or "unknown"))
    if msg_type in ("edit", "revoke"):
        return _event(message, msg_type, common)
    return InboundMessage(**common, **_content(message, msg_type))


def _content(message: dict[str, Any], msg_type: Any) -> dict[str, Any]:
    """The kind and content fields of a message of type `msg_type` (also the new version inside an edit)."""
    body = message.get(msg_type) if isinstance(message.get(msg_type), dict) else {}
    if msg_type == "text":
        return {"text": str(body.get("body") or ""), "kind": "text"}
    if msg_type == "interactive":
        return _interactive(body)
    if msg_type == "button":  # a quick-reply button of a template
        payload = str(body.get("payload") or body.get("text") or "")
        return {"text": str(body.get("text") or payload), "kind": "button", "button_payload": payload}
    if msg_type in _MEDIA_KINDS:
        media = Media(kind=msg_type, file_id=str(body.get("id") or ""), mime_type=body.get("mime_type"),
                      file_name=body.get("filename"))
        return {"text": str(body.get("caption") or ""), "kind": msg_type, "media": (media,)}
    if msg_type == "audio":
        kind = "voice" if body.get("voice") else "audio"
        return {"kind": kind, "media": (Media(kind=kind, file_id=str(body.get("id") or ""),
                                              mime_type=body.get("mime_type")),)}
    if msg_type == "location" and "latitude" in body and "longitude" in body:
        location = Location(float(body["latitude"]), float(body["longitude"]), name=body.get("name"),
                            address=body.get("address"))
        return {"kind": "location", "location": location}
    if msg_type == "contacts" and _dicts(message.get("contacts")):
        return {"kind": "contact", "contacts": tuple(_contact(c) for c in _dicts(message.get("contacts")))}
    if msg_type == "reaction":
        return {"kind": "reaction", "reaction": str(body.get("emoji") or ""),
                "reacts_to": str(body.get("message_id") or "") or None}
    if msg_type == "order":
        items = tuple(i for i in (_order_item(p) for p in _dicts(body.get("product_items"))) if i is not None)
        if items:
            return {"text": str(body.get("text") or ""), "kind": "order", "order": items}
    return {"kind": "unsupported", "raw_type": str(msg_type or "unknown")}


def _event(message: dict[str, Any], msg_type: str, common: dict[str, Any]) -> InboundMessage | None:
    """An edit or a deletion of an earlier message: an event on it, not a customer turn."""
    body = message.get(msg_type) if isinstance(message.get(msg_type), dict) else {}
    original = _text(body.get("original_message_id"))
    if not original:
        return InboundMessage(**common, kind="unsupported", raw_type=msg_type)
    if msg_type == "revoke":
        return InboundMessage(**common, kind="revoked", edited_of=original)
    new = body.get("message") if isinstance(body.get("message"), dict) else {}
    text = _content(new, new.get("type")).get("text", "")  # the new text or caption; the media stay as they were
    return InboundMessage(**common, kind="edited", edited_of=original, text=text,
                          raw_type=str(new.get("type") or "") or None)


def _interactive(body: dict[str, Any]) -> dict[str, Any]:
    kind = body.get("type")
    reply = body.get(kind) if isinstance(kind, str) and isinstance(body.get(kind), dict) else None
    if kind in ("button_reply", "list_reply") and reply is not None:
        return {"text": str(reply.get("title") or reply.get("id") or ""), "kind": "button",
                "button_payload": str(reply.get("id") or "")}
    if kind == "nfm_reply" and reply is not None:
        text = _form_text(reply)
        if text:
            return {"text": text, "kind": "text", "raw_type": f"nfm_reply:{reply.get('name') or 'flow'}"}
    return {"kind": "unsupported", "raw_type": f"interactive:{kind}"}


def _form_text(reply: dict[str, Any]) -> str:
    """What the customer filled in a Flow or an address form, as readable lines."""
    body = str(reply.get("body") or "").strip()
    if reply.get("name") == "address_message" and body:
        return body
    try:
        answers = json.loads(reply.get("response_json") or "")
    except (TypeError, ValueError):
        answers = None
    if not isinstance(answers, dict):
        return body
    lines = [f"{k}: {v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}"
             for k, v in answers.items() if k != "flow_token" and v not in (None, "")]
    return "\n".join(lines) or body


def _order_item(item: dict[str, Any]) -> OrderItem | None:
    sku, quantity = _text(item.get("product_retailer_id")), item.get("quantity")
    if isinstance(quantity, str) and quantity.strip().isdigit():
        quantity = int(quantity)
    if isinstance(quantity, float) and quantity.is_integer():
        quantity = int(quantity)
    if not sku or isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        return None
    price = item.get("item_price")
    return OrderItem(sku=sku, quantity=quantity, unit_price=None if price is None else str(price),
                     currency=_text(item.get("currency")) or None)


def parse_status(status: dict[str, Any]) -> StatusEvent | None:
    if not status.get("id") or status.get("status") not in STATUSES:
        return None
    errors = _dicts(status.get("errors"))
    return StatusEvent(
        message_id=str(status["id"]),
        status=str(status["status"]),
        recipient_id=_text(status.get("recipient_id")) or _text(status.get("recipient_user_id")) or None,
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


def _names(contacts: Any) -> dict[str, str | None]:
    """Profile names of the senders in `value.contacts`, by phone number and by BSUID."""
    names: dict[str, str | None] = {}
    for contact in _dicts(contacts):
        profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
        name = profile.get("name") or profile.get("username") or None
        for key in ("wa_id", "user_id"):
            if _text(contact.get(key)):
                names[_text(contact.get(key))] = name
    return names


def _text(value: Any) -> str:
    return str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
