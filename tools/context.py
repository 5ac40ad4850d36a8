"""The run context a tool receives: everything the model must not set.

Built per turn by the agent runtime from process-wide services and handed
to nodes and tools through LangGraph's `Runtime.context`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from config.business import BusinessConfig
from prompts import PromptStore
from storage.repository import Repositories

if TYPE_CHECKING:
    from storage.catalog_index import CatalogIndex
    from storage.knowledge_index import KnowledgeIndex
    from tools.calendars.base import Calendar


@dataclass
class Services:
    """Process-wide services, built once in bot.py."""

    repos: Repositories
    prompts: PromptStore
    catalog: CatalogIndex
    knowledge: KnowledgeIndex | None = None
    calendar: Calendar | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ToolContext:
    """One turn's context: the services plus who we are talking to, and when."""

    services: Services
    config: BusinessConfig
    conversation_id: int
    channel: str
    chat_id: str
    language: str
    now: datetime
    customer_name: str | None = None

    @property
    def repos(self) -> Repositories:
        return self.services.repos

    @property
    def prompts(self) -> PromptStore:
        return self.services.prompts
