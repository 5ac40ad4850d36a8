"""The vector side of the catalog index: product embeddings in a persistent (embedded) Chroma collection.

Per product Chroma also keeps the content hash and the searchable text in
its metadata, so a restart rebuilds the in-memory side without re-embedding
and a sync re-embeds only what changed. All calls block: run them in a thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from storage.catalog_doc import CatalogDoc
from storage.embedding import embed_texts, get_collection, open_chroma

CHROMA_BATCH = 5000  # below Chroma's max batch size (5461)


class CatalogVectors:
    """One Chroma collection of product vectors, written and read in batches."""

    def __init__(self, directory: Path, collection: str) -> None:
        self.directory = directory
        self.collection_name = collection
        self._client: Any = None
        self._collection: Any = None

    def open(self) -> None:
        self._client = open_chroma(self.directory)
        self._collection = get_collection(self._client, self.collection_name)

    def close(self) -> None:
        self._collection = None
        self._client = None

    def collection(self) -> Any:
        if self._collection is None:
            raise RuntimeError("CatalogIndex.start() was not awaited")
        return self._collection

    def write(self, docs: Sequence[CatalogDoc]) -> None:
        """Embed and store `docs` (new or changed)."""
        for start in range(0, len(docs), CHROMA_BATCH):
            batch = docs[start : start + CHROMA_BATCH]
            vectors = embed_texts([d.embedding_text() for d in batch])
            self.collection().upsert(
                ids=[d.sku for d in batch],
                embeddings=vectors,
                metadatas=[d.metadata() for d in batch],
            )

    def delete(self, skus: Sequence[str]) -> None:
        for start in range(0, len(skus), CHROMA_BATCH):
            self.collection().delete(ids=list(skus[start : start + CHROMA_BATCH]))

    def stored_metadata(self) -> dict[str, dict[str, Any]]:
        """Every stored product's metadata, by SKU."""
        out: dict[str, dict[str, Any]] = {}
        offset = 0
        while True:
            got = self.collection().get(include=["metadatas"], limit=CHROMA_BATCH, offset=offset)
            for sku, meta in zip(got["ids"], got["metadatas"], strict=True):
                out[sku] = dict(meta or {})
            if len(got["ids"]) < CHROMA_BATCH:
                return out
            offset += CHROMA_BATCH

    def stored_hashes(self, skus: Sequence[str]) -> dict[str, Any]:
        """The stored content hash of those of `skus` that are in the collection."""
        stored: dict[str, Any] = {}
        for start in range(0, len(skus), CHROMA_BATCH):
            got = self.collection().get(ids=list(skus[start : start + CHROMA_BATCH]), include=["metadatas"])
            stored.update({i: (m or {}).get("hash") for i, m in zip(got["ids"], got["metadatas"], strict=True)})
        return stored

    def cosines(self, text: str, candidates: dict[str, float], n: int) -> dict[str, float]:
        """Cosine similarity to `text` for the `n` nearest products and for every candidate SKU."""
        coll = self.collection()
        vector = embed_texts([text])
        if not vector.any():
            return {}
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
