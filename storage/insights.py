"""Insight repository: one analysis per conversation, replaced when regenerated.

The analysis schema lives with the tool that produces it; storage only needs
its shape (`InsightLike`), so this ground-floor module imports nothing above it.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import Conversation, Insight, utcnow


class InsightLike(Protocol):
    category: str
    confidence: float
    sentiment: str

    def model_dump(self, *, mode: str = ...) -> dict[str, Any]: ...


class InsightRepo:
    def __init__(self, db: Database, business_id: str) -> None:
        self.db = db
        self.business_id = business_id

    async def upsert(self, conversation_id: int, data: InsightLike, source: str) -> Insight:
        """Store the analysis (`source`: "model" or "offline") and stamp `Conversation.insights_at`.

        Both writes happen in one transaction, so a conversation never looks
        analyzed without its insight row.
        """
        try:
            return await self._write(conversation_id, data, source)
        except IntegrityError:  # inserted concurrently (another replica): update that row instead
            return await self._write(conversation_id, data, source)

    async def _write(self, conversation_id: int, data: InsightLike, source: str) -> Insight:
        now = utcnow()
        async with self.db.transaction() as s:
            row = (
                await s.execute(
                    select(Insight).where(
                        Insight.business_id == self.business_id, Insight.conversation_id == conversation_id
                    )
                )
            ).scalar_one_or_none()
            if row is None:
                row = Insight(
                    business_id=self.business_id, conversation_id=conversation_id, category="", sentiment=""
                )
                s.add(row)
            row.category, row.confidence, row.sentiment = (
                data.category,
                float(data.confidence),
                data.sentiment,
            )
            row.data, row.source, row.created_at = data.model_dump(mode="json"), source, now
            await s.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.business_id == self.business_id)
                .values(insights_at=now)
            )
        return row

    async def get(self, conversation_id: int) -> Insight | None:
        async with self.db.session() as s:
            return (
                await s.execute(
                    select(Insight).where(
                        Insight.business_id == self.business_id, Insight.conversation_id == conversation_id
                    )
                )
            ).scalar_one_or_none()

    async def list(self, *, category: str | None = None, sentiment: str | None = None) -> list[Insight]:
        """Newest first, optionally filtered by category and sentiment."""
        q = select(Insight).where(Insight.business_id == self.business_id)
        if category:
            q = q.where(Insight.category == category)
        if sentiment:
            q = q.where(Insight.sentiment == sentiment)
        async with self.db.session() as s:
            return list((await s.execute(q.order_by(Insight.created_at.desc(), Insight.id.desc()))).scalars())
