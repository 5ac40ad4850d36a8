"""The public tools, by name, and the handlers of actions awaiting confirmation.

A tool is one self-contained unit (`tools.base.Tool`: its spec, what it
proposes for a yes, what it puts in focus, what it asks, the built-in
model's words for its result), so a new tool is one module plus one line
in `UNITS`.
"""

from __future__ import annotations

from tools import (
    generate_insights,
    handoff_to_human,
    qualify_lead,
    register_sale,
    schedule_meeting,
    search_knowledge,
    search_products,
)
from tools.base import PendingHandler, Tool, ToolSpec
from tools.cart import CART_HANDLER

UNITS: dict[str, Tool] = {
    unit.name: unit
    for unit in (
        search_products.UNIT,
        register_sale.UNIT,
        schedule_meeting.UNIT,
        qualify_lead.UNIT,
        generate_insights.UNIT,
        search_knowledge.UNIT,
        handoff_to_human.UNIT,
    )
}
TOOLS: dict[str, ToolSpec] = {name: unit.spec for name, unit in UNITS.items()}

# A catalog cart (WhatsApp `order`) is proposed by the graph's `cart` node, not by a tool.
PENDING_HANDLERS: dict[str, PendingHandler] = {
    h.kind: h for h in (*(u.awaiting for u in UNITS.values() if u.awaiting), CART_HANDLER)
}
