"""Turning a meeting request into a proposal: book, move or cancel, pending the customer's yes.

Nothing here changes the calendar: a free slot (or a cancellation) becomes
the conversation's pending action, which tools/meeting_commit.py carries out
after the customer's explicit yes. A time that cannot be booked gets the
nearest free alternatives instead; a day without an hour, the day's free
times (tools/meeting_availability.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from storage.models import Appointment
from tools.base import ToolOutcome
from tools.context import ToolContext
from tools.meeting_availability import need_time
from tools.meeting_request import attendee, read_request_when
from tools.meeting_slots import (
    appointments,
    busy,
    conflicts,
    duration,
    earliest,
    last_day,
    nearest,
    unbookable,
)
from tools.meeting_text import display, offer, say, say_slots, slots_data


async def propose(
    ctx: ToolContext,
    action: str,
    when_text: str | None,
    *,
    topic: str | None,
    name: str | None,
    email: str | None,
) -> ToolOutcome:
    """Book (`action` "book") or move ("reschedule") a visit at the time the customer asked for."""
    existing: Appointment | None = None
    if action == "reschedule":
        existing = await appointments(ctx).active_for_conversation(ctx.conversation_id, now=ctx.now)
        if existing is None and not when_text:
            return ToolOutcome({"status": "nothing_to_reschedule", "say": say(ctx, "nothing_to_reschedule")})
        # Nothing booked to move, but a time asked for ("¿puedo pasar el jueves a las 10?"): a booking.
        action = action if existing is not None else "book"

    when = await read_request_when(ctx, when_text)
    if when is not None and when.time is None and when.part is None and existing is not None:
        # a booked meeting moved to another day ("¿la pasamos al miércoles?") keeps its hour
        when = replace(when, time=existing.start.astimezone(ctx.config.tz).time().replace(tzinfo=None))
    if when is None or when.time is None:
        return await need_time(ctx, when, existing)
    start = when.at(ctx.config.tz)
    assert start is not None
    end = start + duration(ctx)
    requested = display(ctx, start)

    reason = unbookable(ctx, start, end)
    if reason is not None:
        around = {
            "too_soon": max(start, earliest(ctx)),
            "too_far": datetime.combine(
                last_day(ctx), start.astimezone(ctx.config.tz).time(), tzinfo=ctx.config.tz
            ),
        }.get(reason, start)
        alternatives = await nearest(ctx, around, exclude=existing)
        data = {
            "status": "outside_hours",
            "reason": reason,
            "requested": start.isoformat(),
            "alternatives": slots_data(ctx, alternatives),
            "say": say_slots(
                ctx,
                reason,
                alternatives,
                requested=requested,
                minutes=ctx.config.meeting.min_notice_minutes,
                days=ctx.config.meeting.max_days_ahead,
            ),
        }
        return ToolOutcome(data)

    if conflicts(start, end, await busy(ctx, start, end, exclude=existing)):
        alternatives = await nearest(ctx, start, exclude=existing)
        return ToolOutcome(
            {
                "status": "busy",
                "requested": start.isoformat(),
                "alternatives": slots_data(ctx, alternatives),
                "say": say_slots(ctx, "busy", alternatives, requested=requested),
            }
        )

    who, address = await attendee(ctx, name, email)
    pending: dict[str, Any] = {
        "kind": "meeting",
        "action": action,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "topic": (topic or "").strip(),
        "name": who,
        "email": address,
        "display": requested,
    }
    if existing is not None:
        pending["appointment_id"] = existing.id
        pending["previous_start"] = existing.start.isoformat()
        pending["previous_end"] = existing.end.isoformat()
    data = {
        "status": "proposed",
        "action": action,
        "start": pending["start"],
        "end": pending["end"],
        "display": requested,
        "say": offer(ctx, pending),
    }
    return ToolOutcome(data, pending=pending)


async def propose_cancel(ctx: ToolContext) -> ToolOutcome:
    """Ask to confirm cancelling the conversation's booked visit."""
    existing = await appointments(ctx).active_for_conversation(ctx.conversation_id, now=ctx.now)
    if existing is None:
        return ToolOutcome({"status": "nothing_to_cancel", "say": say(ctx, "nothing_to_cancel")})
    pending = {
        "kind": "meeting",
        "action": "cancel",
        "appointment_id": existing.id,
        "start": existing.start.isoformat(),
        "end": existing.end.isoformat(),
        "topic": existing.topic,
        "display": display(ctx, existing.start),
    }
    data = {
        "status": "confirm_cancel",
        "appointment_id": existing.id,
        "start": pending["start"],
        "display": pending["display"],
        "say": offer(ctx, pending),
    }
    return ToolOutcome(data, pending=pending)
