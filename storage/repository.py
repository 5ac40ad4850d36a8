"""Repositories: every read and write of business data goes through here."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from storage.appointments import AppointmentRepo
from storage.db import Database
from storage.insights import InsightRepo
from storage.leads import LeadRepo
from storage.models import Conversation, Message, Product, Sale, utcnow


def product_hash(name: str, description: str, category: str) -> str:
    """Hash of the searchable text: the vector index re-embeds only when it changes."""
    return hashlib.sha256(f"{name}\x1f{description}\x1f{category}".encode()).hexdigest()[:32]


DELIVERY_RANK = {"queued": 1, "held": 1, "sent": 2, "failed": 3, "delivered": 4, "read": 5}


@dataclass(frozen=True)
class ProductRow:
    sku: str
    name: str
    description: str
    category: str
    price: Decimal
    stock: int


@dataclass(frozen=True)
class CommitResult:
    status: str  # committed | already | insufficient | missing
    sale: Sale | None = None
    available: int = 0


class ProductRepo:
    def __init__(self, db: Database, business_id: str) -> None:
        self.db = db
        self.business_id = business_id

    async def upsert_many(self, rows: Sequence[ProductRow]) -> list[Product]:
        """Insert or update by sku in one transaction; returns the rows whose text changed."""
        changed: list[Product] = []
        async with self.db.transaction() as s:
            existing = {
                p.sku: p
                for p in (
                    await s.execute(
                        select(Product).where(
                            Product.business_id == self.business_id, Product.sku.in_([r.sku for r in rows])
                        )
                    )
                ).scalars()
            }
            for r in rows:
                digest = product_hash(r.name, r.description, r.category)
                p = existing.get(r.sku)
                if p is None:
                    p = Product(business_id=self.business_id, sku=r.sku, content_hash="")
                    s.add(p)
                if p.content_hash != digest:
                    changed.append(p)
                p.name, p.description, p.category = r.name, r.description, r.category
                p.price, p.stock, p.content_hash, p.updated_at = r.price, r.stock, digest, utcnow()
        return changed

    async def get(self, sku: str) -> Product | None:
        async with self.db.session() as s:
            return (
                await s.execute(select(Product).where(Product.business_id == self.business_id, Product.sku == sku))
            ).scalar_one_or_none()

    async def get_many(self, skus: Iterable[str]) -> dict[str, Product]:
        skus = list(skus)
        if not skus:
            return {}
        async with self.db.session() as s:
            rows = (
                await s.execute(select(Product).where(Product.business_id == self.business_id, Product.sku.in_(skus)))
            ).scalars()
            return {p.sku: p for p in rows}

    async def all(self) -> list[Product]:
        async with self.db.session() as s:
            return list(
                (await s.execute(select(Product).where(Product.business_id == self.business_id).order_by(Product.id))).scalars()
            )

    async def count(self) -> int:
        async with self.db.session() as s:
            return (
                await s.execute(select(func.count()).select_from(Product).where(Product.business_id == self.business_id))
            ).scalar_one()


class SaleRepo:
    def __init__(self, db: Database, business_id: str) -> None:
        self.db = db
        self.business_id = business_id

    async def commit_order(
        self, *, order_id: str, sku: str, quantity: int, conversation_id: int | None, currency: str
    ) -> CommitResult:
        """Decrement stock only if enough remains and insert the sale, atomically.

        Idempotent by `order_id`: committing the same order twice returns
        the first sale. The price is the database's at commit time.
        """
        async with self.db.transaction() as s:
            prior = (await s.execute(select(Sale).where(Sale.order_id == order_id))).scalar_one_or_none()
            if prior is not None:
                return CommitResult("already", prior)
            product = (
                await s.execute(select(Product).where(Product.business_id == self.business_id, Product.sku == sku))
            ).scalar_one_or_none()
            if product is None:
                return CommitResult("missing")
            result = await s.execute(
                update(Product)
                .where(Product.id == product.id, Product.stock >= quantity)
                .values(stock=Product.stock - quantity, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                await s.refresh(product)
                return CommitResult("insufficient", available=product.stock)
            sale = Sale(
                business_id=self.business_id,
                order_id=order_id,
                conversation_id=conversation_id,
                product_id=product.id,
                sku=product.sku,
                product_name=product.name,
                quantity=quantity,
                unit_price=product.price,
                total=product.price * quantity,
                currency=currency,
            )
            s.add(sale)
            try:
                await s.flush()
            except IntegrityError:  # a concurrent commit of the same order won the race
                await s.rollback()
                async with self.db.session() as s2:
                    prior = (await s2.execute(select(Sale).where(Sale.order_id == order_id))).scalar_one()
                return CommitResult("already", prior)
            return CommitResult("committed", sale)

    async def list(self, *, conversation_id: int | None = None, since: datetime | None = None) -> list[Sale]:
        q = select(Sale).where(Sale.business_id == self.business_id)
        if conversation_id is not None:
            q = q.where(Sale.conversation_id == conversation_id)
        if since is not None:
            q = q.where(Sale.created_at >= since)
        async with self.db.session() as s:
            return list((await s.execute(q.order_by(Sale.id))).scalars())


class ConversationRepo:
    def __init__(self, db: Database, business_id: str) -> None:
        self.db = db
        self.business_id = business_id

    async def get(self, channel: str, chat_id: str) -> Conversation | None:
        async with self.db.session() as s:
            return (
                await s.execute(
                    select(Conversation).where(
                        Conversation.business_id == self.business_id,
                        Conversation.channel == channel,
                        Conversation.chat_id == chat_id,
                    )
                )
            ).scalar_one_or_none()

    async def by_id(self, conversation_id: int) -> Conversation | None:
        async with self.db.session() as s:
            return await s.get(Conversation, conversation_id)

    async def get_or_create(self, channel: str, chat_id: str, language: str | None = None) -> Conversation:
        conv = await self.get(channel, chat_id)
        if conv is not None:
            return conv
        try:
            async with self.db.transaction() as s:
                conv = Conversation(business_id=self.business_id, channel=channel, chat_id=chat_id, language=language)
                s.add(conv)
            return conv
        except IntegrityError:  # created concurrently (another replica)
            conv = await self.get(channel, chat_id)
            assert conv is not None
            return conv

    async def update(self, conversation_id: int, **values: Any) -> None:
        values.setdefault("updated_at", utcnow())
        async with self.db.transaction() as s:
            await s.execute(update(Conversation).where(Conversation.id == conversation_id).values(**values))

    async def list(
        self,
        *,
        channel: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
        text: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Conversation]:
        q = select(Conversation).where(Conversation.business_id == self.business_id)
        if channel:
            q = q.where(Conversation.channel == channel)
        if status:
            q = q.where(Conversation.status == status)
        if since:
            q = q.where(Conversation.updated_at >= since)
        if text:
            like = f"%{text}%"
            sub = select(Message.conversation_id).where(Message.text.ilike(like))
            q = q.where(or_(Conversation.id.in_(sub), Conversation.chat_id.ilike(like), Conversation.customer_name.ilike(like)))
        q = q.order_by(Conversation.updated_at.desc(), Conversation.id.desc()).limit(limit).offset(offset)
        async with self.db.session() as s:
            return list((await s.execute(q)).scalars())


class MessageRepo:
    def __init__(self, db: Database, business_id: str) -> None:
        self.db = db
        self.business_id = business_id

    async def add_inbound(self, conv: Conversation, **fields: Any) -> tuple[Message, bool]:
        """Store an inbound message; returns (message, created). A duplicate id returns the stored one."""
        msg = Message(
            business_id=self.business_id,
            conversation_id=conv.id,
            channel=conv.channel,
            direction="in",
            author="customer",
            turn_status="pending",
            **fields,
        )
        try:
            async with self.db.transaction() as s:
                s.add(msg)
            return msg, True
        except IntegrityError:
            existing = await self.find(conv.channel, "in", fields["channel_message_id"])
            assert existing is not None
            return existing, False

    async def find(self, channel: str, direction: str, channel_message_id: str) -> Message | None:
        async with self.db.session() as s:
            return (
                await s.execute(
                    select(Message).where(
                        Message.business_id == self.business_id,
                        Message.channel == channel,
                        Message.direction == direction,
                        Message.channel_message_id == channel_message_id,
                    )
                )
            ).scalar_one_or_none()

    async def add_outbound(self, conv: Conversation, *, author: str, text: str, reply_to_id: int | None = None,
                           payload: dict[str, Any] | None = None, delivery_status: str = "queued") -> Message:
        msg = Message(
            business_id=self.business_id,
            conversation_id=conv.id,
            channel=conv.channel,
            direction="out",
            author=author,
            text=text,
            payload=payload,
            reply_to_id=reply_to_id,
            delivery_status=delivery_status,
        )
        async with self.db.transaction() as s:
            s.add(msg)
        return msg

    async def add_replies(self, conv: Conversation, inbound_id: int, replies: Sequence[dict[str, Any]]) -> list[Message]:
        """Store a turn's replies and mark the inbound message done, in one transaction."""
        out = [
            Message(
                business_id=self.business_id,
                conversation_id=conv.id,
                channel=conv.channel,
                direction="out",
                author="bot",
                text=r["text"],
                payload={"buttons": r["buttons"]} if r.get("buttons") else None,
                reply_to_id=inbound_id,
                delivery_status="queued",
            )
            for r in replies
        ]
        async with self.db.transaction() as s:
            s.add_all(out)
            await s.execute(update(Message).where(Message.id == inbound_id).values(turn_status="done", error=None))
        return out

    async def set_turn_status(self, message_id: int, status: str, error: str | None = None) -> None:
        async with self.db.transaction() as s:
            await s.execute(update(Message).where(Message.id == message_id).values(turn_status=status, error=error))

    async def advance_delivery(self, channel: str, channel_message_id: str, status: str,
                               error: str | None = None) -> bool:
        """Move an outbound message's delivery status forward only (sent < delivered < read).

        `failed` is recorded unless the message was already delivered or read.
        Returns False when the message is unknown or the status would go back.
        """
        async with self.db.transaction() as s:
            msg = (
                await s.execute(
                    select(Message).where(
                        Message.business_id == self.business_id,
                        Message.channel == channel,
                        Message.direction == "out",
                        Message.channel_message_id == channel_message_id,
                    )
                )
            ).scalar_one_or_none()
            if msg is None:
                return False
            if DELIVERY_RANK.get(status, 0) <= DELIVERY_RANK.get(msg.delivery_status or "", 0):
                return False
            msg.delivery_status = status
            if error:
                msg.error = error
            return True

    async def replies_to(self, inbound_id: int) -> list[Message]:
        async with self.db.session() as s:
            return list(
                (await s.execute(select(Message).where(Message.reply_to_id == inbound_id).order_by(Message.id))).scalars()
            )

    async def set_delivery(self, message_id: int, *, status: str, channel_message_id: str | None = None,
                           error: str | None = None) -> None:
        values: dict[str, Any] = {"delivery_status": status}
        if channel_message_id is not None:
            values["channel_message_id"] = channel_message_id
        if error is not None:
            values["error"] = error
        async with self.db.transaction() as s:
            await s.execute(update(Message).where(Message.id == message_id).values(**values))

    async def list(self, conversation_id: int, *, after: int = 0, limit: int = 1000) -> list[Message]:
        async with self.db.session() as s:
            return list(
                (
                    await s.execute(
                        select(Message)
                        .where(Message.conversation_id == conversation_id, Message.id > after)
                        .order_by(Message.id)
                        .limit(limit)
                    )
                ).scalars()
            )


class Repositories:
    """All repositories of one business, handed around as one object."""

    def __init__(self, db: Database, business_id: str) -> None:
        self.db = db
        self.business_id = business_id
        self.products = ProductRepo(db, business_id)
        self.sales = SaleRepo(db, business_id)
        self.conversations = ConversationRepo(db, business_id)
        self.messages = MessageRepo(db, business_id)
        self.leads = LeadRepo(db, business_id)
        self.insights = InsightRepo(db, business_id)
        self.appointments = AppointmentRepo(db, business_id)
