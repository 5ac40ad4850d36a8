"""The built-in calendar: the business's own `appointments` table.

With no Outlook configured, the Appointment row written on confirmation is
the booking itself, so creating, moving or cancelling an "event" here has
nothing external to do: `create` only hands out an id to store.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from storage.appointments import AppointmentRepo
from storage.db import Database
from tools.calendars.base import Interval


class BuiltinCalendar:
    name = "builtin"

    def __init__(self, db: Database, business_id: str) -> None:
        self.appointments = AppointmentRepo(db, business_id)

    async def busy(self, start: datetime, end: datetime) -> list[Interval]:
        rows = await self.appointments.overlapping(start, end)
        return [(r.start, r.end) for r in rows]

    async def create(
        self,
        *,
        start: datetime,
        end: datetime,
        subject: str,
        body: str,
        attendee_email: str | None,
        attendee_name: str | None,
    ) -> str:
        return f"builtin-{uuid.uuid4().hex}"

    async def cancel(self, external_id: str) -> None:
        return None

    async def reschedule(self, external_id: str, start: datetime, end: datetime) -> None:
        return None
