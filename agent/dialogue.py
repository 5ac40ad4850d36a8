"""The dialogue's state, typed: what the conversation is about right now.

These are the checkpointed facts every message is read against, by the
built-in model and by an LLM alike (both see them in the system message,
`render_facts`), and what the tools read and change:

- `pending`: the action awaiting the customer's explicit yes: an order of
  one line (`SaleOffer`) or several (`CartOffer`), or a meeting
  (`MeetingOffer`). Only the graph's confirm step commits it.
- `focus`: the products in front of the customer, in the order shown
  ("el segundo", "el más barato", "el de 1/2").
- `asked`: what the bot last asked, so that a bare answer is read as the
  answer ("8" after "¿cuántas?", "el jueves a las 10" after "¿qué día?",
  an email after a contact request).
- `lead`: the lead profile so far, its signals and score.

Plain TypedDicts: they checkpoint as JSON-able dicts at no cost, and old
checkpoints (written before a key existed) still load.
"""

from __future__ import annotations

import json
from typing import Any, Literal, NotRequired, TypedDict

AskedKind = Literal["quantity", "choice", "yes_no", "day_time", "contact"]


class OrderLine(TypedDict):
    sku: str
    name: str
    quantity: int  # clamped to stock
    requested: int  # what the customer asked for
    unit_price: str  # Decimal as text, the database's price when shown
    total: str
    stock: NotRequired[int]  # stock when proposed


class SaleOffer(OrderLine):
    """An open order of one line (flat, as `register_sale` proposes it)."""

    kind: Literal["sale"]
    order_id: str
    currency: str
    proposed_at: NotRequired[str]  # ISO time of the last proposal (for `order_idle_hours`)


class CartOffer(TypedDict):
    """An open order of several lines; one yes commits every line in one transaction."""

    kind: Literal["cart"]
    order_id: str
    lines: list[OrderLine]
    currency: str
    total: str
    notes: list[str]
    proposed_at: NotRequired[str]


class MeetingOffer(TypedDict, total=False):
    """A meeting proposed (or a move or cancellation), awaiting the customer's yes."""

    kind: Literal["meeting"]
    action: Literal["book", "reschedule", "cancel"]
    start: str  # ISO, business time zone
    end: str
    topic: str
    proposed_at: str


Pending = SaleOffer | CartOffer | MeetingOffer


class FocusItem(TypedDict, total=False):
    sku: str
    name: str
    stock: int
    price: str


class Asked(TypedDict, total=False):
    """The question the bot's last reply put to the customer."""

    kind: AskedKind
    about: str  # the product, tool or field the question is about
    options: list[str]  # for a choice: the SKUs listed, in order
    missing: list[str]  # for contact: the fields still wanted


class LeadProfile(TypedDict, total=False):
    name: str
    email: str
    phone: str
    company: str
    role: str
    need: str
    budget: str
    authority: str
    timeline: str
    score: int
    qualified: bool


STATE_MARKER = "Dialogue state (JSON):"


def facts_block(facts: dict[str, Any]) -> str:
    """The dialogue state as the system message's last lines: what an LLM reads, over the wire."""
    shown = {k: v for k, v in facts.items() if v not in (None, "", [], {})}
    return f"{STATE_MARKER}\n{json.dumps(shown, ensure_ascii=False, sort_keys=True, default=str)}"


def facts_from_text(text: str) -> dict[str, Any]:
    """The dialogue state back from a system message's text (what a model behind an API sees)."""
    at = text.rfind(STATE_MARKER)
    if at < 0:
        return {}
    try:
        data = json.loads(text[at + len(STATE_MARKER):].strip())
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
