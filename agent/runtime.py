"""Turn handling: the guarantees every channel relies on.

- Turns of one conversation run one at a time, in arrival order (a FIFO
  lock per conversation); different conversations run in parallel.
- The inbound message is stored before the turn, the replies after it, in
  one transaction with the "done" mark: a redelivered message id is
  processed once and gets the same replies.
- An exception or a timeout in a turn yields a polite reply and a logged
  error; the customer's message stays stored (turn_status=failed) and a
  redelivery retries it.
- While a conversation is with a human, the bot stores what arrives and
  sends nothing.
- `drain()` waits for in-flight turns and background work on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph

from agent import metrics
from agent.checkpoints import DURABILITY, prune
from agent.language import detect_language
from channels.base import Button, Channel, ChannelRegistry, InboundMessage, OutboundMessage, SendResult
from channels.metrics import SEND_FAILURES, SENDS
from config.store import ConfigStore
from storage.models import Conversation, Message
from tools import TOOLS
from tools.context import Services, ToolContext

log = logging.getLogger(__name__)
MAX_TEXT = 4000
# Old checkpoints of the current thread are deleted every PRUNE_EVERY turns: storage stays
# bounded (at most that many small checkpoints per conversation) at a fraction of the cost.
PRUNE_EVERY = 8
# Inbound kinds answered by a fixed sentence instead of a model turn (unless they carry text).
_FIXED_REPLIES = {
    "unsupported": "messages.unsupported",
    "location": "messages.location_received",
    "voice": "messages.voice_no_transcription",
    "audio": "messages.voice_no_transcription",
}


@dataclass
class TurnResult:
    replies: list[OutboundMessage]
    reply_ids: list[int] = field(default_factory=list)
    duplicate: bool = False
    skipped: bool = False
    conversation: Conversation | None = None
    inbound_id: int | None = None


class _KeyedLocks:
    """One FIFO lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def __call__(self, key: str) -> _KeyedLock:
        return _KeyedLock(self, key)


class _KeyedLock:
    def __init__(self, owner: _KeyedLocks, key: str) -> None:
        self.owner, self.key = owner, key

    async def __aenter__(self) -> None:
        lock, users = self.owner._locks.get(self.key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self.owner._locks[self.key] = (lock, users + 1)
        await lock.acquire()

    async def __aexit__(self, *exc: object) -> None:
        lock, users = self.owner._locks[self.key]
        lock.release()
        if users <= 1:
            del self.owner._locks[self.key]
        else:
            self.owner._locks[self.key] = (lock, users - 1)


class AgentRuntime:
    def __init__(
        self,
        *,
        services: Services,
        graph: CompiledStateGraph,
        checkpointer: BaseCheckpointSaver | None,
        config: ConfigStore,
        channels: ChannelRegistry,
        turn_timeout_s: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.services = services
        self.graph = graph
        self.checkpointer = checkpointer
        self.config = config
        self.channels = channels
        self.turn_timeout_s = turn_timeout_s
        self.clock = clock
        self._locks = _KeyedLocks()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.closing = False
        self._turns = 0

    def _turn_counter(self) -> int:
        self._turns += 1
        return self._turns

    @property
    def repos(self):
        return self.services.repos

    # -- background work --------------------------------------------------------

    def track(self, coro: Coroutine[Any, Any, Any], *, name: str = "task") -> asyncio.Task[Any]:
        """Run `coro` in the background; drain() waits for it; errors are logged, not lost."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)

        def _done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background %s failed", name, exc_info=t.exception())

        task.add_done_callback(_done)
        return task

    async def drain(self, grace_s: float = 30.0) -> None:
        """Wait for in-flight turns and tracked tasks (used on SIGTERM)."""
        self.closing = True
        deadline = time.monotonic() + grace_s
        while (self._inflight or self._tasks) and time.monotonic() < deadline:
            pending = list(self._tasks)
            if pending:
                await asyncio.wait(pending, timeout=max(0.01, deadline - time.monotonic()))
            if self._inflight:
                try:
                    await asyncio.wait_for(self._idle.wait(), timeout=max(0.01, deadline - time.monotonic()))
                except TimeoutError:
                    break

    # -- turns ---------------------------------------------------------------------

    async def handle(self, msg: InboundMessage, *, inline: bool = False) -> TurnResult:
        """Store, process (once) and answer one inbound message.

        `inline=True`: the caller returns the replies in its own response (the
        web chat), so they are stored as sent in the turn's final write.
        """
        self._inflight += 1
        self._idle.clear()
        try:
            key = f"{msg.channel}:{msg.chat_id}"
            async with self._locks(key), self.repos.db.conversation_lock(f"{self.repos.business_id}:{key}"):
                return await self._handle_locked(msg, inline)
        finally:
            self._inflight -= 1
            if not self._inflight:
                self._idle.set()

    async def _handle_locked(self, msg: InboundMessage, inline: bool) -> TurnResult:
        config = await self.config.refresh()
        await self.services.prompts.refresh()
        def language(conv: Conversation) -> str:
            current = conv.language or config.default_language
            lang = detect_language(msg.text, default=current) if msg.text.strip() else current
            return lang if lang in config.languages else config.default_language

        conv, stored, created = await self.repos.messages.begin_inbound(
            msg.channel, msg.chat_id, channel_message_id=msg.message_id, now=self.clock(), language=language,
            sender_name=msg.sender_name, kind=msg.kind, text=msg.text, payload=msg.payload_json(),
        )
        if not created and stored.turn_status in ("done", "skipped"):
            metrics.DUPLICATES.labels(msg.channel).inc()
            previous = await self.repos.messages.replies_to(stored.id)
            return TurnResult(
                [_outbound(m) for m in previous], [m.id for m in previous], duplicate=True,
                conversation=conv, inbound_id=stored.id,
            )
        lang = conv.language or config.default_language
        if conv.status == "human":
            await self.repos.messages.set_turn_status(stored.id, "skipped")
            metrics.TURNS.labels(msg.channel, "human").inc()
            return TurnResult([], skipped=True, conversation=conv, inbound_id=stored.id)

        started = time.perf_counter()
        ctx = ToolContext(
            services=self.services,
            config=config,
            conversation_id=conv.id,
            channel=conv.channel,
            chat_id=conv.chat_id,
            language=lang,
            now=self.clock(),
            customer_name=conv.customer_name,
        )
        outcome, usage, error = "ok", {}, None
        try:
            replies, usage = await asyncio.wait_for(self._run_turn(msg, ctx), timeout=self.turn_timeout_s)
        except Exception as exc:  # never lose the message, never crash the daemon
            outcome, error = "error", f"{type(exc).__name__}: {exc}"[:500]
            log.exception("turn failed", extra={"conversation_id": conv.id})
            replies = [{"text": ctx.prompts.text("messages.error", lang)}]
        latency = time.perf_counter() - started
        saved = await self.repos.messages.finish_turn(
            conv, stored.id, replies, error=error, turn=self._turn_record(conv, stored.id, latency, usage, error),
            delivery_status="sent" if inline else "queued",
        )
        metrics.TURNS.labels(msg.channel, outcome).inc()
        metrics.TURN_LATENCY.labels(msg.channel).observe(latency)
        return TurnResult([_outbound(m) for m in saved], [m.id for m in saved], conversation=conv, inbound_id=stored.id)

    async def _run_turn(self, msg: InboundMessage, ctx: ToolContext) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        text = msg.text.strip()
        if len(text) > MAX_TEXT:
            return [{"text": ctx.prompts.text("messages.too_long", ctx.language, limit=MAX_TEXT)}], {}
        transcript = next((m.transcript for m in msg.media if m.transcript), None)
        if transcript and not text:
            text = transcript
        if msg.kind == "reaction":
            return [], {}
        if msg.kind == "contact" and msg.contact is not None:
            return [{"text": await self._save_contact(msg, ctx)}], {}
        if not text:
            key = _FIXED_REPLIES.get(msg.kind)
            if key is None and msg.media:
                return [{"text": ctx.prompts.text("messages.media_received", ctx.language, kind=msg.media[0].kind)}], {}
            return [{"text": ctx.prompts.text(key or "messages.unsupported", ctx.language)}], {}

        thread = {"configurable": {"thread_id": f"conv-{ctx.conversation_id}"}}
        state_in = {
            "messages": [HumanMessage(text)],
            "language": ctx.language,
            "inbound": {"text": text, "button_payload": msg.button_payload, "kind": msg.kind},
            "offer_fresh": False,
            "replies": [],
            "steps": 0,
            "usage": {},
            "handoff": None,
            "tool_calls": [],
            "tool_errors": [],
        }
        result = await self.graph.ainvoke(state_in, thread, context=ctx, durability=DURABILITY)
        if self.checkpointer is not None and self._turn_counter() % PRUNE_EVERY == 0:
            await prune(self.checkpointer, thread["configurable"]["thread_id"])
        for name in result.get("tool_calls") or []:
            metrics.TOOL_CALLS.labels(name).inc()
        for name in result.get("tool_errors") or []:
            metrics.TOOL_FAILURES.labels(name).inc()
        if result.get("handoff"):
            metrics.HANDOFFS.labels("bot").inc()
        return list(result.get("replies") or []), dict(result.get("usage") or {})

    async def _save_contact(self, msg: InboundMessage, ctx: ToolContext) -> str:
        """A shared contact goes to the conversation's lead (phone and name)."""
        contact = msg.contact
        assert contact is not None
        lead_tool = TOOLS.get("qualify_lead")
        if lead_tool is not None and ctx.config.tool_enabled("qualify_lead"):
            args = {"name": contact.full_name, "phone": contact.phone, "email": contact.email}
            await lead_tool({k: v for k, v in args.items() if v}, ctx)
        name_part = f" ({contact.full_name})" if contact.full_name else ""
        return ctx.prompts.text("messages.contact_received", ctx.language, name_part=name_part)

    def _turn_record(self, conv: Conversation, inbound_id: int, latency: float, usage: dict[str, Any],
                     error: str | None) -> dict[str, Any]:
        model = str(usage.get("model", ""))
        tokens_in, tokens_out = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
        if model:
            metrics.MODEL_TOKENS.labels(model, "input").inc(tokens_in)
            metrics.MODEL_TOKENS.labels(model, "output").inc(tokens_out)
        return {"conversation_id": conv.id, "inbound_message_id": inbound_id, "model": model,
                "latency_ms": int(latency * 1000), "input_tokens": tokens_in, "output_tokens": tokens_out,
                "error": error}

    # -- sending ---------------------------------------------------------------------

    async def dispatch(self, msg: InboundMessage, channel: Channel) -> TurnResult:
        """For push channels: handle, then send the replies (not again for a duplicate)."""
        result = await self.handle(msg)
        if result.duplicate or not result.replies or result.conversation is None:
            return result
        await self.deliver(result.conversation, list(zip(result.reply_ids, result.replies, strict=True)), channel)
        return result

    async def deliver(self, conv: Conversation, items: list[tuple[int, OutboundMessage]], channel: Channel) -> None:
        """Send stored outbound messages in order and record what the platform said."""
        for message_id, out in items:
            fresh = await self.repos.conversations.by_id(conv.id)
            if fresh is not None and fresh.status == "human" and out.metadata.get("author") != "human":
                await self.repos.messages.set_delivery(message_id, status="held", error="conversation with a human")
                continue
            if fresh is not None and fresh.last_inbound_at is not None:
                out.metadata.setdefault("last_inbound_at", fresh.last_inbound_at.timestamp())
            try:
                result = await channel.send(conv.chat_id, out)
            except Exception as exc:
                log.exception("send failed", extra={"conversation_id": conv.id, "channel": channel.name})
                result = SendResult(ok=False, status="failed", error=f"{type(exc).__name__}: {exc}"[:300])
            if result.ok:
                SENDS.labels(channel.name).inc()
            else:
                SEND_FAILURES.labels(channel.name, (result.error or "error")[:40]).inc()
            await self.repos.messages.set_delivery(
                message_id, status=result.status if result.ok else "failed",
                channel_message_id=result.channel_message_id, error=result.error,
            )

    async def human_reply(self, conv: Conversation, text: str, *, author: str = "human") -> Message:
        """A person's reply: stored, then sent through the conversation's own channel."""
        stored = await self.repos.messages.add_outbound(conv, author=author, text=text)
        channel = self.channels.get(conv.channel)
        if channel is not None:
            out = OutboundMessage(text=text, metadata={"author": "human"})
            await self.deliver(conv, [(stored.id, out)], channel)
        refreshed = await self.repos.messages.list(conv.id, after=stored.id - 1, limit=1)
        return refreshed[0] if refreshed else stored

    async def history(self, channel: str, chat_id: str, after: int = 0) -> list[dict[str, Any]]:
        """Public transcript of a conversation after a message id (no internal fields)."""
        conv = await self.repos.conversations.get(channel, chat_id)
        if conv is None:
            return []
        return [public_message(m) for m in await self.repos.messages.list(conv.id, after=after)]

    async def record_status(self, channel: str, channel_message_id: str, status: str, error: str | None = None) -> None:
        """A platform's delivery report; never downgrades (read stays read)."""
        await self.repos.messages.advance_delivery(channel, channel_message_id, status, error)



def public_message(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": m.id,
        "direction": m.direction,
        "author": m.author,
        "kind": m.kind,
        "text": m.text,
        "created_at": m.created_at.isoformat() if m.created_at else None,
    }
    buttons = (m.payload or {}).get("buttons")
    if buttons:
        out["buttons"] = buttons
    return out


def _outbound(message: Message) -> OutboundMessage:
    buttons = tuple(Button(b["title"], b["payload"]) for b in (message.payload or {}).get("buttons", []))
    return OutboundMessage(text=message.text, buttons=buttons, metadata={"message_id": message.id})
