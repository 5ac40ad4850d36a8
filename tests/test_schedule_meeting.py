"""`schedule_meeting` end to end: real SQLite, real prompts, the built-in calendar and a fake Outlook.

`now` is Sunday 2026-11-22 12:00 in Buenos Aires (UTC-3); the default
business hours are Mon-Fri 9-18, Sat 9-13, closed on Sunday; meetings last
30 minutes, on a 30-minute grid, with 60 minutes' notice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.business import BusinessConfig
from config.settings import OutlookSettings
from prompts import PromptStore
from storage.appointments import AppointmentRepo
from storage.db import Database
from storage.models import Appointment, Lead
from storage.repository import Repositories
from tests.fakes.msgraph import FakeMicrosoft
from tools.calendars import Calendar, CalendarError
from tools.calendars.builtin import BuiltinCalendar
from tools.calendars.outlook import OutlookCalendar
from tools.context import Services, ToolContext
from tools.schedule_meeting import MEETING_HANDLER, schedule_meeting

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("America/Argentina/Buenos_Aires")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=TZ)


def local(d: int, h: int, mi: int = 0, mo: int = 11) -> datetime:
    return datetime(2026, mo, d, h, mi, tzinfo=TZ)


@dataclass
class Env:
    db: Database
    repos: Repositories
    prompts: PromptStore
    conversations: dict[str, int]

    async def ctx(
        self,
        chat_id: str = "chat-1",
        *,
        calendar: Calendar | None = None,
        language: str = "es",
        now: datetime = NOW,
        config: BusinessConfig | None = None,
    ) -> ToolContext:
        if chat_id not in self.conversations:
            conv = await self.repos.conversations.get_or_create("web", chat_id, language)
            self.conversations[chat_id] = conv.id  # type: ignore[assignment]
        services = Services(repos=self.repos, prompts=self.prompts, catalog=None, calendar=calendar)  # type: ignore[arg-type]
        return ToolContext(
            services=services,
            config=config or BusinessConfig(),
            conversation_id=self.conversations[chat_id],
            channel="web",
            chat_id=chat_id,
            language=language,
            now=now,
        )

    async def rows(self) -> list[Appointment]:
        return await AppointmentRepo(self.db, "default").list()


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/t.db")
    await db.start()
    yield Env(db, Repositories(db, "default"), PromptStore(ROOT / "prompts"), {})
    await db.close()


async def call(ctx: ToolContext, **args: Any) -> Any:
    return await schedule_meeting(args, ctx)


async def book(ctx: ToolContext, when: str, **args: Any) -> str:
    outcome = await call(ctx, action="book", when=when, **args)
    assert outcome.data["status"] == "proposed", outcome.data
    text, renewed = await MEETING_HANDLER.commit(ctx, outcome.pending)
    assert renewed is None
    return text


# -- built-in calendar ---------------------------------------------------------------


async def test_propose_commit_and_the_slot_is_then_busy(env: Env) -> None:
    ctx = await env.ctx()
    outcome = await call(
        ctx, action="book", when="el martes a las 10", topic="presupuesto de techo", name="Ana"
    )
    assert outcome.data["status"] == "proposed"
    assert datetime.fromisoformat(outcome.data["start"]) == local(24, 10)
    assert outcome.data["start"] == "2026-11-24T10:00:00-03:00"
    assert outcome.data["end"] == "2026-11-24T10:30:00-03:00"
    assert outcome.data["display"] == "martes 24/11 10:00"
    pending = outcome.pending
    assert pending["kind"] == "meeting" and pending["action"] == "book"
    assert pending["topic"] == "presupuesto de techo" and pending["name"] == "Ana"
    assert await env.rows() == []  # nothing booked before the yes

    question = MEETING_HANDLER.offer(ctx, pending)
    assert question.startswith("¿Confirmás la visita el martes 24/11 a las 10:00?")
    assert outcome.data["say"] == question

    text, renewed = await MEETING_HANDLER.commit(ctx, pending)
    assert renewed is None
    assert "martes 24/11" in text and "10:00" in text
    [row] = await env.rows()
    assert row.start == local(24, 10) and row.end == local(24, 10, 30)
    assert row.start.utcoffset() == timedelta(0)  # stored and read back as aware UTC
    assert (row.status, row.calendar, row.topic, row.attendee_name) == (
        "booked",
        "builtin",
        "presupuesto de techo",
        "Ana",
    )
    assert row.conversation_id == ctx.conversation_id and row.external_id

    # a second yes does not book twice
    await MEETING_HANDLER.commit(ctx, pending)
    assert len(await env.rows()) == 1

    other = await env.ctx("chat-2")
    busy = await call(other, when="el martes a las 10")
    assert busy.data["status"] == "busy"
    assert busy.data["requested"] == "2026-11-24T10:00:00-03:00"
    starts = [datetime.fromisoformat(a["start"]) for a in busy.data["alternatives"]]
    assert starts == [local(24, 9), local(24, 9, 30), local(24, 10, 30)]  # the nearest free ones
    assert [a["display"] for a in busy.data["alternatives"]][0] == "martes 24/11 9:00"
    assert busy.pending is None
    assert "ocupado" in busy.data["say"] and "martes 24/11 10:30" in busy.data["say"]

    overlapping = await call(other, when="el martes a las 10:15")
    assert overlapping.data["status"] == "busy"


async def test_english_display(env: Env) -> None:
    ctx = await env.ctx(language="en")
    outcome = await call(ctx, when="tuesday at 10am")
    assert outcome.data["display"] == "Tuesday 11/24 10:00 AM"
    assert MEETING_HANDLER.offer(ctx, outcome.pending).startswith(
        "Shall I book the visit on Tuesday 11/24 at 10:00 AM?"
    )
    text, _ = await MEETING_HANDLER.commit(ctx, outcome.pending)
    assert text.startswith("Done!")
    busy = await call(ctx, when="tuesday 10:00")
    assert [a["display"] for a in busy.data["alternatives"]] == [
        "Tuesday 11/24 9:00 AM",
        "Tuesday 11/24 9:30 AM",
        "Tuesday 11/24 10:30 AM",
    ]


async def test_sunday_is_outside_hours(env: Env) -> None:
    ctx = await env.ctx()
    outcome = await call(ctx, when="el domingo a las 10")
    data = outcome.data
    assert data["status"] == "outside_hours" and data["reason"] == "closed"
    assert outcome.pending is None
    alternatives = [datetime.fromisoformat(a["start"]) for a in data["alternatives"]]
    assert len(alternatives) == 3
    config = BusinessConfig()
    for start in alternatives:
        start = start.astimezone(TZ)
        assert start.weekday() != 6
        assert any(
            o <= start.time() and (start + timedelta(minutes=30)).time() <= c
            for o, c in config.opening_ranges(start.weekday())
        )
    assert "no atendemos" in data["say"]


async def test_evening_and_too_soon_and_too_far(env: Env) -> None:
    ctx = await env.ctx()
    late = await call(ctx, when="el lunes a las 17:45")  # would end 18:15, after closing
    assert late.data["reason"] == "closed"
    saturday = await call(ctx, when="el sábado a las 13")
    assert saturday.data["reason"] == "closed"
    assert (await call(ctx, when="el sábado a las 12:30")).data["status"] == "proposed"

    monday_early = await env.ctx(now=local(23, 8, 30))
    soon = await call(monday_early, when="hoy a las 9")
    assert soon.data["status"] == "outside_hours" and soon.data["reason"] == "too_soon"
    assert soon.data["alternatives"][0]["start"] == local(23, 9, 30).isoformat()

    far = await call(ctx, when="el 5 de marzo a las 10")
    assert far.data["reason"] == "too_far"
    assert len(far.data["alternatives"]) == 3
    assert all(
        datetime.fromisoformat(a["start"]) <= NOW + timedelta(days=61) for a in far.data["alternatives"]
    )
    assert "60 días" in far.data["say"]


async def test_need_time(env: Env) -> None:
    ctx = await env.ctx()
    nothing = await call(ctx, when="cuando puedas")
    assert nothing.data == {"status": "need_time", "say": "¿Qué día y a qué hora te queda bien la visita?"}
    assert (await call(ctx)).data["status"] == "need_time"

    day = await call(ctx, when="el martes")
    assert day.data["status"] == "need_time" and day.data["date"] == "2026-11-24"
    assert [a["start"] for a in day.data["alternatives"]][0] == local(24, 9).isoformat()
    assert day.pending is None

    afternoon = await call(ctx, when="el martes a la tarde")
    assert afternoon.data["part_of_day"] == "afternoon"
    assert datetime.fromisoformat(afternoon.data["alternatives"][0]["start"]) == local(24, 12)

    sunday = await call(ctx, when="el domingo")
    assert sunday.data["status"] == "need_time"
    assert "no tengo horarios libres" in sunday.data["say"]


async def test_availability(env: Env) -> None:
    ctx = await env.ctx()
    await book(ctx, "mañana a las 9")
    outcome = await call(ctx, action="availability")
    assert outcome.data["status"] == "available"
    assert [s["start"] for s in outcome.data["slots"]] == [
        local(23, 9, 30).isoformat(),
        local(23, 10).isoformat(),
        local(23, 10, 30).isoformat(),
    ]
    thursday = await call(ctx, action="availability", when="el jueves a la tarde")
    assert thursday.data["slots"][0]["start"] == local(26, 12).isoformat()


async def test_cancel_flow(env: Env) -> None:
    ctx = await env.ctx()
    assert (await call(ctx, action="cancel")).data["status"] == "nothing_to_cancel"
    await book(ctx, "el martes a las 10")

    outcome = await call(ctx, action="cancel")
    assert outcome.data["status"] == "confirm_cancel"
    assert outcome.pending["action"] == "cancel"
    assert MEETING_HANDLER.offer(ctx, outcome.pending).startswith(
        "¿Cancelo tu visita del martes 24/11 a las 10:00?"
    )
    assert "sigue en pie" in MEETING_HANDLER.decline(ctx, outcome.pending)
    assert (await env.rows())[0].status == "booked"

    text, _ = await MEETING_HANDLER.commit(ctx, outcome.pending)
    assert "cancelé" in text
    assert (await env.rows())[0].status == "cancelled"
    assert (await call(ctx, action="cancel")).data["status"] == "nothing_to_cancel"
    again, _ = await MEETING_HANDLER.commit(ctx, outcome.pending)
    assert "no estaba agendada" in again
    # the slot is free again
    assert (await call(await env.ctx("chat-2"), when="el martes a las 10")).data["status"] == "proposed"


async def test_reschedule_flow(env: Env) -> None:
    ctx = await env.ctx()
    assert (await call(ctx, action="reschedule")).data["status"] == "nothing_to_reschedule"
    # nothing booked to move, but a time asked for ("¿puedo pasar el miércoles a las 11?"): a booking
    asked = await call(ctx, action="reschedule", when="el miércoles a las 11")
    assert asked.data["status"] == "proposed" and asked.pending is not None
    assert asked.pending["action"] == "book"
    await book(ctx, "el martes a las 10")
    [row] = await env.rows()

    # moving by 15 minutes overlaps only the appointment being moved
    nudge = await call(ctx, action="reschedule", when="el martes a las 10:15")
    assert nudge.data["status"] == "proposed"

    outcome = await call(ctx, action="reschedule", when="el miércoles a las 11")
    assert outcome.data["status"] == "proposed"
    assert outcome.pending["appointment_id"] == row.id
    assert MEETING_HANDLER.offer(ctx, outcome.pending).startswith(
        "¿Cambio tu visita del martes 24/11 a las 10:00 al miércoles 25/11 a las 11:00?"
    )
    assert "martes 24/11" in MEETING_HANDLER.decline(ctx, outcome.pending)
    text, _ = await MEETING_HANDLER.commit(ctx, outcome.pending)
    assert "miércoles 25/11" in text
    [moved] = await env.rows()
    assert (moved.id, moved.start, moved.status) == (row.id, local(25, 11), "booked")


async def test_slot_taken_between_offer_and_yes(env: Env) -> None:
    ana, ben = await env.ctx("ana"), await env.ctx("ben")
    offer_ana = await call(ana, when="el martes a las 10")
    await book(ben, "el martes a las 10")
    text, renewed = await MEETING_HANDLER.commit(ana, offer_ana.pending)
    assert renewed is None
    assert "se ocupó" in text and "martes 24/11 10:30" in text
    rows = await env.rows()
    assert [r.conversation_id for r in rows] == [ben.conversation_id]


async def test_expired_offer(env: Env) -> None:
    ctx = await env.ctx()
    outcome = await call(ctx, when="mañana a las 9")
    later = await env.ctx(now=local(23, 8, 30))
    text, _ = await MEETING_HANDLER.commit(later, outcome.pending)
    assert text.startswith("Ese horario ya no se puede reservar")
    assert await env.rows() == []


async def test_email_from_the_lead_and_invalid_email(env: Env) -> None:
    ctx = await env.ctx()
    async with env.db.transaction() as s:
        s.add(
            Lead(
                business_id="default",
                conversation_id=ctx.conversation_id,
                name="Ana Pérez",
                email="ana@example.com",
            )
        )
    outcome = await call(ctx, when="el martes a las 10")
    assert (outcome.pending["name"], outcome.pending["email"]) == ("Ana Pérez", "ana@example.com")
    explicit = await call(ctx, when="el martes a las 10", email="Otra@Example.com", name="Otra")
    assert (explicit.pending["name"], explicit.pending["email"]) == ("Otra", "Otra@example.com")
    bad = await call(ctx, when="el martes a las 10", email="no es un mail")
    assert bad.pending["email"] == "ana@example.com"


async def test_builtin_calendar_contract(env: Env) -> None:
    cal = BuiltinCalendar(env.db, "default")
    assert isinstance(cal, Calendar)
    repo = AppointmentRepo(env.db, "default")
    await repo.add(start=local(24, 10), end=local(24, 10, 30))
    assert await cal.busy(local(24, 0), local(25, 0)) == [(local(24, 10), local(24, 10, 30))]
    assert await cal.busy(local(24, 10, 30), local(24, 11)) == []
    event_id = await cal.create(
        start=local(24, 11),
        end=local(24, 11, 30),
        subject="s",
        body="b",
        attendee_email=None,
        attendee_name=None,
    )
    assert event_id.startswith("builtin-")
    await cal.reschedule(event_id, local(24, 12), local(24, 12, 30))
    await cal.cancel(event_id)


async def test_appointment_repo(env: Env) -> None:
    repo = AppointmentRepo(env.db, "default")
    ctx = await env.ctx()
    first = await repo.add_if_free(
        start=local(24, 10), end=local(24, 10, 30), conversation_id=ctx.conversation_id
    )
    assert first is not None and first.id is not None
    assert await repo.add_if_free(start=local(24, 10, 15), end=local(24, 10, 45)) is None
    second = await repo.add_if_free(
        start=local(24, 10, 30), end=local(24, 11), conversation_id=ctx.conversation_id
    )
    assert second is not None
    assert [a.id for a in await repo.overlapping(local(24, 10, 20), local(24, 10, 40))] == [
        first.id,
        second.id,
    ]
    assert [a.id for a in await repo.overlapping(local(24, 10), local(24, 11), exclude_id=first.id)] == [
        second.id
    ]
    active = await repo.active_for_conversation(ctx.conversation_id, now=NOW)
    assert active is not None and active.id == second.id  # the latest booked
    assert await repo.active_for_conversation(ctx.conversation_id, now=local(25, 0)) is None
    assert not await repo.reschedule(first.id, local(24, 10, 30), local(24, 11))  # onto `second`
    assert await repo.reschedule(first.id, local(24, 9), local(24, 9, 30))
    assert await repo.cancel(second.id) and not await repo.cancel(second.id)
    assert [a.status for a in await repo.list(conversation_id=ctx.conversation_id)] == ["booked", "cancelled"]
    assert [a.id for a in await repo.list(status="booked")] == [first.id]
    assert await repo.list(since=local(24, 10)) == [await repo.get(second.id)]
    assert await AppointmentRepo(env.db, "other").get(first.id) is None
    with pytest.raises(ValueError):
        await repo.add(start=local(24, 10), end=local(24, 10))


# -- Outlook (fake Microsoft identity + Graph) --------------------------------------------


@pytest.fixture
async def ms() -> AsyncIterator[FakeMicrosoft]:
    async with FakeMicrosoft() as fake:
        yield fake


@pytest.fixture
async def outlook(ms: FakeMicrosoft) -> AsyncIterator[OutlookCalendar]:
    settings = OutlookSettings(
        tenant_id=ms.tenant_id,
        client_id=ms.client_id,
        client_secret=ms.client_secret,  # type: ignore[arg-type]
        mailbox=ms.mailbox,
        authority_url=ms.authority_url,
        graph_base_url=ms.graph_base_url,
    )
    cal = OutlookCalendar(settings, verify=ms.ca_path, backoff_s=0.01)
    yield cal
    await cal.close()


def _utc(value: dict[str, str]) -> datetime:
    assert value["timeZone"] == "UTC"
    return datetime.fromisoformat(value["dateTime"][:19]).replace(tzinfo=UTC)


async def test_outlook_booking_creates_the_event(
    env: Env, ms: FakeMicrosoft, outlook: OutlookCalendar
) -> None:
    ctx = await env.ctx(calendar=outlook)
    outcome = await call(ctx, when="el martes a las 10", name="Ana", email="ana@example.com", topic="techo")
    assert outcome.data["status"] == "proposed"
    assert ms.events == []
    text, _ = await MEETING_HANDLER.commit(ctx, outcome.pending)
    assert "invitación a ana@example.com" in text

    [event] = ms.events
    assert _utc(event["start"]) == local(24, 10) and _utc(event["end"]) == local(24, 10, 30)
    assert event["attendees"][0]["emailAddress"] == {"address": "ana@example.com", "name": "Ana"}
    assert event["attendees"][0]["type"] == "required"
    assert "Ana" in event["subject"] and "techo" in event["body"]["content"]
    [row] = await env.rows()
    assert (row.calendar, row.external_id, row.attendee_email) == ("outlook", event["id"], "ana@example.com")
    assert ms.token_requests and all("client_secret" not in r for r in ms.token_requests)

    # cancel removes the event at Outlook
    cancel = await call(ctx, action="cancel")
    await MEETING_HANDLER.commit(ctx, cancel.pending)
    assert ms.events == []
    assert (await env.rows())[0].status == "cancelled"


async def test_outlook_without_email_has_no_attendees(
    env: Env, ms: FakeMicrosoft, outlook: OutlookCalendar
) -> None:
    ctx = await env.ctx(calendar=outlook)
    text = await book(ctx, "el martes a las 10")
    assert "invitación" not in text
    [event] = ms.events
    assert event["attendees"] == []


async def test_outlook_reschedule_moves_the_event(
    env: Env, ms: FakeMicrosoft, outlook: OutlookCalendar
) -> None:
    ctx = await env.ctx(calendar=outlook)
    await book(ctx, "el martes a las 10")
    outcome = await call(ctx, action="reschedule", when="el jueves a las 15")
    assert outcome.data["status"] == "proposed"
    await MEETING_HANDLER.commit(ctx, outcome.pending)
    [event] = ms.events
    assert _utc(event["start"]) == local(26, 15)
    assert (await env.rows())[0].start == local(26, 15)


async def test_outlook_busy_slot_gives_alternatives(
    env: Env, ms: FakeMicrosoft, outlook: OutlookCalendar
) -> None:
    ms.add_busy(local(24, 10), local(24, 11), "Reunión interna")
    ms.add_busy(local(24, 9), local(24, 9, 30), "Libre", show_as="free")
    ctx = await env.ctx(calendar=outlook)
    assert await outlook.busy(local(24, 0), local(25, 0)) == [(local(24, 10), local(24, 11))]
    outcome = await call(ctx, when="el martes a las 10:30")
    assert outcome.data["status"] == "busy"
    starts = [datetime.fromisoformat(a["start"]) for a in outcome.data["alternatives"]]
    assert starts == [local(24, 9, 30), local(24, 11), local(24, 11, 30)]
    assert (await call(ctx, when="el martes a las 11")).data["status"] == "proposed"


async def test_outlook_down_means_honest_text_and_nothing_stored(
    env: Env, ms: FakeMicrosoft, outlook: OutlookCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ctx = await env.ctx(calendar=outlook)
    outcome = await call(ctx, when="el martes a las 10", email="ana@example.com")
    assert outcome.data["status"] == "proposed"
    ms.down()
    text, renewed = await MEETING_HANDLER.commit(ctx, outcome.pending)
    assert renewed is None
    assert text.startswith("Perdón, no pude agendar la visita") and "No quedó nada reservado" in text
    assert await env.rows() == []
    assert (await call(ctx, when="el martes a las 11")).data["status"] == "calendar_unavailable"
    with pytest.raises(CalendarError):
        await outlook.create(
            start=local(24, 10),
            end=local(24, 10, 30),
            subject="s",
            body="b",
            attendee_email=None,
            attendee_name=None,
        )
    ms.up()
    assert ms.events == []
    assert ms.client_secret not in caplog.text and "fake-graph-token" not in caplog.text


async def test_outlook_event_creation_failure_stores_nothing(
    env: Env, ms: FakeMicrosoft, outlook: OutlookCalendar
) -> None:
    """Free/busy answers, then the event POST fails on every attempt: no Appointment row."""
    ctx = await env.ctx(calendar=outlook)
    outcome = await call(ctx, when="el martes a las 10")
    original = outlook._call

    async def failing_events(method: str, path: str, **kw: Any) -> Any:
        if path == "/events" and method == "POST":
            ms.fail_next("graph", 500, times=3)
        return await original(method, path, **kw)

    outlook._call = failing_events  # type: ignore[method-assign]
    text, _ = await MEETING_HANDLER.commit(ctx, outcome.pending)
    assert "no pude agendar" in text
    assert await env.rows() == [] and ms.events == []


async def test_outlook_retries_then_succeeds(ms: FakeMicrosoft, outlook: OutlookCalendar) -> None:
    ms.fail_next("graph", 503, times=1)
    ms.fail_next("graph", 429, times=1, retry_after=0.01)
    event_id = await outlook.create(
        start=local(24, 10),
        end=local(24, 10, 30),
        subject="s",
        body="b",
        attendee_email=None,
        attendee_name=None,
    )
    assert [e["id"] for e in ms.events] == [event_id]
    posts = [r for r in ms.graph_requests if r[0] == "POST"]
    assert len(posts) == 3
    assert len({p[2]["transactionId"] for p in posts}) == 1  # one transaction id across retries

    ms.fail_next("graph", 502, times=3)
    with pytest.raises(CalendarError):
        await outlook.busy(local(24, 0), local(25, 0))


async def test_outlook_expired_token_is_renewed(ms: FakeMicrosoft, outlook: OutlookCalendar) -> None:
    await outlook.busy(local(24, 0), local(25, 0))
    tokens = len(ms.token_requests)
    ms.revoke_tokens()
    assert await outlook.busy(local(24, 0), local(25, 0)) == []
    assert len(ms.token_requests) == tokens + 1


async def test_outlook_bad_request_is_not_retried(ms: FakeMicrosoft, outlook: OutlookCalendar) -> None:
    before = len(ms.graph_requests)
    with pytest.raises(CalendarError):
        await outlook.reschedule("no-such-event", local(24, 10), local(24, 10, 30))
    assert len(ms.graph_requests) == before + 1  # a 404 is final: the PATCH is tried once
    await outlook.cancel("no-such-event")  # already gone: not an error


async def test_outlook_wrong_secret_is_a_calendar_error(ms: FakeMicrosoft) -> None:
    settings = OutlookSettings(
        tenant_id=ms.tenant_id,
        client_id=ms.client_id,
        client_secret="wrong",  # type: ignore[arg-type]
        mailbox=ms.mailbox,
        authority_url=ms.authority_url,
        graph_base_url=ms.graph_base_url,
    )
    cal = OutlookCalendar(settings, verify=ms.ca_path, backoff_s=0.01)
    try:
        with pytest.raises(CalendarError):
            await cal.busy(local(24, 0), local(25, 0))
    finally:
        await cal.close()


async def test_two_yeses_at_once_book_the_slot_once(env: Env) -> None:
    ana, ben = await env.ctx("ana"), await env.ctx("ben")
    offers = [await call(c, when="el martes a las 10") for c in (ana, ben)]
    texts = await asyncio.gather(
        *(MEETING_HANDLER.commit(c, o.pending) for c, o in zip((ana, ben), offers, strict=True))
    )
    assert sum("Quedó agendada" in text for text, _ in texts) == 1
    assert len(await env.rows()) == 1
