"""Versions of owner-edited text (prompts, knowledge, config) and the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.db import Database
from storage.models import AuditEntry, Revision


class RevisionStore:
    def __init__(self, db: Database, business_id: str) -> None:
        self.db = db
        self.business_id = business_id

    async def save(self, kind: str, name: str, content: str, author: str) -> Revision:
        rev = Revision(business_id=self.business_id, kind=kind, name=name, content=content, author=author[:120])
        async with self.db.transaction() as s:
            s.add(rev)
        return rev

    async def ensure_baseline(self, kind: str, name: str, content: str) -> None:
        """Keep the version that was there before the first edit, so it can be rolled back to."""
        if not await self.list(kind, name):
            await self.save(kind, name, content, "baseline")

    async def list(self, kind: str, name: str) -> list[Revision]:
        async with self.db.session() as s:
            q = select(Revision).where(
                Revision.business_id == self.business_id, Revision.kind == kind, Revision.name == name
            )
            return list((await s.execute(q.order_by(Revision.id.desc()))).scalars())

    async def get(self, kind: str, name: str, revision_id: int) -> Revision | None:
        async with self.db.session() as s:
            rev = await s.get(Revision, revision_id)
        if rev is None or (rev.business_id, rev.kind, rev.name) != (self.business_id, kind, name):
            return None
        return rev

    async def audit(self, actor: str, action: str, target: str = "", detail: dict[str, Any] | None = None) -> None:
        entry = AuditEntry(business_id=self.business_id, actor=actor[:120], action=action, target=target[:300],
                           detail=detail)
        async with self.db.transaction() as s:
            s.add(entry)

    async def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        async with self.db.session() as s:
            q = select(AuditEntry).where(AuditEntry.business_id == self.business_id)
            return list((await s.execute(q.order_by(AuditEntry.id.desc()).limit(limit))).scalars())


def revision_json(rev: Revision, *, content: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rev.id, "author": rev.author, "created_at": rev.created_at.isoformat()}
    if content:
        out["content"] = rev.content
    return out
