"""The channel contract: normalized message types and the adapter protocol.

One frozen `InboundMessage` is the only thing that reaches the agent, from
any channel. Structured content (location, contact, media) keeps its
structure in typed fields instead of being squeezed into text. Adapters
turn platform payloads into `InboundMessage` with a pure `parse()` and send
`OutboundMessage`s; richer sends (buttons) fall back to text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

MessageKind = Literal[
    "text",
    "image",
    "audio",
    "voice",
    "video",
    "document",
    "location",
    "contact",
    "button",
    "reaction",
    "order",
    "edited",  # an event on an earlier message (`edited_of`): its new text, not a customer turn
    "revoked",  # an event on an earlier message (`edited_of`): the customer deleted it, not a turn
    "unsupported",
]
# Kinds that change a stored message instead of starting a turn.
EVENT_KINDS = frozenset({"edited", "revoked"})
# Separates a group chat from the member in a conversation key ("<chat>:<member>").
MEMBER_SEPARATOR = ":"


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    user_id: str | None = None

    @property
    def full_name(self) -> str | None:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or None


@dataclass(frozen=True, slots=True)
class Media:
    """A media attachment; `path` is set once it is downloaded under the data dir."""

    kind: Literal["image", "audio", "voice", "video", "document", "sticker"]
    file_id: str
    mime_type: str | None = None
    file_name: str | None = None
    path: str | None = None
    transcript: str | None = None


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One line of a cart sent from the platform's catalog (a WhatsApp `order`)."""

    sku: str
    quantity: int
    unit_price: str | None = None  # as the platform quoted it; informational, never trusted
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Button:
    """A quick-reply button: `payload` comes back as `InboundMessage.button_payload`."""

    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class InboundMessage:
    channel: str
    chat_id: str
    message_id: str
    text: str = ""
    kind: MessageKind = "text"
    sender_name: str | None = None
    language_hint: str | None = None
    button_payload: str | None = None
    location: Location | None = None
    contacts: tuple[Contact, ...] = ()  # every card of a shared-contacts message
    media: tuple[Media, ...] = ()
    order: tuple[OrderItem, ...] = ()
    referral: dict[str, Any] | None = None  # click-to-chat ad data, kept as sent
    sender_id: str | None = None  # the platform id of the person who wrote (a group member, a WhatsApp user)
    group: bool = False  # written in a group chat: the conversation is the member's own (`conversation_key`)
    reply_to: str | None = None  # the platform id of the message this one replies to
    reaction: str | None = None  # the emoji; "" when the customer removed their reaction
    reacts_to: str | None = None  # the platform id of the message reacted to
    edited_of: str | None = None
    raw_type: str | None = None
    timestamp: float | None = None

    @property
    def conversation_key(self) -> str:
        """The conversation this message belongs to: the chat, or in a group the member within it.

        Each member of a group has their own conversation (their own order,
        their own meeting); replies still go to the group chat.
        """
        if self.group and self.sender_id:
            return f"{self.chat_id}{MEMBER_SEPARATOR}{self.sender_id}"
        return self.chat_id

    @property
    def contact(self) -> Contact | None:
        return self.contacts[0] if self.contacts else None

    def payload_json(self) -> dict[str, Any] | None:
        """Structured parts for storage (None when the message is plain text)."""
        out: dict[str, Any] = {}
        if self.location:
            out["location"] = {k: getattr(self.location, k) for k in Location.__slots__}
        if self.contacts:
            out["contacts"] = [{k: getattr(c, k) for k in Contact.__slots__} for c in self.contacts]
        if self.media:
            out["media"] = [{k: getattr(m, k) for k in Media.__slots__} for m in self.media]
        if self.order:
            out["order"] = [{k: getattr(i, k) for k in OrderItem.__slots__} for i in self.order]
        for key in ("button_payload", "reaction", "reacts_to", "edited_of", "raw_type", "sender_name", "referral",
                    "sender_id", "reply_to"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out or None


def member_of(conversation_key: str) -> tuple[str, str | None]:
    """(platform chat, member) of a conversation key made by `InboundMessage.conversation_key`.

    Only channels with group chats (Telegram) call this; there a chat id never contains the separator.
    """
    chat, sep, member = conversation_key.partition(MEMBER_SEPARATOR)
    return (chat, member) if sep else (conversation_key, None)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    text: str
    buttons: tuple[Button, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a channel reports after a send: the platform id, or why it failed."""

    ok: bool
    channel_message_id: str | None = None
    status: str = "sent"
    error: str | None = None


@runtime_checkable
class Channel(Protocol):
    """What every adapter provides. `send` must fall back to text for buttons."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, chat_id: str, message: OutboundMessage) -> SendResult: ...


class TurnOutcome(Protocol):
    replies: list[OutboundMessage]
    reply_ids: list[int]
    duplicate: bool
    skipped: bool


class MessageHandler(Protocol):
    """The agent runtime as channels see it.

    Push channels call `accept` with what a webhook carries and answer the
    platform 2xx only after it returns (the messages are durably stored);
    then they `dispatch` each returned message in the background.
    """

    closing: bool

    async def accept(self, messages: list[InboundMessage]) -> list[InboundMessage]: ...

    async def media_fetched(self, message: InboundMessage) -> None: ...

    async def handle(self, message: InboundMessage, *, inline: bool = False) -> TurnOutcome: ...

    async def dispatch(self, message: InboundMessage, channel: Channel) -> TurnOutcome: ...

    async def history(self, channel: str, chat_id: str, after: int = 0) -> list[dict[str, Any]]: ...

    async def record_status(self, channel: str, channel_message_id: str, status: str,
                            error: str | None = None) -> None: ...

    def track(self, coro: Any, *, name: str = "task") -> Any: ...


class ChannelRegistry:
    """Channels by name, so a human reply or a later send reaches the right platform."""

    def __init__(self) -> None:
        self._channels: dict[str, Channel] = {}

    def add(self, channel: Channel) -> None:
        self._channels[channel.name] = channel

    def get(self, name: str) -> Channel | None:
        return self._channels.get(name)

    def __iter__(self):
        return iter(list(self._channels.values()))
