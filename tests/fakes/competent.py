"""A competent model behind the fake OpenAI server, for evaluations through the LLM path.

The competent model is played by the built-in model (`OfflineChatModel`)
reading only what crosses the wire: the request body's `messages` (the
system text with its "Dialogue state (JSON):" block, the history, tool calls
with JSON-string arguments, tool results) and its `tools` schemas. Nothing
is shared with the daemon in-process: the system message is rebuilt from
its text alone (no `additional_kwargs`), so the facts the built-in model
needs come from the dialogue-state block the product renders into the
prompt. An evaluation set that passes on the built-in model and also passes
through this script therefore proves the LLM path loses nothing: the tool
calls survive their JSON round trip, the dialogue state reaches the model
in the prompt, and offers, confirmations and commits stay our deterministic
code whatever model answers.

Structured-output requests (the insights analysis, `response_format` with a
JSON schema) are answered by the built-in insights analysis over the
transcript the request carries, as JSON content.

    competent = CompetentModel()
    async with FakeOpenAI() as fake:
        fake.script(competent)
        ...  # settings with llm_provider="openai", openai_base_url=fake.base_url
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from agent.offline.model import OfflineChatModel
from prompts import PromptStore
from tests.fakes.openai_api import Reply, ToolCallSpec
from tools.generate_insights import guess_language
from tools.insights_offline import analyze_offline

PROMPTS_DIR = Path(__file__).resolve().parent.parent.parent / "prompts"
_AUTHOR = re.compile(r"^(customer|bot|human): ?(.*)$")


def _text(content: Any) -> str:
    """A wire message's content: a string, null, or a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")


def _args(raw: Any) -> dict[str, Any]:
    """Tool-call arguments: a JSON string on the wire."""
    if isinstance(raw, dict):
        return raw
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def to_messages(wire: list[dict[str, Any]]) -> list[BaseMessage]:
    """OpenAI chat messages as LangChain messages, carrying only what the wire carries."""
    out: list[BaseMessage] = []
    for msg in wire:
        role = msg.get("role")
        text = _text(msg.get("content"))
        if role in ("system", "developer"):
            out.append(SystemMessage(text))  # text only: the dialogue state is read from it
        elif role == "user":
            out.append(HumanMessage(text))
        elif role == "assistant":
            calls = [
                {"name": c["function"]["name"], "args": _args(c["function"].get("arguments")), "id": c["id"]}
                for c in msg.get("tool_calls") or []
                if c.get("type", "function") == "function"
            ]
            out.append(AIMessage(text, tool_calls=calls))
        elif role == "tool":
            out.append(ToolMessage(text, tool_call_id=msg.get("tool_call_id") or ""))
    return out


def _transcript(text: str) -> list[tuple[str, str]]:
    """The insights request's transcript ("author: text" lines, a text may span lines) as pairs."""
    pairs: list[tuple[str, str]] = []
    for line in text.splitlines():
        match = _AUTHOR.match(line)
        if match:
            pairs.append((match.group(1), match.group(2)))
        elif pairs:
            pairs[-1] = (pairs[-1][0], f"{pairs[-1][1]}\n{line}")
    return [(author, said.strip()) for author, said in pairs]


class CompetentModel:
    """The `script` for `FakeOpenAI`: the built-in model, fed only the request body.

    Counts what it answered: `chat_steps` (tool-calling model steps) and
    `insights` (structured-output requests).
    """

    def __init__(self, prompts: PromptStore | Path | None = None) -> None:
        self.prompts = (
            prompts if isinstance(prompts, PromptStore) else PromptStore(Path(prompts or PROMPTS_DIR))
        )
        self.model = OfflineChatModel(prompts=self.prompts)
        self.chat_steps = 0
        self.insights = 0

    async def __call__(self, body: dict[str, Any]) -> Reply:
        if body.get("response_format"):
            return await self._insights(body)
        self.chat_steps += 1
        messages = to_messages(body.get("messages") or [])
        tools = body.get("tools") or []
        ai = await self.model.bind_tools(tools).ainvoke(messages)
        calls = [ToolCallSpec(c["name"], dict(c.get("args") or {}), c.get("id")) for c in ai.tool_calls]
        return Reply(text=_text(ai.content) or None, tool_calls=calls)

    async def _insights(self, body: dict[str, Any]) -> Reply:
        """A structured analysis as JSON content, from the transcript and instructions on the wire."""
        self.insights += 1
        wire = body.get("messages") or []
        instructions = next(
            (_text(m.get("content")) for m in wire if m.get("role") in ("system", "developer")), ""
        )
        said = "\n".join(_text(m.get("content")) for m in wire if m.get("role") == "user")
        notes = [self.prompts.text("insights.handed_over_complaint", lang) for lang in ("es", "en")]
        complained = any(note in said for note in notes)  # the daemon's note after the transcript
        for note in notes:
            said = said.replace(note, "")
        pairs = _transcript(said)
        language = next(
            (
                lang
                for lang in ("es", "en")
                if instructions.strip() == self.prompts.text("insights.model_instructions", lang).strip()
            ),
            None,
        ) or guess_language([t for a, t in pairs if a == "customer"])
        data = await asyncio.to_thread(analyze_offline, pairs, language=language, prompts=self.prompts,
                                       handed_over_complaint=complained)
        return Reply(text=data.model_dump_json())
