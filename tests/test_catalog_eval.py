"""Search quality on the demo catalog: recall@1, recall@3 and MRR over a varied query set.

The figures are printed and written to tests/artifacts/catalog_eval.json
(with every miss) so a change to the engine or the synonyms can be compared.
"""

from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from storage.catalog_index import CatalogIndex
from storage.models import Product

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "config" / "demo_catalog.csv"
SYNONYMS = ROOT / "config" / "synonyms.yaml"
QUERIES = Path(__file__).with_name("eval") / "catalog_queries.yaml"
ARTIFACT = Path(__file__).with_name("artifacts") / "catalog_eval.json"


def demo_products() -> list[Product]:
    with CATALOG.open(encoding="utf-8", newline="") as f:
        return [
            Product(
                business_id="default",
                sku=row["sku"],
                name=row["name"],
                description=row["description"],
                category=row["category"],
                price=Decimal(row["price"]),
                stock=int(row["stock"]),
            )
            for row in csv.DictReader(f)
        ]


async def build_index(directory: Path, synonyms: Path | None) -> CatalogIndex:
    idx = CatalogIndex(directory, synonyms_path=synonyms)
    await idx.start()
    await idx.sync(demo_products())
    return idx


@pytest.fixture
async def index(tmp_path: Path) -> AsyncIterator[CatalogIndex]:
    idx = await build_index(tmp_path / "chroma", SYNONYMS)
    yield idx
    await idx.close()


def load_cases() -> list[dict[str, Any]]:
    return yaml.safe_load(QUERIES.read_text(encoding="utf-8"))


def test_eval_set_is_varied_and_valid() -> None:
    cases = load_cases()
    skus = {p.sku for p in demo_products()}
    positives = [c for c in cases if c["expect"]]
    assert len(positives) >= 80
    assert len({c["q"].lower() for c in cases}) == len(cases), "duplicate queries"
    assert len({c["kind"] for c in positives}) >= 7
    for case in positives:
        assert set(case["expect"]) <= skus, case


async def evaluate(index: CatalogIndex, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """recall@1, recall@3 and MRR (top 5) over cases with expected SKUs, plus the misses."""
    hits1 = hits3 = 0
    rr_sum = 0.0
    by_kind: dict[str, list[float]] = defaultdict(list)
    misses: list[dict[str, Any]] = []
    for case in cases:
        ranked = [h.sku for h in await index.search(case["q"], k=5)]
        expected = set(case["expect"])
        rank = next((i + 1 for i, sku in enumerate(ranked) if sku in expected), None)
        hits1 += rank == 1
        hits3 += rank is not None and rank <= 3
        rr = 1.0 / rank if rank else 0.0
        rr_sum += rr
        by_kind[case["kind"]].append(rr)
        if rank != 1:
            misses.append({"q": case["q"], "expect": case["expect"], "got": ranked[:3], "rank": rank})
    n = len(cases)
    return {
        "queries": n,
        "recall@1": round(hits1 / n, 4),
        "recall@3": round(hits3 / n, 4),
        "mrr": round(rr_sum / n, 4),
        "mrr_by_kind": {k: round(sum(v) / len(v), 4) for k, v in sorted(by_kind.items())},
        "misses": misses,
    }


async def test_catalog_search_quality(index: CatalogIndex, tmp_path: Path) -> None:
    cases = load_cases()
    positives = [c for c in cases if c["expect"]]
    negatives = [c for c in cases if not c["expect"]]

    overall = await evaluate(index, positives)
    holdout = await evaluate(index, [c for c in positives if c.get("holdout")])
    false_hits = []
    for case in negatives:
        got = await index.search(case["q"], k=5)
        if got:
            false_hits.append({"q": case["q"], "got": [(h.sku, h.score) for h in got]})
    # Ablation: the engine alone, without the owner's synonyms list.
    bare = await build_index(tmp_path / "bare", None)
    try:
        no_synonyms = await evaluate(bare, positives)
    finally:
        await bare.close()

    report = {
        "overall": overall,
        "holdout": holdout,
        "without_synonyms": {k: v for k, v in no_synonyms.items() if k != "misses"},
        "negatives": len(negatives),
        "negatives_with_results": false_hits,
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for label, r in (("all", overall), ("holdout", holdout), ("no synonyms", no_synonyms)):
        print(f"\ncatalog eval [{label}]: n={r['queries']} recall@1={r['recall@1']} "
              f"recall@3={r['recall@3']} MRR={r['mrr']}")
    print(f"catalog eval [negatives]: {len(false_hits)}/{len(negatives)} returned results")

    assert overall["recall@3"] >= 0.85, overall
    assert len(false_hits) <= 1, false_hits
