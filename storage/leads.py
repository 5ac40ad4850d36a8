"""Lead repository: one lead per conversation, filled in over several turns.

Customers give their details piecemeal ("soy Ana" now, the email three
messages later), so writes merge: a field is only overwritten by a
non-empty value, never erased by a missing one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import Lead, utcnow

CONTACT_FIELDS = ("name", "email", "phone", "company", "need", "budget", "timeline", "authority")
_WRITABLE = frozenset(CONTACT_FIELDS) | {"score", "breakdown", "qualified"}


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class LeadRepo:
    def __init__(self, db: Database, business_id: str) -> None:
        self.db = db
        self.business_id = business_id

    async def get_for_conversation(self, conversation_id: int) -> Lead | None:
        async with self.db.session() as s:
            return (
                await s.execute(
                    select(Lead).where(
                        Lead.business_id == self.business_id, Lead.conversation_id == conversation_id
                    )
                )
            ).scalar_one_or_none()

    async def upsert(self, conversation_id: int, **fields: Any) -> Lead:
        """Create or update the conversation's lead, merging only non-empty fields.

        Accepts the contact fields plus `score`, `breakdown` and `qualified`;
        strings are stripped. Unknown field names raise ValueError.
        """
        unknown = set(fields) - _WRITABLE
        if unknown:
            raise ValueError(f"unknown lead field(s): {sorted(unknown)}")
        values = {
            key: value.strip() if isinstance(value, str) else value
            for key, value in fields.items()
            if not _is_empty(value)
        }
        try:
            return await self._write(conversation_id, values)
        except IntegrityError:  # created concurrently (another replica): now it is an update
            return await self._write(conversation_id, values)

    async def _write(self, conversation_id: int, values: dict[str, Any]) -> Lead:
        async with self.db.transaction() as s:
            lead = (
                await s.execute(
                    select(Lead).where(
                        Lead.business_id == self.business_id, Lead.conversation_id == conversation_id
                    )
                )
            ).scalar_one_or_none()
            if lead is None:
                lead = Lead(business_id=self.business_id, conversation_id=conversation_id)
                s.add(lead)
            for key, value in values.items():
                setattr(lead, key, value)
            lead.updated_at = utcnow()
        return lead

    async def list(self, *, min_score: int | None = None, qualified: bool | None = None) -> list[Lead]:
        """Leads best first (score, then most recent)."""
        q = select(Lead).where(Lead.business_id == self.business_id)
        if min_score is not None:
            q = q.where(Lead.score >= min_score)
        if qualified is not None:
            q = q.where(Lead.qualified == qualified)
        q = q.order_by(Lead.score.desc(), Lead.updated_at.desc(), Lead.id.desc())
        async with self.db.session() as s:
            return list((await s.execute(q)).scalars())
