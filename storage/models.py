"""SQLModel tables: the business's data and the conversation transcript.

Every business-data table carries `business_id` (one business per daemon for
now, but nothing here assumes it). Money is stored as `Decimal` (NUMERIC),
timestamps as timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Numeric, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_column_kwargs=kw, sa_type=DateTime(timezone=True))


class Product(SQLModel, table=True):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("business_id", "sku", name="uq_products_business_sku"),)

    id: int | None = Field(default=None, primary_key=True)
    business_id: str = Field(index=True, max_length=64)
    sku: str = Field(max_length=64)
    name: str = Field(max_length=300)
    description: str = ""
    category: str = Field("", max_length=120)
    price: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    stock: int = Field(ge=0)
    content_hash: str = Field("", max_length=64)
    updated_at: datetime = _ts()


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("business_id", "channel", "chat_id", name="uq_conversations_chat"),)

    id: int | None = Field(default=None, primary_key=True)
    business_id: str = Field(index=True, max_length=64)
    channel: str = Field(max_length=32)
    chat_id: str = Field(max_length=128)
    status: str = Field("bot", max_length=16)  # bot | human
    language: str | None = Field(None, max_length=8)
    customer_name: str | None = Field(None, max_length=200)
    needs_attention: bool = False
    attention_reason: str | None = None
    last_inbound_at: datetime | None = Field(None, sa_type=DateTime(timezone=True))
    insights_at: datetime | None = Field(None, sa_type=DateTime(timezone=True))
    created_at: datetime = _ts()
    updated_at: datetime = _ts(index=True)


# Queries must spell these conditions exactly so (literals, not bound parameters) for SQLite to use the indexes.
UNANSWERED = "direction = 'in' AND turn_status = 'pending'"
UNSENT = "direction = 'out' AND delivery_status IN ('queued', 'sending')"
_PARTIAL_INDEXES = [
    ("ix_messages_unanswered", ("business_id", "conversation_id", "id"), UNANSWERED),
    ("ix_messages_unsent", ("business_id", "conversation_id", "id"), UNSENT),
    ("ix_messages_out_platform_id", ("channel_message_id",), "direction = 'out' AND channel_message_id IS NOT NULL"),
]


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint(
            "business_id", "conversation_id", "direction", "channel_message_id", name="uq_messages_conversation_id"
        ),
        Index("ix_messages_conversation", "conversation_id", "id"),
        # Partial: only unanswered / unsent rows (sweeps, a turn's backlog) and outbound platform ids (receipts).
        *(Index(name, *columns, sqlite_where=text(where), postgresql_where=text(where))
          for name, columns, where in _PARTIAL_INDEXES),
    )

    id: int | None = Field(default=None, primary_key=True)
    business_id: str = Field(max_length=64)
    conversation_id: int = Field(foreign_key="conversations.id")
    channel: str = Field(max_length=32)
    direction: str = Field(max_length=3)  # in | out
    author: str = Field(max_length=16)  # customer | bot | human
    kind: str = Field("text", max_length=16)  # text, image, audio, voice, document, location, contact, ...
    text: str = ""
    payload: dict[str, Any] | None = Field(None, sa_column=Column(JSON))
    channel_message_id: str | None = Field(None, max_length=200)
    reply_to_id: int | None = Field(None, index=True)
    turn_status: str | None = Field(None, max_length=16)  # inbound: pending | done | failed | skipped
    delivery_status: str | None = Field(None, max_length=16)  # outbound: queued|sending|sent|delivered|read|failed|held
    attempts: int = Field(0, sa_column_kwargs={"server_default": "0"})  # turns started / sends tried
    error: str | None = None
    created_at: datetime = _ts()


class Sale(SQLModel, table=True):
    __tablename__ = "sales"
    __table_args__ = (Index("ix_sales_order_ref", "business_id", "order_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    business_id: str = Field(index=True, max_length=64)
    order_id: str = Field(unique=True, max_length=64)  # the line's idempotency key
    order_ref: str | None = Field(None, max_length=64)  # the order, shared by all its lines
    conversation_id: int | None = Field(None, foreign_key="conversations.id", index=True)
    product_id: int = Field(foreign_key="products.id")
    sku: str = Field(max_length=64)
    product_name: str = Field(max_length=300)
    quantity: int = Field(gt=0)
    unit_price: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    total: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    currency: str = Field("ARS", max_length=3)
    created_at: datetime = _ts(index=True)


class Appointment(SQLModel, table=True):
    __tablename__ = "appointments"

    id: int | None = Field(default=None, primary_key=True)
    business_id: str = Field(index=True, max_length=64)
    conversation_id: int | None = Field(None, foreign_key="conversations.id", index=True)
    start: datetime = Field(sa_type=DateTime(timezone=True), index=True)
    end: datetime = Field(sa_type=DateTime(timezone=True))
    status: str = Field("booked", max_length=16)  # booked | cancelled
    topic: str = ""
    attendee_name: str | None = None
    attendee_email: str | None = None
    calendar: str = Field("builtin", max_length=16)  # builtin | outlook
    external_id: str | None = Field(None, max_length=300)
    created_at: datetime = _ts()


class Lead(SQLModel, table=True):
    __tablename__ = "leads"

    id: int | None = Field(default=None, primary_key=True)
    business_id: str = Field(index=True, max_length=64)
    conversation_id: int = Field(foreign_key="conversations.id", unique=True)
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    need: str | None = None
    budget: str | None = None
    timeline: str | None = None
    authority: str | None = None
    score: int = 0
    breakdown: dict[str, Any] | None = Field(None, sa_column=Column(JSON))
    qualified: bool = False
    updated_at: datetime = _ts()


class Insight(SQLModel, table=True):
    __tablename__ = "insights"

    id: int | None = Field(default=None, primary_key=True)
    business_id: str = Field(index=True, max_length=64)
    conversation_id: int = Field(foreign_key="conversations.id", unique=True)
    category: str = Field(max_length=16)
    confidence: float = 0.0
    sentiment: str = Field(max_length=16)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    source: str = Field("offline", max_length=16)
    created_at: datetime = _ts()


class Turn(SQLModel, table=True):
    """One processed turn: latency, model usage and outcome (observability)."""

    __tablename__ = "turns"

    id: int | None = Field(default=None, primary_key=True)
    business_id: str = Field(max_length=64)
    conversation_id: int = Field(foreign_key="conversations.id", index=True)
    inbound_message_id: int = Field(index=True)
    model: str = Field("", max_length=80)
    latency_ms: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    error: str | None = None
    created_at: datetime = _ts()


class Revision(SQLModel, table=True):
    """Every accepted version of a prompt, knowledge document or the config."""

    __tablename__ = "revisions"
    __table_args__ = (Index("ix_revisions_kind_name", "business_id", "kind", "name", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    business_id: str = Field(max_length=64)
    kind: str = Field(max_length=16)  # prompt | knowledge | config
    name: str = Field(max_length=200)
    content: str
    author: str = Field("admin", max_length=120)
    created_at: datetime = _ts()


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    business_id: str = Field(max_length=64)
    actor: str = Field(max_length=120)
    action: str = Field(max_length=80)
    target: str = Field("", max_length=300)
    detail: dict[str, Any] | None = Field(None, sa_column=Column(JSON))
    created_at: datetime = _ts(index=True)
