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
    "edited",
    "unsupported",
]


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
    contact: Contact | None = None
    media: tuple[Media, ...] = ()
    reaction: str | None = None  # the emoji; "" when the customer removed their reaction
    reacts_to: str | None = None  # the platform id of the message reacted to
    edited_of: str | None = None
    raw_type: str | None = None
    timestamp: float | None = None

    def payload_json(self) -> dict[str, Any] | None:
        """Structured parts for storage (None when the message is plain text)."""
        out: dict[str, Any] = {}
        if self.location:
            out["location"] = {k: getattr(self.location, k) for k in Location.__slots__}
        if self.contact:
            out["contact"] = {k: getattr(self.contact, k) for k in Contact.__slots__}
        if self.media:
            out["media"] = [{k: getattr(m, k) for k in Media.__slots__} for m in self.media]
        for key in ("button_payload", "reaction", "reacts_to", "edited_of", "raw_type", "sender_name"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out or None


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
    """The agent runtime as channels see it."""

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
