"""`OfflineChatModel`: the planner wrapped as a LangChain chat model.

It binds tools like any chat model (OpenAI-format function dicts), answers
with an `AIMessage` holding tool calls or text, and reports word counts as
token usage so the runtime's accounting works the same with or without a
real LLM. It is pure CPU and deterministic, so the sync and async paths
share one implementation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    BaseCallbackManager,
    CallbackManagerForLLMRun,
)
from langchain_core.globals import get_llm_cache
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig, ensure_config
from langchain_core.utils.function_calling import convert_to_openai_tool
from langsmith.utils import tracing_is_enabled
from pydantic import ConfigDict

from agent.offline.planner import Planner
from agent.offline.turn import read_turn, text_of
from prompts import PromptStore


def _tool_names(tools: Sequence[Any] | None) -> set[str]:
    names = set()
    for tool in tools or []:
        spec = tool if isinstance(tool, dict) and "function" in tool else convert_to_openai_tool(tool)
        names.add(spec["function"]["name"])
    return names


def _words(text: str) -> int:
    return len(text.split())


class OfflineChatModel(BaseChatModel):
    """A rule-based chat model for Spanish and English that drives the agent's tools."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    prompts: PromptStore

    @property
    def _llm_type(self) -> str:
        return "mostrador-offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": "mostrador-offline"}

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        specs = [t if isinstance(t, dict) and "function" in t else convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=specs, **kwargs)

    def _respond(self, messages: list[BaseMessage], tools: Sequence[Any] | None) -> ChatResult:
        turn = read_turn(messages)
        step = Planner(turn, self.prompts, _tool_names(tools)).step()
        spent = sum(_words(text_of(m)) for m in messages)
        made = _words(step.text) + sum(
            _words(json.dumps(c["args"], ensure_ascii=False)) + 1 for c in step.calls
        )
        message = AIMessage(
            content=step.text,
            tool_calls=step.calls,
            usage_metadata={"input_tokens": spent, "output_tokens": made, "total_tokens": spent + made},
            response_metadata={
                "model_name": "mostrador-offline",
                "finish_reason": "tool_calls" if step.calls else "stop",
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        tools: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._respond(messages, tools)

    async def ainvoke(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        """Straight to the planner when nothing observes the call.

        LangChain's run bookkeeping (callback managers, run ids, result
        wrapping) costs about twice the planner itself on every model step.
        With a callback handler, tracing, a cache or a rate limiter in play,
        the standard path runs instead, so observers see every call.
        """
        callbacks = ensure_config(config).get("callbacks")
        observed = (
            (callbacks.handlers if isinstance(callbacks, BaseCallbackManager) else callbacks)
            or self.callbacks or self.cache or self.rate_limiter or get_llm_cache() is not None
            or tracing_is_enabled() or stop is not None or set(kwargs) - {"tools"}
        )
        if observed:
            return await super().ainvoke(input, config, stop=stop, **kwargs)
        messages = self._convert_input(input).to_messages()
        return self._respond(messages, kwargs.get("tools")).generations[0].message  # type: ignore[return-value]

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        tools: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._respond(messages, tools)
