"""What `schedule_meeting` says: sentences from prompts/meeting.<lang>.yaml and date/time display.

Days and times are shown in the business time zone with the formats and
weekday names of the customer's language; calendar events are written in
the owner's language.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.models import Appointment
from tools.context import ToolContext


def say(ctx: ToolContext, key: str, **values: Any) -> str:
    return ctx.prompts.text(f"meeting.{key}", ctx.language, **values)


def say_slots(ctx: ToolContext, key: str, slots: list[datetime], **values: Any) -> str:
    if not slots:
        return say(ctx, "no_slots")
    return say(ctx, key, slots=_join(ctx, [display(ctx, s) for s in slots]), **values)


def _join(ctx: ToolContext, items: list[str]) -> str:
    if len(items) < 2:
        return "".join(items)
    sep, last = say(ctx, "separator"), say(ctx, "last_separator")
    return sep.join(items[:-1]) + last + items[-1]


def _parts(ctx: ToolContext, moment: datetime) -> dict[str, str]:
    local = moment.astimezone(ctx.config.tz)
    names = ctx.prompts.variants("meeting.weekdays", ctx.language)
    return {
        "weekday": names[local.weekday()] if len(names) == 7 else local.strftime("%A"),
        "dd": f"{local.day:02d}",
        "mo": f"{local.month:02d}",
        "yyyy": str(local.year),
        "h": str(local.hour),
        "hh": f"{local.hour:02d}",
        "mi": f"{local.minute:02d}",
        "h12": str(local.hour % 12 or 12),
        "ampm": "AM" if local.hour < 12 else "PM",
    }


def day_text(ctx: ToolContext, moment: datetime) -> str:
    return say(ctx, "day_format", **_parts(ctx, moment))


def _time_text(ctx: ToolContext, moment: datetime) -> str:
    return say(ctx, "time_format", **_parts(ctx, moment))


def display(ctx: ToolContext, moment: datetime) -> str:
    """ "martes 24/11 10:00", "Tuesday 11/24 10:00 AM"."""
    return say(ctx, "slot_format", day=day_text(ctx, moment), time=_time_text(ctx, moment))


def slots_data(ctx: ToolContext, slots: list[datetime]) -> list[dict[str, str]]:
    return [{"start": s.isoformat(), "display": display(ctx, s)} for s in slots]


def when_values(ctx: ToolContext, pending: dict[str, Any]) -> dict[str, str]:
    start = datetime.fromisoformat(pending["start"])
    values = {"day": day_text(ctx, start), "time": _time_text(ctx, start)}
    if pending.get("previous_start"):
        old = datetime.fromisoformat(pending["previous_start"])
        values |= {"old_day": day_text(ctx, old), "old_time": _time_text(ctx, old)}
    return values


def as_pending(row: Appointment) -> dict[str, Any]:
    return {"start": row.start.isoformat(), "end": row.end.isoformat()}


def offer(ctx: ToolContext, pending: dict[str, Any]) -> str:
    """The confirmation question for a proposed booking, move or cancellation."""
    values = when_values(ctx, pending)
    if pending["action"] == "cancel":
        return ctx.prompts.text("meeting.offer_cancel", ctx.language, **values)
    if pending["action"] == "reschedule":
        return ctx.prompts.text("meeting.offer_reschedule", ctx.language, **values)
    return ctx.prompts.text("meeting.offer", ctx.language, **values)


def decline(ctx: ToolContext, pending: dict[str, Any]) -> str:
    """What to say when the customer says no to the proposal."""
    if pending["action"] == "cancel":
        return ctx.prompts.text("meeting.declined_cancel", ctx.language, **when_values(ctx, pending))
    if pending["action"] == "reschedule":
        previous = {"start": pending["previous_start"]}
        return ctx.prompts.text("meeting.declined_reschedule", ctx.language, **when_values(ctx, previous))
    return ctx.prompts.text("meeting.declined", ctx.language)


def event_text(ctx: ToolContext, key: str, pending: dict[str, Any]) -> str:
    """Subject and body of the calendar event, in the owner's language."""
    lang = ctx.config.default_language
    unknown = ctx.prompts.text("meeting.unknown_value", lang)
    who = pending.get("name") or ctx.prompts.text("meeting.unknown_customer", lang)
    return ctx.prompts.text(
        f"meeting.{key}",
        lang,
        who=who,
        email=pending.get("email") or unknown,
        topic=pending.get("topic") or unknown,
        business=ctx.config.name,
        channel=ctx.channel,
        chat_id=ctx.chat_id,
    )
