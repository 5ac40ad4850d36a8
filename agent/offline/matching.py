"""Which catalog result a purchase means, and whether it is clearly the one.

"quiero 10 martillos" -> search_products("martillos") returns a ranked list;
the offline model orders the top result when its name carries the words the
customer used (plural/singular and small typos forgiven) and nothing else
fits better. When several different products fit equally, or none does, it
lists them and asks instead of guessing.
"""

from __future__ import annotations

import re
from typing import Any

from rapidfuzz import fuzz

from agent.offline.lexicon import STOPWORDS
from agent.offline.text import fold

_PLURAL_ES = re.compile(r"(?<=[lrndzjx])es$|(?<=sh)es$|(?<=ch)es$")
SCORE_GAP = 0.15
STRONG_SCORE = 0.5  # catalog scores: a name hit ~0.6+, a description-only hit ~0.3


def stem(word: str) -> str:
    """Crude singular: "tornillos" -> "tornillo", "pinceles" -> "pincel", "brushes" -> "brush"."""
    if len(word) > 4 and _PLURAL_ES.search(word):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    """Folded, singular words; digits and letters apart ("6x150" is "6 x 150" as in "6 x 150 mm")."""
    spaced = re.sub(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)", " ", fold(text))
    return [_UNIT.get(w, stem(w)) for w in re.findall(r"[a-z0-9]+", spaced) if w not in STOPWORDS]


# One spelling per unit, as catalogs abbreviate them ("1 litro" is "1 l", "50 kilos" is "50 kg").
_UNIT = {
    **dict.fromkeys(("litro", "litros", "lt", "lts", "liter", "liters", "litre", "litres"), "l"),
    **dict.fromkeys(("kilo", "kilos", "kilogramo", "kilogramos", "kgs"), "kg"),
    **dict.fromkeys(("metro", "metros", "mts", "mt", "meter", "meters"), "m"),
    **dict.fromkeys(("centimetro", "centimetros", "cms"), "cm"),
    **dict.fromkeys(("milimetro", "milimetros", "mms"), "mm"),
    **dict.fromkeys(("pulgada", "pulgadas", "inch", "inches", "pulg"), "pulgada"),
    **dict.fromkeys(("watt", "watts", "w"), "w"),
}


def match(query: str, name: str, similar: float = 80) -> tuple[float, bool]:
    """(share of the query's words found in `name`, whether the name starts with the first of them).

    Words count as found from a `similar` fuzzy ratio on (typos, "martiyo").
    """
    wanted, have = _words(query), _words(name)
    if not wanted or not have:
        return 0.0, False
    found = sum(1 for w in wanted if any(w == h or fuzz.ratio(w, h) >= similar for h in have))
    head = wanted[0] == have[0] or fuzz.ratio(wanted[0], have[0]) >= similar
    return found / len(wanted), head


def relevant(query: str, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results that surely answer `query`: it is in their name, or the catalog scored them high.

    For a question that was not clearly about products a result found through its description
    alone ("¿hacen instalaciones?" -> a cable "para instalaciones") or a look-alike word
    ("contractors" -> "Adhesivo de contacto") is no answer.
    """
    out = []
    for result in results:
        try:
            score = float(result.get("score", 0))
        except (TypeError, ValueError):
            score = 0.0
        share, _ = match(query, str(result.get("name", "")), similar=90)
        if score >= STRONG_SCORE or share >= 0.5 or _names_head(query, str(result.get("name", ""))):
            # "martillos mío nuevo", "se me rompió la canilla… ¿tienen canilla esférica?": the product named
            out.append(result)
    return out


def _names_head(query: str, name: str) -> bool:
    """One of the query's first words is the product's head noun ("canilla" for "Canilla esférica 1/2");
    a word said late in a long question ("…antes de pasar el látex?") is its object, not the request."""
    have = _words(name)
    return bool(have) and not have[0].isdigit() and any(
        w == have[0] or fuzz.ratio(w, have[0]) >= 90 for w in _words(query)[:2])


def top_matches(query: str, results: list[dict[str, Any]]) -> bool:
    """True when the first result is what the customer named (for answering "how much is it").

    A lone result counts only when it surely fits: "¿tienen sillas?" answered by a putty found
    through a fuzzy word is listed as a find, never as "¡Sí! Tenemos…".
    """
    if not results:
        return False
    if match(query, str(results[0].get("name", "")))[0] >= 0.99:
        return True
    return len(results) == 1 and bool(relevant(query, results))


def _stock(result: dict[str, Any]) -> int:
    try:
        return int(result.get("stock", 1))
    except (TypeError, ValueError):
        return 1


def choose(query: str, results: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The product to order, or None when the customer should pick."""
    if not results:
        return None
    if len(results) == 1:
        return results[0]
    scored = [(match(query, str(r.get("name", ""))), i, r) for i, r in enumerate(results)]
    full = [(head, i, r) for (share, head), i, r in scored if share >= 0.99]
    if full:
        heads = [r for head, _, r in full if head] or [r for _, _, r in full]
        in_stock = [r for r in heads if _stock(r) > 0]  # equally named: the one we can sell
        return (in_stock or heads)[0]
    try:
        gap = float(results[0].get("score", 0)) - float(results[1].get("score", 0))
    except (TypeError, ValueError):
        gap = 0.0
    best_share = max(share for (share, _), _, _ in scored)
    first_share = scored[0][0][0]
    if gap >= SCORE_GAP and first_share >= best_share:
        return results[0]
    return None
