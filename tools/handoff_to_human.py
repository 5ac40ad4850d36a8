"""`handoff_to_human`: pause the bot for this conversation and flag it for the owner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from tools.base import Tool, ToolOutcome, tool
from tools.context import ToolContext

if TYPE_CHECKING:
    from agent.offline.compose import Composer
    from agent.offline.turn import ToolResult


class HandoffArgs(BaseModel):
    reason: str = Field("", description="Why a person should take over (customer request, complaint, stuck)")


@tool
async def handoff_to_human(args: HandoffArgs, ctx: ToolContext) -> ToolOutcome:
    """Hand the conversation to a person of the business.

    Use it when the customer asks for a human, complains, or you cannot
    help. The bot stops answering this conversation until the owner hands
    it back.
    """
    reason = (args.reason or "customer request").strip()[:300]
    await ctx.repos.conversations.update(
        ctx.conversation_id, status="human", needs_attention=True, attention_reason=reason
    )
    return ToolOutcome({"status": "handed_off"}, handoff=reason)


def _words(c: Composer, result: ToolResult) -> str:
    if (result.data or {}).get("status") != "handed_off":
        return c.say.say("handoff_unavailable")
    return c.say.handoff(complaint=c.u.intent == "complaint")


UNIT = Tool(handoff_to_human, words=_words)
