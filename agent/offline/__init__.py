"""The built-in offline model: the default "LLM" when no API key is set.

A rule-based `BaseChatModel` that understands the core intents in Spanish
and English and drives the same graph and tools an LLM would, by emitting tool calls and composing
replies from tool results. One concept per submodule:

- text, numbers, when, contact: normalization, quantities, time phrases, lead fields;
- lexicon, nlu: cue words and `understand()` (intent + slots);
- turn: what the graph's message list says (facts, customer message, tool results);
- planner, compose, matching, steps: what to do next, replies after tools,
  which product a purchase means, the step's output;
- render: every sentence, from prompts/offline.<lang>.yaml;
- model: the LangChain `BaseChatModel` wrapper.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.offline.model import OfflineChatModel

__all__ = ["OfflineChatModel"]


def __getattr__(name: str) -> Any:
    # Lazy, so light helpers (agent.offline.text, .numbers) import without LangChain.
    if name == "OfflineChatModel":
        from agent.offline.model import OfflineChatModel

        return OfflineChatModel
    raise AttributeError(name)
