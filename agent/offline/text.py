"""Text normalization shared by the offline model, language detection and confirmations.

Customers type fast: no accents, stretched letters ("holaaa"), chat
abbreviations ("q", "xq", "porfa", "u"). Everything that matches words runs
on the *folded* form built here, while the original spelling is kept for
what goes back into tool arguments (product names, people's names).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import DamerauLevenshtein

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?|[\U0001F300-\U0001FAFF\u2600-\u27BF]", re.UNICODE)
_STRETCH = re.compile(r"([a-z])\1{2,}")

# Chat spellings mapped to the word they stand for (folded forms).
ABBREVIATIONS: dict[str, str] = {
    "q": "que",
    "k": "que",
    "ke": "que",
    "xq": "porque",
    "pq": "porque",
    "porq": "porque",
    "xfa": "por favor",
    "xfavor": "por favor",
    "porfa": "por favor",
    "porfis": "por favor",
    "plis": "please",
    "pls": "please",
    "plz": "please",
    "tb": "tambien",
    "tmb": "tambien",
    "d": "de",
    "dnd": "donde",
    "cdo": "cuando",
    "kiero": "quiero",
    "kieres": "quieres",
    "kisiera": "quisiera",
    "kuanto": "cuanto",
    "cuanta": "cuanto",
    "ola": "hola",
    "asen": "hacen",
    "aser": "hacer",
    "u": "you",
    "r": "are",
    "ur": "your",
    "hw": "how",
    "thx": "thanks",
    "tnx": "thanks",
    "ty": "thanks",
    "grax": "gracias",
    "im": "i'm",
    "ill": "i'll",
    "id": "i'd",
    "dont": "don't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "cant": "can't",
    "wont": "won't",
    "whats": "what's",
    "wanna": "want to",
    "gonna": "going to",
    # Spain's "vosotros", read as the "ustedes" the cues know: "¿dónde estáis?", "¿me ponéis 2?"
    "estais": "estan",
    "teneis": "tienen",
    "haceis": "hacen",
    "abris": "abren",
    "cerrais": "cierran",
    "aceptais": "aceptan",
    "admitis": "admiten",
    "enviais": "envian",
    "mandais": "mandan",
    "vendeis": "venden",
    "podeis": "pueden",
    "sois": "son",
    "cobrais": "cobran",
    "traeis": "traen",
    "llevais": "llevan",
    "poneis": "ponen",
    "dais": "dan",
    "habeis": "han",
    "quereis": "quieren",
    "atendeis": "atienden",
    "trabajais": "trabajan",
    "cambiais": "cambian",
    "devolveis": "devuelven",
    "reparais": "reparan",
    "arreglais": "arreglan",
    "teniais": "tenian",
}


def fold(text: str) -> str:
    """Lowercase without accents ("Cañería" -> "caneria"), curly quotes made straight."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("’", "'"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def squeeze(word: str) -> str:
    """Collapse letters stretched three or more times: "holaaa" -> "hola"."""
    return _STRETCH.sub(r"\1", word)


def collapse(word: str) -> str:
    """Collapse every doubled letter ("graciass" -> "gracias", "noo" -> "no"); for loose matches."""
    return re.sub(r"([a-z])\1+", r"\1", word)


@dataclass(frozen=True, slots=True)
class Token:
    """A word as typed (`raw`), its folded form (`norm`) and where it sits in the text."""

    raw: str
    norm: str
    start: int
    end: int


def tokenize(text: str, expand: bool = True) -> list[Token]:
    """Words (and emoji) of `text`; with `expand`, chat abbreviations are spelled out."""
    out: list[Token] = []
    for match in _WORD.finditer(text):
        raw = match.group()
        norm = squeeze(fold(raw))
        expanded = ABBREVIATIONS.get(norm, norm) if expand else norm
        for part in expanded.split():
            out.append(Token(raw, part, match.start(), match.end()))
    return out


def words(text: str) -> list[str]:
    """Folded, expanded words of `text`."""
    return [t.norm for t in tokenize(text)]


def close_to(word: str, vocabulary: Iterable[str]) -> str | None:
    """The vocabulary word `word` is a likely typo of, if any (long words only).

    One edit (or swap) is tolerated from 6 letters on, two from 9, so short
    words never drift into keywords ("torno" stays "torno").
    """
    if len(word) < 6:
        return None
    best: str | None = None
    best_distance = 3
    for candidate in vocabulary:
        if abs(len(candidate) - len(word)) > 2:
            continue
        if candidate[0] != word[0] and candidate[0] != "h" and len(word) < 9:  # a silent h is a common slip
            continue
        allowed = 2 if len(candidate) >= 9 else 1 if len(candidate) >= 6 else 0
        distance = DamerauLevenshtein.distance(word, candidate, score_cutoff=allowed)
        if distance <= allowed and distance < best_distance:
            best, best_distance = candidate, distance
    return best
