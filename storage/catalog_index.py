"""The product search index: lexical + fuzzy over memory, vectors in embedded Chroma.

Why hybrid: the offline embedding (hashed n-grams) is cheap and typo-tolerant
but knows no meaning, and customers write "martiyo", "destornilladores" or
"hammer" for a Spanish catalog. So a query is first analysed into concepts
(one per meaningful word, or one per multi-word synonym phrase), each with
weighted alternatives: the word itself, phonetic and fuzzy corrections
against the catalog's name vocabulary, prefix completions, and every member
of a matching synonym group (storage/catalog_query.py, catalog_text.py,
synonyms.py). Products are scored by how much of the query (weighted by IDF)
they cover, a name hit counting more than a category or description hit
(storage/catalog_lexical.py); the cosine similarity from Chroma
(storage/catalog_vectors.py) is blended in and also brings candidates the
lexical side missed (storage/catalog_rank.py). Scores are in 0..1 and a floor
drops weak matches, so "nothing found" is an answer.

Chroma keeps, per product, the content hash and the searchable text in its
metadata: a restart rebuilds the in-memory side from Chroma without
re-embedding, and `sync` re-embeds only what changed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from storage.catalog_doc import CatalogDoc
from storage.catalog_lexical import LexicalIndex
from storage.catalog_query import Engine
from storage.catalog_rank import SearchHit, blend, lexical_candidates, vector_pool
from storage.catalog_vectors import CatalogVectors
from storage.embedding import normalize
from storage.models import Product
from storage.synonyms import Synonyms, SynonymsFile


class CatalogIndex:
    """Hybrid product search over one business's catalog (see the module docstring)."""

    def __init__(self, directory: Path, *, synonyms_path: Path | None = None, collection: str = "products") -> None:
        self.directory = Path(directory)
        self.collection_name = collection
        self._vectors = CatalogVectors(self.directory, collection)
        self._synonyms = SynonymsFile(synonyms_path)
        self._docs: dict[str, CatalogDoc] = {}
        self._engine = Engine(LexicalIndex([]), Synonyms())
        self._write_lock = asyncio.Lock()
        self._state_lock = threading.RLock()  # guards _docs/_engine/_loaded across worker threads
        self._loaded = False

    @property
    def synonyms_path(self) -> Path | None:
        return self._synonyms.path

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open (or create) the persistent collection.

        The in-memory side is built by the first `sync`, or, if a search or an
        upsert comes first (a restart), from what Chroma stored.
        """
        await asyncio.to_thread(self._start_blocking)

    def _start_blocking(self) -> None:
        self._vectors.open()
        self._engine = Engine(LexicalIndex([]), self._synonyms.load(self._engine.syn))

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._state_lock:
            if self._loaded:
                return
            stored = self._vectors.stored_metadata()
            self._docs = {sku: CatalogDoc.from_metadata(sku, meta) for sku, meta in stored.items() if "name" in meta}
            self._rebuild(self._engine.syn)
            self._loaded = True

    async def close(self) -> None:
        self._vectors.close()

    # -- writes ----------------------------------------------------------------------------------

    async def sync(self, products: Sequence[Product]) -> dict[str, int]:
        """Make the index mirror `products` exactly; embeds only products whose text changed."""
        docs = {p.sku: CatalogDoc.of(p) for p in products}
        async with self._write_lock:
            return await asyncio.to_thread(self._sync_blocking, docs)

    def _sync_blocking(self, docs: dict[str, CatalogDoc]) -> dict[str, int]:
        stored = {sku: meta.get("hash") for sku, meta in self._vectors.stored_metadata().items()}
        changed = [d for sku, d in docs.items() if stored.get(sku) != d.digest]
        self._vectors.write(changed)
        gone = [sku for sku in stored if sku not in docs]
        self._vectors.delete(gone)
        with self._state_lock:
            if not self._loaded or docs != self._docs:
                self._docs = docs
                self._rebuild(self._engine.syn)
            self._loaded = True
        return {"embedded": len(changed), "deleted": len(gone), "total": len(docs)}

    async def upsert(self, products: Sequence[Product]) -> int:
        """Add or update some products; returns how many were (re-)embedded."""
        docs = {p.sku: CatalogDoc.of(p) for p in products}
        if not docs:
            return 0
        async with self._write_lock:
            return await asyncio.to_thread(self._upsert_blocking, docs)

    def _upsert_blocking(self, docs: dict[str, CatalogDoc]) -> int:
        self._ensure_loaded()
        stored = self._vectors.stored_hashes(list(docs))
        changed = [d for sku, d in docs.items() if stored.get(sku) != d.digest]
        self._vectors.write(changed)
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
        self._vectors.delete(skus)
        drop = set(skus)
        with self._state_lock:
            self._docs = {k: v for k, v in self._docs.items() if k not in drop}
            self._rebuild(self._engine.syn)

    def name_words(self) -> frozenset[str]:
        """The words of the products' names (normalized like every search): what names a product."""
        return self._engine.lex.name_vocab  # frozen when the snapshot is built: no copy per question

    def equivalents(self, text: str) -> frozenset[str]:
        """The owner's synonyms of the words of `text` (one-word terms, normalized like every search)."""
        return self._engine.syn.equivalents(text)

    def _coll(self) -> Any:
        return self._vectors.collection()

    def _rebuild(self, syn: Synonyms) -> None:
        self._engine = Engine(LexicalIndex(list(self._docs.values())), syn)

    # -- synonyms --------------------------------------------------------------------------------

    def reload_synonyms(self) -> None:
        """Re-read the synonyms file now (blocking: from async code, run it in a thread).

        A broken file is logged and the previous synonyms stay in use.
        """
        with self._state_lock:
            self._engine = Engine(self._engine.lex, self._synonyms.load(self._engine.syn))

    # -- search ----------------------------------------------------------------------------------

    async def search(self, query: str, k: int = 5) -> list[SearchHit]:
        """The best `k` products for `query`, best first; [] when nothing matches reasonably."""
        if not query.strip() or k <= 0:
            return []
        return await asyncio.to_thread(self._search_blocking, query, k)

    def _search_blocking(self, query: str, k: int) -> list[SearchHit]:
        self._ensure_loaded()
        if self._synonyms.changed():
            self.reload_synonyms()
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
        candidates = lexical_candidates(lex, concepts, k)
        cosines = self._vectors.cosines(" ".join([query, *extra]), candidates, vector_pool(lex, k))
        return blend(candidates, cosines, k)


__all__ = ["CatalogIndex", "SearchHit"]
