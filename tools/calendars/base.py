"""The calendar contract `schedule_meeting` books through.

A calendar answers when the business is busy and creates, moves and
cancels events. Every failure it cannot recover from (after its own
retries) is a `CalendarError`, so the tool can say honestly that nothing
was booked instead of pretending.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

Interval = tuple[datetime, datetime]


class CalendarError(Exception):
    """The calendar could not do what was asked; nothing was changed on its side."""


@runtime_checkable
class Calendar(Protocol):
    """A business calendar. All datetimes are timezone-aware."""

    name: str  # stored in Appointment.calendar: "builtin" | "outlook"

    async def busy(self, start: datetime, end: datetime) -> list[Interval]:
        """Busy intervals overlapping [start, end), sorted by start."""
        ...

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
        """Create an event and return its id in this calendar."""
        ...

    async def cancel(self, external_id: str) -> None:
        """Remove an event; an event that is already gone is not an error."""
        ...

    async def reschedule(self, external_id: str, start: datetime, end: datetime) -> None:
        """Move an event to a new time."""
        ...
