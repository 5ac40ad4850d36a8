"""A search query analysed into concepts, against one snapshot of the catalog and the synonyms.

A concept is one meaningful query word, or one multi-word synonym phrase,
with weighted alternatives: the word itself, its corrections
(storage/catalog_text.py) and every member of a matching synonym group.
"""

from __future__ import annotations

from storage.catalog_lexical import Concept, LexicalIndex
from storage.catalog_text import Matcher
from storage.embedding import tokens
from storage.synonyms import Synonyms

SYNONYM_WEIGHT = 0.9


class Engine:
    """One consistent snapshot of the lexical index, synonyms and matcher (swapped whole)."""

    def __init__(self, lex: LexicalIndex, syn: Synonyms) -> None:
        self.lex, self.syn, self.matcher = lex, syn, Matcher(lex, syn)

    def analyse(self, query: str) -> tuple[list[Concept], list[str]]:
        """Split a query into concepts; also return extra words for the vector query."""
        words = tokens(query, drop_stopwords=True)
        variants = [self.matcher.variants(w) for w in words]
        concepts: list[Concept] = []
        extra: list[str] = []
        i = 0
        while i < len(words):
            match = self._phrase_at(variants, i)
            if match is None:
                concept = Concept(1)
                for w, weight in variants[i].items():
                    concept.add((w,), weight)
                concepts.append(concept)
                i += 1
                continue
            phrase, weight = match
            concept = Concept(len(phrase))
            concept.add(tuple(words[i : i + len(phrase)]), 1.0)
            concept.add(phrase, weight)
            for g in self.syn.phrase_groups[phrase]:
                for member in self.syn.groups[g]:
                    concept.add(member, weight * SYNONYM_WEIGHT)
                    extra.extend(member)
            concepts.append(concept)
            i += len(phrase)
        return concepts, extra

    def _phrase_at(self, variants: list[dict[str, float]], i: int) -> tuple[tuple[str, ...], float] | None:
        best: tuple[tuple[str, ...], float] | None = None
        for first, w0 in variants[i].items():
            for phrase in self.syn.by_first.get(first, ()):
                if i + len(phrase) > len(variants):
                    continue
                weight = w0
                for j in range(1, len(phrase)):
                    weight *= variants[i + j].get(phrase[j], 0.0)
                if weight <= 0:
                    continue
                if best is None or (len(phrase), weight) > (len(best[0]), best[1]):
                    best = (phrase, weight)
        return best
