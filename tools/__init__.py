"""The public tools, by name, and the handlers of actions awaiting confirmation.

A new tool is one module plus one line here.
"""

from __future__ import annotations

from tools.base import PendingHandler, ToolSpec
from tools.cart import CART_HANDLER
from tools.generate_insights import generate_insights
from tools.handoff_to_human import handoff_to_human
from tools.qualify_lead import qualify_lead
from tools.register_sale import SALE_HANDLER, register_sale
from tools.schedule_meeting import MEETING_HANDLER, schedule_meeting
from tools.search_knowledge import search_knowledge
from tools.search_products import search_products

TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        search_products,
        register_sale,
        schedule_meeting,
        qualify_lead,
        generate_insights,
        search_knowledge,
        handoff_to_human,
    )
}

PENDING_HANDLERS: dict[str, PendingHandler] = {h.kind: h for h in (SALE_HANDLER, CART_HANDLER, MEETING_HANDLER)}
