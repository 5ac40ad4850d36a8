"""Money formatting per language: one place, used by every sentence with a price."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

SYMBOLS = {
    "ARS": "$", "MXN": "$", "CLP": "$", "COP": "$", "UYU": "$", "USD": "US$", "EUR": "€", "BRL": "R$",
    "PEN": "S/ ", "GBP": "£", "PYG": "₲", "BOB": "Bs ",
}  # fmt: skip


def symbol(currency: str) -> str:
    code = currency.upper()
    return SYMBOLS.get(code, code + " ")


def format_amount(value: Any, lang: str) -> str:
    """12500 -> "12.500" (es) / "12,500" (en); cents only when there are any."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    cents = number != number.to_integral_value()
    text = f"{number:,.2f}" if cents else f"{number:,.0f}"
    if lang == "en":
        return text
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def format_money(amount: Any, currency: str, lang: str) -> str:
    """`$12.500` / `$12.500,50` in Spanish, `$12,500` / `$12,500.50` in English."""
    text = format_amount(amount, lang)
    if text.startswith("-"):
        return f"-{symbol(currency)}{text[1:]}"
    return f"{symbol(currency)}{text}"
