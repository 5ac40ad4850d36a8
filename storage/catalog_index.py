"""The product search index: lexical + fuzzy over memory, vectors in embedded Chroma.

Why hybrid: the offline embedding (hashed n-grams) is cheap and typo-tolerant
but knows no meaning, and customers write "martiyo", "destornilladores" or
"hammer" for a Spanish catalog. So a query is first analysed into concepts
(one per meaningful word, or one per multi-word synonym phrase), each with
weighted alternatives: the word itself, phonetic and fuzzy corrections
against the catalog's name vocabulary, prefix completions, and every member
of a matching synonym group. Products are scored by how much of the query
(weighted by IDF) they cover, a name hit counting more than a category or
description hit; the cosine similarity from Chroma is blended in and also
brings candidates the lexical side missed. Scores are in 0..1 and a floor
drops weak matches, so "nothing found" is an answer.

Chroma keeps, per product, the content hash and the searchable text in its
metadata: a restart rebuilds the in-memory side from Chroma without
re-embedding, and `sync` re-embeds only what changed.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import threading
import time
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rapidfuzz import fuzz, process

from storage.embedding import embed_texts, get_collection, normalize, open_chroma, tokens
from storage.models import Product
from storage.repository import product_hash

log = logging.getLogger(__name__)

CHROMA_BATCH = 5000  # below Chroma's max batch size (5461)
MIN_SCORE = 0.2  # absolute floor: below this, "no encontré"
RELATIVE_FLOOR = 0.3  # and nothing below this fraction of the best hit
LEXICAL_WEIGHT, VECTOR_WEIGHT = 0.8, 0.2
VECTOR_COSINE_RANGE = (0.2, 0.7)  # cosine below: no vector evidence; above: full
FIELD_QUALITY = {"name": 1.0, "category": 0.6, "description": 0.45}
SYNONYM_WEIGHT = 0.9
PHONETIC_WEIGHT = 0.92
FUZZY_CUTOFF = 80.0
DERIVED_WEIGHT = 0.55
MIN_TERM_CONFIDENCE = 0.5  # a hit needs one query term recognized at least this surely
MAX_DESCRIPTION_CHARS = 1000  # embedded
STORED_DESCRIPTION_CHARS = 300  # kept in Chroma metadata for a restart


@dataclass(frozen=True)
class SearchHit:
    sku: str
    score: float


@dataclass(frozen=True)
class _Doc:
    sku: str
    name: str
    description: str
    category: str
    digest: str

    @classmethod
    def of(cls, p: Product) -> _Doc:
        digest = p.content_hash or product_hash(p.name, p.description, p.category)
        return cls(p.sku, p.name, p.description or "", p.category or "", digest)

    def embedding_text(self) -> str:
        # The name twice: it is what customers ask for.
        return f"{self.name}. {self.name}. {self.category}. {self.description[:MAX_DESCRIPTION_CHARS]}"

    def metadata(self) -> dict[str, str]:
        # Enough to rebuild the lexical side after a restart; no `documents`: Chroma's
        # full-text index would only slow writes down (we do our own lexical matching).
        return {
            "hash": self.digest,
            "name": self.name,
            "category": self.category,
            "description": self.description[:STORED_DESCRIPTION_CHARS],
        }


_PHONETIC_RULES = [("ch", "\0"), ("ll", "y"), ("qu", "k"), ("v", "b"), ("z", "s"), ("ce", "se"), ("ci", "si"),
                   ("h", ""), ("\0", "ch"), ("w", "u")]
_DOUBLE = re.compile(r"(.)\1+")


def phonetic(word: str) -> str:
    """A Rioplatense-friendly sound key: ll/y, b/v, s/z/c, silent h and doubled letters collapse."""
    for a, b in _PHONETIC_RULES:
        word = word.replace(a, b)
    return _DOUBLE.sub(r"\1", word)


@dataclass
class _Concept:
    """Part of a query: `span` query words and the token tuples that would satisfy them."""

    span: int
    alternatives: dict[tuple[str, ...], float] = field(default_factory=dict)

    def add(self, alt: tuple[str, ...], weight: float) -> None:
        if alt and weight > self.alternatives.get(alt, 0.0):
            self.alternatives[alt] = weight


class _Synonyms:
    """Groups of equivalent terms from the owner's YAML, as normalized token tuples."""

    def __init__(self, groups: Iterable[Iterable[str]] = ()) -> None:
        self.groups: list[list[tuple[str, ...]]] = []
        self.phrase_groups: dict[tuple[str, ...], list[int]] = {}
        for raw in groups:
            members = []
            for term in raw:
                phrase = tuple(tokens(str(term), drop_stopwords=True))
                if phrase and phrase not in members:
                    members.append(phrase)
            if len(members) < 2:
                continue
            for phrase in members:
                self.phrase_groups.setdefault(phrase, []).append(len(self.groups))
            self.groups.append(members)
        self.by_first: dict[str, list[tuple[str, ...]]] = {}
        for phrase in sorted(self.phrase_groups, key=len, reverse=True):
            self.by_first.setdefault(phrase[0], []).append(phrase)
        self.vocab = {t for phrase in self.phrase_groups for t in phrase}

    @classmethod
    def load(cls, path: Path | None) -> _Synonyms:
        if path is None or not path.exists():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if isinstance(data, dict):
            data = data.get("groups", [])
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a list of groups of terms")
        return cls(g if isinstance(g, list) else [g] for g in data)


class _LexicalIndex:
    """An immutable in-memory snapshot: postings with field quality, IDF, name vocabulary."""

    def __init__(self, docs: Sequence[_Doc]) -> None:
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
        self.name_vocab = name_vocab


class _Matcher:
    """Correction targets (catalog name words + synonym words) for out-of-vocabulary query words."""

    def __init__(self, lex: _LexicalIndex, syn: _Synonyms) -> None:
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


class _Engine:
    """One consistent snapshot of the lexical index, synonyms and matcher (swapped whole)."""

    def __init__(self, lex: _LexicalIndex, syn: _Synonyms) -> None:
        self.lex, self.syn, self.matcher = lex, syn, _Matcher(lex, syn)

    def analyse(self, query: str) -> tuple[list[_Concept], list[str]]:
        """Split a query into concepts; also return extra words for the vector query."""
        words = tokens(query, drop_stopwords=True)
        variants = [self.matcher.variants(w) for w in words]
        concepts: list[_Concept] = []
        extra: list[str] = []
        i = 0
        while i < len(words):
            match = self._phrase_at(variants, i)
            if match is None:
                concept = _Concept(1)
                for w, weight in variants[i].items():
                    concept.add((w,), weight)
                concepts.append(concept)
                i += 1
                continue
            phrase, weight = match
            concept = _Concept(len(phrase))
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

    def lexical_scores(self, concepts: list[_Concept]) -> tuple[np.ndarray, np.ndarray]:
        """IDF-weighted coverage of the query by each product (0..1), and per product the
        confidence of its best-recognized query term (a weak fuzzy guess alone is not enough)."""
        lex = self.lex
        total = np.zeros(lex.n, dtype=np.float32)
        name_hits = np.zeros(lex.n, dtype=np.float32)
        confidence = np.zeros(lex.n, dtype=np.float32)
        total_weight = 0.0
        for c in concepts:
            q = np.zeros(lex.n, dtype=np.float32)
            best_idf = 0.0
            for alt, weight in c.alternatives.items():
                present = [t for t in alt if t in lex.postings]
                if not present:
                    continue
                best_idf = max(best_idf, sum(lex.idf.get(t, 0.0) for t in alt) / len(alt))
                if len(alt) == 1:
                    ids, qual = lex.postings[alt[0]]
                    q[ids] = np.maximum(q[ids], qual * weight)
                    confidence[ids] = np.maximum(confidence[ids], weight)
                else:
                    acc = np.zeros(lex.n, dtype=np.float32)
                    for t in present:
                        ids, qual = lex.postings[t]
                        acc[ids] += qual
                    np.maximum(q, acc * (weight / len(alt)), out=q)
                    np.maximum(confidence, (acc > 0) * (weight * len(present) / len(alt)), out=confidence)
            concept_weight = c.span * (best_idf if best_idf > 0 else lex.noise_idf)
            total_weight += concept_weight
            total += concept_weight * q
            name_hits += c.span * (q >= 0.7)
        if total_weight <= 0:
            return total, confidence
        name_cover = np.minimum(1.0, name_hits / lex.name_len)
        return (total / total_weight) * (0.85 + 0.15 * name_cover), confidence


class CatalogIndex:
    """Hybrid product search over one business's catalog (see the module docstring)."""

    def __init__(self, directory: Path, *, synonyms_path: Path | None = None, collection: str = "products") -> None:
        self.directory = Path(directory)
        self.synonyms_path = synonyms_path
        self.collection_name = collection
        self._client: Any = None
        self._collection: Any = None
        self._docs: dict[str, _Doc] = {}
        self._engine = _Engine(_LexicalIndex([]), _Synonyms())
        self._write_lock = asyncio.Lock()
        self._state_lock = threading.RLock()  # guards _docs/_engine/_loaded across worker threads
        self._loaded = False
        self._synonyms_mtime: float | None = None
        self._synonyms_checked = 0.0

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open (or create) the persistent collection.

        The in-memory side is built by the first `sync`, or, if a search or an
        upsert comes first (a restart), from what Chroma stored.
        """
        await asyncio.to_thread(self._start_blocking)

    def _start_blocking(self) -> None:
        self._client = open_chroma(self.directory)
        self._collection = get_collection(self._client, self.collection_name)
        self._engine = _Engine(_LexicalIndex([]), self._load_synonyms())

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._state_lock:
            if self._loaded:
                return
            docs: dict[str, _Doc] = {}
            for sku, meta in self._stored_metadata().items():
                if "name" in meta:
                    docs[sku] = _Doc(sku, meta["name"], meta.get("description", ""), meta.get("category", ""),
                                     meta.get("hash", ""))
            self._docs = docs
            self._rebuild(self._engine.syn)
            self._loaded = True

    async def close(self) -> None:
        self._collection = None
        self._client = None

    # -- writes ----------------------------------------------------------------------------------

    async def sync(self, products: Sequence[Product]) -> dict[str, int]:
        """Make the index mirror `products` exactly; embeds only products whose text changed."""
        docs = {p.sku: _Doc.of(p) for p in products}
        async with self._write_lock:
            return await asyncio.to_thread(self._sync_blocking, docs)

    def _sync_blocking(self, docs: dict[str, _Doc]) -> dict[str, int]:
        stored = {sku: meta.get("hash") for sku, meta in self._stored_metadata().items()}
        changed = [d for sku, d in docs.items() if stored.get(sku) != d.digest]
        self._write(changed)
        gone = [sku for sku in stored if sku not in docs]
        for start in range(0, len(gone), CHROMA_BATCH):
            self._coll().delete(ids=gone[start : start + CHROMA_BATCH])
        with self._state_lock:
            if not self._loaded or docs != self._docs:
                self._docs = docs
                self._rebuild(self._engine.syn)
            self._loaded = True
        return {"embedded": len(changed), "deleted": len(gone), "total": len(docs)}

    async def upsert(self, products: Sequence[Product]) -> int:
        """Add or update some products; returns how many were (re-)embedded."""
        docs = {p.sku: _Doc.of(p) for p in products}
        if not docs:
            return 0
        async with self._write_lock:
            return await asyncio.to_thread(self._upsert_blocking, docs)

    def _upsert_blocking(self, docs: dict[str, _Doc]) -> int:
        self._ensure_loaded()
        ids = list(docs)
        stored: dict[str, Any] = {}
        for start in range(0, len(ids), CHROMA_BATCH):
            got = self._coll().get(ids=ids[start : start + CHROMA_BATCH], include=["metadatas"])
            stored.update({i: (m or {}).get("hash") for i, m in zip(got["ids"], got["metadatas"], strict=True)})
        changed = [d for sku, d in docs.items() if stored.get(sku) != d.digest]
        self._write(changed)
        with self._state_lock:
            if any(self._docs.get(sku) != d for sku, d in docs.items()):
                self._docs = {**self._docs, **docs}
                self._rebuild(self._engine.syn)
        return len(changed)

    async def remove(self, skus: Sequence[str]) -> None:
        """Drop products from the index (e.g. deleted from the catalog)."""
        async with self._write_lock:
            await asyncio.to_thread(self._remove_blocking, list(skus))

    def _remove_blocking(self, skus: list[str]) -> None:
        self._ensure_loaded()
        for start in range(0, len(skus), CHROMA_BATCH):
            self._coll().delete(ids=skus[start : start + CHROMA_BATCH])
        drop = set(skus)
        with self._state_lock:
            self._docs = {k: v for k, v in self._docs.items() if k not in drop}
            self._rebuild(self._engine.syn)

    def _write(self, docs: list[_Doc]) -> None:
        for start in range(0, len(docs), CHROMA_BATCH):
            batch = docs[start : start + CHROMA_BATCH]
            vectors = embed_texts([d.embedding_text() for d in batch])
            self._coll().upsert(
                ids=[d.sku for d in batch],
                embeddings=vectors,
                metadatas=[d.metadata() for d in batch],
            )

    def _stored_metadata(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        offset = 0
        while True:
            got = self._coll().get(include=["metadatas"], limit=CHROMA_BATCH, offset=offset)
            for sku, meta in zip(got["ids"], got["metadatas"], strict=True):
                out[sku] = dict(meta or {})
            if len(got["ids"]) < CHROMA_BATCH:
                return out
            offset += CHROMA_BATCH

    def _coll(self) -> Any:
        if self._collection is None:
            raise RuntimeError("CatalogIndex.start() was not awaited")
        return self._collection

    def _rebuild(self, syn: _Synonyms) -> None:
        self._engine = _Engine(_LexicalIndex(list(self._docs.values())), syn)

    # -- synonyms --------------------------------------------------------------------------------

    def reload_synonyms(self) -> None:
        """Re-read the synonyms file now (blocking: from async code, run it in a thread).

        A broken file is logged and the previous synonyms stay in use.
        """
        with self._state_lock:
            self._engine = _Engine(self._engine.lex, self._load_synonyms())

    def _load_synonyms(self) -> _Synonyms:
        path = self.synonyms_path
        try:
            self._synonyms_mtime = path.stat().st_mtime if path and path.exists() else None
            return _Synonyms.load(path)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            log.warning("synonyms file %s not loaded: %s", path, exc)
            return self._engine.syn

    def _check_synonyms(self) -> None:
        now = time.monotonic()
        if now - self._synonyms_checked < 1.0:
            return
        self._synonyms_checked = now
        path = self.synonyms_path
        try:
            mtime = path.stat().st_mtime if path and path.exists() else None
        except OSError:
            return
        if mtime != self._synonyms_mtime:
            self.reload_synonyms()

    # -- search ----------------------------------------------------------------------------------

    async def search(self, query: str, k: int = 5) -> list[SearchHit]:
        """The best `k` products for `query`, best first; [] when nothing matches reasonably."""
        if not query.strip() or k <= 0:
            return []
        return await asyncio.to_thread(self._search_blocking, query, k)

    def _search_blocking(self, query: str, k: int) -> list[SearchHit]:
        self._ensure_loaded()
        self._check_synonyms()
        engine = self._engine
        lex = engine.lex
        if lex.n == 0:
            return []
        exact = lex.sku_index.get(normalize(query))
        if exact is not None:
            return [SearchHit(lex.skus[exact], 1.0)]
        concepts, extra = engine.analyse(query)
        if not concepts:
            return []
        lexical, confidence = engine.lexical_scores(concepts)
        lexical = np.where(confidence >= MIN_TERM_CONFIDENCE, lexical, 0.0)
        n_lex = min(lex.n, max(50, 10 * k))
        top = np.argpartition(-lexical, n_lex - 1)[:n_lex] if n_lex < lex.n else np.arange(lex.n)
        candidates = {lex.skus[i]: float(lexical[i]) for i in top if lexical[i] > 0}
        cosines = self._vector_scores(" ".join([query, *extra]), candidates, k, lex)
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

    def _vector_scores(self, text: str, candidates: dict[str, float], k: int, lex: _LexicalIndex) -> dict[str, float]:
        """Cosine similarity for the vector top hits and for every lexical candidate."""
        coll = self._coll()
        vector = embed_texts([text])
        if not vector.any():
            return {}
        n = min(lex.n, max(20, 4 * k))
        res = coll.query(query_embeddings=vector, n_results=n, include=["distances"])
        out = {sku: 1.0 - dist for sku, dist in zip(res["ids"][0], res["distances"][0], strict=True)}
        missing = [sku for sku in candidates if sku not in out]
        if missing:
            got = coll.get(ids=missing, include=["embeddings"])
            if len(got["ids"]):
                matrix = np.asarray(got["embeddings"], dtype=np.float32)
                for sku, cos in zip(got["ids"], matrix @ vector[0], strict=True):
                    out[sku] = float(cos)
        return out


__all__ = ["CatalogIndex", "SearchHit"]
