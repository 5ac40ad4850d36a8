"""The conversation flow, at a glance.

    START ─┬─ a catalog cart? ── cart (the order, offered) ─────────────────────► END
           ├─ pending action? ── confirm ─┬─ yes/no ─────────────────────────────► END
           │                              └─ something else ─┐
           └───────────────────────────────────────────────── agent ──────────────► END
                                                  (model ⇄ tools until it answers, or an
                                                   offer / a hand-over ends it; replies)

`cart` and `confirm` are deterministic: a cart's prices come from the
database, and only an explicit yes commits a pending sale, cart or meeting.
`agent` is the model's turn, tool calls included (agent/nodes.py).
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
