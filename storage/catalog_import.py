"""CSV catalog import: all rows or none, with row-level errors, upsert by sku."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from storage.numbers import AmountError, DotStyle, parse_amount, parse_quantity
from storage.repository import ProductRepo, ProductRow

if TYPE_CHECKING:
    from storage.catalog_index import CatalogIndex

HEADER = ("sku", "name", "description", "category", "price", "stock")
MAX_ROWS = 200_000


@dataclass
class ParsedCatalog:
    rows: list[ProductRow] = field(default_factory=list)
    errors: list[dict[str, object]] = field(default_factory=list)


def parse_catalog(text: str, country: str = "AR") -> ParsedCatalog:
    """Validate every row; any error means nothing may be imported.

    Prices and stock are read by the business country's conventions
    (`storage.numbers`): `8.900` is 8900 in Argentina; a value that could
    mean two things is refused for its row with the reason. A first pass
    learns whether each column is written with `.` as a decimal point
    (`12500.00`, a spreadsheet's raw numbers), which makes its `700.00` clear.
    """
    out = ParsedCatalog()
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.DictReader(io.StringIO(text))
    header = tuple((h or "").strip().lower() for h in (reader.fieldnames or ()))
    missing = [h for h in HEADER if h not in header]
    if missing:
        out.errors.append({"row": 1, "error": f"missing column(s): {', '.join(missing)}; expected header {','.join(HEADER)}"})
        return out
    reader.fieldnames = list(header)
    prices, stocks = _dot_styles(text, list(header))
    seen: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        if len(out.rows) + len(out.errors) >= MAX_ROWS:
            out.errors.append({"row": line, "error": f"too many rows (max {MAX_ROWS})"})
            break
        if None in raw:
            out.errors.append({"row": line, "error": "more fields than columns in the header"})
            continue
        values = {k: (raw.get(k) or "").strip() for k in HEADER}
        problems: list[str] = []
        if not values["sku"]:
            problems.append("sku is empty")
        elif len(values["sku"]) > 64:
            problems.append("sku longer than 64 characters")
        elif values["sku"] in seen:
            problems.append(f"duplicate sku {values['sku']!r} (also on row {seen[values['sku']]})")
        if not values["name"]:
            problems.append("name is empty")
        price = stock = None
        try:
            price = parse_amount(values["price"], country, dot_decimal=prices.dot_decimal)
        except AmountError as exc:
            problems.append(f"price: {exc}")
        try:
            stock = parse_quantity(values["stock"], country, dot_decimal=stocks.dot_decimal)
        except AmountError as exc:
            problems.append(f"stock: {exc}")
        if problems:
            out.errors.append({"row": line, "sku": values["sku"], "error": "; ".join(problems)})
            continue
        seen[values["sku"]] = line
        out.rows.append(
            ProductRow(values["sku"], values["name"], values["description"], values["category"],
                       price.quantize(Decimal("0.01")), stock)  # type: ignore[union-attr]
        )
    if not out.rows and not out.errors:
        out.errors.append({"row": 1, "error": "no product rows"})
    return out


def _dot_styles(text: str, header: list[str]) -> tuple[DotStyle, DotStyle]:
    """How the price and stock columns write a dot, from all their values."""
    reader = csv.DictReader(io.StringIO(text), fieldnames=header)
    next(reader, None)
    prices, stocks = DotStyle(), DotStyle()
    for count, row in enumerate(reader):
        if count >= MAX_ROWS:
            break
        prices.add(str(row.get("price") or ""))
        stocks.add(str(row.get("stock") or ""))
    return prices, stocks


Progress = Callable[[str, int, int], None]


async def import_catalog(products: ProductRepo, index: CatalogIndex | None, text: str,
                         progress: Progress | None = None, *, country: str = "AR") -> dict[str, object]:
    """Validate (on a worker thread: seconds of CPU at 100,000 rows), upsert (one transaction), index what changed."""
    parsed = await asyncio.to_thread(parse_catalog, text, country)
    if parsed.errors:
        return {"imported": 0, "errors": parsed.errors}
    total = len(parsed.rows)
    if progress:
        progress("validated", total, total)
    changed = await products.upsert_many(parsed.rows)
    if progress:
        progress("stored", total, total)
    indexed = 0
    if index is not None and changed:
        indexed = await index.upsert(changed)
    if progress:
        progress("indexed", total, total)
    return {"imported": total, "errors": [], "reindexed": indexed}
