"""Graph state: compact on purpose.

The messages table is the transcript; the checkpoint only holds a bounded
window of recent messages plus the dialogue's typed state (agent/dialogue.py:
the order or meeting awaiting a yes, the products in focus, what the bot
asked last, the lead profile) and the language. That
keeps checkpoint size and turn latency flat however long a conversation
gets.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage, RemoveMessage
from langgraph.graph.message import REMOVE_ALL_MESSAGES, add_messages

from agent.dialogue import Asked, FocusItem, LeadProfile, Pending

HISTORY_LIMIT = 16


def bounded_messages(left: list[AnyMessage], right: list[AnyMessage] | AnyMessage) -> list[AnyMessage]:
    """`add_messages`, then keep the last HISTORY_LIMIT messages.

    The window never starts on a ToolMessage or an AI tool-call reply cut
    from its pair, so every provider accepts it as history.
    """
    merged = add_messages(left, right)
    if isinstance(right, list) and right and isinstance(right[0], RemoveMessage) and right[0].id == REMOVE_ALL_MESSAGES:
        return merged
    if len(merged) <= HISTORY_LIMIT:
        return merged
    window = merged[-HISTORY_LIMIT:]
    while window and window[0].type != "human":
        window = window[1:]
    return window


class ConversationState(TypedDict, total=False):
    # persistent, compact
    messages: Annotated[list[AnyMessage], bounded_messages]
    language: str
    # the dialogue (agent/dialogue.py): what every message is read against
    pending: Pending | None  # the order or meeting awaiting the customer's explicit yes
    focus: list[FocusItem]  # products in front of the customer, in the order shown
    asked: Asked | None  # what the bot's last reply asked
    lead: LeadProfile | None  # who the customer is, as far as they said
    # per turn (reset by the runtime's input at the start of every turn)
    inbound: dict[str, Any]
    offer_fresh: bool
    replies: list[dict[str, Any]]
    steps: int
    usage: dict[str, Any]
    handoff: str | None
    notice: str | None  # a sentence to lead the reply with (an order that lapsed)
    tool_calls: list[str]
    tool_errors: list[str]
