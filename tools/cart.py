"""A cart sent from the platform's catalog (a WhatsApp `order` message) becomes an order proposal.

The cart names products and quantities; prices and stock come from our
database (the price the platform quoted is never used), quantities are
clamped to stock, unknown or sold-out products are left out with a note.
Like any sale, nothing is registered until the customer's explicit yes:
the proposal is the conversation's pending action and the graph's
confirmation step calls `CART_HANDLER.commit`, which registers every line
in one transaction or none (idempotent by order id).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from tools.base import PendingHandler
from tools.context import ToolContext
from tools.money import format_money

MAX_LINES = 30


async def propose_cart(ctx: ToolContext, items: list[dict[str, Any]]) -> tuple[str, dict[str, Any] | None]:
    """The offer's text and the pending order (None when nothing in the cart can be sold)."""
    wanted: dict[str, int] = {}
    for item in items[:MAX_LINES]:
        sku, qty = str(item.get("sku") or "").strip(), int(item.get("quantity") or 0)
        if sku and qty > 0:
            wanted[sku] = wanted.get(sku, 0) + qty
    products = await ctx.repos.products.get_many(wanted)
    lines, notes = [], []
    for sku, requested in wanted.items():
        product = products.get(sku)
        if product is None:
            notes.append(ctx.prompts.text("messages.cart.unknown", ctx.language, sku=sku))
            continue
        if product.stock <= 0:
            notes.append(ctx.prompts.text("messages.cart.sold_out", ctx.language, name=product.name))
            continue
        line = order_line(ctx, product, requested)
        if line["quantity"] < requested:
            notes.append(ctx.prompts.text("messages.cart.clamped", ctx.language, name=product.name,
                                          requested=requested, quantity=line["quantity"]))
        lines.append(line)
    if not lines:
        return "\n".join([*notes, ctx.prompts.text("messages.cart.empty", ctx.language)]), None
    order = {"kind": "cart", "order_id": uuid.uuid4().hex, "lines": lines, "currency": ctx.config.currency,
             "total": str(sum(Decimal(line["total"]) for line in lines)), "notes": notes}
    return offer(ctx, order), order


def order_line(ctx: ToolContext, product: Any, requested: int) -> dict[str, Any]:
    """A line for `requested` units of `product` (a catalog row): clamped to its stock and to the
    business's per-order maximum, priced from the database."""
    quantity = min(requested, product.stock, ctx.config.max_order_quantity)
    return {"sku": product.sku, "name": product.name, "quantity": quantity, "requested": requested,
            "unit_price": str(product.price), "total": str(product.price * quantity), "stock": product.stock}


def order_lines(order: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The lines of a pending order, whether one product (`sale`) or several (`cart`)."""
    if not order or order.get("kind") not in ("sale", "cart"):
        return []
    if order.get("kind") == "cart":
        return [dict(line) for line in order.get("lines") or []]
    return [{k: order[k] for k in ("sku", "name", "quantity", "requested", "unit_price", "total") if k in order}]


def ordered_quantity(order: dict[str, Any] | None, sku: str) -> int:
    """How many of `sku` the pending order holds (0 when it is not in it)."""
    return next((int(line.get("quantity") or 0) for line in order_lines(order) if str(line.get("sku")) == str(sku)), 0)


def merge_orders(open_order: dict[str, Any] | None, proposal: dict[str, Any]) -> dict[str, Any] | None:
    """The open order with a new proposal folded in: a product already in it gets the new quantity,
    another product becomes one more line, a removal takes its line out (None when nothing is left).
    One line stays a plain sale; several make a cart."""
    lines = order_lines(open_order)
    if proposal.get("remove"):
        rest = [line for line in lines if line["sku"] != proposal["sku"]]
        return _as_order(rest, proposal["currency"]) if rest else None
    if not lines or proposal.get("kind") not in ("sale", "cart"):
        return proposal
    for line in order_lines(proposal):
        at = next((i for i, old in enumerate(lines) if old["sku"] == line["sku"]), None)
        if at is None:
            lines.append(line)
        else:
            lines[at] = line
    return proposal if len(lines) == 1 else _as_order(lines, proposal["currency"])


def _as_order(lines: list[dict[str, Any]], currency: str) -> dict[str, Any]:
    """A new order of these lines: a plain sale for one, a cart for several."""
    if len(lines) == 1:
        return {**lines[0], "kind": "sale", "order_id": uuid.uuid4().hex, "currency": currency}
    return {"kind": "cart", "order_id": uuid.uuid4().hex, "lines": lines, "currency": currency,
            "total": str(sum(Decimal(line["total"]) for line in lines)), "notes": []}


def _lines(ctx: ToolContext, order: dict[str, Any]) -> str:
    cur, lang = order["currency"], ctx.language
    return "\n".join(
        ctx.prompts.text("messages.cart.line", lang, quantity=line["quantity"], name=line["name"],
                         unit_price=format_money(line["unit_price"], cur, lang),
                         total=format_money(line["total"], cur, lang))
        for line in order["lines"]
    )


def offer(ctx: ToolContext, order: dict[str, Any]) -> str:
    text = ctx.prompts.text("messages.cart.offer", ctx.language, lines=_lines(ctx, order),
                            total=format_money(order["total"], order["currency"], ctx.language))
    return "\n".join([*order.get("notes", []), text])


async def commit(ctx: ToolContext, order: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    result = await ctx.repos.sales.commit_lines(
        order_id=order["order_id"], lines=[(line["sku"], line["quantity"]) for line in order["lines"]],
        conversation_id=ctx.conversation_id, currency=order["currency"],
        prices={line["sku"]: Decimal(line["unit_price"]) for line in order["lines"]},
    )
    if result.status in ("committed", "already"):
        total = sum((s.total for s in result.sales), Decimal(0))
        done = {**order, "total": str(total)}
        return ctx.prompts.text("messages.cart.committed", ctx.language, order_ref=f"#{result.sales[0].id}",
                                lines=_lines(ctx, done), total=format_money(total, order["currency"],
                                                                            ctx.language)), None
    return await renew(ctx, order)


async def renew(ctx: ToolContext, order: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """The price or stock of the order changed since the customer saw it: nothing was sold; the
    order with today's figures (each line clamped to stock, sold-out lines out) is asked again."""
    lines = order_lines(order)
    products = await ctx.repos.products.get_many([line["sku"] for line in lines])
    lang, currency = ctx.language, order["currency"]
    renewed, notes = [], []
    for line in lines:
        product = products.get(line["sku"])
        if product is None or product.stock <= 0:
            notes.append(ctx.prompts.text("messages.cart.sold_out", lang, name=line["name"]))
            continue
        wanted = int(line.get("requested") or line["quantity"])
        fresh = order_line(ctx, product, wanted)
        if Decimal(line["unit_price"]) != product.price:
            notes.append(ctx.prompts.text("messages.order_repriced", lang, name=product.name,
                                          before=format_money(line["unit_price"], currency, lang),
                                          now=format_money(product.price, currency, lang)))
        if fresh["quantity"] < int(line["quantity"]):
            notes.append(ctx.prompts.text("messages.cart.clamped", lang, name=product.name, requested=wanted,
                                          quantity=fresh["quantity"]))
        renewed.append(fresh)
    head = ctx.prompts.text("messages.order_changed", lang)
    if not renewed:
        return "\n".join([head, *notes, ctx.prompts.text("messages.cart.empty", lang)]), None
    again = _as_order(renewed, currency)
    text = ctx.prompts.text("messages.cart.offer", lang, lines=_lines(ctx, {"lines": renewed, "currency": currency}),
                            total=format_money(again["total"], currency, lang))
    return "\n".join([head, *notes, text]), again


def decline(ctx: ToolContext, order: dict[str, Any]) -> str:
    return ctx.prompts.text("messages.sale.declined", ctx.language)


CART_HANDLER = PendingHandler(kind="cart", offer=offer, commit=commit, decline=decline)
