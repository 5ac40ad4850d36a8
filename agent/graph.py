"""The conversation flow, at a glance: every message is read against the dialogue's state.

The dialogue (agent/dialogue.py, checkpointed in `ConversationState`):

    pending   the order (lines: sku, quantity, unit price shown) or meeting awaiting an explicit yes
    focus     the products in front of the customer, in the order shown ("el segundo", "el de goma")
    asked     what the bot's last reply asked: a quantity, a choice, a yes/no, a day and time, contact data
    lead      who the customer is: name, company, role, need, budget, authority, timeline; its score

The graph:

    START ─┬─ a catalog cart? ───────── cart: the order, offered (prices from the database) ─────► END
           ├─ something pending? ────── confirm ─┬─ yes: commit (one transaction), or ask again
           │                                     │        when price or stock changed ───────────► END
           │                                     ├─ no: dropped, said so ─────────────────────────► END
           │                                     └─ anything else (a change, a side question) ─┐
           └──────────────────────────────────────────────────────────────────────────────── agent ──► END

    agent: the model (built-in or an LLM, reading the dialogue state in its system message) and the
    tools it calls, until it answers or an offer is complete. Each tool's result updates the dialogue
    (tools.base.Tool: what it proposes, puts in focus, asks, learns about the lead). The reply restates
    an order or meeting still pending after a side question; an order idle past `order_idle_hours`
    lapses with a sentence.

`cart` and `confirm` are deterministic: prices come from the database, and only an explicit yes
commits a pending sale, cart or meeting. The model never commits anything.
"""

from __future__ import annotations

from typing import Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent.nodes import Nodes
from agent.state import ConversationState
from tools.context import ToolContext


def route_start(state: ConversationState) -> Literal["cart", "confirm", "agent"]:
    if (state.get("inbound") or {}).get("kind") == "order":
        return "cart"
    return "confirm" if state.get("pending") else "agent"


def build_graph(nodes: Nodes, checkpointer: BaseCheckpointSaver | None) -> CompiledStateGraph:
    graph = StateGraph(ConversationState, context_schema=ToolContext)
    graph.add_node("cart", nodes.cart)
    graph.add_node("confirm", nodes.confirm)
    graph.add_node("agent", nodes.agent)
    graph.add_conditional_edges(START, route_start)
    graph.add_edge("agent", END)
    return graph.compile(checkpointer=checkpointer)
