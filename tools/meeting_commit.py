"""Carrying out a confirmed meeting action: book, move or cancel, calendar first.

The slot is re-checked (rules and busy times) at the moment of the yes; the
event is created or changed in the calendar and only then is the
Appointment row stored. If the calendar fails nothing is stored, and if the
row loses a race the calendar change is undone.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from storage.appointments import BOOKED
from storage.models import Appointment
from tools.calendars.base import Calendar, CalendarError
from tools.context import ToolContext
from tools.meeting_slots import appointments, busy, calendar, conflicts, earliest, nearest, unbookable
from tools.meeting_text import as_pending, event_text, say, say_slots, when_values

log = logging.getLogger(__name__)


async def commit(ctx: ToolContext, pending: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """Do what the customer confirmed; returns the sentence to send (and no follow-up action)."""
    if pending["action"] == "cancel":
        return await _commit_cancel(ctx, pending), None
    start, end = datetime.fromisoformat(pending["start"]), datetime.fromisoformat(pending["end"])
    repo = appointments(ctx)
    existing: Appointment | None = None
    if pending["action"] == "reschedule":
        existing = await repo.get(int(pending["appointment_id"]))
        if existing is None or existing.status != BOOKED:
            return say(ctx, "nothing_to_reschedule"), None
    elif await _already_booked(ctx, start, end):
        return _booked_text(ctx, pending), None  # a repeated yes: booked once

    if unbookable(ctx, start, end) is not None:
        alternatives = await nearest(ctx, max(start, earliest(ctx)), exclude=existing)
        return say_slots(ctx, "expired", alternatives), None
    try:
        taken = await busy(ctx, start, end, exclude=existing)
    except CalendarError as exc:
        log.warning("calendar unavailable at commit: %s", exc, extra={"conversation_id": ctx.conversation_id})
        key = "calendar_failed" if existing is None else "reschedule_failed"
        return say(ctx, key, **when_values(ctx, as_pending(existing) if existing else pending)), None
    if conflicts(start, end, taken):
        return await _taken(ctx, start, existing), None
    if existing is not None:
        return await _commit_reschedule(ctx, pending, existing, start, end), None
    return await _commit_book(ctx, pending, start, end), None


async def _commit_book(ctx: ToolContext, pending: dict[str, Any], start: datetime, end: datetime) -> str:
    cal = calendar(ctx)
    try:
        external_id = await cal.create(
            start=start,
            end=end,
            subject=event_text(ctx, "event_subject", pending),
            body=event_text(ctx, "event_body", pending),
            attendee_email=pending.get("email"),
            attendee_name=pending.get("name"),
        )
    except CalendarError as exc:
        log.warning("booking failed: %s", exc, extra={"conversation_id": ctx.conversation_id})
        return say(ctx, "calendar_failed")
    try:
        row = await appointments(ctx).add_if_free(
            start=start,
            end=end,
            conversation_id=ctx.conversation_id,
            topic=pending.get("topic") or "",
            attendee_name=pending.get("name"),
            attendee_email=pending.get("email"),
            calendar=cal.name,
            external_id=external_id,
        )
    except SQLAlchemyError:
        log.exception("storing the appointment failed", extra={"conversation_id": ctx.conversation_id})
        await _undo_create(cal, external_id)
        return say(ctx, "calendar_failed")
    if row is None:  # another conversation booked the slot a moment ago
        await _undo_create(cal, external_id)
        return await _taken(ctx, start, None)
    return _booked_text(ctx, pending)


async def _commit_reschedule(
    ctx: ToolContext, pending: dict[str, Any], existing: Appointment, start: datetime, end: datetime
) -> str:
    cal = calendar(ctx)
    external = existing.external_id if existing.calendar == cal.name else None
    old = as_pending(existing)
    if external:
        try:
            await cal.reschedule(external, start, end)
        except CalendarError as exc:
            log.warning("reschedule failed: %s", exc, extra={"conversation_id": ctx.conversation_id})
            return say(ctx, "reschedule_failed", **when_values(ctx, old))
    assert existing.id is not None
    if not await appointments(ctx).reschedule(existing.id, start, end):
        if external:
            try:  # put the event back where the stored appointment still is
                await cal.reschedule(external, existing.start, existing.end)
            except CalendarError:
                log.error(
                    "could not move event back after a lost race",
                    extra={"conversation_id": ctx.conversation_id},
                )
        return await _taken(ctx, start, existing)
    return ctx.prompts.text("meeting.rescheduled", ctx.language, **when_values(ctx, pending))


async def _commit_cancel(ctx: ToolContext, pending: dict[str, Any]) -> str:
    repo = appointments(ctx)
    row = await repo.get(int(pending["appointment_id"]))
    if row is None or row.status != BOOKED:
        return say(ctx, "already_cancelled")
    cal = calendar(ctx)
    if row.calendar == cal.name and row.external_id:
        try:
            await cal.cancel(row.external_id)
        except CalendarError as exc:
            log.warning("cancel failed: %s", exc, extra={"conversation_id": ctx.conversation_id})
            return say(ctx, "cancel_failed", **when_values(ctx, as_pending(row)))
    assert row.id is not None
    await repo.cancel(row.id)
    return ctx.prompts.text("meeting.cancelled", ctx.language, **when_values(ctx, as_pending(row)))


async def _taken(ctx: ToolContext, start: datetime, exclude: Appointment | None) -> str:
    alternatives = await nearest(ctx, start, exclude=exclude)
    if not alternatives:
        return say(ctx, "taken_no_slots")
    return say_slots(ctx, "taken", alternatives)


async def _undo_create(cal: Calendar, external_id: str) -> None:
    try:
        await cal.cancel(external_id)
    except CalendarError:
        log.error("an event was created but could not be removed after the booking failed")


async def _already_booked(ctx: ToolContext, start: datetime, end: datetime) -> bool:
    rows = await appointments(ctx).overlapping(start, end)
    return any(r.conversation_id == ctx.conversation_id and r.start == start and r.end == end for r in rows)


def _booked_text(ctx: ToolContext, pending: dict[str, Any]) -> str:
    values = when_values(ctx, pending)
    if pending.get("email") and calendar(ctx).name != "builtin":
        return ctx.prompts.text("meeting.booked_invite", ctx.language, email=pending["email"], **values)
    return ctx.prompts.text("meeting.booked", ctx.language, **values)
