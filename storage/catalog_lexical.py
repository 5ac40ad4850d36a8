"""The lexical side of the catalog index: an in-memory snapshot of postings, and query coverage.

Each word of a product's name, category and description points to the
products holding it, with the quality of the field it came from (a name hit
counts more than a category or description hit). A query, analysed into
concepts (storage/catalog_query.py), scores every product by how much of it
the product covers, weighted by IDF.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from storage.catalog_doc import CatalogDoc
from storage.embedding import normalize, tokens

FIELD_QUALITY = {"name": 1.0, "category": 0.6, "description": 0.45}


@dataclass
class Concept:
    """Part of a query: `span` query words and the token tuples that would satisfy them."""

    span: int
    alternatives: dict[tuple[str, ...], float] = field(default_factory=dict)

    def add(self, alt: tuple[str, ...], weight: float) -> None:
        if alt and weight > self.alternatives.get(alt, 0.0):
            self.alternatives[alt] = weight


class LexicalIndex:
    """An immutable in-memory snapshot: postings with field quality, IDF, name vocabulary."""

    def __init__(self, docs: Sequence[CatalogDoc]) -> None:
        self.skus = [d.sku for d in docs]
        self.sku_index = {normalize(d.sku): i for i, d in enumerate(docs)}
        self.n = len(docs)
        quality: dict[str, dict[int, float]] = {}
        name_len = np.ones(self.n, dtype=np.float32)
        name_vocab: set[str] = set()
        categories: dict[str, set[str]] = {}
        for i, d in enumerate(docs):
            if d.category not in categories:
                categories[d.category] = set(tokens(d.category, drop_stopwords=True))
            fields = (
                ("description", set(tokens(d.description, drop_stopwords=True))),
                ("category", categories[d.category]),
                ("name", set(tokens(d.name, drop_stopwords=True))),
            )
            for fname, words in fields:
                q = FIELD_QUALITY[fname]
                for w in words:
                    quality.setdefault(w, {})[i] = q  # name last: it wins
                if fname == "name":
                    name_len[i] = max(1, len(words))
                    name_vocab.update(words)
                elif fname == "category":
                    name_vocab.update(words)
        self.name_len = name_len
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.idf: dict[str, float] = {}
        for w, per_doc in quality.items():
            ids = np.fromiter(per_doc.keys(), dtype=np.int64, count=len(per_doc))
            qual = np.fromiter(per_doc.values(), dtype=np.float32, count=len(per_doc))
            self.postings[w] = (ids, qual)
            df = len(per_doc)
            self.idf[w] = math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))
        self.noise_idf = 0.5 * (float(np.median(list(self.idf.values()))) if self.idf else 1.0)
        self.name_vocab = frozenset(name_vocab)

    def scores(self, concepts: list[Concept]) -> tuple[np.ndarray, np.ndarray]:
        """IDF-weighted coverage of the query by each product (0..1), and per product the
        confidence of its best-recognized query term (a weak fuzzy guess alone is not enough)."""
        total = np.zeros(self.n, dtype=np.float32)
        name_hits = np.zeros(self.n, dtype=np.float32)
        confidence = np.zeros(self.n, dtype=np.float32)
        total_weight = 0.0
        for c in concepts:
            q = np.zeros(self.n, dtype=np.float32)
            best_idf = 0.0
            for alt, weight in c.alternatives.items():
                present = [t for t in alt if t in self.postings]
                if not present:
                    continue
                best_idf = max(best_idf, sum(self.idf.get(t, 0.0) for t in alt) / len(alt))
                if len(alt) == 1:
                    ids, qual = self.postings[alt[0]]
                    q[ids] = np.maximum(q[ids], qual * weight)
                    confidence[ids] = np.maximum(confidence[ids], weight)
                else:
                    acc = np.zeros(self.n, dtype=np.float32)
                    for t in present:
                        ids, qual = self.postings[t]
                        acc[ids] += qual
                    np.maximum(q, acc * (weight / len(alt)), out=q)
                    np.maximum(confidence, (acc > 0) * (weight * len(present) / len(alt)), out=confidence)
            concept_weight = c.span * (best_idf if best_idf > 0 else self.noise_idf)
            total_weight += concept_weight
            total += concept_weight * q
            name_hits += c.span * (q >= 0.7)
        if total_weight <= 0:
            return total, confidence
        name_cover = np.minimum(1.0, name_hits / self.name_len)
        return (total / total_weight) * (0.85 + 0.15 * name_cover), confidence
