"""Issue #4, scheduling end to end: HTTP chat -> offline model -> schedule_meeting -> calendar.

"¿Me agendas una visita el martes a las 10?" books next Tuesday 10:00 in the
business time zone (config default America/Argentina/Buenos_Aires) after an
explicit yes; with Outlook configured the event is created at the fake
Microsoft Graph. A busy slot gets alternatives, a Graph outage an honest
reply, and neither books anything. "Next Tuesday" is computed from the real
clock, as the daemon does: the tool never means today.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Harness, make_settings, running
from tests.fakes.msgraph import FakeMicrosoft

TZ = ZoneInfo("America/Argentina/Buenos_Aires")
ASK = "¿Me agendas una visita el martes a las 10?"


def next_tuesday() -> date:
    today = datetime.now(TZ).date()
    return today + timedelta(days=(1 - today.weekday()) % 7 or 7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


def graph_time(value: dict[str, str]) -> datetime:
    """A Graph dateTimeTimeZone (the fake answers in UTC) as an aware datetime."""
    assert value["timeZone"] == "UTC"
    return datetime.fromisoformat(value["dateTime"][:19]).replace(tzinfo=UTC)


def display(moment: datetime) -> str:
    """How the bot writes a slot: "24/11 9:30"."""
    return f"{moment:%d/%m} {moment.hour}:{moment:%M}"


@pytest.fixture
async def ms() -> AsyncIterator[FakeMicrosoft]:
    async with FakeMicrosoft() as fake:
        yield fake


@pytest.fixture
async def outlook_bot(
    data_dir: Path, ms: FakeMicrosoft, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ms.ca_bundle_path)  # msal builds its own requests session
    settings = make_settings(
        data_dir,
        outlook_tenant_id=ms.tenant_id,
        outlook_client_id=ms.client_id,
        outlook_client_secret=ms.client_secret,
        outlook_mailbox=ms.mailbox,
        outlook_authority_url=ms.authority_url,
        outlook_graph_base_url=ms.graph_base_url,
    )
    async with running(settings) as harness:
        yield harness


async def test_builtin_calendar_books_next_tuesday_after_yes(bot: Harness) -> None:
    tuesday = next_tuesday()
    offer = await bot.say("visit-1", ASK)
    assert f"martes {tuesday:%d/%m}" in offer[-1]["text"] and "10:00" in offer[-1]["text"]
    assert [b["payload"] for b in offer[-1]["buttons"]] == ["confirm", "decline"]
    assert (await bot.conversation("visit-1"))["appointments"] == []  # an offer books nothing

    done = await bot.say("visit-1", "sí")
    assert "agendada" in done[0]["text"] and f"{tuesday:%d/%m}" in done[0]["text"]
    [appointment] = (await bot.conversation("visit-1"))["appointments"]
    assert appointment["status"] == "booked"
    # in the business time zone, with its offset: "2026-11-24T10:00:00-03:00"
    assert (appointment["start"], appointment["end"]) == (
        at(tuesday, 10).isoformat(),
        at(tuesday, 10, 30).isoformat(),
    )


async def test_outlook_books_the_event_with_the_customer_as_attendee(
    outlook_bot: Harness, ms: FakeMicrosoft
) -> None:
    tuesday = next_tuesday()
    await outlook_bot.say("visit-2", "mi mail es ana@example.com")
    offer = await outlook_bot.say("visit-2", ASK)
    assert f"martes {tuesday:%d/%m}" in offer[-1]["text"] and "10:00" in offer[-1]["text"]
    assert ms.events == []

    done = await outlook_bot.say("visit-2", "sí")
    assert "ana@example.com" in done[0]["text"]  # the invitation is mentioned
    [event] = ms.events
    assert graph_time(event["start"]) == at(tuesday, 10)
    assert graph_time(event["end"]) == at(tuesday, 10, 30)  # meeting.duration_minutes = 30
    [attendee] = event["attendees"]
    assert attendee["emailAddress"]["address"] == "ana@example.com"

    [appointment] = (await outlook_bot.conversation("visit-2"))["appointments"]
    assert appointment["status"] == "booked"
    assert (appointment["start"], appointment["end"]) == (
        at(tuesday, 10).isoformat(),
        at(tuesday, 10, 30).isoformat(),
    )

    again = await outlook_bot.say("visit-2", "sí")  # a stray second yes books nothing more
    assert again
    assert len(ms.events) == 1 and len((await outlook_bot.conversation("visit-2"))["appointments"]) == 1


async def test_outlook_busy_slot_offers_alternatives_and_books_nothing(
    outlook_bot: Harness, ms: FakeMicrosoft
) -> None:
    tuesday = next_tuesday()
    ms.add_busy(at(tuesday, 10), at(tuesday, 11), "Reunión interna")
    replies = await outlook_bot.say("visit-3", ASK)
    text = replies[-1]["text"]
    assert "ocupado" in text
    for free in (at(tuesday, 9), at(tuesday, 9, 30), at(tuesday, 11)):  # the nearest free slots
        assert display(free) in text, text
    assert display(at(tuesday, 10, 30)) not in text
    assert not replies[-1].get("buttons")  # nothing to confirm

    await outlook_bot.say("visit-3", "sí")
    assert (await outlook_bot.conversation("visit-3"))["appointments"] == []
    assert [e["subject"] for e in ms.events] == ["Reunión interna"]


async def test_outlook_down_gets_an_honest_reply_and_nothing_booked(
    outlook_bot: Harness, ms: FakeMicrosoft
) -> None:
    ms.down()
    replies = await outlook_bot.say("visit-4", ASK)
    assert "no pude consultar la agenda" in replies[-1]["text"]
    assert not replies[-1].get("buttons")
    assert (await outlook_bot.conversation("visit-4"))["appointments"] == []

    # Down between the offer and the yes: still nothing booked, and the customer is told.
    ms.up()
    offer = await outlook_bot.say("visit-5", ASK)
    assert offer[-1].get("buttons")
    ms.down()
    done = await outlook_bot.say("visit-5", "sí")
    assert "no pude agendar" in done[0]["text"] and "No quedó nada reservado" in done[0]["text"]
    ms.up()
    assert ms.events == []
    for chat_id in ("visit-4", "visit-5"):
        detail = await outlook_bot.conversation(chat_id)
        assert detail["appointments"] == []
        assert ASK in [m["text"] for m in detail["messages"] if m["direction"] == "in"]
