"""Reading a meeting request: the customer's words for the time, and who is coming."""

from __future__ import annotations

import asyncio

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from storage.models import Lead
from tools.context import ToolContext
from tools.when import When, read_when


async def read_request_when(ctx: ToolContext, text: str | None) -> When | None:
    """`text` read in the business time zone, the customer's language first; None when empty."""
    if not text or not text.strip():
        return None
    others = [lang for lang in ctx.config.languages if lang != ctx.language]
    languages = (ctx.language, *others)
    return await asyncio.to_thread(read_when, text, now=ctx.now, tz=ctx.config.tz, languages=languages)


async def attendee(ctx: ToolContext, name: str | None, email: str | None) -> tuple[str | None, str | None]:
    """Name and email: the model's arguments first, then the conversation's lead."""
    valid = _valid_email(email)
    who = (name or "").strip() or None
    if valid is None or who is None:
        async with ctx.repos.db.session() as s:
            lead = (
                await s.execute(
                    select(Lead).where(
                        Lead.business_id == ctx.repos.business_id, Lead.conversation_id == ctx.conversation_id
                    )
                )
            ).scalar_one_or_none()
        if lead is not None:
            valid = valid or _valid_email(lead.email)
            who = who or lead.name
    return who or ctx.customer_name, valid


def _valid_email(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None
