"""CatalogIndex over real Chroma and real SQLite, and the search_products tool on top of it."""

from __future__ import annotations

import asyncio
import csv
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import delete

from config.business import BusinessConfig
from prompts import PromptStore
from storage.catalog_index import CatalogIndex, SearchHit
from storage.db import Database
from storage.embedding import embed_texts, normalize, tokens
from storage.models import Product
from storage.repository import ProductRow, Repositories
from tools.context import Services, ToolContext
from tools.search_products import search_products

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "config" / "demo_catalog.csv"
SYNONYMS = ROOT / "config" / "synonyms.yaml"


def demo_rows() -> list[ProductRow]:
    with CATALOG.open(encoding="utf-8", newline="") as f:
        return [
            ProductRow(r["sku"], r["name"], r["description"], r["category"], Decimal(r["price"]), int(r["stock"]))
            for r in csv.DictReader(f)
        ]


@dataclass
class Env:
    db: Database
    repos: Repositories
    index: CatalogIndex
    chroma_dir: Path


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    await db.start()
    repos = Repositories(db, "default")
    await repos.products.upsert_many(demo_rows())
    index = CatalogIndex(tmp_path / "chroma", synonyms_path=SYNONYMS)
    await index.start()
    stats = await index.sync(await repos.products.all())
    assert stats == {"embedded": len(demo_rows()), "deleted": 0, "total": len(demo_rows())}
    try:
        yield Env(db, repos, index, tmp_path / "chroma")
    finally:
        await index.close()
        await db.close()


async def top(index: CatalogIndex, query: str, k: int = 3) -> list[str]:
    return [h.sku for h in await index.search(query, k)]


# -- text helpers ----------------------------------------------------------------------------------


def test_normalize_and_tokens() -> None:
    assert normalize("  Martillo CARPINTERO 16oz, ¡Oferta!  ") == "martillo carpintero 16 oz oferta"
    assert normalize('Caño 1/2" x 2,5 Litros') == "cano 1/2 pulg x 2.5 l"
    plurals = "martillos destornilladores luces tornillos hammers boxes llaves colores cables"
    assert tokens(plurals) == "martillo destornillador luz tornillo hammer box llave color cable".split()
    assert tokens("gas tres mas crisis") == ["gas", "tres", "mas", "crisis"]
    assert tokens("Busco un martillo para la casa", drop_stopwords=True) == ["martillo", "casa"]


def test_embedding_is_deterministic_and_normalized() -> None:
    a = embed_texts(["Martillo de goma", "martillos de goma", "cemento portland"])
    assert a.shape == (3, 512)
    assert abs(float((a[0] ** 2).sum()) - 1.0) < 1e-5
    assert float(a[0] @ a[1]) > 0.99  # plural and case do not matter
    assert float(a[0] @ a[2]) < 0.2
    # crc32, not hash(): identical in a fresh interpreter with another hash seed.
    code = "from storage.embedding import embed_texts; print(embed_texts(['Martillo de goma'])[0][:8].tolist())"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    ).stdout
    assert out.strip() == str(a[0][:8].tolist())


# -- search quality --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("martiyo", {"MAR-001", "MAR-002", "MAR-004"}),  # typo (ll/y)
        ("destornilador phillips", {"DES-002"}),  # typo
        ("tladro percutor", {"TAL-001"}),  # typo
        ("amoladra", {"TAL-004"}),  # typo
        ("cinta metrica", {"MED-001"}),  # missing accent
        ("ANTIOXIDO", {"PNT-005"}),  # case + accent
        ("martillos", {"MAR-001", "MAR-002", "MAR-004"}),  # plural
        ("pinceles", {"PNT-010"}),  # plural -ces
        ("desarmador", {"DES-001", "DES-002", "DES-003", "DES-004"}),  # regional synonym
        ("agujereadora", {"TAL-001", "TAL-002"}),  # regional synonym
        ("hammer", {"MAR-001", "MAR-002", "MAR-004"}),  # English
        ("tape measure", {"MED-001"}),  # English phrase
        ("cordless drill", {"TAL-002"}),  # English phrase
        ("algo para colgar cuadros", {"FIJ-006", "FIJ-007"}),  # colloquial
    ],
)
async def test_search_finds_the_right_product(env: Env, query: str, expected: set[str]) -> None:
    hits = await top(env.index, query, 3)
    assert hits and hits[0] in expected, (query, hits)


async def test_attributes_boost_the_matching_product(env: Env) -> None:
    assert (await top(env.index, "martillo 16 oz"))[0] == "MAR-001"
    assert (await top(env.index, "martillo 24oz"))[0] == "MAR-004"
    assert (await top(env.index, "mecha 8mm"))[0] == "BRO-002"
    assert (await top(env.index, "esmalte rojo"))[0] == "PNT-004"
    assert (await top(env.index, "esmalte negro"))[0] == "PNT-003"
    assert (await top(env.index, "pintura blanca"))[0] in {"PNT-001", "PNT-002"}


async def test_nonsense_returns_nothing(env: Env) -> None:
    for query in ("xyzzy qwerty", "pizza de muzzarella", "pasajes a bariloche", "", "   ", "de la para"):
        assert await env.index.search(query) == [], query


async def test_hits_are_scored_sorted_and_bounded(env: Env) -> None:
    hits = await env.index.search("destornillador", k=3)
    assert 1 <= len(hits) <= 3
    assert all(isinstance(h, SearchHit) and 0.0 < h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert await env.index.search("FIJ-003") == [SearchHit("FIJ-003", 1.0)]  # exact SKU


async def test_concurrent_searches(env: Env) -> None:
    queries = ["martillo", "taladro", "pintura", "cemento", "guantes"] * 10
    results = await asyncio.gather(*(env.index.search(q, 3) for q in queries))
    assert all(r for r in results)


# -- sync, upsert, persistence ---------------------------------------------------------------------


async def test_resync_embeds_only_changed_and_deletes_missing(env: Env) -> None:
    again = await env.index.sync(await env.repos.products.all())
    assert again == {"embedded": 0, "deleted": 0, "total": len(demo_rows())}

    rows = {r.sku: r for r in demo_rows()}
    changed = replace(rows["FER-007"], name="Aceite lubricante en aerosol WD-40 311 ml")
    restocked = replace(rows["MAR-001"], price=Decimal("13000.00"), stock=99)  # no re-embedding
    await env.repos.products.upsert_many([changed, restocked])
    stats = await env.index.sync(await env.repos.products.all())
    assert stats == {"embedded": 1, "deleted": 0, "total": len(demo_rows())}

    products = [p for p in await env.repos.products.all() if p.sku != "CON-004"]
    stats = await env.index.sync(products)
    assert stats == {"embedded": 0, "deleted": 1, "total": len(demo_rows()) - 1}
    assert "CON-004" not in await top(env.index, "arena fina", 5)


async def test_upsert_is_incremental(env: Env) -> None:
    new = Product(business_id="default", sku="MAR-009", name="Martillo demoledor 2 kg", description="Maza larga",
                  category="Herramientas manuales", price=Decimal("30000"), stock=2)
    assert await env.index.upsert([new]) == 1
    assert await env.index.upsert([new]) == 0
    assert (await top(env.index, "martillo demoledor"))[0] == "MAR-009"
    await env.index.remove(["MAR-009"])
    assert "MAR-009" not in await top(env.index, "martillo demoledor")


async def test_reopen_same_dir_without_reembedding(env: Env) -> None:
    await env.index.close()
    reopened = CatalogIndex(env.chroma_dir, synonyms_path=SYNONYMS)
    await reopened.start()
    try:
        assert (await top(reopened, "hammer"))[0].startswith("MAR-")  # usable before any sync
        stats = await reopened.sync(await env.repos.products.all())
        assert stats == {"embedded": 0, "deleted": 0, "total": len(demo_rows())}
        assert (await top(reopened, "destornilador"))[0].startswith("DES-")
    finally:
        await reopened.close()


async def test_reopen_in_a_new_process(env: Env) -> None:
    await env.index.close()
    script = textwrap.dedent(
        f"""
        import asyncio
        from pathlib import Path
        from storage.catalog_index import CatalogIndex

        async def main():
            idx = CatalogIndex(Path({str(env.chroma_dir)!r}))
            await idx.start()
            print([h.sku for h in await idx.search("cemento portland", 1)])
            print(idx._coll().query(query_texts=["taladro"], n_results=1)["ids"][0])

        asyncio.run(main())
        """
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert lines[0] == "['CON-001']", lines
    assert lines[1].startswith("['TAL-"), lines  # the registered embedding function was rebuilt


# -- synonyms --------------------------------------------------------------------------------------


async def test_synonyms_reload_on_file_change(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "synonyms.yaml"
    path.write_text("- [cemento, cement]\n", encoding="utf-8")
    index = CatalogIndex(tmp_path / "chroma2", synonyms_path=path)
    await index.start()
    try:
        await index.sync(await env.repos.products.all())
        assert await index.search("hammer") == []
        path.write_text("- [cemento, cement]\n- [martillo, hammer]\n", encoding="utf-8")
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
        await asyncio.sleep(1.05)  # the mtime is checked at most once a second
        assert (await top(index, "hammer"))[0].startswith("MAR-")

        path.write_text("- [martillo, hammer\n  broken: [", encoding="utf-8")  # a bad edit keeps the old list
        await asyncio.to_thread(index.reload_synonyms)
        assert (await top(index, "hammer"))[0].startswith("MAR-")
    finally:
        await index.close()


# -- the tool --------------------------------------------------------------------------------------


def tool_context(env: Env) -> ToolContext:
    services = Services(repos=env.repos, prompts=PromptStore(ROOT / "prompts"), catalog=env.index)
    return ToolContext(services=services, config=BusinessConfig(), conversation_id=1, channel="web",
                       chat_id="t1", language="es", now=datetime.now(UTC))


async def test_search_products_tool_returns_live_price_and_stock(env: Env) -> None:
    ctx = tool_context(env)
    outcome = await search_products({"query": "martillo carpintero 16 oz", "limit": 3}, ctx)
    assert outcome.ok and outcome.data["query"] == "martillo carpintero 16 oz"
    first = outcome.data["results"][0]
    assert first == {
        "sku": "MAR-001",
        "name": "Martillo carpintero 16 oz",
        "description": first["description"],
        "category": "Herramientas manuales",
        "price": "12500.00",
        "currency": "ARS",
        "stock": 18,
        "score": first["score"],
    }
    assert 0 < first["score"] <= 1 and len(first["description"]) <= 160

    # Stock and price change in the DB; the index is not touched: the tool shows the live values.
    row = next(r for r in demo_rows() if r.sku == "MAR-001")
    await env.repos.products.upsert_many([replace(row, price=Decimal("13999.5"), stock=3)])
    first = (await search_products({"query": "martillo carpintero 16 oz"}, ctx)).data["results"][0]
    assert (first["sku"], first["stock"], first["price"]) == ("MAR-001", 3, "13999.50")

    # A product deleted from the DB but still in the index is skipped.
    async with env.db.transaction() as s:
        await s.execute(delete(Product).where(Product.sku == "MAR-001"))
    skus = [r["sku"] for r in (await search_products({"query": "martillo carpintero 16 oz"}, ctx)).data["results"]]
    assert "MAR-001" not in skus

    nothing = await search_products({"query": "pasajes a bariloche"}, ctx)
    assert nothing.data == {"query": "pasajes a bariloche", "results": []}


def test_search_products_args_are_validated() -> None:
    assert search_products.name == "search_products"
    assert "price" in search_products.description and "stock" in search_products.description
    schema = search_products.openai_schema()["function"]["parameters"]
    assert set(schema["properties"]) == {"query", "limit"}
    with pytest.raises(ValidationError):
        search_products.args_model.model_validate({"query": "x", "limit": 0})
    with pytest.raises(ValidationError):
        search_products.args_model.model_validate({"query": "x", "limit": 21})
