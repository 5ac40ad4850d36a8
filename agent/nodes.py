"""The graph's nodes: confirm a pending action; the model's turn with its tool calls.

`agent` runs the model and the tools it calls, in a loop, until the model
answers (or a tool makes an offer or hands over), then writes the replies
(`respond`). One graph step per customer message instead of one per model
call and per tool round: LangGraph's per-step bookkeeping was half of a
turn's CPU (measured: a product question took four steps, 12% of the web
channel's throughput). Tool calls, results and errors are in the state's
messages exactly as a separate tools node would have left them.

Nodes get their per-turn dependencies from `Runtime.context` (a
`ToolContext`) and the chat models from the `Nodes` object built once in
`agent.graph.build_graph`. Every sentence comes from `prompts/`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, SystemMessage, ToolMessage
from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command

from agent import metrics
from agent.breaker import Admission, BreakerState, CircuitBreaker
from agent.confirm import classify_reply
from agent.dialogue import facts_block
from agent.models import BudgetExhausted, ainvoke_with_retries, is_retryable, model_name
from agent.state import ConversationState
from config.settings import BreakerSettings
from tools import PENDING_HANDLERS, TOOLS, UNITS
from tools.base import Tool
from tools.cart import merge_orders, order_lines, propose_cart
from tools.context import ToolContext

log = logging.getLogger(__name__)
MAX_STEPS = 6


def message_text(message: AnyMessage) -> str:
    """Text of a message whatever the provider's content shape (str or parts)."""
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)


def _reply(text: str, ctx: ToolContext, *, buttons: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"text": text}
    if buttons:
        out["buttons"] = [
            {"title": ctx.prompts.text("messages.button_yes", ctx.language), "payload": "confirm"},
            {"title": ctx.prompts.text("messages.button_no", ctx.language), "payload": "decline"},
        ]
    return out


def _hours(ctx: ToolContext) -> str:
    parts = [
        f"{day} " + ", ".join(f"{a}-{b}" for a, b in ranges)
        for day, ranges in ctx.config.business_hours.items()
        if ranges
    ]
    return "; ".join(parts) or "-"


class Nodes:
    """Node functions bound to the chat model (and the offline fallback)."""

    def __init__(self, model: BaseChatModel, fallback: BaseChatModel | None, *, timeout_s: float = 30.0,
                 attempts: int = 3, turn_budget_s: float | None = None,
                 breaker: BreakerSettings | None = None) -> None:
        """`turn_budget_s` bounds the time one turn waits on the provider (all its steps, attempts and
        backoff); the circuit breaker `breaker` sets up is shared by every conversation. None: no
        bound, no breaker (the offline model runs in-process and cannot hang)."""
        self.model = model
        self.fallback = fallback
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.turn_budget_s = turn_budget_s
        self.breaker = None if breaker is None else self._breaker(breaker, model_name(model))
        self.on_model_error: Any = _count_model_error  # metrics hook (replaceable)

    @staticmethod
    def _breaker(settings: BreakerSettings, name: str) -> CircuitBreaker:
        """The provider's breaker, its state on /metrics and in the log."""
        gauge = metrics.MODEL_CIRCUIT_OPEN.labels(name)
        gauge.set(0)

        def changed(state: BreakerState) -> None:
            gauge.set(0 if state is BreakerState.CLOSED else 1)
            log.warning("model %s: circuit %s", name, state.value)

        return CircuitBreaker(**settings.model_dump(), on_change=changed)

    # -- confirmation --------------------------------------------------------

    async def confirm(
        self, state: ConversationState, runtime: Runtime[ToolContext]
    ) -> Command[Literal["agent", "__end__"]]:
        """Deterministic: only an explicit yes commits the pending action; anything else goes to the model."""
        ctx = runtime.context
        pending = state["pending"] or {}
        inbound = state.get("inbound") or {}
        if _lapsed(pending, ctx):  # idle too long: say so, and read the message afresh
            notice = ctx.prompts.text("messages.order_lapsed", ctx.language)
            return Command(goto="agent", update={"pending": None, "offer_fresh": False, "notice": notice})
        catalog = ctx.services.catalog
        names = " ".join(str(line.get("name") or "") for line in order_lines(pending))
        also = catalog.equivalents(names) if catalog is not None and names else frozenset()
        verdict = classify_reply(inbound.get("text", ""), inbound.get("button_payload"), ctx.prompts, pending,
                                 also_names=also)  # "yes, confirm the 6 bulbs" for "Lámpara LED"
        handler = PENDING_HANDLERS[pending["kind"]]
        if verdict == "other":
            return Command(goto="agent", update={"offer_fresh": False})
        if verdict == "decline":
            text, renewed = handler.decline(ctx, pending), None
        else:
            text, renewed = await handler.commit(ctx, pending)
            renewed = _stamped(renewed, ctx)
        return Command(goto=END, update={
            "pending": renewed,
            "asked": _asked(renewed),
            "offer_fresh": renewed is not None,
            "messages": [AIMessage(text)],
            "replies": [_reply(text, ctx, buttons=renewed is not None)],
        })

    # -- a cart from the platform's catalog ----------------------------------

    async def cart(self, state: ConversationState, runtime: Runtime[ToolContext]) -> Command[Literal["__end__"]]:
        """A catalog cart (WhatsApp `order`) becomes the pending order, offered for an explicit yes.

        Deterministic: the products and quantities are the customer's own
        choice; prices and stock are read from the database.
        """
        ctx = runtime.context
        items = (state.get("inbound") or {}).get("order") or []
        text, pending = await propose_cart(ctx, items)
        pending = _stamped(pending, ctx)
        return Command(goto=END, update={
            "pending": pending,
            "asked": _asked(pending),
            "offer_fresh": pending is not None,
            "messages": [AIMessage(text)],
            "replies": [_reply(text, ctx, buttons=pending is not None)],
        })

    # -- model ---------------------------------------------------------------

    def _system(self, state: ConversationState, ctx: ToolContext, tool_names: list[str]) -> SystemMessage:
        lang = ctx.language
        text = ctx.prompts.prompt(
            "system",
            lang,
            business_name=ctx.config.name,
            tone=ctx.config.tone,
            currency=ctx.config.currency,
            today=ctx.now.astimezone(ctx.config.tz).strftime("%Y-%m-%d %A %H:%M"),
            timezone=ctx.config.timezone,
            language=lang,
            tools=", ".join(tool_names),
            hours=_hours(ctx),
        )
        facts = {
            "business_name": ctx.config.name,
            "language": lang,
            "currency": ctx.config.currency,
            "focus": state.get("focus") or [],
            "pending": state.get("pending"),
            "asked": state.get("asked"),
            "lead": state.get("lead"),
            "tools": tool_names,
            "hours": {day: [list(r) for r in ranges] for day, ranges in ctx.config.business_hours.items()},
        }
        # The dialogue state goes over the wire too: an LLM reads what the built-in model reads.
        return SystemMessage(f"{text}\n\n{facts_block(facts)}", additional_kwargs={"mostrador": facts})

    async def agent(self, state: ConversationState, runtime: Runtime[ToolContext]) -> dict[str, Any]:
        """The model's turn: it answers, or calls tools and reads their results until it answers.

        A fresh offer or a hand-over ends the loop early: those replies are
        ours (`respond`), never the model's.
        """
        ctx = runtime.context
        update: dict[str, Any] = {"messages": []}
        view: dict[str, Any] = dict(state)  # the state as this turn has changed it so far
        while True:
            step = await self._model_step(view, ctx)
            update, view = _merged(update, view, step)
            if not getattr(step["messages"][-1], "tool_calls", None) or view["steps"] >= MAX_STEPS:
                break
            called = {c["name"] for c in step["messages"][-1].tool_calls}
            update, view = _merged(update, view, await self._run_tools(view, ctx))
            # An offer ends the turn once the order is all proposed; a lookup in the same round (a product
            # added beside a changed quantity) lets the model propose that one too.
            if view.get("handoff") or (view.get("offer_fresh") and called <= {"register_sale", "schedule_meeting"}):
                break
        out = {**update, **respond(state, update, ctx)}
        pending = out["pending"] if "pending" in out else state.get("pending")
        if pending and not out.get("handoff"):  # an open order or meeting is restated: its yes/no is asked
            out["asked"] = _asked(pending)
        elif "asked" not in update:  # nothing asked this turn: the last question is answered or dropped
            out["asked"] = None
        return out

    async def _model_step(self, state: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        """One model call: the provider within the turn's budget and the breaker's leave, else the fallback."""
        names = [n for n in TOOLS if ctx.config.tool_enabled(n)]
        schemas = [TOOLS[n].openai_schema() for n in names]
        messages = [self._system(state, ctx, names), *state["messages"]]
        usage = dict(state.get("usage") or {})
        waited = float(usage.get("model_wait_s", 0.0))
        budget = None if self.turn_budget_s is None else self.turn_budget_s - waited
        # Failed earlier in this turn, budget spent, or the breaker open: don't wait on the provider again.
        admission = None if usage.get("model_error") or (budget is not None and budget <= 0) else self._admit()
        if admission is None:
            return await self._degraded(state, messages, schemas, usage, ctx)
        attempts, timeout_s = self.attempts, self.timeout_s
        if admission is Admission.PROBE and self.breaker is not None:  # one short try: is it back?
            attempts, timeout_s = 1, min(self.timeout_s, self.breaker.probe_timeout_s)
        started = time.monotonic()
        try:
            ai = await ainvoke_with_retries(
                self.model.bind_tools(schemas), messages, attempts=attempts, timeout_s=timeout_s, budget_s=budget
            )
        except asyncio.CancelledError:
            if self.breaker is not None:
                self.breaker.abandoned(admission)
            raise
        except Exception as exc:  # the provider failed for good: degrade, never crash the turn
            elapsed = time.monotonic() - started
            usage["model_wait_s"] = round(waited + elapsed, 3)
            self._judge(exc, elapsed)
            log.error("model failed after retries: %s", type(exc).__name__, extra={"conversation_id": ctx.conversation_id})
            if self.on_model_error:
                self.on_model_error(model_name(self.model), exc)
            return await self._degraded(state, messages, schemas, usage, ctx)
        self._judge(None, 0.0)
        usage["model_wait_s"] = round(waited + time.monotonic() - started, 3)
        usage["model"] = model_name(self.model)
        return self._step(state, ai, usage)

    def _admit(self) -> Admission | None:
        return Admission.CALL if self.breaker is None else self.breaker.admit()

    def _judge(self, exc: Exception | None, elapsed: float) -> None:
        """Tell the breaker how the provider did; an answer (also a 4xx) closes it.

        A transport, 5xx or 429 failure counts toward its threshold. A call cut off by the budget
        after waiting at least half of it is a hang and opens it at once; one cut off early (a slow
        provider late in a many-step turn) counts as an ordinary failure.
        """
        if self.breaker is None:
            return
        if exc is None or not (isinstance(exc, BudgetExhausted) or is_retryable(exc)):
            self.breaker.succeeded()
            return
        hung = isinstance(exc, BudgetExhausted) and elapsed >= (self.turn_budget_s or 0.0) / 2
        self.breaker.failed(timed_out=hung)

    async def _degraded(self, state: dict[str, Any], messages: list[AnyMessage], schemas: list[dict[str, Any]],
                        usage: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        """The offline fallback's step, or the polite "model unavailable" sentence; the turn stays on it."""
        usage["model_error"] = 1
        if self.fallback is None:
            text = ctx.prompts.text("messages.model_unavailable", ctx.language)
            return {"messages": [AIMessage(text)], "steps": MAX_STEPS, "usage": usage}
        ai = await self.fallback.bind_tools(schemas).ainvoke(messages)
        usage["model"] = model_name(self.fallback)
        return self._step(state, ai, usage)

    @staticmethod
    def _step(state: dict[str, Any], ai: AIMessage, usage: dict[str, Any]) -> dict[str, Any]:
        """A model step's update: its message, the step count, the turn's token usage."""
        meta = getattr(ai, "usage_metadata", None) or {}
        usage["input_tokens"] = usage.get("input_tokens", 0) + int(meta.get("input_tokens", 0))
        usage["output_tokens"] = usage.get("output_tokens", 0) + int(meta.get("output_tokens", 0))
        return {"messages": [ai], "steps": state.get("steps", 0) + 1, "usage": usage}

    # -- tools ---------------------------------------------------------------

    async def _run_tools(self, state: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        """The last AI message's tool calls, run with server-side checks; errors go back to the model."""
        last = state["messages"][-1]
        results: list[ToolMessage] = []
        update: dict[str, Any] = {}
        calls = list(getattr(last, "tool_calls", []) or [])
        for call in calls:
            name, call_id = call["name"], call["id"]
            unit = UNITS.get(name)
            if unit is None or not ctx.config.tool_enabled(name):
                data: dict[str, Any] = {"error": f"tool {name!r} is not available"}
            else:
                try:
                    outcome = await unit.spec(call.get("args") or {}, ctx)
                    data = outcome.data
                    if outcome.pending is not None:
                        # A product ordered while an order is open is one more line of it (or a new quantity).
                        current = update["pending"] if "pending" in update else state.get("pending")
                        merged = merge_orders(current, outcome.pending)
                        update["pending"] = _stamped(merged, ctx)
                        if merged is not outcome.pending:
                            data = {**data, "order": merged}
                        update["offer_fresh"] = merged is not None  # the whole order, offered again
                    if outcome.handoff is not None:
                        update["handoff"] = outcome.handoff
                    update.update(_dialogue(unit, data, update.get("focus", state.get("focus")) or []))
                except Exception as exc:  # bad arguments or a tool bug: tell the model, keep going
                    log.warning("tool %s failed: %s", name, exc, extra={"conversation_id": ctx.conversation_id})
                    data = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
                    update["tool_errors"] = [*(update.get("tool_errors") or state.get("tool_errors") or []), name]
            results.append(ToolMessage(json.dumps(data, ensure_ascii=False, default=str), tool_call_id=call_id, name=name))
        update["messages"] = results
        update["tool_calls"] = [*(state.get("tool_calls") or []), *(c["name"] for c in calls)]
        return update


def _count_model_error(model: str, exc: BaseException) -> None:
    metrics.MODEL_ERRORS.labels(model, type(exc).__name__).inc()


def _merged(update: dict[str, Any], view: dict[str, Any], part: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fold one step's `part` into the turn's update and into its view of the state (messages append)."""
    return (
        {**update, **part, "messages": [*update["messages"], *part.get("messages", [])]},
        {**view, **part, "messages": [*view["messages"], *part.get("messages", [])]},
    )


def respond(state: ConversationState, update: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """The turn's replies, from the state as `update` leaves it; an offer's wording is ours, never the model's.

    An open order or proposed meeting stays open across side questions: the
    answer is followed by the order restated (with its yes/no buttons). It
    lapses when the customer declines it, when a new offer replaces it, on a
    hand-over, or when idle too long (`order_idle_hours`, said in a sentence).
    """
    pending = update["pending"] if "pending" in update else state.get("pending")
    offer_fresh = update.get("offer_fresh", state.get("offer_fresh"))
    notice = state.get("notice")
    if pending and offer_fresh:
        text = PENDING_HANDLERS[pending["kind"]].offer(ctx, pending)
        side = _side_answer(update.get("messages", []), meeting=pending.get("kind") == "meeting")
        if side:
            text = f"{side}\n\n{text}"
        if notice:
            text = f"{notice}\n\n{text}"
        return {"messages": [*update.get("messages", []), AIMessage(text)], "replies": [_reply(text, ctx, buttons=True)]}
    messages = [*state["messages"], *update.get("messages", [])]
    out: dict[str, Any] = {}
    text = _turn_text(messages)
    if not text:
        text = ctx.prompts.text("messages.empty_reply", ctx.language)
        out["messages"] = [*update.get("messages", []), AIMessage(text)]
    if notice:
        text = f"{notice}\n\n{text}"
    handoff = update.get("handoff") or state.get("handoff")
    if handoff:
        handoff_text = ctx.prompts.text("messages.handoff", ctx.language)
        if handoff_text not in text:
            text = f"{text}\n\n{handoff_text}" if text else handoff_text
    if pending and not handoff:  # still open: restate it after the answer
        key = "messages.still_open_meeting" if pending.get("kind") == "meeting" else "messages.still_open"
        reminder = ctx.prompts.text(key, ctx.language,
                                    offer=PENDING_HANDLERS[pending["kind"]].offer(ctx, pending))
        out["replies"] = [_reply(f"{text}\n\n{reminder}", ctx, buttons=True)]
        return out
    out["pending"] = None
    out["replies"] = [_reply(text, ctx)]
    return out


def _asked(pending: dict[str, Any] | None) -> dict[str, Any] | None:
    """An open proposal asks for a yes or no."""
    if not pending:
        return None
    return {"kind": "yes_no", "about": "meeting" if pending.get("kind") == "meeting" else "order"}


def _stamped(pending: dict[str, Any] | None, ctx: ToolContext) -> dict[str, Any] | None:
    """A pending action with the time it was proposed (for `order_idle_hours`)."""
    return None if pending is None else {**pending, "proposed_at": ctx.now.isoformat()}


def _lapsed(pending: dict[str, Any], ctx: ToolContext) -> bool:
    proposed = pending.get("proposed_at")
    if not isinstance(proposed, str):
        return False
    try:
        age = ctx.now - datetime.fromisoformat(proposed)
    except (TypeError, ValueError):
        return False
    return age > timedelta(hours=ctx.config.order_idle_hours)


def _side_answer(messages: list[AnyMessage], meeting: bool = False) -> str:
    """What the model said this turn beside a fresh offer, when it answered a question from the
    owner's documents too ("¿hacen envíos a Rosario?" asked with the order), or, beside a meeting (which
    sells nothing), a price from the catalog ("¿el martes a las 10? ¿y cuánto está el cemento?"). The offer
    itself is always ours; other words of the model beside it are not shown."""
    asked = {"search_knowledge", "search_products"} if meeting else {"search_knowledge"}
    answered = any(
        call["name"] in asked for m in messages if isinstance(m, AIMessage) for call in m.tool_calls
    )
    return _turn_text(messages) if answered else ""


def _turn_text(messages: list[AnyMessage]) -> str:
    """The latest AI text of this turn (a model may speak before its tool calls)."""
    for message in reversed(messages):
        if message.type == "human":
            break
        if isinstance(message, AIMessage):
            text = message_text(message).strip()
            if text:
                return text
    return ""


def _dialogue(unit: Tool, data: dict[str, Any], focus: list[dict[str, Any]]) -> dict[str, Any]:
    """What a tool's result changes in the dialogue state: the products in focus, the question the
    reply puts to the customer, the lead profile (each tool says so in its `Tool` unit)."""
    out: dict[str, Any] = {}
    if unit.focus is not None and (shown := unit.focus(data, focus)) is not None:
        out["focus"] = shown
    if unit.asks is not None:
        out["asked"] = unit.asks(data)
    if unit.profile is not None and (profile := unit.profile(data)) is not None:
        out["lead"] = profile
    return out
