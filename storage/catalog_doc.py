"""One product as the catalog index sees it: the text it searches and embeds, and its content hash."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from storage.models import Product
from storage.repository import product_hash

MAX_DESCRIPTION_CHARS = 1000  # embedded
STORED_DESCRIPTION_CHARS = 300  # kept in Chroma metadata for a restart


@dataclass(frozen=True)
class CatalogDoc:
    sku: str
    name: str
    description: str
    category: str
    digest: str

    @classmethod
    def of(cls, p: Product) -> CatalogDoc:
        digest = p.content_hash or product_hash(p.name, p.description, p.category)
        return cls(p.sku, p.name, p.description or "", p.category or "", digest)

    @classmethod
    def from_metadata(cls, sku: str, meta: Mapping[str, Any]) -> CatalogDoc:
        """Rebuild a doc from what `metadata` stored in Chroma (a restart)."""
        return cls(sku, meta["name"], meta.get("description", ""), meta.get("category", ""), meta.get("hash", ""))

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
