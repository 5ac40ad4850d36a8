"""Guessing what a query word was meant to be: sound keys, fuzzy and prefix corrections.

Customers write "martiyo" or "destornilladores"; each query word gets
weighted variants among the catalog's name and category words and the
synonym words, so the lexical index can still find the product.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left

from rapidfuzz import fuzz, process

from storage.catalog_lexical import LexicalIndex
from storage.synonyms import Synonyms

PHONETIC_WEIGHT = 0.92
FUZZY_CUTOFF = 80.0
DERIVED_WEIGHT = 0.55

_PHONETIC_RULES = [("ch", "\0"), ("ll", "y"), ("qu", "k"), ("v", "b"), ("z", "s"), ("ce", "se"), ("ci", "si"),
                   ("h", ""), ("\0", "ch"), ("w", "u")]
_DOUBLE = re.compile(r"(.)\1+")


def phonetic(word: str) -> str:
    """A Rioplatense-friendly sound key: ll/y, b/v, s/z/c, silent h and doubled letters collapse."""
    for a, b in _PHONETIC_RULES:
        word = word.replace(a, b)
    return _DOUBLE.sub(r"\1", word)


class Matcher:
    """Correction targets (catalog name words + synonym words) for out-of-vocabulary query words."""

    def __init__(self, lex: LexicalIndex, syn: Synonyms) -> None:
        targets = {w for w in lex.name_vocab | syn.vocab if w.isalpha() and len(w) >= 3}
        self.known = set(lex.postings) | syn.vocab
        self.by_len: dict[int, list[str]] = {}
        self.by_sound: dict[str, list[str]] = {}
        for w in targets:
            self.by_len.setdefault(len(w), []).append(w)
            self.by_sound.setdefault(phonetic(w), []).append(w)
        self.sorted = sorted(targets)
        self.reversed = sorted(w[::-1] for w in targets)

    def variants(self, word: str) -> dict[str, float]:
        """The word plus weighted guesses of what it was meant to be.

        Unknown words get phonetic, fuzzy and prefix corrections. Every word
        of 5+ letters also reaches name words derived from it ("agujero" ->
        "agujereadora", "oxido" -> "antioxido") at a lower weight.
        """
        out = {word: 1.0}
        if not word.isalpha() or len(word) < 4:
            return out

        def offer(w: str, weight: float) -> None:
            if weight > out.get(w, 0.0):
                out[w] = weight

        if word not in self.known:
            for w in self.by_sound.get(phonetic(word), ()):
                offer(w, PHONETIC_WEIGHT)
            candidates = [w for n in range(len(word) - 2, len(word) + 3) for w in self.by_len.get(n, ())]
            for w, ratio, _ in process.extract(word, candidates, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF,
                                               limit=3):
                offer(w, _fuzzy_weight(ratio))
            for w in _with_prefix(self.sorted, word):
                offer(w, 0.8 * math.sqrt(len(word) / len(w)))
        if len(word) >= 5:
            stem = word[: max(5, len(word) - 2)]
            for w in _with_prefix(self.sorted, stem):
                offer(w, DERIVED_WEIGHT)
            for w in _with_prefix(self.reversed, word[::-1]):
                offer(w[::-1], DERIVED_WEIGHT)
        return out


def _with_prefix(sorted_words: list[str], prefix: str, limit: int = 8) -> list[str]:
    start = bisect_left(sorted_words, prefix)
    out = []
    for w in sorted_words[start : start + limit]:
        if not w.startswith(prefix):
            break
        out.append(w)
    return out


def _fuzzy_weight(ratio: float) -> float:
    """Map an Indel ratio (80..100) to a weight: one typo in a long word ~0.75, in a short one ~0.3."""
    return 0.9 * ((ratio - 60.0) / 40.0) ** 1.5
