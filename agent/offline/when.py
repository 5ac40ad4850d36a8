"""Finding the date/time phrase of a meeting request, as the customer wrote it.

The offline model does not resolve dates: `schedule_meeting` does, in the
business time zone. This module only cuts "el martes a las 10" out of "me
agendás una visita el martes a las 10?" so the tool gets a clean phrase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.offline.numbers import PACKAGES
from agent.offline.text import Token

DAY_WORDS = frozenset(
    """
    hoy manana pasado lunes martes miercoles jueves viernes sabado domingo semana finde mediodia noche
    today tomorrow tonight monday tuesday wednesday thursday friday saturday sunday weekend week morning
    afternoon evening noon midday
    enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre
    january february march april june july august september october november december
    """.split()
)
_AFTER_LA = frozenset({"tarde"})
_CLOCK_TOKEN = re.compile(r"^\d{1,2}(hs|h|am|pm|hrs)$")
_CLOCK_AFTER = frozenset({"hs", "h", "hrs", "horas", "am", "pm", "y", "en"})
_CLOCK_BEFORE = frozenset({"las", "la", "at", "around", "tipo", "by"})
_COUNTED = PACKAGES | frozenset("tubos juegos piezas cosas productos martillos items things".split())
_GLUE_LEFT = frozenset(
    {"el", "la", "las", "los", "este", "esta", "proximo", "proxima", "on", "this", "next", "a", "at"}
)
_REFUSED = frozenset({"no", "not", "cant", "cannot"})
_TAIL = ("que viene", "proximo", "proxima", "y media", "y cuarto", "o'clock",
         "de la mañana", "de la manana", "de la tarde", "de la noche")


@dataclass(frozen=True, slots=True)
class TimePhrase:
    text: str  # as typed
    has_day: bool
    has_clock: bool


def _is_clock(tokens: list[Token], i: int, text: str) -> bool:
    word = tokens[i].norm
    if _CLOCK_TOKEN.match(word):
        return True
    if (
        word.isdigit()
        and text[tokens[i].start - 1 : tokens[i].start] == ":"
        and i
        and tokens[i - 1].norm.isdigit()
    ):
        return True  # the minutes of "9:30"
    if not word.isdigit() or int(word) > 24:
        return False
    prev = tokens[i - 1].norm if i else ""
    nxt = tokens[i + 1].norm if i + 1 < len(tokens) else ""
    after = text[tokens[i].end : tokens[i].end + 1]
    nxt2 = tokens[i + 2].norm if i + 2 < len(tokens) else ""
    nxt3 = tokens[i + 3].norm if i + 3 < len(tokens) else ""
    in_the = nxt == "de" and nxt2 == "la" and nxt3 in {"manana", "tarde", "noche"}  # "9 de la mañana"
    if nxt in _COUNTED or (nxt == "que" and prev in {"las", "los"} and after != ","
                           and nxt2 not in {"a", "no", "es", "ya", "me", "te", "ahi"}):  # "las 5 bolsas", "las 2 que tengan"
        # ("a las 11 que a esa hora no alcanzo" is still an hour)
        return False
    return prev in _CLOCK_BEFORE or nxt in _CLOCK_AFTER - {"y", "en"} or after == ":" or in_the


def _is_date(tokens: list[Token], i: int, text: str) -> bool:
    word, prev = tokens[i].norm, tokens[i - 1].norm if i else ""
    if word in DAY_WORDS:
        return True
    if word in _AFTER_LA:  # "a la tarde", "por la tarde"; "llegó tarde" is not a time
        return prev == "la"
    if word.isdigit():
        after = text[tokens[i].end : tokens[i].end + 1]
        before = text[tokens[i].start - 1 : tokens[i].start]
        return after == "/" or before == "/" or (prev == "el" and int(word) <= 31 and word != "1")
    return False


_HOUR_WORDS = {"una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9,
               "diez": 10, "once": 11, "doce": 12}
_SPELLED_HOUR = re.compile(
    r"\b(a|tipo|sobre|hacia|para|de|desde|hasta) las? (" + "|".join(_HOUR_WORDS) + r")(?: y (media|cuarto)| menos cuarto)?\b",
    re.IGNORECASE,
)


_HALF_HOUR = re.compile(r"\b(las|la) (\d{1,2}) y (media|cuarto)\b", re.IGNORECASE)


def spell_hours(text: str) -> str:
    """Hours said in words as digits: "a las once y media" -> "a las 11:30", "a eso de las cuatro" -> "… las 4".

    The text keeps its length (the digits are padded with spaces), so a word's place in it is still its
    place in the message as typed."""
    def digits(m: re.Match[str]) -> str:
        hour, part = _HOUR_WORDS[m.group(2).lower()], (m.group(3) or "").lower()
        if m.group(0).lower().endswith("menos cuarto"):
            spelled = f"{m.group(1)} las {hour - 1}:45"
        else:
            minutes = {"media": ":30", "cuarto": ":15"}.get(part, "")
            spelled = f"{m.group(1)} las {hour}{minutes}"
        return spelled.ljust(len(m.group(0)))
    text = _SPELLED_HOUR.sub(digits, text)
    # "a las 11 y media": the digits of the hour with its half or quarter in words
    return _HALF_HOUR.sub(lambda m: f"{m.group(1)} {m.group(2)}:{'30' if m.group(3).lower() == 'media' else '15'}"
                          .ljust(len(m.group(0))), text)


_PREFERRED = re.compile(r"\b(?:mejor|better|prefiero|prefer|instead|rather|m[aá]s bien|mejor dicho)\b")


def _day_part(tokens: list[Token], i: int) -> bool:
    """"de la mañana", "a la tarde": a part of the day, not a day ("mañana" alone is tomorrow)."""
    return tokens[i].norm in ("manana", "tarde", "noche") and i > 0 and tokens[i - 1].norm == "la"


def _last_clock_cluster(tokens: list[Token], text: str, hits: list[int],
                        marks: list[tuple[int, bool, bool]]) -> TimePhrase | None:
    """When two separate phrases name a clock time, the last one (with an earlier day, if it names none)."""
    marks = [(i, day and not _day_part(tokens, i), clock) for i, day, clock in marks]
    clusters: list[list[int]] = [[hits[0]]]
    for i in hits[1:]:
        between = text[tokens[clusters[-1][-1]].end : tokens[i].start]
        if i - clusters[-1][-1] > 3 or any(ch in between for ch in ".;!?,"):
            clusters.append([i])
        else:
            clusters[-1].append(i)
    timed = [c for c in clusters if any(marks[i][2] for i in c)]
    whole = [c for c in clusters if any(marks[i][1] for i in c) and any(marks[i][2] for i in c)]
    if len(clusters) >= 2 and whole and whole[-1] is clusters[-1]:
        last = clusters[-1]  # "el martes no puedo. Que sea el viernes a las 12": the day and hour said last
    elif len(timed) < 2:
        return None
    else:
        # "el jueves a las 9? Ay, mejor a las 10, que a las 9 tengo otra cosa": the one said after "mejor"
        marker = max((m.end() for m in _PREFERRED.finditer(text.lower())), default=-1)
        chosen = [c for c in timed if tokens[c[0]].start > marker] if marker >= 0 else []
        last = chosen[0] if chosen else timed[-1]
    start = tokens[last[0]].start
    while last[0] > 0 and tokens[last[0] - 1].norm in _GLUE_LEFT and start > tokens[last[0] - 1].start:
        start = tokens[last[0] - 1].start
        last = [last[0] - 1, *last]
    end = tokens[last[-1]].end
    if last[-1] + 1 < len(tokens) and tokens[last[-1] + 1].norm in {"hs", "h", "am", "pm", "horas"}:
        end = tokens[last[-1] + 1].end
    phrase = text[start:end].strip(" ,.;!?¿¡")
    has_day = any(marks[i][1] for i in last)
    if not has_day:
        days = [" ".join(tokens[i].raw for i in c if marks[i][1]) for c in clusters[:-1]]
        days = [d for d in days if d]
        if days:
            return TimePhrase(f"{days[-1]} {phrase}", has_day=True, has_clock=True)
    return TimePhrase(phrase, has_day=has_day, has_clock=True)


def find_time(tokens: list[Token], text: str) -> TimePhrase | None:
    """The span of date and time words in `text` (glue words between them kept), if any."""
    marks = [(i, _is_date(tokens, i, text), _is_clock(tokens, i, text)) for i in range(len(tokens))]
    hits = [i for i, day, clock in marks if day or clock]
    refused = [i for i in hits if i + 1 < len(tokens) and tokens[i + 1].norm in _REFUSED
               and not marks[i][2]]  # "mejor el lunes a las 12, mañana no alcanzo": not tomorrow
    if refused and len(refused) < len(hits):
        hits = [i for i in hits if i not in refused]
        marks = [(i, day and i not in refused, clock) for i, day, clock in marks]
    if not hits:
        return None
    later = _last_clock_cluster(tokens, text, hits, marks)
    if later is not None:  # "cierran a las 18. Entonces a las 17:30": the time said last is the one meant
        return later
    first, last = hits[0], hits[-1]
    while first > 0 and tokens[first - 1].norm in _GLUE_LEFT and first > hits[0] - 2:
        first -= 1
    start, end = tokens[first].start, tokens[last].end
    rest = text[end:].lower()
    for tail in _TAIL:
        if rest.lstrip().startswith(tail):
            end += len(rest) - len(rest.lstrip()) + len(tail)
            break
    if last + 1 < len(tokens) and tokens[last + 1].norm in {"hs", "h", "am", "pm", "horas"}:
        end = tokens[last + 1].end
    phrase = text[start:end].strip(" ,.;!?¿¡")
    return TimePhrase(
        phrase,
        has_day=any(day for _, day, _ in marks),
        has_clock=any(clock for _, _, clock in marks),
    )
