"""Understand a customer's words for a date and time ("el martes a las 10", "tomorrow at 3pm").

dateparser does the calendar work (month names, "24/11", "en 2 días",
"next week", years, the business time zone); a thin, documented layer in
front of it handles what dateparser gets wrong in chat Spanish and English:

- **The hour is read here, not by dateparser.** dateparser drops "a las 10"
  next to a date ("el 5 de diciembre a las 16" becomes year 2116) and
  returns relative days at the *current* clock time ("mañana" -> tomorrow
  12:00), so an hour could not be told from an artefact. We recognise
  "a las 10", "10:30", "10 hs", "15h", "3pm", "at 9:30", "a las diez y
  media", "4 de la tarde", "mediodía"/"noon", then cut it out of the text.
- **Bare afternoon hours.** Without am/pm or a part of the day, hours 1-7
  mean the afternoon ("a las 4" -> 16:00): nobody books a visit at 4 a.m.
- **"mañana" is tomorrow** unless it follows "a/por/en/de la" ("mañana a la
  mañana" = tomorrow morning). A part of the day without an hour ("a la
  tarde", "in the morning") gives a day and no hour (`When.time is None`).
- **Relative days** ("hoy", "mañana", "pasado mañana", "today", "tomorrow",
  "the day after tomorrow") are resolved here: dateparser misses "pasado
  mañana" and mistakes "pasado" for the past.
- **Weekdays** resolve to the NEXT such day, never today ("el martes" said
  on a Tuesday is next week's); "de la semana que viene" / "next week"
  moves to the following week. A weekday with a day number ("el lunes 30")
  trusts the number.
- **A bare day of the month** ("el 30", "on the 5th") is the next such day.

Everything else (explicit dates, "en 3 días", "la próxima semana") goes to
`dateparser.search.search_dates` with PREFER_DATES_FROM="future", the
business time zone and `now` as the relative base. The day/month order
follows the first language: day first for Spanish, month first for English.

`read_when` returns the structured reading (`When`: a day, maybe an hour,
maybe a part of the day); `parse_when` returns an aware datetime only when
an hour was understood, else None; `has_time` tells whether a text names an
hour at all.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from dateparser.search import search_dates

PartOfDay = Literal["morning", "afternoon", "evening"]

BARE_PM_HOURS = range(1, 8)  # "a las 4" -> 16:00
PART_WINDOWS: dict[str, tuple[time, time]] = {
    "morning": (time(6, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(20, 0)),
    "evening": (time(18, 0), time(23, 59)),
}
_MAX_YEARS_AHEAD = 3

_PARTS = {
    "mañana": "morning",
    "manana": "morning",
    "morning": "morning",
    "tarde": "afternoon",
    "afternoon": "afternoon",
    "noche": "evening",
    "evening": "evening",
    "night": "evening",
}
_NUMBER_WORDS = {
    "una": 1, "uno": 1, "one": 1, "dos": 2, "two": 2, "tres": 3, "three": 3, "cuatro": 4, "four": 4,
    "cinco": 5, "five": 5, "seis": 6, "six": 6, "siete": 7, "seven": 7, "ocho": 8, "eight": 8,
    "nueve": 9, "nine": 9, "diez": 10, "ten": 10, "once": 11, "eleven": 11, "doce": 12, "twelve": 12,
}  # fmt: skip
_WEEKDAYS = {
    "lunes": 0, "martes": 1, "miercoles": 2, "miércoles": 2, "jueves": 3, "viernes": 4,
    "sabado": 5, "sábado": 5, "domingo": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}  # fmt: skip

_NUM_WORD = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_INTRO = r"(?:a\s+eso\s+de\s+las?|como\s+a\s+las?|tipo|a\s+las?|desde\s+las?|around|about|at|by|@)"
_PART_WORD = r"(?:mañana|manana|tarde|noche|morning|afternoon|evening|night)"
_TIME = re.compile(
    rf"(?P<intro>\b{_INTRO}\s*)?"
    rf"(?<![\d/:.\-])(?P<h>\d{{1,2}}|\b(?:{_NUM_WORD})\b)(?![\d/\-])"
    r"(?:\s*(?::|h(?=\d))\s*(?P<m>\d{2})(?!\d))?"
    r"(?:\s+(?P<frac>y\s+media|y\s+cuarto|menos\s+cuarto))?"
    r"(?:\s*(?P<mer>am|pm|hs|hrs|horas|hora|h|o'?clock)\b)?"
    rf"(?:\s+(?:de|por|en|a|in)\s+(?:la|the)\s+(?P<part>{_PART_WORD})\b)?"
)
_NOON = re.compile(r"\b(?:al\s+|at\s+|a\s+)?(?:mediod[ií]a|noon)\b")
_PAST = re.compile(rf"\b(?P<q>half|quarter)\s+(?P<rel>past|to)\s+(?P<h>\d{{1,2}}|{_NUM_WORD})\b")
_PART_ALONE = re.compile(
    rf"\b(?:(?P<this>esta|this)\s+|(?:a|por|en|de|durante|in|during)\s+(?:la|the)\s+)(?P<part>{_PART_WORD})\b"
    r"|\b(?P<tonight>tonight)\b"
    r"|(?<!good )\b(?P<bare>morning|afternoon|evening)\b"  # "tomorrow morning"; Spanish needs "a la"
)
_AFTER_TOMORROW = re.compile(r"\b(?:pasado\s+ma[ñn]ana|(?:the\s+)?day\s+after\s+tomorrow)\b")
_TOMORROW = re.compile(r"\b(?:ma[ñn]ana|tomorrow)\b")
_TODAY = re.compile(r"\b(?:hoy|today)\b")
_WEEKDAY = re.compile(
    r"\b(?P<wd>" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")\b"
    r"(?:\s+(?P<num>\d{1,2})(?:st|nd|rd|th|º|°)?\b(?!\s*(?:[/:\-]|de\s+\w|of\s+\w)))?"
)
_NEXT_WEEK = re.compile(
    r"\b(?:(?:de\s+)?la\s+semana\s+que\s+viene|(?:de\s+)?la\s+pr[óo]xima\s+semana|next\s+week)\b"
)
_DAY_NUMBER = re.compile(
    r"\b(?:el|d[ií]a|the|on\s+the)\s+(?P<num>\d{1,2})(?:st|nd|rd|th|º|°)?\b(?!\s*(?:[/:\-]|de\s+\w|of\s+\w))"
)
_MONTHS = (
    "enero|ene|febrero|feb|marzo|mar|abril|abr|mayo|may|junio|jun|julio|jul|agosto|ago|septiembre|setiembre"
    "|sept|sep|set|octubre|oct|noviembre|nov|diciembre|dic|january|jan|february|march|april|apr|june|july"
    "|august|aug|september|october|november|december|dec"
)
_DATE_WORDS = re.compile(
    rf"\d[/\-]\d|\b(?:{_MONTHS})\b\.?"
    r"|\b(?:d[ií]as?|days?|semanas?|weeks?|mes(?:es)?|months?|años?|years?)\b"
)


@dataclass(frozen=True)
class When:
    """What a text said about a moment: a day, and an hour if one was given.

    `time is None` is the "date only" marker: the customer named a day (and
    maybe `part` of it, e.g. "el jueves a la mañana") but no hour.
    """

    day: date
    time: time | None = None
    part: PartOfDay | None = None

    @property
    def has_time(self) -> bool:
        return self.time is not None

    def at(self, tz: ZoneInfo) -> datetime | None:
        """The aware datetime in `tz`, or None when no hour was given."""
        if self.time is None:
            return None
        return datetime.combine(self.day, self.time, tzinfo=tz)


def parse_when(
    text: str, *, now: datetime, tz: ZoneInfo, languages: Sequence[str] = ("es", "en")
) -> datetime | None:
    """The moment `text` names, as an aware datetime in `tz`; None without a clear day and hour."""
    when = read_when(text, now=now, tz=tz, languages=languages)
    return when.at(tz) if when else None


def has_time(text: str) -> bool:
    """Whether `text` names an hour ("a las 10", "3pm", "mediodía"), with or without a day."""
    return _find_time(_normalize(text))[0] is not None


def read_when(
    text: str, *, now: datetime, tz: ZoneInfo, languages: Sequence[str] = ("es", "en")
) -> When | None:
    """Read a day, an optional hour and an optional part of the day; None if no day or hour is named."""
    local_now = now.astimezone(tz)
    today = local_now.date()
    s = _normalize(text)

    hour, explicit, s = _find_time(s)
    part, only_today, s = _find_part(s)
    if hour is not None and part is not None and not explicit:
        hour = _apply_part(hour, part)

    day = _find_day(s, today=today, now=local_now, tz=tz, languages=languages)
    if day is None and only_today:
        day = today
    if day is None:
        if hour is not None:
            day = today if datetime.combine(today, hour, tzinfo=tz) > local_now else today + timedelta(days=1)
        elif part is not None:
            day = today if local_now.time() < PART_WINDOWS[part][1] else today + timedelta(days=1)
        else:
            return None
    return When(day=day, time=hour, part=part if hour is None else None)


# -- steps ---------------------------------------------------------------------


def _normalize(text: str) -> str:
    s = unicodedata.normalize("NFC", text).lower()
    s = re.sub(r"\b([ap])\.?\s?m\.?(?=\s|$|[,;!?])", r"\1m", s)  # "p. m.", "a.m." -> pm, am
    s = re.sub(r"[¿?¡!,;()\"]", " ", s)
    s = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def _cut(s: str, m: re.Match[str]) -> str:
    return re.sub(r"\s+", " ", f"{s[: m.start()]} {s[m.end() :]}").strip()


def _number(token: str) -> int:
    return int(token) if token.isdigit() else _NUMBER_WORDS[token]


def _find_time(s: str) -> tuple[time | None, bool, str]:
    """The first hour named in `s`, whether it said am/pm or noon, and `s` without it."""
    m = _NOON.search(s)
    if m:
        return time(12, 0), True, _cut(s, m)
    m = _PAST.search(s)
    if m:
        h = _number(m["h"]) % 12
        minutes = 30 if m["q"] == "half" else 15
        total = h * 60 + (minutes if m["rel"] == "past" else -minutes)
        h, mi = divmod(total % (12 * 60), 60)
        if h in BARE_PM_HOURS:
            h += 12
        return time(h, mi), False, _cut(s, m)
    for m in _TIME.finditer(s):
        word = not m["h"].isdigit()
        if word and not m["intro"]:
            continue
        if not (m["intro"] or m["m"] or m["frac"] or m["mer"] or m["part"]):
            continue
        h, mi = _number(m["h"]), int(m["m"] or 0)
        frac = (m["frac"] or "").replace(" ", "")
        if frac == "ymedia":
            mi = 30
        elif frac == "ycuarto":
            mi = 15
        elif frac == "menoscuarto":
            h, mi = h - 1, 45
        mer = m["mer"] or ""
        if h > 23 or mi > 59 or h < 0 or (mer in ("am", "pm") and not 1 <= h <= 12):
            continue
        if mer == "pm" and h < 12:
            h += 12
        elif mer == "am" and h == 12:
            h = 0
        elif m["part"]:
            h = _apply_part(time(h, mi), _PARTS[m["part"]]).hour
        elif mer not in ("am",) and h in BARE_PM_HOURS:
            h += 12
        return time(h, mi), mer in ("am", "pm") or bool(m["part"]), _cut(s, m)
    return None, False, s


def _apply_part(hour: time, part: str) -> time:
    if part in ("afternoon", "evening") and 1 <= hour.hour < 12:
        return hour.replace(hour=hour.hour + 12)
    if part == "morning" and hour.hour > 12:
        return hour.replace(hour=hour.hour - 12)  # "las 16 de la mañana" is a slip: keep the morning
    return hour


def _find_part(s: str) -> tuple[PartOfDay | None, bool, str]:
    """A part of the day without an hour ("a la tarde", "this morning"); True if it implies today."""
    m = _PART_ALONE.search(s)
    if not m:
        return None, False, s
    if m["tonight"]:
        return "evening", True, _cut(s, m)
    part: PartOfDay = _PARTS[m["part"] or m["bare"]]  # type: ignore[assignment]
    return part, bool(m["this"]), _cut(s, m)


def _find_day(s: str, *, today: date, now: datetime, tz: ZoneInfo, languages: Sequence[str]) -> date | None:
    if _AFTER_TOMORROW.search(s):
        return today + timedelta(days=2)
    if _TODAY.search(s):
        return today
    if _TOMORROW.search(s):
        return today + timedelta(days=1)

    weekday = _WEEKDAY.search(s)
    if weekday and weekday["num"]:
        return _next_day_of_month(int(weekday["num"]), today)
    rest = _WEEKDAY.sub(" ", s).strip() if weekday else s
    if weekday and _NEXT_WEEK.search(rest):
        monday = today + timedelta(days=7 - today.weekday())
        return monday + timedelta(days=_WEEKDAYS[weekday["wd"]])
    explicit = _dateparser_day(rest, now=now, tz=tz, languages=languages)
    if explicit is not None:
        return explicit  # "el viernes 4 de diciembre": the date wins over the weekday
    if weekday:
        ahead = (_WEEKDAYS[weekday["wd"]] - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    number = _DAY_NUMBER.search(rest)
    if number:
        return _next_day_of_month(int(number["num"]), today)
    return None


def _dateparser_day(s: str, *, now: datetime, tz: ZoneInfo, languages: Sequence[str]) -> date | None:
    if not s or not _DATE_WORDS.search(s):
        return None
    langs = [lang for lang in languages if lang in ("es", "en")] or ["es", "en"]
    first, second = ("MDY", "DMY") if langs[0] == "en" else ("DMY", "MDY")
    for order in (first, second):  # "11/24" is no DMY date: read it month first
        day = _search_day(s, now=now, tz=tz, languages=langs, order=order)
        if day is not None:
            return day
    return None


def _search_day(s: str, *, now: datetime, tz: ZoneInfo, languages: list[str], order: str) -> date | None:
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "TIMEZONE": tz.key,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "DATE_ORDER": order,
    }
    try:
        found = search_dates(s, languages=languages, settings=settings)
    except (ValueError, OverflowError):
        return None
    for matched, value in found or []:
        if not _DATE_WORDS.search(matched):
            continue  # a bare number or a stray word is not a date
        day = value.astimezone(tz).date()
        if day.year > now.year + _MAX_YEARS_AHEAD:
            continue
        return day
    return None


def _next_day_of_month(num: int, today: date) -> date | None:
    """The next date (today included) whose day of the month is `num`."""
    if not 1 <= num <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(13):
        if num <= calendar.monthrange(year, month)[1]:
            candidate = date(year, month, num)
            if candidate >= today:
                return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None
