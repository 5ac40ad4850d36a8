"""`search_products`: catalog lookup with live price and stock.

The index only ranks; price and stock always come from the database at
call time, so a sale or a stock edit a second ago is already reflected and
the model never quotes a stale price.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from tools.base import ToolOutcome, tool
from tools.context import ToolContext

DESCRIPTION_CHARS = 160


class SearchProductsArgs(BaseModel):
    query: str = Field(
        description=(
            "What the customer is looking for, in their own words: product type, brand, size, colour "
            "or SKU (e.g. 'martillo 16 oz', 'pintura blanca', 'drill')."
        ),
        min_length=1,
        max_length=300,
    )
    limit: int = Field(5, ge=1, le=20, description="How many products to return at most.")


def _money(value: Decimal) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def _truncate(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@tool
async def search_products(args: SearchProductsArgs, ctx: ToolContext) -> ToolOutcome:
    """Search the store's product catalog and return matching products with their current price
    and stock. Use it whenever the customer asks for a product, whether it is available, or how
    much it costs. It tolerates typos, missing accents, plurals, regional names and English.
    An empty `results` list means nothing in the catalog matches: say so and offer alternatives.
    Prices are in `currency`; `stock` 0 means out of stock."""
    query = args.query.strip()
    hits = await ctx.services.catalog.search(query, args.limit)
    products = await ctx.repos.products.get_many(h.sku for h in hits)
    results = []
    for hit in hits:
        product = products.get(hit.sku)
        if product is None:  # deleted since the index was built
            continue
        results.append(
            {
                "sku": product.sku,
                "name": product.name,
                "description": _truncate(product.description or ""),
                "category": product.category,
                "price": _money(product.price),
                "currency": ctx.config.currency,
                "stock": int(product.stock),
                "score": round(float(hit.score), 3),
            }
        )
    return ToolOutcome(data={"query": query, "results": results})
