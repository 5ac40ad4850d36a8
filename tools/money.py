"""Money formatting per language: one place, used by every sentence with a price."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

SYMBOLS = {"ARS": "$", "USD": "US$", "EUR": "€", "MXN": "$", "CLP": "$", "UYU": "$", "COP": "$", "PEN": "S/"}


def format_money(amount: Decimal | float | str, currency: str, lang: str) -> str:
    """`$12.500` / `$12.500,50` in Spanish, `$12,500` / `$12,500.50` in English."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, cents = divmod(abs(value), 1)
    grouped = f"{int(whole):,}"
    frac = f"{int(cents * 100):02d}"
    if lang == "es":
        grouped = grouped.replace(",", ".")
        text = grouped if frac == "00" else f"{grouped},{frac}"
    else:
        text = grouped if frac == "00" else f"{grouped}.{frac}"
    sign = "-" if value < 0 else ""
    return f"{sign}{SYMBOLS.get(currency.upper(), currency.upper() + ' ')}{text}"
