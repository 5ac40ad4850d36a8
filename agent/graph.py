"""The conversation flow, at a glance.

    START ─┬─ pending action? ── confirm ─┬─ yes/no ─────────────► END
           │                              └─ something else ─┐
           └──────────────────────────────────────────────── agent ◄──┐
                                                              │       │
                                                   tool calls? ─► tools ┘ (or respond
                                                              │         after a new offer)
                                                           respond ──► END
"""

from __future__ import annotations

from typing import Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent.nodes import MAX_STEPS, Nodes
from agent.state import ConversationState
from tools.context import ToolContext


def route_start(state: ConversationState) -> Literal["confirm", "agent"]:
    return "confirm" if state.get("pending") else "agent"


def route_confirm(state: ConversationState) -> Literal["agent", "__end__"]:
    return END if state.get("replies") else "agent"


def route_agent(state: ConversationState) -> Literal["tools", "respond"]:
    last = state["messages"][-1]
    if getattr(last, "tool_calls", None) and state.get("steps", 0) < MAX_STEPS:
        return "tools"
    return "respond"


def route_tools(state: ConversationState) -> Literal["agent", "respond"]:
    return "respond" if state.get("offer_fresh") or state.get("handoff") else "agent"


def build_graph(nodes: Nodes, checkpointer: BaseCheckpointSaver | None) -> CompiledStateGraph:
    graph = StateGraph(ConversationState, context_schema=ToolContext)
    graph.add_node("confirm", nodes.confirm)
    graph.add_node("agent", nodes.agent)
    graph.add_node("tools", nodes.tools)
    graph.add_node("respond", nodes.respond)
    graph.add_conditional_edges(START, route_start)
    graph.add_conditional_edges("confirm", route_confirm)
    graph.add_conditional_edges("agent", route_agent)
    graph.add_conditional_edges("tools", route_tools)
    graph.add_edge("respond", END)
    return graph.compile(checkpointer=checkpointer)

