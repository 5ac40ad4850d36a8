"""The conversation flow, at a glance.

    START ─┬─ pending action? ── confirm ─┬─ yes/no ─────────────────────► END
           │                              └─ something else ─┐
           └──────────────────────────────────────────────── agent ◄──┐
                                                               │       │
                                                 tool calls? ─► tools ─┤ (a fresh offer or a
                                                               │       │  hand-over ends the turn)
                                                     an answer ─► END ◄─┘

Nodes route with `Command(goto=...)`, and whichever node ends the turn
writes the replies, so a greeting is one graph step and a product question
three (agent, tools, agent).
"""

from __future__ import annotations

from typing import Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent.nodes import Nodes
from agent.state import ConversationState
from tools.context import ToolContext


def route_start(state: ConversationState) -> Literal["confirm", "agent"]:
    return "confirm" if state.get("pending") else "agent"


def build_graph(nodes: Nodes, checkpointer: BaseCheckpointSaver | None) -> CompiledStateGraph:
    graph = StateGraph(ConversationState, context_schema=ToolContext)
    graph.add_node("confirm", nodes.confirm)
    graph.add_node("agent", nodes.agent)
    graph.add_node("tools", nodes.tools)
    graph.add_conditional_edges(START, route_start)
    return graph.compile(checkpointer=checkpointer)
