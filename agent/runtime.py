"""Turn handling: the guarantees every channel relies on.

- Push channels store a webhook's messages (`accept`) before they
  acknowledge it; the web chat stores its message before the turn. What is
  stored is answered exactly once: a turn that never finished (a crash, a
  kill, a busy lock) is taken up by the next turn of that conversation
  (its older unanswered messages go first, in order) or by the sweep
  (`sweep`, at start-up and periodically), which also sends replies that
  were stored but never handed to the platform.
- Turns of one conversation run one at a time, in arrival order (a FIFO
  lock per conversation); different conversations run in parallel. A turn
  that cannot get its lock (or a database connection) in time tells the
  customer to wait a moment and leaves the message for the sweep.
- The replies are stored in one transaction with the "done" mark: a
  redelivered message id is processed once and gets the same replies. A
  retried turn whose checkpoint was already written (a committed sale whose
  reply was lost) answers with what that turn said.
- Message ids are scoped to their conversation; in a group chat each
  member is a conversation of their own (`InboundMessage.conversation_key`).
- Edits and deletions are events on the stored message, not turns.
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
from datetime import UTC, datetime, timedelta
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from sqlalchemy.exc import TimeoutError as SATimeoutError

from agent import metrics
from agent.checkpoints import DURABILITY, prune
from agent.locks import KeyedLocks
from agent.stored import from_row, outbound, public_message, turn_language
from channels.base import (
    EVENT_KINDS,
    Channel,
    ChannelRegistry,
    InboundMessage,
    OutboundMessage,
    SendResult,
)
from channels.metrics import SEND_FAILURES, SENDS
from config.store import ConfigStore
from storage.db import LockTimeout
from storage.models import Conversation, Message
from storage.repository import Inbound
from tools import TOOLS
from tools.context import Services, ToolContext

log = logging.getLogger(__name__)
MAX_TEXT = 4000
# Old checkpoints of the current thread are deleted every PRUNE_EVERY turns: storage stays
# bounded (at most that many small checkpoints per conversation) at a fraction of the cost.
PRUNE_EVERY = 8
# A stored message taken up this many times without finishing (a crash loop) is answered with an apology.
MAX_ATTEMPTS = 4
RETRY_AFTER_S = 5
SWEEP_BATCH = 500  # messages a sweep takes up at once; the next sweep takes the rest
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
    busy: bool = False  # the lock or the database was not available in time; the message waits, stored
    retry_after_s: int = 0


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
        lock_timeout_s: float = 20.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.services = services
        self.graph = graph
        self.checkpointer = checkpointer
        self.config = config
        self.channels = channels
        self.turn_timeout_s = turn_timeout_s
        self.lock_timeout_s = lock_timeout_s
        self.clock = clock
        self.started_at = clock()
        # Where unanswered older messages may exist (a turn's backlog check is a read each turn, so it is
        # skipped where there can be none): messages left by an earlier process until the start-up sweep
        # has taken them up (None: not looked yet), and conversations this process stored a message for
        # that no turn has finished yet (webhook ingress, a busy lock, a turn that raised).
        self._leftovers: bool | None = None
        self._suspects: set[str] = set()
        self._sweeping = asyncio.Lock()
        self._locks = KeyedLocks()
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

    # -- ingress -------------------------------------------------------------------

    async def accept(self, messages: list[InboundMessage]) -> list[InboundMessage]:
        """Durably store what a webhook body carries, before the platform is answered 2xx.

        Customer messages are stored in one transaction (pending); edits and
        deletions are applied to the message they change. Returns the
        messages that still need a turn, in order (not those already answered:
        a redelivery). Raises if storage fails: the webhook must then answer
        an error so that the platform delivers it again.
        """
        turns = [m for m in messages if m.kind not in EVENT_KINDS]
        stored = await self._store(turns) if turns else []
        self._suspects.update(_lock_key(m) for m in turns)
        for m in messages:
            if m.kind in EVENT_KINDS:
                await self.apply_event(m)
        return [m for m, row in zip(turns, stored, strict=True) if row.message.turn_status == "pending"]

    async def _store(self, messages: list[InboundMessage]) -> list[Inbound]:
        """Store inbound messages (pending, not yet taken up for a turn) in one transaction."""
        config = self.config.current
        return await self.repos.messages.store_inbound(
            [{"channel": m.channel, "chat_id": m.conversation_key, "channel_message_id": m.message_id,
              "sender_name": m.sender_name, "kind": m.kind, "text": m.text, "payload": m.payload_json()}
             for m in messages],
            now=self.clock(), language=lambda conv, text: turn_language(conv, text, config),
        )

    async def apply_event(self, msg: InboundMessage) -> bool:
        """An edit or a deletion: recorded on the stored message it changes; never a turn, never a reply."""
        conv = await self.repos.conversations.get(msg.channel, msg.conversation_key)
        if conv is None or not msg.edited_of:
            return False
        found = await self.repos.messages.apply_event(
            conv.id, msg.edited_of, kind=msg.kind, text=msg.text, at=self.clock(), event_id=msg.message_id,
        )
        metrics.EVENTS.labels(msg.channel, msg.kind, "applied" if found else "unknown").inc()
        return found

    async def media_fetched(self, msg: InboundMessage) -> None:
        """A media download that finished after the message was stored: keep where the file is."""
        conv = await self.repos.conversations.get(msg.channel, msg.conversation_key)
        stored = await self.repos.messages.find(conv.id, "in", msg.message_id) if conv else None
        if stored is not None and msg.media:
            await self.repos.messages.update_payload(stored.id, {"media": (msg.payload_json() or {}).get("media")})

    # -- turns ---------------------------------------------------------------------

    async def handle(self, msg: InboundMessage, *, inline: bool = False) -> TurnResult:
        """Store, process (once) and answer one inbound message.

        `inline=True`: the caller returns the replies in its own response (the
        web chat), so they are stored as sent in the turn's final write.
        Older unanswered messages of the conversation are answered first and
        their replies come before this message's.
        """
        self._inflight += 1
        self._idle.clear()
        try:
            key = _lock_key(msg)
            lock_key = f"{self.repos.business_id}:{key}"
            try:
                async with (self._locks(key, self.lock_timeout_s),
                            self.repos.db.conversation_lock(lock_key, self.lock_timeout_s)):
                    return await self._handle_locked(msg, inline, key)
            except (LockTimeout, SATimeoutError) as exc:
                self._suspects.add(key)
                return await self._busy(msg, exc)
            except BaseException:
                self._suspects.add(key)  # the message may be stored and unanswered: the next turn looks
                raise
        finally:
            self._inflight -= 1
            if not self._inflight:
                self._idle.set()

    async def _busy(self, msg: InboundMessage, exc: Exception) -> TurnResult:
        """No lock or connection in time: keep the message (stored, pending) and ask for a moment."""
        log.warning("turn deferred: %s", exc, extra={"channel": msg.channel})
        metrics.TURNS.labels(msg.channel, "busy").inc()
        conv = None
        try:
            conv = (await self._store([msg]))[0].conversation
        except Exception:  # the database itself is the problem: the platform's redelivery or the client retries
            log.warning("could not store a deferred message", extra={"channel": msg.channel})
        lang = (conv.language if conv else None) or self.config.current.default_language
        text = self.services.prompts.text("messages.busy", lang)
        return TurnResult([OutboundMessage(text=text)], busy=True, conversation=conv, retry_after_s=RETRY_AFTER_S)

    async def _backlog_possible(self, key: str) -> bool:
        if not self.repos.db.is_sqlite:
            return True  # other replicas may have left messages of this conversation
        if self._leftovers is None:
            self._leftovers = await self.repos.messages.any_unanswered(self.started_at)
        return self._leftovers or key in self._suspects

    async def _handle_locked(self, msg: InboundMessage, inline: bool, key: str) -> TurnResult:
        config = await self.config.refresh()
        await self.services.prompts.refresh()
        if msg.kind in EVENT_KINDS:
            await self.apply_event(msg)
            return TurnResult([], skipped=True)
        inbound = await self.repos.messages.begin_inbound(
            msg.channel, msg.conversation_key, channel_message_id=msg.message_id, now=self.clock(),
            language=lambda conv: turn_language(conv, msg.text, config), sender_name=msg.sender_name,
            kind=msg.kind, text=msg.text, payload=msg.payload_json(),
        )
        conv, stored = inbound.conversation, inbound.message
        if stored.turn_status in ("done", "skipped"):
            metrics.DUPLICATES.labels(msg.channel).inc()
            previous = await self.repos.messages.replies_to(stored.id)
            return TurnResult(
                [outbound(m, stored.channel_message_id) for m in previous], [m.id for m in previous],
                duplicate=True, conversation=conv, inbound_id=stored.id,
            )
        result = TurnResult([], conversation=conv, inbound_id=stored.id)
        backlog = await self.repos.messages.backlog(conv.id, stored.id) if await self._backlog_possible(key) else []
        self._suspects.discard(key)
        for row in backlog:  # older unanswered ones first, in order
            earlier = await self._turn(conv, from_row(row, conv), row, inline, config, backlog=True)
            result.replies += earlier.replies
            result.reply_ids += earlier.reply_ids
        turn = await self._turn(conv, msg, stored, inline, config)
        result.replies += turn.replies
        result.reply_ids += turn.reply_ids
        result.skipped = turn.skipped
        return result

    async def _turn(self, conv: Conversation, msg: InboundMessage, stored: Message, inline: bool, config: Any,
                    *, backlog: bool = False) -> TurnResult:
        if backlog:
            stored.attempts = (stored.attempts or 0) + 1
            await self.repos.messages.count_attempt(stored.id)
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
            if (stored.attempts or 0) > MAX_ATTEMPTS:
                raise RuntimeError(f"gave up after {stored.attempts - 1} unfinished attempts")
            replies, usage = await asyncio.wait_for(self._run_turn(msg, ctx, stored), timeout=self.turn_timeout_s)
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
        return TurnResult([outbound(m, stored.channel_message_id) for m in saved], [m.id for m in saved],
                          conversation=conv, inbound_id=stored.id)

    async def _run_turn(self, msg: InboundMessage, ctx: ToolContext,
                        stored: Message) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        text = msg.text.strip()
        if len(text) > MAX_TEXT:
            return [{"text": ctx.prompts.text("messages.too_long", ctx.language, limit=MAX_TEXT)}], {}
        transcript = next((m.transcript for m in msg.media if m.transcript), None)
        if transcript and not text:
            text = transcript
        if msg.kind == "reaction":
            return [], {}
        if msg.kind == "contact" and msg.contacts:
            return [{"text": await self._save_contacts(msg, ctx)}], {}
        if not text and msg.kind != "order":
            key = _FIXED_REPLIES.get(msg.kind)
            if key is None and msg.media:
                kind = ctx.prompts.text(f"messages.media_kinds.{msg.media[0].kind}", ctx.language)
                return [{"text": ctx.prompts.text("messages.media_received", ctx.language, kind=kind)}], {}
            return [{"text": ctx.prompts.text(key or "messages.unsupported", ctx.language)}], {}

        thread = {"configurable": {"thread_id": f"conv-{ctx.conversation_id}"}}
        if (stored.attempts or 0) > 1:
            # A retry: if the turn's checkpoint was written before the crash (a sale committed,
            # its reply lost), that turn happened; answer with what it said, don't run it again.
            snapshot = await self.graph.aget_state(thread)
            done = (snapshot.values or {}) if snapshot else {}
            if (done.get("inbound") or {}).get("id") == stored.id and done.get("replies"):
                return list(done["replies"]), {}
        state_in = {
            "messages": [HumanMessage(text)],
            "language": ctx.language,
            "inbound": {"id": stored.id, "text": text, "button_payload": msg.button_payload, "kind": msg.kind,
                        "order": [{"sku": i.sku, "quantity": i.quantity} for i in msg.order]},
            "offer_fresh": False,
            "replies": [],
            "steps": 0,
            "usage": {},
            "handoff": None,
            "notice": None,
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

    async def _save_contacts(self, msg: InboundMessage, ctx: ToolContext) -> str:
        """Shared contact cards are kept on the message (all of them); none overwrites the sender's lead.

        Only a card that is the sender's own (same platform user) fills their lead.
        """
        me = msg.sender_id or (None if msg.group else msg.chat_id)
        own = next((c for c in msg.contacts if me and c.user_id == me), None)
        lead_tool = TOOLS.get("qualify_lead")
        if own is not None and lead_tool is not None and ctx.config.tool_enabled("qualify_lead"):
            args = {"name": own.full_name, "phone": own.phone, "email": own.email}
            await lead_tool({k: v for k, v in args.items() if v}, ctx)
        names = [c.full_name or c.phone or "?" for c in msg.contacts]
        if len(names) > 1:
            return ctx.prompts.text("messages.contacts_received", ctx.language, count=len(names),
                                    names=", ".join(names))
        name_part = f" ({names[0]})" if names and names[0] != "?" else ""
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

    # -- sweeping --------------------------------------------------------------------

    async def sweep(self, *, older_than: datetime | None = None) -> dict[str, int]:
        """Answer what was stored but never answered, and send what was stored but never sent.

        At start-up `older_than` is the start time (nothing of this process is
        in flight yet); periodically it is a grace period ago, so a turn in
        progress is not raced (and if it were, the conversation lock and the
        status checks under it keep every message answered once).
        """
        cutoff = older_than or self.started_at
        counts = {"turns": 0, "sends": 0}
        async with self._sweeping:
            latest: dict[int, Message] = {}
            found = await self.repos.messages.unanswered(cutoff, limit=SWEEP_BATCH)
            for row in found:
                latest[row.conversation_id] = row  # the newest per conversation; older ones go first as backlog
            for row in latest.values():
                conv = await self.repos.conversations.by_id(row.conversation_id)
                channel = self.channels.get(row.channel)
                if conv is None or channel is None or self.closing:
                    continue
                result = await self.dispatch(from_row(row, conv), channel)
                counts["turns"] += 0 if result.duplicate else 1
            unsent: dict[int, list[Message]] = {}
            for row in await self.repos.messages.unsent(cutoff):
                unsent.setdefault(row.conversation_id, []).append(row)
            for conversation_id, rows in unsent.items():
                conv = await self.repos.conversations.by_id(conversation_id)
                channel = self.channels.get(rows[0].channel)
                if conv is None or channel is None or self.closing:
                    continue
                items = [(m.id, outbound(m, None, author=m.author)) for m in rows]
                counts["sends"] += await self.deliver(conv, items, channel, resend=True)
        if cutoff >= self.started_at and len(found) < SWEEP_BATCH and not self.closing:
            self._leftovers = False  # everything older than this process has been taken up
        if counts["turns"] or counts["sends"]:
            log.info("sweep: answered %s stored message(s), sent %s stored repl(ies)", counts["turns"], counts["sends"])
        return counts

    async def sweep_forever(self, interval_s: float, grace_s: float) -> None:
        """The start-up sweep, then one every `interval_s` (errors logged, never fatal)."""
        first = True
        while not self.closing:
            try:
                cutoff = self.started_at if first else self.clock() - timedelta(seconds=grace_s)
                await self.sweep(older_than=cutoff)
            except Exception:
                log.exception("sweep failed")
            first = False
            await asyncio.sleep(interval_s)

    # -- sending ---------------------------------------------------------------------

    async def dispatch(self, msg: InboundMessage, channel: Channel) -> TurnResult:
        """For push channels: handle, then send the replies (not again for a duplicate)."""
        result = await self.handle(msg)
        if result.busy:
            await self._send_busy(result, channel, msg)
            return result
        if result.duplicate or not result.replies or result.conversation is None:
            return result
        await self.deliver(result.conversation, list(zip(result.reply_ids, result.replies, strict=True)), channel)
        return result

    async def _send_busy(self, result: TurnResult, channel: Channel, msg: InboundMessage) -> None:
        """The 'one moment' note: stored as a bot message (not the turn's reply, which comes later) and sent."""
        conv = result.conversation
        if conv is None:
            return
        try:
            stored = await self.repos.messages.add_outbound(conv, author="bot", text=result.replies[0].text)
        except Exception:
            log.warning("could not store the busy note", extra={"conversation_id": conv.id})
            return
        out = OutboundMessage(text=stored.text, metadata={"reply_to": msg.message_id})
        await self.deliver(conv, [(stored.id, out)], channel)

    async def deliver(self, conv: Conversation, items: list[tuple[int, OutboundMessage]], channel: Channel,
                      *, resend: bool = False) -> int:
        """Send stored outbound messages in order and record what the platform said; returns how many went out.

        Each message is claimed first (queued -> sending), so a sweep and a
        live turn never both send it; `resend` also takes messages left
        `sending` by a process that died mid-send.
        """
        sent = 0
        for message_id, out in items:
            fresh = await self.repos.conversations.by_id(conv.id)
            if fresh is not None and fresh.status == "human" and out.metadata.get("author") != "human":
                await self.repos.messages.set_delivery(message_id, status="held", error="conversation with a human")
                continue
            claimed = await self.repos.messages.claim_send(
                message_id, expect=("queued", "sending") if resend else ("queued",)
            )
            if claimed is None:
                continue  # someone else sent it (or is sending it)
            if fresh is not None and fresh.last_inbound_at is not None:
                out.metadata.setdefault("last_inbound_at", fresh.last_inbound_at.timestamp())
            try:
                result = await channel.send(conv.chat_id, out)
            except Exception as exc:
                log.exception("send failed", extra={"conversation_id": conv.id, "channel": channel.name})
                result = SendResult(ok=False, status="failed", error=f"{type(exc).__name__}: {exc}"[:300])
            if result.ok:
                SENDS.labels(channel.name).inc()
                sent += 1
            else:
                SEND_FAILURES.labels(channel.name, (result.error or "error")[:40]).inc()
            await self.repos.messages.set_delivery(
                message_id, status=result.status if result.ok else "failed",
                channel_message_id=result.channel_message_id, error=result.error,
            )
        return sent

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


def _lock_key(msg: InboundMessage) -> str:
    """The in-process key of a message's conversation (its lock, its backlog suspicion)."""
    return f"{msg.channel}:{msg.conversation_key}"
