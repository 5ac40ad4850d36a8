"""Reading customers' dates and times, in Spanish and English, at a fixed `now`.

`now` is Sunday 2026-11-22 12:00 in Buenos Aires (UTC-3, no DST).
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from tools.when import When, has_time, parse_when, read_when

TZ = ZoneInfo("America/Argentina/Buenos_Aires")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=TZ)  # a Sunday


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TZ)


SPANISH = [
    ("el martes a las 10", at(2026, 11, 24, 10)),
    ("martes 10:30 hs", at(2026, 11, 24, 10, 30)),
    ("quiero una visita el martes a las 10 por favor", at(2026, 11, 24, 10)),
    ("a las 10 del martes", at(2026, 11, 24, 10)),
    ("mañana 3pm", at(2026, 11, 23, 15)),
    ("mañana a las 15", at(2026, 11, 23, 15)),
    ("manana a las 9", at(2026, 11, 23, 9)),
    ("mañana tipo 11", at(2026, 11, 23, 11)),
    ("mañana a las 10 de la mañana", at(2026, 11, 23, 10)),
    ("pasado mañana a las 11", at(2026, 11, 24, 11)),
    ("el 5 de diciembre a las 16", at(2026, 12, 5, 16)),
    ("el viernes 4 de diciembre 11:30", at(2026, 12, 4, 11, 30)),
    ("el lunes 30 a las 9", at(2026, 11, 30, 9)),
    ("el 30 a las 9", at(2026, 11, 30, 9)),
    ("24/11 a las 10", at(2026, 11, 24, 10)),
    ("el 24/11 15hs", at(2026, 11, 24, 15)),
    ("1/12 10:00", at(2026, 12, 1, 10)),
    ("el 1 de enero a las 10", at(2027, 1, 1, 10)),
    ("el 20 de noviembre a las 10", at(2027, 11, 20, 10)),  # the 20th has passed: next year
    ("el sábado 10h30", at(2026, 11, 28, 10, 30)),
    ("lunes 15hs", at(2026, 11, 23, 15)),
    ("el miércoles a las 9 de la noche", at(2026, 11, 25, 21)),
    ("el jueves a las 4 de la tarde", at(2026, 11, 26, 16)),
    ("el jueves a las 4", at(2026, 11, 26, 16)),  # bare 1-7 means the afternoon
    ("el jueves a las 8", at(2026, 11, 26, 8)),
    ("a las diez y media del lunes", at(2026, 11, 23, 10, 30)),
    ("el lunes a las 11 menos cuarto", at(2026, 11, 23, 10, 45)),
    ("el lunes a las 9 y cuarto", at(2026, 11, 23, 9, 15)),
    ("al mediodía del jueves", at(2026, 11, 26, 12)),
    ("el martes de la semana que viene a las 9", at(2026, 11, 24, 9)),
    ("el viernes que viene a las 11", at(2026, 11, 27, 11)),
    ("el próximo viernes a las 11", at(2026, 11, 27, 11)),
    ("en 2 días a las 10", at(2026, 11, 24, 10)),
    ("hoy a las 17", at(2026, 11, 22, 17)),
    ("¿Puede ser el Martes a las 10?", at(2026, 11, 24, 10)),
    ("a las 10", at(2026, 11, 23, 10)),  # 10:00 today has passed: tomorrow
    ("a las 4", at(2026, 11, 22, 16)),  # 16:00 today is still ahead
    ("10 hs", at(2026, 11, 23, 10)),
    ("15:30", at(2026, 11, 22, 15, 30)),
    ("el domingo a las 10", at(2026, 11, 29, 10)),  # said on a Sunday: next Sunday
    ("el lunes a las 10 a. m.", at(2026, 11, 23, 10)),
    ("el lunes a las 3 p.m.", at(2026, 11, 23, 15)),
    ("el viernes a la mañana a las 7", at(2026, 11, 27, 7)),
    ("mañana a la tarde a las 5", at(2026, 11, 23, 17)),
    ("esta tarde a las 4", at(2026, 11, 22, 16)),
]

ENGLISH = [
    ("next friday at 9:30", at(2026, 11, 27, 9, 30)),
    ("tomorrow at 3pm", at(2026, 11, 23, 15)),
    ("tomorrow at 3", at(2026, 11, 23, 15)),
    ("tuesday 10am", at(2026, 11, 24, 10)),
    ("on Tuesday at 10", at(2026, 11, 24, 10)),
    ("next tuesday 10am", at(2026, 11, 24, 10)),
    ("the day after tomorrow at 10", at(2026, 11, 24, 10)),
    ("december 5 at 4pm", at(2026, 12, 5, 16)),
    ("Dec 5 at 4 pm", at(2026, 12, 5, 16)),
    ("11/24 at 10am", at(2026, 11, 24, 10)),
    ("12/1 at 10:00", at(2026, 12, 1, 10)),
    ("on the 5th at 2pm", at(2026, 12, 5, 14)),
    ("in 3 days at 11am", at(2026, 11, 25, 11)),
    ("half past 9 tomorrow", at(2026, 11, 23, 9, 30)),
    ("quarter to 11 on monday", at(2026, 11, 23, 10, 45)),
    ("monday at noon", at(2026, 11, 23, 12)),
    ("wednesday at 4 in the afternoon", at(2026, 11, 25, 16)),
    ("today 5pm", at(2026, 11, 22, 17)),
    ("tonight at 8", at(2026, 11, 22, 20)),
    ("tomorrow morning at 11", at(2026, 11, 23, 11)),
    ("tomorrow morning at 7", at(2026, 11, 23, 7)),
    ("friday afternoon at 3", at(2026, 11, 27, 15)),
    ("this evening at 7pm", at(2026, 11, 22, 19)),
    ("at 10:15", at(2026, 11, 23, 10, 15)),
    ("friday at ten", at(2026, 11, 27, 10)),
    ("2026-12-01 10:00", at(2026, 12, 1, 10)),
]


@pytest.mark.parametrize(("text", "expected"), SPANISH)
def test_spanish(text: str, expected: datetime) -> None:
    got = parse_when(text, now=NOW, tz=TZ, languages=("es", "en"))
    assert got == expected
    assert got is not None and got.tzinfo is TZ
    assert has_time(text)


@pytest.mark.parametrize(("text", "expected"), ENGLISH)
def test_english(text: str, expected: datetime) -> None:
    assert parse_when(text, now=NOW, tz=TZ, languages=("en", "es")) == expected
    assert has_time(text)


@pytest.mark.parametrize(
    ("text", "day", "part"),
    [
        ("mañana", date(2026, 11, 23), None),  # tomorrow, not "the morning"
        ("pasado mañana", date(2026, 11, 24), None),
        ("el martes", date(2026, 11, 24), None),
        ("el domingo", date(2026, 11, 29), None),
        ("el jueves a la mañana", date(2026, 11, 26), "morning"),
        ("el jueves por la mañana", date(2026, 11, 26), "morning"),
        ("mañana a la mañana", date(2026, 11, 23), "morning"),
        ("mañana a la tarde", date(2026, 11, 23), "afternoon"),
        ("esta tarde", date(2026, 11, 22), "afternoon"),
        ("a la noche", date(2026, 11, 22), "evening"),
        ("in the morning", date(2026, 11, 23), "morning"),  # this morning is over
        ("tomorrow", date(2026, 11, 23), None),
        ("friday afternoon", date(2026, 11, 27), "afternoon"),
        ("tomorrow morning", date(2026, 11, 23), "morning"),
        ("good morning, can I come on friday?", date(2026, 11, 27), None),
        ("on friday in the afternoon", date(2026, 11, 27), "afternoon"),
        ("5 de diciembre", date(2026, 12, 5), None),
        ("the 30th", date(2026, 11, 30), None),
        ("next week", date(2026, 11, 29), None),
    ],
)
def test_day_without_hour(text: str, day: date, part: str | None) -> None:
    """A day with no hour: `read_when` keeps the day (and part of it), `parse_when` says None."""
    when = read_when(text, now=NOW, tz=TZ)
    assert when == When(day=day, time=None, part=part)  # type: ignore[arg-type]
    assert parse_when(text, now=NOW, tz=TZ) is None
    assert not has_time(text)


@pytest.mark.parametrize(
    "text",
    ["", "hola", "quiero una visita", "somos 3 personas", "cuando puedas", "I'd like a visit", "el 5"],
)
def test_no_moment(text: str) -> None:
    if text == "el 5":  # a bare day of the month is a day, not an hour
        assert read_when(text, now=NOW, tz=TZ) == When(day=date(2026, 12, 5))
    else:
        assert read_when(text, now=NOW, tz=TZ) is None
    assert parse_when(text, now=NOW, tz=TZ) is None
    assert not has_time(text)


def test_numbers_that_are_not_hours() -> None:
    assert not has_time("el 5 de diciembre")
    assert not has_time("24/11")
    assert not has_time("somos 3")
    assert has_time("a la 1")
    assert parse_when("el lunes a la 1", now=NOW, tz=TZ) == at(2026, 11, 23, 13)


def test_weekday_said_on_that_day_is_next_week() -> None:
    tuesday = datetime(2026, 11, 24, 8, 0, tzinfo=TZ)
    assert parse_when("el martes a las 10", now=tuesday, tz=TZ) == at(2026, 12, 1, 10)
    assert parse_when("hoy a las 10", now=tuesday, tz=TZ) == at(2026, 11, 24, 10)


def test_next_week_moves_to_the_following_week() -> None:
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
    assert parse_when("el viernes a las 10", now=monday, tz=TZ) == at(2026, 11, 27, 10)
    assert parse_when("el viernes de la semana que viene a las 10", now=monday, tz=TZ) == at(2026, 12, 4, 10)
    assert parse_when("friday next week at 10am", now=monday, tz=TZ) == at(2026, 12, 4, 10)


def test_now_in_another_zone_is_read_in_the_business_zone() -> None:
    """`now` as UTC 02:00 Monday is still Sunday 23:00 in Buenos Aires."""
    utc_now = datetime(2026, 11, 23, 2, 0, tzinfo=ZoneInfo("UTC"))
    assert parse_when("mañana a las 10", now=utc_now, tz=TZ) == at(2026, 11, 23, 10)


def test_madrid_dst_offsets() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    now = datetime(2026, 3, 27, 12, 0, tzinfo=madrid)  # DST starts on Sunday 29 March
    got = parse_when("el lunes a las 10", now=now, tz=madrid)
    assert got == datetime(2026, 3, 30, 10, 0, tzinfo=madrid)
    assert got is not None and got.utcoffset().total_seconds() == 7200  # type: ignore[union-attr]


def test_day_number_rolls_over_months() -> None:
    jan30 = datetime(2027, 1, 30, 12, 0, tzinfo=TZ)
    assert read_when("el 31", now=jan30, tz=TZ) == When(day=date(2027, 1, 31))
    jan31 = datetime(2027, 1, 31, 12, 0, tzinfo=TZ)
    assert read_when("el 30", now=jan31, tz=TZ) == When(day=date(2027, 3, 30))  # no 30 February


def test_when_at() -> None:
    when = When(day=date(2026, 11, 24), time=time(10, 0))
    assert when.has_time and when.at(TZ) == at(2026, 11, 24, 10)
    assert When(day=date(2026, 11, 24)).at(TZ) is None
