"""`schedule_meeting`: propose, move or cancel a visit; only the customer's yes changes the calendar.

The model passes the customer's own words for the date and time; they are
read here (tools/when.py) in the business time zone, checked against
business hours, notice and horizon (config `meeting`) and against the
calendar's busy times (Outlook's free/busy, or the built-in appointments).
A free slot becomes the conversation's pending action; `MEETING_HANDLER`
commits it after an explicit yes: it re-checks the slot, creates the event
in the calendar and only then stores the Appointment row. If the calendar
fails, nothing is stored and the customer is told so.

Every result carries `say`: a ready sentence for the customer, from
prompts/meeting.<lang>.yaml.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta
from typing import Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from storage.appointments import BOOKED, AppointmentRepo
from storage.models import Appointment, Lead
from tools.base import PendingHandler, ToolOutcome, tool
from tools.calendars.base import Calendar, CalendarError, Interval
from tools.calendars.builtin import BuiltinCalendar
from tools.context import ToolContext
from tools.when import PART_WINDOWS, When, read_when

log = logging.getLogger(__name__)

SEARCH_BACK = timedelta(days=7)
SEARCH_AHEAD = timedelta(days=14)


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
            return await _propose_cancel(ctx)
        if args.action == "availability":
            return await _availability(ctx, args)
        return await _propose(ctx, args)
    except CalendarError as exc:
        log.warning("calendar unavailable: %s", exc, extra={"conversation_id": ctx.conversation_id})
        return ToolOutcome(
            {"status": "calendar_unavailable", "say": _say(ctx, "calendar_unavailable")}, ok=False
        )


# -- proposing -------------------------------------------------------------------


async def _propose(ctx: ToolContext, args: ScheduleMeetingArgs) -> ToolOutcome:
    existing: Appointment | None = None
    if args.action == "reschedule":
        existing = await _appointments(ctx).active_for_conversation(ctx.conversation_id, now=ctx.now)
        if existing is None:
            return ToolOutcome({"status": "nothing_to_reschedule", "say": _say(ctx, "nothing_to_reschedule")})

    when = await _read(ctx, args.when)
    if when is None or when.time is None:
        return await _need_time(ctx, when, existing)
    start = when.at(ctx.config.tz)
    assert start is not None
    end = start + _duration(ctx)
    requested = _display(ctx, start)

    reason = _unbookable(ctx, start, end)
    if reason is not None:
        around = {
            "too_soon": max(start, _earliest(ctx)),
            "too_far": datetime.combine(
                _last_day(ctx), start.astimezone(ctx.config.tz).time(), tzinfo=ctx.config.tz
            ),
        }.get(reason, start)
        alternatives = await _nearest(ctx, around, exclude=existing)
        data = {
            "status": "outside_hours",
            "reason": reason,
            "requested": start.isoformat(),
            "alternatives": _slots_data(ctx, alternatives),
            "say": _say_slots(
                ctx,
                reason,
                alternatives,
                requested=requested,
                minutes=ctx.config.meeting.min_notice_minutes,
                days=ctx.config.meeting.max_days_ahead,
            ),
        }
        return ToolOutcome(data)

    busy = await _busy(ctx, start, end, exclude=existing)
    if _conflicts(start, end, busy):
        alternatives = await _nearest(ctx, start, exclude=existing)
        return ToolOutcome(
            {
                "status": "busy",
                "requested": start.isoformat(),
                "alternatives": _slots_data(ctx, alternatives),
                "say": _say_slots(ctx, "busy", alternatives, requested=requested),
            }
        )

    name, email = await _attendee(ctx, args)
    pending: dict[str, Any] = {
        "kind": "meeting",
        "action": args.action,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "topic": (args.topic or "").strip(),
        "name": name,
        "email": email,
        "display": requested,
    }
    if existing is not None:
        pending["appointment_id"] = existing.id
        pending["previous_start"] = existing.start.isoformat()
        pending["previous_end"] = existing.end.isoformat()
    data = {
        "status": "proposed",
        "action": args.action,
        "start": pending["start"],
        "end": pending["end"],
        "display": requested,
        "say": offer(ctx, pending),
    }
    return ToolOutcome(data, pending=pending)


async def _need_time(ctx: ToolContext, when: When | None, existing: Appointment | None) -> ToolOutcome:
    if when is None:
        return ToolOutcome({"status": "need_time", "say": _say(ctx, "need_when")})
    tz = ctx.config.tz
    day_start = datetime.combine(when.day, datetime.min.time(), tzinfo=tz)
    slots = await _free_slots(ctx, day_start, day_start + timedelta(days=1), exclude=existing)
    if when.part is not None:
        lo, hi = PART_WINDOWS[when.part]
        slots = [s for s in slots if lo <= s.astimezone(tz).time() < hi]
    day = _day(ctx, day_start)
    data: dict[str, Any] = {"status": "need_time", "date": when.day.isoformat(), "part_of_day": when.part}
    if slots:
        slots = slots[: ctx.config.meeting.alternatives]
        data["say"] = _say_slots(ctx, "need_time", slots, day=day)
    else:
        slots = await _nearest(ctx, day_start + timedelta(hours=12), exclude=existing)
        data["say"] = _say_slots(ctx, "day_full", slots, day=day)
    data["alternatives"] = _slots_data(ctx, slots)
    return ToolOutcome(data)


async def _availability(ctx: ToolContext, args: ScheduleMeetingArgs) -> ToolOutcome:
    when = await _read(ctx, args.when)
    tz = ctx.config.tz
    if when is None:
        start = _earliest(ctx)
    else:
        start = when.at(tz) or datetime.combine(
            when.day, PART_WINDOWS[when.part][0] if when.part else datetime.min.time(), tzinfo=tz
        )
    start = max(start, _earliest(ctx))
    slots = (await _free_slots(ctx, start, start + SEARCH_AHEAD))[: ctx.config.meeting.alternatives]
    return ToolOutcome(
        {"status": "available", "slots": _slots_data(ctx, slots), "say": _say_slots(ctx, "available", slots)}
    )


async def _propose_cancel(ctx: ToolContext) -> ToolOutcome:
    existing = await _appointments(ctx).active_for_conversation(ctx.conversation_id, now=ctx.now)
    if existing is None:
        return ToolOutcome({"status": "nothing_to_cancel", "say": _say(ctx, "nothing_to_cancel")})
    pending = {
        "kind": "meeting",
        "action": "cancel",
        "appointment_id": existing.id,
        "start": existing.start.isoformat(),
        "end": existing.end.isoformat(),
        "topic": existing.topic,
        "display": _display(ctx, existing.start),
    }
    data = {
        "status": "confirm_cancel",
        "appointment_id": existing.id,
        "start": pending["start"],
        "display": pending["display"],
        "say": offer(ctx, pending),
    }
    return ToolOutcome(data, pending=pending)


# -- the pending action -------------------------------------------------------------


def offer(ctx: ToolContext, pending: dict[str, Any]) -> str:
    values = _when_values(ctx, pending)
    if pending["action"] == "cancel":
        return ctx.prompts.text("meeting.offer_cancel", ctx.language, **values)
    if pending["action"] == "reschedule":
        return ctx.prompts.text("meeting.offer_reschedule", ctx.language, **values)
    return ctx.prompts.text("meeting.offer", ctx.language, **values)


async def commit(ctx: ToolContext, pending: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    if pending["action"] == "cancel":
        return await _commit_cancel(ctx, pending), None
    start, end = datetime.fromisoformat(pending["start"]), datetime.fromisoformat(pending["end"])
    repo = _appointments(ctx)
    existing: Appointment | None = None
    if pending["action"] == "reschedule":
        existing = await repo.get(int(pending["appointment_id"]))
        if existing is None or existing.status != BOOKED:
            return _say(ctx, "nothing_to_reschedule"), None
    elif await _already_booked(ctx, start, end):
        return _booked_text(ctx, pending), None  # a repeated yes: booked once

    if _unbookable(ctx, start, end) is not None:
        alternatives = await _nearest(ctx, max(start, _earliest(ctx)), exclude=existing)
        return _say_slots(ctx, "expired", alternatives), None
    try:
        busy = await _busy(ctx, start, end, exclude=existing)
    except CalendarError as exc:
        log.warning("calendar unavailable at commit: %s", exc, extra={"conversation_id": ctx.conversation_id})
        key = "calendar_failed" if existing is None else "reschedule_failed"
        return _say(ctx, key, **_when_values(ctx, _as_pending(existing) if existing else pending)), None
    if _conflicts(start, end, busy):
        return await _taken(ctx, start, existing), None
    if existing is not None:
        return await _commit_reschedule(ctx, pending, existing, start, end), None
    return await _commit_book(ctx, pending, start, end), None


def decline(ctx: ToolContext, pending: dict[str, Any]) -> str:
    if pending["action"] == "cancel":
        return ctx.prompts.text("meeting.declined_cancel", ctx.language, **_when_values(ctx, pending))
    if pending["action"] == "reschedule":
        previous = {"start": pending["previous_start"]}
        return ctx.prompts.text("meeting.declined_reschedule", ctx.language, **_when_values(ctx, previous))
    return ctx.prompts.text("meeting.declined", ctx.language)


MEETING_HANDLER = PendingHandler(kind="meeting", offer=offer, commit=commit, decline=decline)


async def _commit_book(ctx: ToolContext, pending: dict[str, Any], start: datetime, end: datetime) -> str:
    cal = _calendar(ctx)
    try:
        external_id = await cal.create(
            start=start,
            end=end,
            subject=_event_text(ctx, "event_subject", pending),
            body=_event_text(ctx, "event_body", pending),
            attendee_email=pending.get("email"),
            attendee_name=pending.get("name"),
        )
    except CalendarError as exc:
        log.warning("booking failed: %s", exc, extra={"conversation_id": ctx.conversation_id})
        return _say(ctx, "calendar_failed")
    try:
        row = await _appointments(ctx).add_if_free(
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
        return _say(ctx, "calendar_failed")
    if row is None:  # another conversation booked the slot a moment ago
        await _undo_create(cal, external_id)
        return await _taken(ctx, start, None)
    return _booked_text(ctx, pending)


async def _commit_reschedule(
    ctx: ToolContext, pending: dict[str, Any], existing: Appointment, start: datetime, end: datetime
) -> str:
    cal = _calendar(ctx)
    external = existing.external_id if existing.calendar == cal.name else None
    old = _as_pending(existing)
    if external:
        try:
            await cal.reschedule(external, start, end)
        except CalendarError as exc:
            log.warning("reschedule failed: %s", exc, extra={"conversation_id": ctx.conversation_id})
            return _say(ctx, "reschedule_failed", **_when_values(ctx, old))
    assert existing.id is not None
    if not await _appointments(ctx).reschedule(existing.id, start, end):
        if external:
            try:  # put the event back where the stored appointment still is
                await cal.reschedule(external, existing.start, existing.end)
            except CalendarError:
                log.error(
                    "could not move event back after a lost race",
                    extra={"conversation_id": ctx.conversation_id},
                )
        return await _taken(ctx, start, existing)
    return ctx.prompts.text("meeting.rescheduled", ctx.language, **_when_values(ctx, pending))


async def _commit_cancel(ctx: ToolContext, pending: dict[str, Any]) -> str:
    repo = _appointments(ctx)
    row = await repo.get(int(pending["appointment_id"]))
    if row is None or row.status != BOOKED:
        return _say(ctx, "already_cancelled")
    cal = _calendar(ctx)
    if row.calendar == cal.name and row.external_id:
        try:
            await cal.cancel(row.external_id)
        except CalendarError as exc:
            log.warning("cancel failed: %s", exc, extra={"conversation_id": ctx.conversation_id})
            return _say(ctx, "cancel_failed", **_when_values(ctx, _as_pending(row)))
    assert row.id is not None
    await repo.cancel(row.id)
    return ctx.prompts.text("meeting.cancelled", ctx.language, **_when_values(ctx, _as_pending(row)))


async def _taken(ctx: ToolContext, start: datetime, exclude: Appointment | None) -> str:
    alternatives = await _nearest(ctx, start, exclude=exclude)
    if not alternatives:
        return _say(ctx, "taken_no_slots")
    return _say_slots(ctx, "taken", alternatives)


async def _undo_create(cal: Calendar, external_id: str) -> None:
    try:
        await cal.cancel(external_id)
    except CalendarError:
        log.error("an event was created but could not be removed after the booking failed")


async def _already_booked(ctx: ToolContext, start: datetime, end: datetime) -> bool:
    rows = await _appointments(ctx).overlapping(start, end)
    return any(r.conversation_id == ctx.conversation_id and r.start == start and r.end == end for r in rows)


def _booked_text(ctx: ToolContext, pending: dict[str, Any]) -> str:
    values = _when_values(ctx, pending)
    if pending.get("email") and _calendar(ctx).name != "builtin":
        return ctx.prompts.text("meeting.booked_invite", ctx.language, email=pending["email"], **values)
    return ctx.prompts.text("meeting.booked", ctx.language, **values)


# -- slots and rules ------------------------------------------------------------------


def _calendar(ctx: ToolContext) -> Calendar:
    return ctx.services.calendar or BuiltinCalendar(ctx.repos.db, ctx.repos.business_id)


def _appointments(ctx: ToolContext) -> AppointmentRepo:
    return AppointmentRepo(ctx.repos.db, ctx.repos.business_id)


def _duration(ctx: ToolContext) -> timedelta:
    return timedelta(minutes=ctx.config.meeting.duration_minutes)


def _earliest(ctx: ToolContext) -> datetime:
    return ctx.now.astimezone(ctx.config.tz) + timedelta(minutes=ctx.config.meeting.min_notice_minutes)


def _last_day(ctx: ToolContext) -> date:
    return ctx.now.astimezone(ctx.config.tz).date() + timedelta(days=ctx.config.meeting.max_days_ahead)


def _within_hours(ctx: ToolContext, start: datetime, end: datetime) -> bool:
    tz = ctx.config.tz
    a, b = start.astimezone(tz), end.astimezone(tz)
    if a.date() != b.date():
        return False
    return any(
        opens <= a.time() and b.time() <= closes for opens, closes in ctx.config.opening_ranges(a.weekday())
    )


def _unbookable(ctx: ToolContext, start: datetime, end: datetime) -> str | None:
    """Why a time cannot be booked regardless of the calendar: closed, too_soon or too_far."""
    if start < _earliest(ctx):
        return "too_soon"
    if start.astimezone(ctx.config.tz).date() > _last_day(ctx):
        return "too_far"
    if not _within_hours(ctx, start, end):
        return "closed"
    return None


def _candidates(ctx: ToolContext, lo: datetime, hi: datetime) -> list[datetime]:
    """Slot starts within business hours, every `slot_step_minutes`, with the whole slot in [lo, hi]."""
    tz, step, length = ctx.config.tz, timedelta(minutes=ctx.config.meeting.slot_step_minutes), _duration(ctx)
    out: list[datetime] = []
    day, last = lo.astimezone(tz).date(), min(hi.astimezone(tz).date(), _last_day(ctx))
    while day <= last:
        for opens, closes in ctx.config.opening_ranges(day.weekday()):
            t = datetime.combine(day, opens, tzinfo=tz)
            close = datetime.combine(day, closes, tzinfo=tz)
            while t + length <= close:
                if t >= lo and t + length <= hi:
                    out.append(t)
                t += step
        day += timedelta(days=1)
    return out


async def _busy(
    ctx: ToolContext, start: datetime, end: datetime, *, exclude: Appointment | None = None
) -> list[Interval]:
    """Busy intervals from the calendar plus our own bookings, minus the appointment being moved."""
    cal = _calendar(ctx)
    intervals = list(await cal.busy(start, end))
    if cal.name != "builtin":  # our rows cover events the calendar may not show yet
        intervals += [(r.start, r.end) for r in await _appointments(ctx).overlapping(start, end)]
    if exclude is not None:
        intervals = [(a, b) for a, b in intervals if not (a == exclude.start and b == exclude.end)]
    return sorted(intervals)


def _conflicts(start: datetime, end: datetime, busy: list[Interval]) -> bool:
    return any(a < end and b > start for a, b in busy)


async def _free_slots(
    ctx: ToolContext, lo: datetime, hi: datetime, *, exclude: Appointment | None = None
) -> list[datetime]:
    lo = max(lo, _earliest(ctx))
    if hi <= lo:
        return []
    candidates = _candidates(ctx, lo, hi)
    if not candidates:
        return []
    length = _duration(ctx)
    busy = await _busy(ctx, candidates[0], candidates[-1] + length, exclude=exclude)
    return [c for c in candidates if not _conflicts(c, c + length, busy)]


async def _nearest(
    ctx: ToolContext, around: datetime, *, exclude: Appointment | None = None
) -> list[datetime]:
    """The `meeting.alternatives` free slots closest to `around`, in time order."""
    free = await _free_slots(ctx, around - SEARCH_BACK, around + SEARCH_AHEAD, exclude=exclude)
    best = sorted(free, key=lambda s: (abs(s - around), s))[: ctx.config.meeting.alternatives]
    return sorted(best)


# -- words ------------------------------------------------------------------------------


async def _read(ctx: ToolContext, text: str | None) -> When | None:
    if not text or not text.strip():
        return None
    others = [lang for lang in ctx.config.languages if lang != ctx.language]
    languages = (ctx.language, *others)
    return await asyncio.to_thread(read_when, text, now=ctx.now, tz=ctx.config.tz, languages=languages)


async def _attendee(ctx: ToolContext, args: ScheduleMeetingArgs) -> tuple[str | None, str | None]:
    """Name and email: the model's arguments first, then the conversation's lead."""
    email = _valid_email(args.email)
    name = (args.name or "").strip() or None
    if email is None or name is None:
        async with ctx.repos.db.session() as s:
            lead = (
                await s.execute(
                    select(Lead).where(
                        Lead.business_id == ctx.repos.business_id, Lead.conversation_id == ctx.conversation_id
                    )
                )
            ).scalar_one_or_none()
        if lead is not None:
            email = email or _valid_email(lead.email)
            name = name or lead.name
    return name or ctx.customer_name, email


def _valid_email(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _say(ctx: ToolContext, key: str, **values: Any) -> str:
    return ctx.prompts.text(f"meeting.{key}", ctx.language, **values)


def _say_slots(ctx: ToolContext, key: str, slots: list[datetime], **values: Any) -> str:
    if not slots:
        return _say(ctx, "no_slots")
    return _say(ctx, key, slots=_join(ctx, [_display(ctx, s) for s in slots]), **values)


def _join(ctx: ToolContext, items: list[str]) -> str:
    if len(items) < 2:
        return "".join(items)
    sep, last = _say(ctx, "separator"), _say(ctx, "last_separator")
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


def _day(ctx: ToolContext, moment: datetime) -> str:
    return _say(ctx, "day_format", **_parts(ctx, moment))


def _time(ctx: ToolContext, moment: datetime) -> str:
    return _say(ctx, "time_format", **_parts(ctx, moment))


def _display(ctx: ToolContext, moment: datetime) -> str:
    """ "martes 24/11 10:00", "Tuesday 11/24 10:00 AM"."""
    return _say(ctx, "slot_format", day=_day(ctx, moment), time=_time(ctx, moment))


def _slots_data(ctx: ToolContext, slots: list[datetime]) -> list[dict[str, str]]:
    return [{"start": s.isoformat(), "display": _display(ctx, s)} for s in slots]


def _when_values(ctx: ToolContext, pending: dict[str, Any]) -> dict[str, str]:
    start = datetime.fromisoformat(pending["start"])
    values = {"day": _day(ctx, start), "time": _time(ctx, start)}
    if pending.get("previous_start"):
        old = datetime.fromisoformat(pending["previous_start"])
        values |= {"old_day": _day(ctx, old), "old_time": _time(ctx, old)}
    return values


def _as_pending(row: Appointment) -> dict[str, Any]:
    return {"start": row.start.isoformat(), "end": row.end.isoformat()}


def _event_text(ctx: ToolContext, key: str, pending: dict[str, Any]) -> str:
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
