"""Amounts and quantities written the way a business's country writes them, or refused with the reason.

`8.900` is eight thousand nine hundred in Argentina and `1,250` is one
thousand two hundred fifty in Mexico: read by the wrong convention they
become 8.9 and 1.25, a price 1000x too low. A value that could mean two
things (`1,250` in Argentina: one and a quarter with three decimals, or
one thousand two hundred fifty written the US way?) is refused for its row
instead of guessed.
A single separator followed by one or two digits has one reading only
(thousands groups have three digits): `500.00` is five hundred anywhere.

Decimal comma, dot (or space) for thousands: most of Spanish-speaking South
America and Spain, Brazil, most of continental Europe. Decimal point, comma
for thousands: Mexico, Central America and the Caribbean where the US
convention is usual (GT, HN, SV, NI, PA, DO, PR), Peru, the US, the UK and
other English-speaking countries. (CLDR's number symbols per locale.)
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

COMMA_DECIMAL = frozenset({
    "AR", "BO", "BR", "CL", "CO", "CR", "EC", "ES", "PY", "UY", "VE",
    "DE", "AT", "BE", "DK", "FI", "FR", "GR", "ID", "IT", "NL", "NO", "PL", "PT", "RO", "RU", "SE", "TR",
})
_NOISE = re.compile(r"[\s\u00a0\u202f'’]|[A-Za-z$€£]+")


class AmountError(ValueError):
    """A number that cannot be read safely; the message says why and how to write it."""


def separators(country: str) -> tuple[str, str]:
    """(decimal mark, thousands separator) of a country."""
    return (",", ".") if country.upper() in COMMA_DECIMAL else (".", ",")


def parse_amount(text: str, country: str, *, max_decimals: int = 2) -> Decimal:
    """A non-negative amount (price) as the country writes it; `AmountError` when it is unclear."""
    raw = text.strip()
    value = _NOISE.sub("", raw)
    if value.startswith("-") or value.endswith("-"):
        raise AmountError(f"{raw!r} is negative")
    if not value or not re.fullmatch(r"[\d.,]+", value) or not value[0].isdigit() or not value[-1].isdigit():
        raise AmountError(f"{raw!r} is not a number")
    dec, thou = separators(country)
    if dec in value and thou in value:
        if value.rfind(thou) > value.rfind(dec) or value.count(dec) > 1:
            raise AmountError(f"{raw!r}: separators in the wrong order for {country.upper()} "
                              f"(write it like {_example(dec, thou)})")
        whole, _, fraction = value.partition(dec)
        digits = _grouped(whole, thou, raw, country)
        return _decimal(digits, fraction, raw, max_decimals)
    if thou in value:
        groups = value.split(thou)
        if all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3:
            return _decimal("".join(groups), "", raw, max_decimals)
        if len(groups) == 2 and 1 <= len(groups[1]) <= max(max_decimals, 2) and len(groups[1]) != 3:
            # 8900.5 or 500.00 from a raw export: thousands groups have 3 digits, so no other reading.
            return _decimal(groups[0], groups[1], raw, max_decimals)
        raise AmountError(f"{raw!r} is ambiguous in {country.upper()}: {thou!r} separates thousands there "
                          f"(write it like {_example(dec, thou)})")
    if dec in value:
        if value.count(dec) > 1:
            raise AmountError(f"{raw!r} has more than one decimal mark")
        whole, _, fraction = value.partition(dec)
        if len(fraction) > max_decimals:
            raise AmountError(f"{raw!r} is ambiguous in {country.upper()}: {dec!r} is the decimal mark there and "
                              f"{len(fraction)} decimals are too many (write it like {_example(dec, thou)})")
        return _decimal(whole, fraction, raw, max_decimals)
    return _decimal(value, "", raw, max_decimals)


def parse_quantity(text: str, country: str) -> int:
    """A whole, non-negative quantity (stock) as the country writes it."""
    amount = parse_amount(text, country, max_decimals=0)
    return int(amount)


def _grouped(whole: str, thou: str, raw: str, country: str) -> str:
    groups = whole.split(thou)
    if not (1 <= len(groups[0]) <= 3 or len(groups) == 1) or any(len(g) != 3 for g in groups[1:]):
        raise AmountError(f"{raw!r}: thousands groups must have 3 digits in {country.upper()}")
    return "".join(groups)


def _decimal(whole: str, fraction: str, raw: str, max_decimals: int) -> Decimal:
    if len(fraction) > max_decimals:
        raise AmountError(f"{raw!r} has decimals; a whole number is expected" if max_decimals == 0
                          else f"{raw!r} has more than {max_decimals} decimals")
    try:
        return Decimal(f"{whole}.{fraction}" if fraction else whole)
    except InvalidOperation as exc:
        raise AmountError(f"{raw!r} is not a number") from exc


def _example(dec: str, thou: str) -> str:
    return f"8{thou}900{dec}50"
