"""Repositories: every read and write of business data goes through here."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from storage.appointments import AppointmentRepo
from storage.db import Database
from storage.insights import InsightRepo
from storage.leads import LeadRepo
from storage.models import UNANSWERED, UNSENT, Conversation, Message, Product, Sale, Turn, utcnow


def product_hash(name: str, description: str, category: str) -> str:
    """Hash of the searchable text: the vector index re-embeds only when it changes."""
    return hashlib.sha256(f"{name}\x1f{description}\x1f{category}".encode()).hexdigest()[:32]


def _dialect_insert(db: Database):
    """The dialect's INSERT with ON CONFLICT support (SQLite and PostgreSQL share the API)."""
    if db.is_sqlite:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    return dialect_insert


CONVERSATIONS = Conversation.__table__
MESSAGES = Message.__table__
TURNS = Turn.__table__
DELIVERY_RANK = {"queued": 1, "held": 1, "sent": 2, "failed": 3, "delivered": 4, "read": 5}


@dataclass(frozen=True)
class ProductRow:
    sku: str
    name: str
    description: str
    category: str
    price: Decimal
    stock: int
    updated_at: datetime | None = None


PRODUCTS = Product.__table__
_PRODUCT_COLUMNS = [PRODUCTS.c[k] for k in ProductRow.__dataclass_fields__]


@dataclass(frozen=True)
class CommitResult:
    status: str  # committed | already | insufficient | repriced | missing
    sale: Sale | None = None
    available: int = 0
    sales: tuple[Sale, ...] = ()  # every line of a multi-line order
    sku: str | None = None  # the line that could not be committed


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

    async def get(self, sku: str) -> ProductRow | None:
        """One product as stored now (live price and stock)."""
        return (await self.get_many([sku])).get(sku)

    async def get_many(self, skus: Iterable[str]) -> dict[str, ProductRow]:
        """Products by sku as stored now; unknown skus are absent. Runs on every search."""
        skus = list(dict.fromkeys(skus))
        if not skus:
            return {}
        return await self.db.read(self._get_many_sync, skus)

    @functools.cached_property
    def _by_skus(self) -> Any:
        return select(*_PRODUCT_COLUMNS).where(
            PRODUCTS.c.business_id == bindparam("business_id"), PRODUCTS.c.sku.in_(bindparam("skus", expanding=True))
        )

    def _get_many_sync(self, conn: Connection, skus: list[str]) -> dict[str, ProductRow]:
        rows = conn.execute(self._by_skus, {"business_id": self.business_id, "skus": skus})
        return {row.sku: ProductRow(*row) for row in rows}

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


class _LineFailed(Exception):
    """One line of a multi-line order cannot be committed: roll the whole order back."""

    def __init__(self, result: CommitResult) -> None:
        super().__init__(result.status)
        self.result = result


class SaleRepo:
    def __init__(self, db: Database, business_id: str) -> None:
        self.db = db
        self.business_id = business_id

    async def commit_order(
        self, *, order_id: str, sku: str, quantity: int, conversation_id: int | None, currency: str,
        unit_price: Decimal | None = None,
    ) -> CommitResult:
        """Decrement stock only if enough remains and insert the sale, atomically.

        Idempotent by `order_id`: committing the same order twice returns
        the first sale. The price is the database's at commit time; with
        `unit_price` (the price the customer said yes to) a different price
        commits nothing ("repriced"), so the customer is asked again.
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
            if unit_price is not None and Decimal(product.price) != Decimal(unit_price):
                return CommitResult("repriced", available=product.stock, sku=sku)
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
                order_ref=order_id,
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

    async def commit_lines(self, *, order_id: str, lines: Sequence[tuple[str, int]], conversation_id: int | None,
                           currency: str, prices: Mapping[str, Decimal] | None = None) -> CommitResult:
        """Commit an order of several lines in one transaction: every line or none.

        Each line is a sale row with order id `<order_id>-<n>`; committing the
        same order again returns the first commit's sales. Stock is
        decremented only where enough remains, prices are the database's; a
        line whose price is no longer the one in `prices` (what the customer
        said yes to) commits nothing ("repriced").
        """
        ids = [f"{order_id}-{n}" for n in range(1, len(lines) + 1)]
        try:
            async with self.db.transaction() as s:
                prior = list((await s.execute(select(Sale).where(Sale.order_id.in_(ids)).order_by(Sale.id))).scalars())
                if prior:
                    return CommitResult("already", prior[0], sales=tuple(prior))
                sales = []
                for line_id, (sku, quantity) in zip(ids, lines, strict=True):
                    product = (await s.execute(select(Product).where(
                        Product.business_id == self.business_id, Product.sku == sku))).scalar_one_or_none()
                    if product is None:
                        raise _LineFailed(CommitResult("missing", sku=sku))
                    if prices and sku in prices and Decimal(product.price) != Decimal(prices[sku]):
                        raise _LineFailed(CommitResult("repriced", available=product.stock, sku=sku))
                    done = await s.execute(
                        update(Product).where(Product.id == product.id, Product.stock >= quantity)
                        .values(stock=Product.stock - quantity, updated_at=utcnow())
                        .execution_options(synchronize_session=False)
                    )
                    if done.rowcount != 1:
                        await s.refresh(product)
                        raise _LineFailed(CommitResult("insufficient", available=product.stock, sku=sku))
                    sale = Sale(business_id=self.business_id, order_id=line_id, order_ref=order_id,
                                conversation_id=conversation_id,
                                product_id=product.id, sku=product.sku, product_name=product.name,
                                quantity=quantity, unit_price=product.price, total=product.price * quantity,
                                currency=currency)
                    s.add(sale)
                    sales.append(sale)
                await s.flush()
                return CommitResult("committed", sales[0], sales=tuple(sales))
        except _LineFailed as failed:  # the transaction rolled back: nothing of the order was sold
            return failed.result
        except IntegrityError:  # a concurrent commit of the same order won the race
            async with self.db.session() as s2:
                prior = list((await s2.execute(select(Sale).where(Sale.order_id.in_(ids)).order_by(Sale.id))).scalars())
            return CommitResult("already", prior[0], sales=tuple(prior))

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

    def _filtered(self, q, *, channel: str | None, status: str | None, since: datetime | None, text: str | None):
        q = q.where(Conversation.business_id == self.business_id)
        if channel:
            q = q.where(Conversation.channel == channel)
        if status:
            q = q.where(Conversation.status == status)
        if since:
            q = q.where(Conversation.updated_at >= since)
        if text:
            # `%` and `_` typed by the owner match literally.
            like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            sub = select(Message.conversation_id).where(Message.text.ilike(like, escape="\\"))
            q = q.where(or_(Conversation.id.in_(sub), Conversation.chat_id.ilike(like, escape="\\"),
                            Conversation.customer_name.ilike(like, escape="\\")))
        return q

    async def list(self, *, channel: str | None = None, status: str | None = None, since: datetime | None = None,
                   text: str | None = None, limit: int = 50, offset: int = 0) -> list[Conversation]:
        q = self._filtered(select(Conversation), channel=channel, status=status, since=since, text=text)
        q = q.order_by(Conversation.updated_at.desc(), Conversation.id.desc()).limit(limit).offset(offset)
        async with self.db.session() as s:
            return list((await s.execute(q)).scalars())

    async def count(self, *, channel: str | None = None, status: str | None = None, since: datetime | None = None,
                    text: str | None = None) -> int:
        q = self._filtered(select(func.count()).select_from(Conversation), channel=channel, status=status,
                           since=since, text=text)
        async with self.db.session() as s:
            return (await s.execute(q)).scalar_one()


class _TurnStatements:
    """The statements every turn runs, built once: SQLAlchemy compiles and caches each a single time.

    Building `insert(...).values(**row)` per call costs more CPU than SQLite
    spends executing it; bound parameters keep these statements constant.
    """

    def __init__(self, upsert: Any) -> None:
        c, m = CONVERSATIONS.c, MESSAGES.c
        stmt = upsert(CONVERSATIONS).values(
            business_id=bindparam("business_id"), channel=bindparam("channel"), chat_id=bindparam("chat_id"),
            status="bot", needs_attention=False, created_at=bindparam("now"), updated_at=bindparam("now"),
            last_inbound_at=bindparam("now"), customer_name=bindparam("customer_name"),
        )
        self.upsert_conversation = stmt.on_conflict_do_update(
            index_elements=["business_id", "channel", "chat_id"],
            set_={"last_inbound_at": stmt.excluded.last_inbound_at, "updated_at": stmt.excluded.updated_at,
                  "customer_name": func.coalesce(c.customer_name, stmt.excluded.customer_name)},
        ).returning(*CONVERSATIONS.c)
        self.set_language = update(CONVERSATIONS).where(c.id == bindparam("conversation_id")).values(
            language=bindparam("language")
        )
        inbound_cols = ("business_id", "conversation_id", "channel", "direction", "author", "turn_status",
                        "channel_message_id", "created_at", "kind", "text", "payload", "attempts")
        self.insert_inbound = (
            upsert(MESSAGES).values({k: bindparam(k) for k in inbound_cols})
            .on_conflict_do_nothing().returning(m.id)
        )
        self.find_inbound = select(MESSAGES).where(
            m.conversation_id == bindparam("conversation_id"), m.direction == "in",
            m.channel_message_id == bindparam("channel_message_id"),
        )
        self.claim_inbound = update(MESSAGES).where(m.id == bindparam("message_id")).values(
            attempts=m.attempts + 1
        ).returning(m.attempts)
        self.backlog = select(MESSAGES).where(
            m.business_id == bindparam("business_id"), m.conversation_id == bindparam("conversation_id"),
            text(UNANSWERED), m.id < bindparam("before_id"),
        ).order_by(m.id)
        reply_cols = ("business_id", "conversation_id", "channel", "direction", "author", "kind", "text", "payload",
                      "reply_to_id", "delivery_status", "created_at")
        self.insert_reply = insert(MESSAGES).values({k: bindparam(k) for k in reply_cols}).returning(m.id)
        self.insert_turn = insert(TURNS).values({k: bindparam(k) for k in TURNS.c.keys() if k != "id"})
        self.finish_inbound = update(MESSAGES).where(m.id == bindparam("message_id")).values(
            turn_status=bindparam("turn_status"), error=bindparam("error")
        )


@dataclass
class Inbound:
    """A stored inbound message, its conversation, and whether this call stored it."""

    conversation: Conversation
    message: Message
    created: bool

    def __iter__(self):  # (conversation, message, created), as callers unpack it
        return iter((self.conversation, self.message, self.created))


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
            existing = await self.find(conv.id, "in", fields["channel_message_id"])
            assert existing is not None
            return existing, False

    async def find(self, conversation_id: int, direction: str, channel_message_id: str) -> Message | None:
        """A message by its platform id, within its conversation (ids are only unique there)."""
        async with self.db.session() as s:
            return (
                await s.execute(
                    select(Message).where(
                        Message.conversation_id == conversation_id,
                        Message.direction == direction,
                        Message.channel_message_id == channel_message_id,
                    )
                )
            ).scalar_one_or_none()

    async def apply_event(self, conversation_id: int, channel_message_id: str, *, kind: str, text: str,
                          at: datetime, event_id: str) -> bool:
        """An edit or a deletion of an earlier inbound message, recorded on it (not a new message).

        An edit replaces the text and keeps the previous one in `payload.edits`;
        a deletion sets `payload.revoked_at`. The same event applied twice
        (a redelivery) changes nothing. Returns False when the message is unknown.
        """
        async with self.db.transaction() as s:
            msg = (await s.execute(select(Message).where(
                Message.conversation_id == conversation_id, Message.direction == "in",
                Message.channel_message_id == channel_message_id,
            ))).scalar_one_or_none()
            if msg is None:
                return False
            payload = dict(msg.payload or {})
            events = list(payload.get("events") or [])
            if event_id in events:
                return True
            payload["events"] = [*events, event_id][-20:]
            if kind == "revoked":
                payload["revoked_at"] = at.isoformat()
            else:
                payload["edits"] = [*(payload.get("edits") or []), {"text": msg.text, "replaced_at": at.isoformat()}]
                msg.text = text
            msg.payload = payload
            return True

    async def update_payload(self, message_id: int, changes: dict[str, Any]) -> None:
        """Merge `changes` into a stored message's payload (a media download that finished later)."""
        async with self.db.transaction() as s:
            msg = await s.get(Message, message_id)
            if msg is not None:
                msg.payload = {**(msg.payload or {}), **changes}

    async def unanswered(self, older_than: datetime, limit: int = 500) -> list[Message]:
        """Inbound messages stored but never answered (a crash, a kill, a busy lock), oldest first."""
        return await self._stored_where(UNANSWERED, older_than, limit)

    async def any_unanswered(self, older_than: datetime) -> bool:
        """Whether any inbound message older than `older_than` was stored and never answered."""
        return bool(await self.unanswered(older_than, limit=1))

    async def unsent(self, older_than: datetime, limit: int = 500) -> list[Message]:
        """Outbound messages stored but not (known to be) handed to the platform, oldest first."""
        return await self._stored_where(UNSENT, older_than, limit)

    async def _stored_where(self, condition: str, older_than: datetime, limit: int) -> list[Message]:
        """This business's messages in a partial index's `condition` (spelled as the index is), oldest first."""
        async with self.db.session() as s:
            return list((await s.execute(
                select(Message).where(text(condition), Message.business_id == self.business_id,
                                      Message.created_at < older_than)
                .order_by(Message.conversation_id, Message.id).limit(limit)
            )).scalars())

    async def claim_send(self, message_id: int, *, expect: tuple[str, ...] = ("queued",)) -> int | None:
        """Mark an outbound message as being sent; only one caller wins (the attempt number, else None).

        A sweep after a crash re-claims `sending` rows: the platform may then
        get that one reply twice (it has no idempotency key), never zero times.
        """
        def run(conn: Connection) -> int | None:
            return conn.execute(
                update(MESSAGES)
                .where(MESSAGES.c.id == message_id, MESSAGES.c.delivery_status.in_(expect))
                .values(delivery_status="sending", attempts=MESSAGES.c.attempts + 1)
                .returning(MESSAGES.c.attempts)
            ).scalar_one_or_none()

        return await self.db.write(run)

    async def begin_inbound(
        self, channel: str, chat_id: str, *, channel_message_id: str, now: datetime,
        language: Callable[[Conversation], str], sender_name: str | None = None, claim: bool = True, **fields: Any,
    ) -> Inbound:
        """One transaction: the conversation (created if new) and the inbound message, durably stored.

        A message id seen before in this conversation returns the stored
        message (`created=False`) and changes nothing else. With `claim` (a
        turn is about to run, under the conversation's lock) a still-pending
        message counts one more attempt.
        `language(conversation)` decides the conversation's language.
        Core statements, not the ORM: this runs on every turn.
        """
        return await self.db.write(
            self._begin_sync, channel, chat_id, channel_message_id, now, language, sender_name, claim, fields
        )

    async def store_inbound(self, items: Sequence[dict[str, Any]], *, now: datetime,
                            language: Callable[[Conversation, str], str]) -> list[Inbound]:
        """Store several inbound messages in ONE transaction (a webhook body), before it is acknowledged.

        Each item has the `begin_inbound` keywords plus `channel` and `chat_id`;
        `language(conversation, text)` decides each conversation's language.
        """
        def run(conn: Connection) -> list[Inbound]:
            out = []
            for item in items:
                item = dict(item)
                channel, chat_id, mid = item.pop("channel"), item.pop("chat_id"), item.pop("channel_message_id")
                sender = item.pop("sender_name", None)
                text = item.get("text", "")
                out.append(self._begin_sync(conn, channel, chat_id, mid, now, lambda c, t=text: language(c, t),
                                            sender, False, item))
            return out

        return await self.db.write(run)

    @functools.cached_property
    def _turn_statements(self) -> _TurnStatements:
        return _TurnStatements(_dialect_insert(self.db))

    def _begin_sync(self, conn: Connection, channel: str, chat_id: str, channel_message_id: str, now: datetime,
                    language: Callable[[Conversation], str], sender_name: str | None, claim: bool,
                    fields: dict[str, Any]) -> Inbound:
        st = self._turn_statements
        conv = Conversation(**conn.execute(st.upsert_conversation, {
            "business_id": self.business_id, "channel": channel, "chat_id": chat_id, "now": now,
            "customer_name": sender_name,
        }).mappings().one())
        lang = language(conv)
        if lang != conv.language:
            conn.execute(st.set_language, {"conversation_id": conv.id, "language": lang})
            conv.language = lang
        values = {"business_id": self.business_id, "conversation_id": conv.id, "channel": channel,
                  "direction": "in", "author": "customer", "turn_status": "pending",
                  "channel_message_id": channel_message_id, "created_at": now, "kind": "text", "text": "",
                  "payload": None, "attempts": 1 if claim else 0, **fields}
        inserted = conn.execute(st.insert_inbound, values).scalar_one_or_none()
        if inserted is not None:
            message, created = Message(id=inserted, **values), True
        else:
            prior = conn.execute(st.find_inbound, {
                "conversation_id": conv.id, "channel_message_id": channel_message_id,
            }).mappings().one()
            message, created = Message(**prior), False
            if claim and message.turn_status in ("pending", "failed"):
                message.attempts = conn.execute(st.claim_inbound, {"message_id": message.id}).scalar_one()
        return Inbound(conv, message, created)

    async def backlog(self, conversation_id: int, before_id: int) -> list[Message]:
        """The conversation's unanswered messages older than `before_id`, oldest first.

        A read on the reader thread (not in the writer's transaction, which
        every turn queues behind): on the hot path it finds nothing, via a
        partial index that holds only unanswered rows.
        """
        return await self.db.read(self._backlog_sync, conversation_id, before_id)

    def _backlog_sync(self, conn: Connection, conversation_id: int, before_id: int) -> list[Message]:
        rows = conn.execute(self._turn_statements.backlog, {"business_id": self.business_id,
                                                            "conversation_id": conversation_id, "before_id": before_id})
        return [Message(**row) for row in rows.mappings()]

    async def finish_turn(self, conv: Conversation, inbound_id: int, replies: Sequence[dict[str, Any]], *,
                          error: str | None, turn: dict[str, Any], delivery_status: str = "queued") -> list[Message]:
        """One transaction after a turn: the replies, the inbound's final status and the turn record."""
        now = utcnow()
        rows = [
            {"business_id": self.business_id, "conversation_id": conv.id, "channel": conv.channel, "direction": "out",
             "author": "bot", "kind": "text", "text": r["text"],
             "payload": {"buttons": r["buttons"]} if r.get("buttons") else None, "reply_to_id": inbound_id,
             "delivery_status": delivery_status, "created_at": now}
            for r in replies
        ]
        turn = {"business_id": self.business_id, "created_at": now, **turn}
        return await self.db.write(self._finish_sync, rows, inbound_id, error, turn)

    def _finish_sync(self, conn: Connection, rows: list[dict[str, Any]], inbound_id: int, error: str | None,
                     turn: dict[str, Any]) -> list[Message]:
        st = self._turn_statements
        out = [Message(id=conn.execute(st.insert_reply, row).scalar_one(), **row) for row in rows]
        conn.execute(st.insert_turn, turn)
        conn.execute(st.finish_inbound, {
            "message_id": inbound_id, "turn_status": "failed" if error else "done", "error": error,
        })
        return out

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

    async def count_attempt(self, message_id: int) -> None:
        """One more turn taken up for a stored message (a backlog or sweep turn)."""
        async with self.db.transaction() as s:
            await s.execute(update(Message).where(Message.id == message_id).values(attempts=Message.attempts + 1))

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

        def run(conn: Connection) -> None:  # on every send: through the writer thread
            conn.execute(update(MESSAGES).where(MESSAGES.c.id == message_id).values(**values))

        await self.db.write(run)

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
