"""When a visit can be booked: business hours, notice and horizon rules, and the search for free slots.

Rules come from the config (`meeting`, opening hours) in the business time
zone; busy times from the calendar (Outlook's free/busy, or the built-in
appointments) plus our own bookings.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from storage.appointments import AppointmentRepo
from storage.models import Appointment
from tools.calendars.base import Calendar, Interval
from tools.calendars.builtin import BuiltinCalendar
from tools.context import ToolContext

SEARCH_BACK = timedelta(days=7)
SEARCH_AHEAD = timedelta(days=14)


def calendar(ctx: ToolContext) -> Calendar:
    return ctx.services.calendar or BuiltinCalendar(ctx.repos.db, ctx.repos.business_id)


def appointments(ctx: ToolContext) -> AppointmentRepo:
    return AppointmentRepo(ctx.repos.db, ctx.repos.business_id)


def duration(ctx: ToolContext) -> timedelta:
    return timedelta(minutes=ctx.config.meeting.duration_minutes)


def earliest(ctx: ToolContext) -> datetime:
    return ctx.now.astimezone(ctx.config.tz) + timedelta(minutes=ctx.config.meeting.min_notice_minutes)


def last_day(ctx: ToolContext) -> date:
    return ctx.now.astimezone(ctx.config.tz).date() + timedelta(days=ctx.config.meeting.max_days_ahead)


def _within_hours(ctx: ToolContext, start: datetime, end: datetime) -> bool:
    tz = ctx.config.tz
    a, b = start.astimezone(tz), end.astimezone(tz)
    if a.date() != b.date():
        return False
    return any(
        opens <= a.time() and b.time() <= closes for opens, closes in ctx.config.opening_ranges(a.weekday())
    )


def unbookable(ctx: ToolContext, start: datetime, end: datetime) -> str | None:
    """Why a time cannot be booked regardless of the calendar: closed, too_soon or too_far."""
    if start < earliest(ctx):
        return "too_soon"
    if start.astimezone(ctx.config.tz).date() > last_day(ctx):
        return "too_far"
    if not _within_hours(ctx, start, end):
        return "closed"
    return None


def _candidates(ctx: ToolContext, lo: datetime, hi: datetime) -> list[datetime]:
    """Slot starts within business hours, every `slot_step_minutes`, with the whole slot in [lo, hi]."""
    tz, step, length = ctx.config.tz, timedelta(minutes=ctx.config.meeting.slot_step_minutes), duration(ctx)
    out: list[datetime] = []
    day, last = lo.astimezone(tz).date(), min(hi.astimezone(tz).date(), last_day(ctx))
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


async def busy(
    ctx: ToolContext, start: datetime, end: datetime, *, exclude: Appointment | None = None
) -> list[Interval]:
    """Busy intervals from the calendar plus our own bookings, minus the appointment being moved."""
    cal = calendar(ctx)
    intervals = list(await cal.busy(start, end))
    if cal.name != "builtin":  # our rows cover events the calendar may not show yet
        intervals += [(r.start, r.end) for r in await appointments(ctx).overlapping(start, end)]
    if exclude is not None:
        intervals = [(a, b) for a, b in intervals if not (a == exclude.start and b == exclude.end)]
    return sorted(intervals)


def conflicts(start: datetime, end: datetime, taken: list[Interval]) -> bool:
    return any(a < end and b > start for a, b in taken)


async def free_slots(
    ctx: ToolContext, lo: datetime, hi: datetime, *, exclude: Appointment | None = None
) -> list[datetime]:
    """Free slot starts in [lo, hi], not before the minimum notice."""
    lo = max(lo, earliest(ctx))
    if hi <= lo:
        return []
    candidates = _candidates(ctx, lo, hi)
    if not candidates:
        return []
    length = duration(ctx)
    taken = await busy(ctx, candidates[0], candidates[-1] + length, exclude=exclude)
    return [c for c in candidates if not conflicts(c, c + length, taken)]


async def nearest(
    ctx: ToolContext, around: datetime, *, exclude: Appointment | None = None
) -> list[datetime]:
    """The `meeting.alternatives` free slots closest to `around`, in time order."""
    free = await free_slots(ctx, around - SEARCH_BACK, around + SEARCH_AHEAD, exclude=exclude)
    best = sorted(free, key=lambda s: (abs(s - around), s))[: ctx.config.meeting.alternatives]
    return sorted(best)
