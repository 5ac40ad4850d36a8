"""Amounts and quantities written the way a business's country writes them, or refused with the reason.

`8.900` is eight thousand nine hundred in Argentina and `1,250` is one
thousand two hundred fifty in Mexico: read by the wrong convention they
become 8.9 and 1.25, a price 1000x too low. So a value is read by its
country's convention, and a value that could mean two things is refused
with a reason the owner can act on, never guessed:

- thousands groups have 3 digits: `1.250.000` (AR) and `1,250,000` (MX) are
  read; `8.90` in Argentina is refused (a decimal point written the US way,
  or a thousands group missing a digit?), and so is `1,25` in Mexico;
- the decimal mark leaves at most 2 decimals for a price: `1,250` in
  Argentina (1.25 with three decimals, or 1250 written the US way?) is
  refused, and so is `1.250` in Mexico;
- both separators in the wrong order for the country (`1,250.50` in
  Argentina) are refused;
- a spreadsheet writing raw numbers writes `8900.5` or `12500.00`: a single
  dot after 4 or more digits (or after a lone 0) cannot be a thousands
  separator, so it is read as a decimal point in every country. `700.00`
  is read so only when the caller knows the column writes dots as decimal
  points (`DotStyle`, learnt from the other values of the column);
- spaces and apostrophes only ever separate thousands (`8 900,50`, `1'250.50`);
- a currency symbol or ISO 4217 code before or after the number is allowed
  (`$ 8.900`, `ARS 8.900,50`, `US$1,250.50`); any other letter (`12k`,
  `8 mil`, `1e5`) is refused, and so are signs, since prices and stock are >= 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

# Decimal comma (and dot or space for thousands), from CLDR 47 number symbols
# (unicode-org/cldr-json, cldr-numbers-full/main/<locale>/numbers.json, latn):
# es-AR es-BO es-CL es-CO es-CR es-EC es-PY es-UY es-VE es(ES) es-GQ pt(BR)
# pt-PT de de-AT fr nl-BE it nl da nb sv fi pl cs sk hu ro bg hr sl el lt lv
# et ru uk tr id vi en-ZA. Every other country writes a decimal point and
# comma thousands: es-MX es-GT es-HN es-SV es-NI es-PA es-DO es-PR es-CU es-PE
# es-US en en-GB en-IN en-PH ja zh ko th he, and de-CH with apostrophe
# thousands (CLDR's root, used for countries not listed). Canada and
# Switzerland write both; they are read the dot way (en-CA, de-CH).
COMMA_DECIMAL = frozenset(
    "AR BO CL CO CR EC PY UY VE ES GQ BR PT DE AT FR BE LU IT NL DK NO SE FI PL CZ SK HU RO BG HR SI GR "
    "LT LV EE RU UA TR ID VN ZA".split()
)
MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2), the price column
MAX_QUANTITY = 2**31 - 1  # INTEGER on PostgreSQL, the stock column

# ISO 4217 codes in use (CLDR 47 supplemental currencyData) and the usual symbols.
_ISO_CODES = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF "
    "CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD "
    "HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD "
    "MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN "
    "PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SYP SZL THB TJS TMT TND TOP TRY TTD "
    "TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG"
).split()
_SYMBOLS = "U$S U$D $U B/. S/. S/ Bs.S Bs.F Bs. Bs Gs. Gs zł kr Kč Ft R Q L $ € £ ¥ ₲ ₡ ₹ ₱ ₽ ₺ ₩ ₦ ₴ ₪ ¢".split()
_CURRENCY = re.compile(
    r"[A-Za-z]{1,3}\$|" + "|".join(re.escape(s) for s in sorted(_ISO_CODES + _SYMBOLS, key=len, reverse=True)),
    re.IGNORECASE,
)
_SHAPE = re.compile(r"(?P<pre>[^0-9]*?)(?P<body>[0-9](?:[0-9., '’\u00a0\u202f\u2009]*[0-9])?)(?P<post>[^0-9]*)")
_BODY = re.compile(r"[0-9]+(?:[., '’\u00a0\u202f\u2009][0-9]+)*")
_SIGNS = re.compile(r"[\s+\-\u2212()]")
_KIND = {".": ".", ",": ",", "'": "'", "’": "'"}  # every space-like character is one kind, " "


class AmountError(ValueError):
    """A number that cannot be read safely; the message says why and how to write it."""


def separators(country: str) -> tuple[str, str]:
    """(decimal mark, thousands separator) of a country."""
    return (",", ".") if country.upper() in COMMA_DECIMAL else (".", ",")


def parse_amount(text: str, country: str, *, max_decimals: int = 2, maximum: Decimal = MAX_AMOUNT,
                 dot_decimal: bool = False) -> Decimal:
    """A non-negative amount (a price) as `country` writes it; `AmountError` with the reason otherwise.

    `dot_decimal` says the column is known to write `.` as a decimal point
    (see `DotStyle`): then `700.00` is read as such in comma-decimal countries too.
    """
    raw = text.strip()
    if raw.isascii() and raw.isdigit():  # the common case, and no question about it
        body = raw
    else:
        body = _body(raw)
    whole, fraction = _split(body, raw, country.upper(), max_decimals, dot_decimal)
    if len(fraction) > max_decimals:
        raise AmountError(f"{raw!r} has {len(fraction)} decimals; at most {max_decimals}")
    value = Decimal(f"{whole}.{fraction}" if fraction else whole)
    if value > maximum:
        raise AmountError(f"{raw!r} is too large (at most {maximum})")
    return value


def parse_quantity(text: str, country: str, *, maximum: int = MAX_QUANTITY, dot_decimal: bool = False) -> int:
    """A whole, non-negative quantity (stock) as `country` writes it; `12.0` from a spreadsheet is 12."""
    value = parse_amount(text, country, maximum=Decimal(maximum), dot_decimal=dot_decimal)
    if value != value.to_integral_value():
        raise AmountError(f"{text.strip()!r} is not a whole number")
    return int(value)


@dataclass
class DotStyle:
    """Whether a column of values plainly writes `.` as a decimal point, learnt from all its values.

    Some value like `12500.00` (a dot no thousands separator can be) and
    none with a comma, a space, several dots or a dot before 3 digits:
    then the column's `700.00` is seven hundred, not an ambiguous value.
    """

    decimal_seen: bool = False
    grouping_seen: bool = False

    def add(self, text: str) -> None:
        shape = _SHAPE.fullmatch(text.strip())
        if not shape:
            return
        body = shape["body"]
        if body.count(".") > 1 or any(c in body for c in ", '’\u00a0\u202f\u2009"):
            self.grouping_seen = True
        elif "." in body:
            whole, fraction = body.split(".")
            if len(fraction) == 3:
                self.grouping_seen = True
            elif len(fraction) <= 2 and not _leads_group(whole):
                self.decimal_seen = True

    @property
    def dot_decimal(self) -> bool:
        return self.decimal_seen and not self.grouping_seen


def _body(raw: str) -> str:
    """The digits and separators, once currency, spaces and signs around them are checked."""
    if not raw:
        raise AmountError("empty; a number is expected")
    shape = _SHAPE.fullmatch(raw)
    if not shape or not _BODY.fullmatch(shape["body"]):
        raise AmountError(f"{raw!r} is not a number")
    for side in (shape["pre"], shape["post"]):
        extra = _SIGNS.sub("", side)
        if extra and not extra.strip(".,'’"):
            raise AmountError(f"{raw!r} is not a number (it starts or ends with {extra!r})")
        if extra and not _CURRENCY.fullmatch(extra):
            raise AmountError(f"{raw!r} is not a number ({extra!r} is not a currency)")
    around = shape["pre"] + shape["post"]
    if "-" in around or "\u2212" in around or "(" in around:
        raise AmountError(f"{raw!r} is negative; it must be 0 or more")
    if "+" in around:
        raise AmountError(f"{raw!r} has a sign; write the number alone")
    return shape["body"]


def _split(body: str, raw: str, country: str, max_decimals: int, dot_decimal: bool) -> tuple[str, str]:
    """(whole digits, fraction digits) of `body` by the country's convention."""
    dec, grp = separators(country)
    runs = re.split(r"[^0-9]", body)
    seps = [_KIND.get(c, " ") for c in re.findall(r"[^0-9]", body)]
    kinds = set(seps)
    example = f"8{grp}900{dec}50"
    if not seps:
        return body, ""
    if len(kinds) == 2 and seps[-1] in ".," and seps.count(seps[-1]) == 1:
        if seps[-1] != dec:
            raise AmountError(f"{raw!r} has its separators in the wrong order for {country}: there {dec!r} is "
                              f"the decimal mark and {grp!r} separates thousands (write it like {example})")
        return _grouped(runs[:-1], seps[0], raw, country, example), runs[-1]
    if len(kinds) > 1:
        raise AmountError(f"{raw!r} mixes separators; write it like {example}")
    kind = seps[0]
    if kind == dec:
        if len(seps) > 1:
            raise AmountError(f"{raw!r} is ambiguous in {country}: {dec!r} is the decimal mark there and it "
                              f"appears {len(seps)} times (write it like {example})")
        whole, fraction = runs
        if len(fraction) == 3 and len(fraction) > max_decimals and _leads_group(whole):
            raise AmountError(f"{raw!r} is ambiguous in {country}: {dec!r} is the decimal mark there, which leaves "
                              f"3 decimals; write {whole}{grp}{fraction} if it is thousands")
        return whole, fraction
    if _valid_groups(runs):
        return "".join(runs), ""
    if len(seps) == 1 and kind == "." and 1 <= len(runs[1]) <= 2 and (dot_decimal or not _leads_group(runs[0])):
        return runs[0], runs[1]  # a decimal point: a thousands group has 3 digits
    if len(seps) == 1 and 1 <= len(runs[1]) <= 2 and kind in ".,":
        raise AmountError(f"{raw!r} is ambiguous in {country}: {kind!r} separates thousands there and a thousands "
                          f"group has 3 digits; write {runs[0]}{dec}{runs[1]} if it is a decimal mark")
    return _grouped(runs, kind, raw, country, example), ""


def _grouped(runs: list[str], kind: str, raw: str, country: str, example: str) -> str:
    if not _valid_groups(runs):
        raise AmountError(f"{raw!r} is malformed for {country}: thousands groups separated by {kind!r} have "
                          f"3 digits (write it like {example})")
    return "".join(runs)


def _valid_groups(runs: list[str]) -> bool:
    return _leads_group(runs[0]) and all(len(run) == 3 for run in runs[1:])


def _leads_group(whole: str) -> bool:
    """Whether these digits can stand before a thousands separator: 1 to 3 of them, not starting with 0."""
    return 1 <= len(whole) <= 3 and whole[0] != "0"
