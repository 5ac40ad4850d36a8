"""Insights for conversations that went idle (business config `insights.on_idle`)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import or_, select

from agent.runtime import AgentRuntime
from config.store import ConfigStore
from storage.models import Conversation
from tools.generate_insights import generate_for_conversation

log = logging.getLogger(__name__)


async def idle_conversations(runtime: AgentRuntime, idle_minutes: int, limit: int = 50) -> list[int]:
    """Conversations quiet for `idle_minutes` whose insights are missing or older than their last message."""
    repos = runtime.repos
    cutoff = runtime.clock() - timedelta(minutes=idle_minutes)
    async with repos.db.session() as s:
        rows = await s.execute(
            select(Conversation.id).where(
                Conversation.business_id == repos.business_id,
                Conversation.last_inbound_at.is_not(None),
                Conversation.last_inbound_at < cutoff,
                or_(Conversation.insights_at.is_(None), Conversation.insights_at < Conversation.last_inbound_at),
            ).limit(limit)
        )
        return [r[0] for r in rows]


async def idle_insights(runtime: AgentRuntime, config: ConfigStore, every_s: float = 60.0) -> None:
    """Runs for the daemon's life; one failure never stops the loop."""
    while True:
        await asyncio.sleep(every_s)
        settings = config.current.insights
        if not settings.on_idle or runtime.closing:
            continue
        try:
            for conversation_id in await idle_conversations(runtime, settings.idle_minutes):
                model = runtime.services.extra.get("insights_model")
                await generate_for_conversation(runtime.services, conversation_id, model=model)
        except Exception:
            log.exception("idle insights failed")
