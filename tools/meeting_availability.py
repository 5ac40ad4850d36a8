"""Free times to offer: for a request that named a day but no hour, or when the customer asks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from storage.models import Appointment
from tools.base import ToolOutcome
from tools.context import ToolContext
from tools.meeting_request import read_request_when
from tools.meeting_slots import SEARCH_AHEAD, earliest, free_slots, nearest
from tools.meeting_text import day_text, say, say_slots, slots_data
from tools.when import PART_WINDOWS, When


async def need_time(ctx: ToolContext, when: When | None, existing: Appointment | None) -> ToolOutcome:
    """The free times of the day the customer named (no hour yet), or a question for the day."""
    if when is None:
        return ToolOutcome({"status": "need_time", "say": say(ctx, "need_when")})
    tz = ctx.config.tz
    day_start = datetime.combine(when.day, datetime.min.time(), tzinfo=tz)
    slots = await free_slots(ctx, day_start, day_start + timedelta(days=1), exclude=existing)
    if when.part is not None:
        lo, hi = PART_WINDOWS[when.part]
        slots = [s for s in slots if lo <= s.astimezone(tz).time() < hi]
    day = day_text(ctx, day_start)
    data: dict[str, Any] = {"status": "need_time", "date": when.day.isoformat(), "part_of_day": when.part}
    if slots:
        slots = slots[: ctx.config.meeting.alternatives]
        data["say"] = say_slots(ctx, "need_time", slots, day=day)
    else:
        slots = await nearest(ctx, day_start + timedelta(hours=12), exclude=existing)
        data["say"] = say_slots(ctx, "day_full", slots, day=day)
    data["alternatives"] = slots_data(ctx, slots)
    return ToolOutcome(data)


async def availability(ctx: ToolContext, when_text: str | None) -> ToolOutcome:
    """Free times from the day (and part of day) the customer named, or from now."""
    when = await read_request_when(ctx, when_text)
    tz = ctx.config.tz
    if when is None:
        start = earliest(ctx)
    else:
        start = when.at(tz) or datetime.combine(
            when.day, PART_WINDOWS[when.part][0] if when.part else datetime.min.time(), tzinfo=tz
        )
    start = max(start, earliest(ctx))
    slots = (await free_slots(ctx, start, start + SEARCH_AHEAD))[: ctx.config.meeting.alternatives]
    return ToolOutcome(
        {"status": "available", "slots": slots_data(ctx, slots), "say": say_slots(ctx, "available", slots)}
    )
