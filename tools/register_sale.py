"""`register_sale`: propose an order; only the customer's explicit yes commits it.

The model chooses a product and a quantity; the price comes from the
database and the quantity is clamped to stock. Nothing is sold here: the
proposal becomes the conversation's pending action, and the graph's
deterministic confirmation step calls `SALE_HANDLER.commit` after a yes.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from tools.base import Focus, PendingHandler, Tool, ToolOutcome, tool
from tools.cart import order_line, order_lines, renew
from tools.context import ToolContext
from tools.money import format_money

if TYPE_CHECKING:
    from agent.offline.compose import Composer
    from agent.offline.turn import ToolResult


class RegisterSaleArgs(BaseModel):
    sku: str = Field(description="SKU of the product, exactly as returned by search_products")
    quantity: int = Field(description="How many units the customer wants; 0 removes the product from the open order")


@tool
async def register_sale(args: RegisterSaleArgs, ctx: ToolContext) -> ToolOutcome:
    """Add a product to the customer's open order (or change its quantity; 0 removes it).

    Use it when the customer wants to buy. The order is NOT registered yet:
    the customer is asked to confirm it and only their explicit yes commits
    it. Price and available stock come from the database; if fewer units
    are in stock than requested, the proposal offers what is available.
    """
    if args.quantity == 0:  # out of the open order (the graph folds it into the order)
        removal = {"kind": "sale", "sku": args.sku.strip(), "quantity": 0, "remove": True,
                   "currency": ctx.config.currency}
        return ToolOutcome({"status": "removed", "sku": args.sku.strip()}, pending=removal)
    if args.quantity < 1:
        return ToolOutcome({"status": "invalid_quantity", "quantity": args.quantity}, ok=False)
    product = await ctx.repos.products.get(args.sku.strip())
    if product is None:
        return ToolOutcome({"status": "unknown_sku", "sku": args.sku}, ok=False)
    if product.stock <= 0:
        return ToolOutcome({"status": "out_of_stock", "sku": product.sku, "name": product.name}, ok=False)
    order = {**order_line(ctx, product, args.quantity), "kind": "sale", "order_id": uuid.uuid4().hex,
             "currency": ctx.config.currency}
    return ToolOutcome({"status": "proposed", "order": order}, pending=order)


def _values(ctx: ToolContext, order: dict[str, Any], **extra: Any) -> dict[str, Any]:
    lang, cur = ctx.language, order["currency"]
    return {
        "quantity": order["quantity"],
        "requested": order["requested"],
        "name": order["name"],
        "sku": order["sku"],
        "unit_price": format_money(order["unit_price"], cur, lang),
        "total": format_money(order["total"], cur, lang),
        **extra,
    }


def offer(ctx: ToolContext, order: dict[str, Any]) -> str:
    key = "messages.sale.offer_clamped" if order["quantity"] < order["requested"] else "messages.sale.offer"
    return ctx.prompts.text(key, ctx.language, **_values(ctx, order))


async def commit(ctx: ToolContext, order: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    result = await ctx.repos.sales.commit_order(
        order_id=order["order_id"],
        sku=order["sku"],
        quantity=order["quantity"],
        conversation_id=ctx.conversation_id,
        currency=order["currency"],
        unit_price=Decimal(order["unit_price"]),
    )
    if result.status in ("committed", "already"):
        sale = result.sale
        assert sale is not None
        done = {**order, "quantity": sale.quantity, "unit_price": str(sale.unit_price), "total": str(sale.total)}
        return ctx.prompts.text("messages.sale.committed", ctx.language, **_values(ctx, done, order_ref=f"#{sale.id}")), None
    if result.status in ("insufficient", "repriced"):  # changed since the customer saw it: asked again
        return await renew(ctx, order)
    return ctx.prompts.text("messages.sale.sold_out", ctx.language, **_values(ctx, order)), None


def decline(ctx: ToolContext, order: dict[str, Any]) -> str:
    return ctx.prompts.text("messages.sale.declined", ctx.language, **_values(ctx, order))


SALE_HANDLER = PendingHandler(kind="sale", offer=offer, commit=commit, decline=decline)


def _focus(data: dict[str, Any], focus: Focus) -> Focus | None:
    if data.get("status") == "out_of_stock":
        # What is offered instead: the others still in stock (as the reply lists them).
        return [f for f in focus if f.get("sku") != data.get("sku") and int(f.get("stock", 1) or 0) > 0]
    if data.get("status") == "proposed":
        lines = order_lines(data["order"])
        if focus and all(any(f.get("sku") == line["sku"] for f in focus) for line in lines):
            return None  # picked from the list shown: it stays in front ("mejor el segundo")
        return [{"sku": line["sku"], "name": line["name"]} for line in lines]
    return None


def _asks(data: dict[str, Any]) -> dict[str, Any] | None:
    if data.get("status") == "proposed":
        return {"kind": "yes_no", "about": "order"}
    if data.get("status") == "out_of_stock":
        return {"kind": "choice", "about": str(data.get("sku") or "")}
    return None


def _words(c: Composer, result: ToolResult) -> str:
    search = c.turn.latest("search_products")
    alternatives = list((search.data or {}).get("results") or []) if search else []
    return c.say.sale(result.data or {}, result.args, alternatives)


UNIT = Tool(register_sale, awaiting=SALE_HANDLER, focus=_focus, asks=_asks, words=_words)
