"""Quantities in a message: digits or words, Spanish or English.

"quiero 10 martillos", "dame dos", "media docena de pinceles", "a dozen
screws", "I'll take three". Numbers that belong to the product ("pintura de
20 litros", "tornillos de 6mm") or to something else (a phone, a price, a
time) are not quantities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.offline.text import Token

NUMBER_WORDS: dict[str, int] = {
    # Spanish
    "uno": 1, "una": 1, "un": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15,
    "dieciseis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20, "veinticinco": 25,
    "treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80,
    "noventa": 90, "cien": 100, "ciento": 100, "doscientos": 200, "doscientas": 200, "trescientos": 300,
    "quinientos": 500, "mil": 1000,
    # English
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "hundred": 100,
}  # fmt: skip
ARTICLES = {"un", "una", "a", "an"}
DOZEN = {"docena", "docenas", "dozen", "dozens"}
HALF = {"media", "medio", "half"}
PAIR = {"par", "pares", "couple", "pair"}

# Words right after a number that make it a size, a price or a time rather than a count.
UNITS = frozenset(
    """
    mm cm m mts mt metro metros km kg kgs kilo kilos g gr grs gramos l lt lts litro litros ml cc w watts
    v volts voltios hp pulgadas pulgada pulg inch inches ft feet oz lb lbs x hs h horas hora hrs
    am pm pesos peso usd ars dolares mil millones millon k amp amperes
    """.split()
)
# How customers count what they buy, whatever the product's name says ("3 bolsas", "2 boxes"): the
# core shared by the confirmation's restatements, the clock reader and the planner's product words.
PACKAGES = frozenset(
    """
    unidad unidades bolsa bolsas bolson bolsones caja cajas lata latas balde baldes rollo rollos par pares paquete
    paquetes kilos metros litros units boxes bags cans bote botes tarro tarros galon galones cubeta cubetas
    saco sacos bulto bultos
    """.split()
)
# Words right before a number that make it something other than a count.
NOT_COUNT_BEFORE = frozenset({"las", "la", "at", "nro", "numero", "modelo", "talle", "size", "year", "ano", "del", "n",
                              "no", "medida"})  # "un pincel del 20", "escuela n 5": a size or a name
UNIT_SUFFIX = re.compile(
    r"^\d+(?:[.,]\d+)?(mm|cm|m|mts|kg|g|gr|l|lt|lts|ml|cc|w|v|hp|hs|h|am|pm|oz|lb|lbs|ft|k)$"
)
_DIGITS = re.compile(r"^\d{1,4}$")


@dataclass(frozen=True, slots=True)
class Quantity:
    value: int
    start: int  # token index range [start, end) the quantity words occupy
    end: int
    article: bool = False  # only "un"/"una"/"a": a count of one by grammar, not by intent


def word_number(word: str) -> int | None:
    """The value of a number written in digits or words, else None."""
    if _DIGITS.match(word):
        return int(word)
    return NUMBER_WORDS.get(word)


# Nouns a count can follow with "de": "un pedido de 6", "un total de 10", "a pack of 4".
_COUNT_NOUNS = frozenset("pedido total cantidad pack caja cajas bolsa bolsas lote order total set box bag vez lugar instead".split())


def _norm(tokens: list[Token], index: int) -> str:
    return tokens[index].norm if 0 <= index < len(tokens) else ""


_PAIRED = frozenset("guantes guante anteojos anteojo lentes gafas antiparras botas botines zapatos zapatillas "
                    "auriculares protectores gloves glove glasses goggles boots shoes earmuffs pliers".split())
_PIECES = frozenset("piece pieces pc pcs pieza piezas pzas pza step steps escalon escalones outlet outlets tomas "
                    "pack".split())


def _is_count(tokens: list[Token], i: int, text: str, found: list[Quantity]) -> bool:
    word, nxt, prev = tokens[i].norm, _norm(tokens, i + 1), _norm(tokens, i - 1)
    if nxt in UNITS or prev in NOT_COUNT_BEFORE:
        return False
    if nxt in _PIECES and (prev in ARTICLES or prev in {"the", "el", "la", "los", "las"}):
        return False  # "a 6 piece screwdriver set", "el de 9 piezas": how the product is made up, not a count
    if text and tokens[i].start > 0 and text[: tokens[i].start].rstrip().endswith(("$", "€")):
        return False
    start, end = tokens[i].start, tokens[i].end
    glued_after = text[end : end + 1] in {":", "/", "%"} or (
        text[end : end + 1] in {".", ","} and text[end + 1 : end + 2].isdigit())
    glued_before = text[start - 1 : start] in {":", "/"} or (
        text[start - 1 : start] in {".", ","} and text[start - 2 : start - 1].isdigit())
    if word.isdigit() and (glued_after or glued_before):
        return False  # 10:30, 12/5, 20%, 2.5 (but "que sean 4, …" and "son 3." are counts)
    if word.isdigit() and start > 1 and text[start - 1] == "-" and text[start - 2].isalpha():
        return False  # a model name: "WD-40", "SDS-PLUS-2"
    # "2 latas de pintura de 20 ...", "la escalera de 6 escalones": a number after "de" that follows a noun
    # describes the product
    counts = [q for q in found if not q.article]
    if prev in {"de", "of"} and i >= 2 and _norm(tokens, i - 2).isalpha() and _norm(tokens, i - 2) not in _COUNT_NOUNS:
        return False
    return not (prev in {"de", "of"} and counts and counts[-1].end < i - 1)


def find_quantities(tokens: list[Token], text: str = "", lang: str = "es") -> list[Quantity]:
    """Every count mentioned in `tokens` (of `text`), in order.

    In Spanish "a" is a preposition ("a las 10"), so only English reads it as "one".
    """
    articles = ARTICLES if lang == "en" else ARTICLES - {"a", "an"}
    out: list[Quantity] = []
    i = 0
    while i < len(tokens):
        word, nxt, nxt2 = tokens[i].norm, _norm(tokens, i + 1), _norm(tokens, i + 2)
        if word in HALF and nxt in DOZEN:
            out.append(Quantity(6, i, i + 2))
            i += 2
        elif word in HALF and nxt in articles | {"a"} and nxt2 in DOZEN:
            out.append(Quantity(6, i, i + 3))
            i += 3
        elif word in DOZEN:
            out.append(Quantity(12, i, i + 1))
            i += 1
        elif word in {"un", "a"} and nxt in PAIR - {"pares"}:
            # "a pair of safety glasses", "un par de guantes": one of what comes in pairs; "un par de
            # clavos" is a couple
            paired = any(_norm(tokens, j) in _PAIRED for j in range(i + 2, i + 6))
            out.append(Quantity(1 if paired else 2, i, i + 2))
            i += 2
        elif word in articles:
            if nxt in DOZEN:
                out.append(Quantity(12, i, i + 2))
                i += 2
            else:
                if not (word == "a" and nxt in HALF):
                    out.append(Quantity(1, i, i + 1, article=True))
                i += 1
        else:
            value = word_number(word)
            if value is not None and nxt in DOZEN:
                out.append(Quantity(value * 12, i, i + 2))
                i += 2
                continue
            if value is not None and not UNIT_SUFFIX.match(word) and _is_count(tokens, i, text, out):
                out.append(Quantity(value, i, i + 1))
            i += 1
    return out
