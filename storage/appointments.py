"""Appointments: the visits and calls booked through `schedule_meeting`.

Times go in and come out timezone-aware. They are stored in UTC: SQLite
keeps no offset (a local time would be read back as another moment), and
PostgreSQL's timestamptz does not care. `add_if_free` checks for an
overlapping booking and inserts in one transaction, so two customers
confirming the same slot at once cannot both get it.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text, update

from storage.db import Database
from storage.models import Appointment

BOOKED = "booked"
CANCELLED = "cancelled"


def to_utc(value: datetime) -> datetime:
    """An aware datetime in UTC (a naive one is taken as UTC already)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _aware(row: Appointment) -> Appointment:
    row.start, row.end = to_utc(row.start), to_utc(row.end)
    return row


class AppointmentRepo:
    def __init__(self, db: Database, business_id: str) -> None:
        self.db = db
        self.business_id = business_id

    def _new(self, start: datetime, end: datetime, **fields: Any) -> Appointment:
        if end <= start:
            raise ValueError("an appointment must end after it starts")
        return Appointment(business_id=self.business_id, start=to_utc(start), end=to_utc(end), **fields)

    async def add(self, *, start: datetime, end: datetime, **fields: Any) -> Appointment:
        """Insert an appointment (status `booked` unless given) without checking conflicts."""
        row = self._new(start, end, **fields)
        async with self.db.transaction() as s:
            s.add(row)
        return _aware(row)

    async def add_if_free(
        self, *, start: datetime, end: datetime, exclude_id: int | None = None, **fields: Any
    ) -> Appointment | None:
        """Insert unless a booked appointment overlaps [start, end); None when taken."""
        row = self._new(start, end, **fields)
        async with self.db.transaction() as s:
            await self._lock(s)
            if await self._overlaps(s, row.start, row.end, exclude_id):
                return None
            s.add(row)
        return _aware(row)

    async def get(self, appointment_id: int) -> Appointment | None:
        async with self.db.session() as s:
            row = await s.get(Appointment, appointment_id)
        if row is None or row.business_id != self.business_id:
            return None
        return _aware(row)

    async def list(
        self,
        conversation_id: int | None = None,
        since: datetime | None = None,
        status: str | None = None,
    ) -> list[Appointment]:
        """Appointments by start time; `since` filters on the start."""
        q = select(Appointment).where(Appointment.business_id == self.business_id)
        if conversation_id is not None:
            q = q.where(Appointment.conversation_id == conversation_id)
        if since is not None:
            q = q.where(Appointment.start >= to_utc(since))
        if status is not None:
            q = q.where(Appointment.status == status)
        async with self.db.session() as s:
            rows = (await s.execute(q.order_by(Appointment.start, Appointment.id))).scalars()
            return [_aware(r) for r in rows]

    async def active_for_conversation(
        self, conversation_id: int, *, now: datetime | None = None
    ) -> Appointment | None:
        """The most recently booked appointment of a conversation that has not started yet."""
        moment = to_utc(now or datetime.now(UTC))
        q = (
            select(Appointment)
            .where(
                Appointment.business_id == self.business_id,
                Appointment.conversation_id == conversation_id,
                Appointment.status == BOOKED,
                Appointment.start > moment,
            )
            .order_by(Appointment.id.desc())
            .limit(1)
        )
        async with self.db.session() as s:
            row = (await s.execute(q)).scalar_one_or_none()
        return _aware(row) if row else None

    async def cancel(self, appointment_id: int) -> bool:
        """Mark a booked appointment cancelled; False if it was not booked."""
        async with self.db.transaction() as s:
            result = await s.execute(
                update(Appointment)
                .where(
                    Appointment.id == appointment_id,
                    Appointment.business_id == self.business_id,
                    Appointment.status == BOOKED,
                )
                .values(status=CANCELLED)
                .execution_options(synchronize_session=False)
            )
        return result.rowcount == 1

    async def reschedule(self, appointment_id: int, start: datetime, end: datetime) -> bool:
        """Move a booked appointment, unless another booking overlaps the new time; True if moved."""
        if end <= start:
            raise ValueError("an appointment must end after it starts")
        start, end = to_utc(start), to_utc(end)
        async with self.db.transaction() as s:
            await self._lock(s)
            if await self._overlaps(s, start, end, appointment_id):
                return False
            result = await s.execute(
                update(Appointment)
                .where(
                    Appointment.id == appointment_id,
                    Appointment.business_id == self.business_id,
                    Appointment.status == BOOKED,
                )
                .values(start=start, end=end)
                .execution_options(synchronize_session=False)
            )
        return result.rowcount == 1

    async def overlapping(
        self, start: datetime, end: datetime, *, exclude_id: int | None = None
    ) -> list[Appointment]:
        """Booked appointments that overlap [start, end)."""
        async with self.db.session() as s:
            rows = await self._overlaps(s, to_utc(start), to_utc(end), exclude_id, first_only=False)
        return [_aware(r) for r in rows]

    # -- internals -------------------------------------------------------------

    async def _overlaps(
        self, s: Any, start: datetime, end: datetime, exclude_id: int | None, *, first_only: bool = True
    ) -> list[Appointment]:
        q = select(Appointment).where(
            Appointment.business_id == self.business_id,
            Appointment.status == BOOKED,
            Appointment.start < end,
            Appointment.end > start,
        )
        if exclude_id is not None:
            q = q.where(Appointment.id != exclude_id)
        if first_only:
            q = q.limit(1)
        return list((await s.execute(q.order_by(Appointment.start))).scalars())

    async def _lock(self, s: Any) -> None:
        """Serialise check-then-insert: SQLite already holds the write lock; PostgreSQL takes an advisory one."""
        if self.db.is_sqlite:
            return
        key = zlib.crc32(f"appointments:{self.business_id}".encode())
        await s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
