"""Reading free customer text: accent folding, words, and the money amounts and dates it mentions.

Shared by the insights analyzer and lead scoring. Patterns run on folded
text (lowercase, no accents, one char per char), so match offsets map back
to what the customer wrote.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple


@lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    base = "".join(ch for ch in unicodedata.normalize("NFKD", c.lower()) if not unicodedata.combining(ch))
    return "'" if c in "’`´" else (base[:1] or c)


def fold(text: str) -> str:
    """Lowercase and strip accents keeping one char per char, so match offsets map back to `text`."""
    return "".join(_fold_char(c) for c in text)


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def split_words(folded: str) -> list[str]:
    """The words of already folded text."""
    return _WORD.findall(folded)


def clip(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def dedupe(items: list[str], limit: int = 8) -> list[str]:
    """The first `limit` distinct items, compared folded."""
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        key = fold(item)
        if item and key not in seen:
            seen.add(key)
            out.append(item)
    return out[:limit]


# -- money ------------------------------------------------------------------------


class Amount(NamedTuple):
    text: str
    value: float
    currency: str | None  # ISO code; None for a bare "$" or no sign (the business's currency)


_CURRENCY = {
    "us$": "USD",
    "u$s": "USD",
    "usd": "USD",
    "dolares": "USD",
    "dolar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "eur": "EUR",
    "€": "EUR",
    "euros": "EUR",
    "ars": "ARS",
    "pesos": "ARS",
    "$": None,
}
_MAGNITUDE = {
    "k": 1e3,
    "mil": 1e3,
    "luca": 1e3,
    "lucas": 1e3,
    "palo": 1e6,
    "palos": 1e6,
    "millon": 1e6,
    "millones": 1e6,
    "m": 1e6,
    "mm": 1e6,
}
_AMOUNT = re.compile(
    r"(?<![\w.,])(?P<pre>us\$|u\$s|usd|ars|eur|€|\$)?\s?"
    r"(?P<num>\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?)"
    r"(?:\s?(?P<mag>millones|millon|palos|palo|lucas|luca|mil|mm|k|m)\b)?"
    r"(?:\s?(?:de\s)?(?P<post>dolares|dolar|dollars|bucks|pesos|usd|ars|euros|eur)\b)?"
)
_QUANTITY_AFTER_MIL = re.compile(r"\s+(?!de\b|para\b|en\b|aprox|mas\b|total|pesos|dolares|usd|ars)[a-z]{3,}")


def _number(raw: str, has_magnitude: bool) -> float:
    if "," in raw and "." in raw:
        decimal = "," if raw.rfind(",") > raw.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        return float(raw.replace(thousands, "").replace(decimal, "."))
    for sep in ",.":
        if sep in raw:
            parts = raw.split(sep)
            if len(parts) > 2 or (len(parts[-1]) == 3 and not has_magnitude):
                return float(raw.replace(sep, ""))
            return float(raw.replace(sep, "."))
    return float(raw)


def find_amounts(text: str) -> list[Amount]:
    """Money amounts: "$500.000", "2 millones", "USD 3k", "1.200,50 pesos", "500 mil".

    A bare number counts only with a currency sign/word or a money magnitude
    ("2 taladros" is not an amount; "5 mil tornillos" neither).
    """
    folded = fold(text)
    out: list[Amount] = []
    for m in _AMOUNT.finditer(folded):
        pre, mag, post = m.group("pre"), m.group("mag"), m.group("post")
        if not (pre or post or mag):
            continue
        if mag in ("m", "mm") and not (pre or post):
            continue  # "3 m" is three metres
        if mag == "mil" and not (pre or post) and _QUANTITY_AFTER_MIL.match(folded, m.end()):
            continue
        value = _number(m.group("num"), bool(mag)) * _MAGNITUDE.get(mag or "", 1.0)
        currency = _CURRENCY.get(post or "") or _CURRENCY.get(pre or "")
        out.append(Amount(text[m.start() : m.end()].strip(), value, currency))
    return out


# -- dates and quantities -------------------------------------------------------------

_WEEKDAYS = r"(?:lunes|martes|miercoles|jueves|viernes|sabado|domingo|monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTHS = (
    r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|"
    r"january|february|march|april|june|july|august|september|october|november|december)"
)
_DATE = re.compile(
    r"\b(?:"
    rf"\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?"
    rf"|\d{{1,2}} de {_MONTHS}(?: de \d{{4}})?"
    rf"|{_MONTHS} \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTHS}"
    rf"|(?:para|en|a fin de|antes de|hasta|by|in|before|until) (?:el |la |fines de |principios de |mediados de "
    rf"|the end of |early |late |mid[- ])?{_MONTHS}"
    r"|pasado manana|manana|hoy|esta semana|(?:la )?semana que viene|(?:la )?proxima semana"
    r"|(?:el )?mes que viene|(?:el )?proximo mes|este mes|fin(?:es)? de mes|(?:el )?ano que viene"
    rf"|(?:el |este |el proximo |proximo )?{_WEEKDAYS}s?(?: que viene)?"
    r"|today|tomorrow|tonight|this week|next week|this month|next month|end of the month|next year"
    rf"|(?:on |next |this )?{_WEEKDAYS}"
    r"|en \d+ (?:dias|semanas|meses)|in \d+ (?:days|weeks|months)|within \d+ (?:days|weeks)"
    r")\b"
)


def find_dates(text: str) -> list[str]:
    """Dates and deadlines as written: "15/03", "para marzo", "el viernes", "next week"."""
    return [text[m.start() : m.end()] for m in _DATE.finditer(fold(text))]


_NUMBER_WORDS = (
    r"\d+|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|doce|quince|veinte|treinta|cincuenta|cien"
    r"|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty|fifty|hundred"
)
_QUANTITY = re.compile(
    rf"\b(?:{_NUMBER_WORDS})\s+(?!(?:de|a|y|o|en|por|of|or|and|to|in|dias|dia|semanas|semana|meses|mes|horas|hora"
    r"|minutos|anos|veces|days|day|weeks|week|months|month|hours|hour|minutes|years|times|am|pm|hs)\b)[a-z]{3,}"
)


def count_quantities(folded: str) -> int:
    """How many "<number> <noun>" phrases a folded message has, dates and money excluded."""
    money = _AMOUNT.sub(lambda m: " " if m.group("pre") or m.group("mag") or m.group("post") else m.group(0), folded)
    return len(_QUANTITY.findall(_DATE.sub(" ", money)))  # "3 martillos" counts, "$ 3 mil" does not
