"""`search_products`: catalog lookup with live price and stock.

The index only ranks; price and stock always come from the database at
call time, so a sale or a stock edit a second ago is already reflected and
the model never quotes a stale price.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from agent.offline import matching
from tools.base import Focus, Tool, ToolOutcome, tool
from tools.context import ToolContext

if TYPE_CHECKING:
    from agent.offline.compose import Composer
    from agent.offline.turn import ToolResult

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


def _focus(data: dict[str, Any], focus: Focus) -> Focus | None:
    """The products the customer now has in front of them, in the order shown (for "el segundo")."""
    if not data.get("results"):
        return None
    return [{"sku": r["sku"], "name": r["name"], "stock": r["stock"], "price": r["price"]}
            for r in data["results"][:5]]


def _asks(data: dict[str, Any]) -> dict[str, Any] | None:
    """Products listed: which one (the customer may answer "el segundo", "el de 1/2", "el más barato")."""
    shown = [str(r["sku"]) for r in (data.get("results") or [])[:5]]
    return {"kind": "choice", "about": str(data.get("query") or ""), "options": shown} if shown else None


def _words(c: Composer, result: ToolResult) -> str:
    say, u, data = c.say, c.u, result.data or {}
    results = list(data.get("results") or [])
    query = str(result.args.get("query") or data.get("query") or u.query)
    if not results and not u.cued and u.intent in ("product_query", "fallback"):
        # Some words that named nothing ("quedo atento", "transfiero"): not a product request,
        # so never a "not in the catalog" reply.
        return say.say("fallback", vary=True)
    if u.intent == "quote":
        if not results:
            return say.say("products_none", query=query)
        return "\n".join([say.say("quote_intro"), say.product_list(results), say.say("quote_next")])
    return say.products(query, results, matching.top_matches(query, results), u.asks_price, u.asks_stock)


UNIT = Tool(search_products, focus=_focus, asks=_asks, words=_words)
