"""Reading the message list the graph hands the model: facts, the customer's words, tool results.

messages[0] is a SystemMessage whose `additional_kwargs["mostrador"]` holds
the turn's facts (business name, language, currency, products in focus,
pending action). Then a bounded history; the current turn starts at the
last HumanMessage and may already hold tool calls and their results.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from agent.dialogue import facts_from_text


@dataclass
class ToolResult:
    """One tool call of this turn and what it returned (`data` None when it failed)."""

    name: str
    args: dict[str, Any]
    call_id: str
    data: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class Turn:
    facts: dict[str, Any]
    human: str = ""  # the customer's last message ("" when there is none)
    results: list[ToolResult] = field(default_factory=list)  # every tool result since `human`
    last_round: list[ToolResult] = field(default_factory=list)  # results of the latest tool-calling AIMessage
    rounds: int = 0  # tool-calling AIMessages since `human`
    awaiting_tools: bool = False  # the last message is our tool call, with no result yet
    previous_human: str = ""  # the customer's message before `human`, if still in the window
    previous_tools: list[str] = field(default_factory=list)  # tools called while answering it
    previous_reply: str = ""  # what we answered to it (the last words-only AI message before `human`)

    @property
    def focus(self) -> list[dict[str, Any]]:
        return [f for f in self.facts.get("focus") or [] if isinstance(f, dict) and f.get("sku")]

    @property
    def pending(self) -> dict[str, Any] | None:
        pending = self.facts.get("pending")
        return pending if isinstance(pending, dict) else None

    def called(self, name: str) -> bool:
        return any(r.name == name for r in self.results)

    def latest(self, name: str) -> ToolResult | None:
        return next((r for r in reversed(self.results) if r.name == name), None)


def text_of(message: BaseMessage) -> str:
    """The text of a message whose content may be a list of blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return " ".join(parts)


def _parse(content: str) -> dict[str, Any] | None:
    try:
        data = json.loads(content)
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_turn(messages: Sequence[BaseMessage]) -> Turn:
    facts: dict[str, Any] = {}
    if messages and isinstance(messages[0], SystemMessage):
        facts = dict(messages[0].additional_kwargs.get("mostrador") or {})
        if not facts:  # the system text as an API carries it: the dialogue state block
            facts = facts_from_text(text_of(messages[0]))
    start = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    turn = Turn(facts=facts, human=text_of(messages[start]).strip() if start >= 0 else "")
    before = max(
        (i for i, m in enumerate(messages[: max(start, 0)]) if isinstance(m, HumanMessage)), default=-1
    )
    if before >= 0:
        turn.previous_human = text_of(messages[before]).strip()
        for message in messages[before + 1 : start]:
            if isinstance(message, AIMessage):
                turn.previous_tools += [c["name"] for c in message.tool_calls]
                if not message.tool_calls and text_of(message).strip():
                    turn.previous_reply = text_of(message).strip()
    calls: dict[str, ToolResult] = {}
    last_ids: list[str] = []
    for message in messages[start + 1 :]:
        if isinstance(message, AIMessage) and message.tool_calls:
            turn.rounds += 1
            last_ids = []
            for call in message.tool_calls:
                call_id = call.get("id") or ""
                calls[call_id] = ToolResult(call["name"], dict(call.get("args") or {}), call_id)
                last_ids.append(call_id)
        elif isinstance(message, ToolMessage):
            result = calls.get(message.tool_call_id) or ToolResult(
                message.name or "", {}, message.tool_call_id
            )
            content = text_of(message)
            result.data = _parse(content)
            if message.status == "error" or result.data is None:
                result.error = content or "error"
                result.data = None
            turn.results.append(result)
    turn.last_round = [r for r in turn.results if r.call_id in last_ids]
    if messages and isinstance(messages[-1], AIMessage) and messages[-1].tool_calls:
        turn.awaiting_tools = True
    return turn
