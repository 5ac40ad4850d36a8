"""Ranking catalog search results: lexical candidates, blended with vector similarity, floored.

Scores are in 0..1. The lexical coverage weighs most; the cosine from
Chroma adds evidence and brings in products the lexical side missed. An
absolute and a relative floor drop weak matches, so "nothing found" is an
answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from storage.catalog_lexical import Concept, LexicalIndex

MIN_SCORE = 0.2  # absolute floor: below this, "no encontré"
RELATIVE_FLOOR = 0.3  # and nothing below this fraction of the best hit
LEXICAL_WEIGHT, VECTOR_WEIGHT = 0.8, 0.2
VECTOR_COSINE_RANGE = (0.2, 0.7)  # cosine below: no vector evidence; above: full
MIN_TERM_CONFIDENCE = 0.5  # a hit needs one query term recognized at least this surely


@dataclass(frozen=True)
class SearchHit:
    sku: str
    score: float


def lexical_candidates(lex: LexicalIndex, concepts: list[Concept], k: int) -> dict[str, float]:
    """The best lexically matching products for a `k`-result search, by SKU, with their lexical score."""
    lexical, confidence = lex.scores(concepts)
    lexical = np.where(confidence >= MIN_TERM_CONFIDENCE, lexical, 0.0)
    n_lex = min(lex.n, max(50, 10 * k))
    top = np.argpartition(-lexical, n_lex - 1)[:n_lex] if n_lex < lex.n else np.arange(lex.n)
    return {lex.skus[i]: float(lexical[i]) for i in top if lexical[i] > 0}


def vector_pool(lex: LexicalIndex, k: int) -> int:
    """How many nearest vectors to fetch for a `k`-result search."""
    return min(lex.n, max(20, 4 * k))


def blend(candidates: dict[str, float], cosines: dict[str, float], k: int) -> list[SearchHit]:
    """The best `k` hits from lexical scores and cosines, best first, weak ones dropped."""
    scored: list[SearchHit] = []
    low, high = VECTOR_COSINE_RANGE
    for sku in candidates.keys() | {s for s, cos in cosines.items() if cos >= high}:
        lexical_part = candidates.get(sku, 0.0)
        vector_part = min(1.0, max(0.0, (cosines.get(sku, 0.0) - low) / (high - low)))
        score = LEXICAL_WEIGHT * lexical_part + VECTOR_WEIGHT * vector_part
        if score >= MIN_SCORE:
            scored.append(SearchHit(sku, round(min(1.0, score), 4)))
    scored.sort(key=lambda h: (-h.score, h.sku))
    if not scored:
        return []
    floor = scored[0].score * RELATIVE_FLOOR
    return [h for h in scored[:k] if h.score >= floor]
