"""`schedule_meeting`: propose, move or cancel a visit; only the customer's yes changes the calendar.

The model passes the customer's own words for the date and time; they are
read here (tools/when.py) in the business time zone, checked against
business hours, notice and horizon (config `meeting`) and against the
calendar's busy times (Outlook's free/busy, or the built-in appointments;
tools/meeting_slots.py). A free slot becomes the conversation's pending
action (tools/meeting_propose.py); `MEETING_HANDLER` commits it after an
explicit yes (tools/meeting_commit.py): it re-checks the slot, creates the
event in the calendar and only then stores the Appointment row. If the
calendar fails, nothing is stored and the customer is told so.

Every result carries `say`: a ready sentence for the customer, from
prompts/meeting.<lang>.yaml (tools/meeting_text.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from tools.base import PendingHandler, Tool, ToolOutcome, tool
from tools.calendars.base import CalendarError
from tools.context import ToolContext
from tools.meeting_availability import availability
from tools.meeting_commit import commit
from tools.meeting_propose import propose, propose_cancel
from tools.meeting_request import read_request_when
from tools.meeting_text import decline, offer, say

if TYPE_CHECKING:
    from agent.offline.compose import Composer
    from agent.offline.turn import ToolResult

log = logging.getLogger(__name__)


class ScheduleMeetingArgs(BaseModel):
    action: Literal["book", "reschedule", "cancel", "availability"] = Field(
        "book",
        description="book a new visit, reschedule (move) the customer's booked visit, cancel it, "
        "or list availability (free times)",
    )
    when: str | None = Field(
        None,
        description="The customer's own words for the date and time, unchanged "
        "(e.g. 'el martes a las 10', 'mañana 3pm', 'next friday at 9:30')",
    )
    topic: str | None = Field(None, description="What the visit is about, in a few words")
    name: str | None = Field(None, description="The customer's name, if they gave it")
    email: str | None = Field(None, description="The customer's email, if they gave it, for the invitation")


@tool
async def schedule_meeting(args: ScheduleMeetingArgs, ctx: ToolContext) -> ToolOutcome:
    """Book, move or cancel a visit or call with the business, or list free times.

    Put the customer's words for the date and time in `when` exactly as they
    wrote them; the server reads them in the business time zone and checks
    business hours and the calendar. Nothing is booked here: a free time
    becomes a proposal the customer must confirm with an explicit yes.
    Result `status`: proposed (a confirmation question is sent),
    need_time (ask for the day or hour), outside_hours or busy (offer the
    listed `alternatives`), confirm_cancel, nothing_to_cancel,
    nothing_to_reschedule, available (free `slots`), calendar_unavailable.
    `say` is a ready sentence for the customer.
    """
    try:
        if args.action == "cancel":
            return await propose_cancel(ctx)
        if args.action == "availability":
            when = await read_request_when(ctx, args.when) if args.when else None
            if when is None or when.time is None:
                return await availability(ctx, args.when)
            # "¿tienen lugar el sábado a las 11:30?": that exact time, proposed when it is free
            return await propose(ctx, "book", args.when, topic=args.topic, name=args.name, email=args.email)
        return await propose(ctx, args.action, args.when, topic=args.topic, name=args.name, email=args.email)
    except CalendarError as exc:
        log.warning("calendar unavailable: %s", exc, extra={"conversation_id": ctx.conversation_id})
        return ToolOutcome(
            {"status": "calendar_unavailable", "say": say(ctx, "calendar_unavailable")}, ok=False
        )


MEETING_HANDLER = PendingHandler(kind="meeting", offer=offer, commit=commit, decline=decline)


def _asks(data: dict[str, Any]) -> dict[str, Any] | None:
    """A proposal awaits a yes; a slot that is not free, or none given, asks for a day and time."""
    status = data.get("status")
    if status in ("proposed", "confirm_cancel"):
        return {"kind": "yes_no", "about": "meeting"}
    if status in ("need_time", "busy", "outside_hours", "available"):
        asked: dict[str, Any] = {"kind": "day_time", "about": "meeting"}
        offered = [s for s in data.get("slots") or data.get("alternatives") or [] if isinstance(s, dict)]
        day = data.get("date") or str(data.get("requested") or "")[:10] or (
            str(offered[0].get("start") or "")[:10] if offered else "")
        if day:  # the day being arranged: "entonces a las 17:30" is on it
            asked["date"] = day
        if data.get("requested"):
            asked["time"] = str(data["requested"])[11:16]
        return asked
    return None


def _words(c: Composer, result: ToolResult) -> str:
    return c.say.meeting(result.data or {})


UNIT = Tool(schedule_meeting, awaiting=MEETING_HANDLER, asks=_asks, words=_words)
