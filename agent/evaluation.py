"""Regression check for owners: scripted conversations against a throwaway copy of the data.

An owner who edits a prompt, the tool config or the knowledge documents wants
to know the bot still sells, books and escalates before trusting the edit.
`run_eval` plays each scripted conversation (user turns plus expected
outcomes) through the same graph and tools as the daemon, but on a sandbox:
a temporary data dir with a fresh SQLite database holding a copy of the live
catalog, a copy of the live business config and knowledge folder, and the
live prompts folder (or another one, to try a prompt edit first). The live
data is only read, never written; the sandbox is deleted afterwards.

The file format is documented in config/eval.example.yaml. `run_eval`
returns a JSON-ready report; `run_eval_command` is `python bot.py eval FILE`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import shutil
import sys
import tempfile
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    ValidationError,
    field_validator,
)
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from channels.base import InboundMessage
from config.business import DAYS, EXAMPLE_PATH, BusinessConfig, load_config
from config.settings import REPO_ROOT, Settings
from storage.catalog_import import parse_catalog
from storage.db import Database
from storage.models import Conversation, Lead, Product
from storage.repository import ProductRepo, ProductRow

log = logging.getLogger(__name__)

CHANNEL = "eval"
DEMO_CATALOG = REPO_ROOT / "config" / "demo_catalog.csv"
MAX_CONVERSATIONS = 200
MAX_TURNS = 50
MAX_TURN_CHARS = 4000
_WEEKDAY_NAMES = {
    **{name: i for i, name in enumerate(DAYS)},
    **{name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))},
    **{name: i for i, name in enumerate(("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"))},
    **{name: i for i, name in enumerate(("lun", "mar", "mie", "jue", "vie", "sab", "dom"))},
}


class EvalError(ValueError):
    """The evaluation cannot run; the message says why, for a person."""


class EvalSpecError(EvalError):
    """The scripted-conversation file is invalid (bad YAML/JSON, unknown keys, wrong values)."""


class EvalSetupError(EvalError):
    """The sandbox could not be built (e.g. the live business config does not validate)."""


# -- the file format ---------------------------------------------------------------------


def _fold(text: str) -> str:
    """Lowercase without accents: how replies and expected strings are compared."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SaleExpect(_Strict):
    """A sale of this product and/or quantity was registered in the conversation."""

    sku: str | None = Field(None, min_length=1)
    quantity: int | None = Field(None, gt=0)


class AppointmentExpect(_Strict):
    """A booked appointment on this weekday and/or at this local time (business time zone)."""

    weekday: str | None = None
    time: str | None = None

    @field_validator("weekday", mode="before")
    @classmethod
    def _weekday(cls, value: Any) -> Any:
        if value is None:
            return None
        key = _fold(str(value)).strip()
        if key not in _WEEKDAY_NAMES:
            raise ValueError(f"unknown weekday {value!r}; use one of {', '.join(DAYS)}")
        return DAYS[_WEEKDAY_NAMES[key]]

    @field_validator("time", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            # YAML 1.1 reads an unquoted 10:00 as the base-60 number 600.
            hours, minutes = (value // 60, value % 60) if value >= 60 else (value, 0)
        else:
            text = str(value).strip().lower().removesuffix("hs").removesuffix("h").strip()
            hours_text, _, minutes_text = text.partition(":")
            if not (hours_text.isdigit() and (minutes_text.isdigit() or not minutes_text)):
                raise ValueError(f"time must look like \"10:00\", got {value!r}")
            hours, minutes = int(hours_text), int(minutes_text or 0)
        if not (0 <= hours < 24 and 0 <= minutes < 60):
            raise ValueError(f"time must look like \"10:00\", got {value!r}")
        return f"{hours:02d}:{minutes:02d}"


class LeadExpect(_Strict):
    """The conversation's lead has these fields (and a score in range).

    Text fields match case- and accent-insensitively and may be a part of the
    stored value ("Ana" matches "Ana Ruiz"); email must match whole and phone
    by its digits.
    """

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    need: str | None = None
    budget: str | None = None
    timeline: str | None = None
    authority: str | None = None
    min_score: int | None = Field(None, ge=0, le=100)
    max_score: int | None = Field(None, ge=0, le=100)
    qualified: bool | None = None


def _detail_or_flag(value: Any) -> str:
    """`true`/`false`, or a mapping with details; errors then name only the branch that was meant."""
    return "detail" if isinstance(value, Mapping | BaseModel) else "flag"


def _sale_shape(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "lines"
    return _detail_or_flag(value)


SaleField = Annotated[
    Annotated[bool, Tag("flag")] | Annotated[SaleExpect, Tag("detail")]
    | Annotated[list[SaleExpect], Tag("lines")],
    Discriminator(_sale_shape),
]
KINDS = ("sale", "booking", "lead", "knowledge", "complaint", "handoff", "other")
AppointmentField = Annotated[
    Annotated[bool, Tag("flag")] | Annotated[AppointmentExpect, Tag("detail")], Discriminator(_detail_or_flag)
]
LeadField = Annotated[
    Annotated[bool, Tag("flag")] | Annotated[LeadExpect, Tag("detail")], Discriminator(_detail_or_flag)
]


class Expectations(_Strict):
    """What must hold once the conversation's turns were played; every key is optional."""

    sale: SaleField | None = None
    appointment: AppointmentField | None = None
    lead: LeadField | None = None
    category: Literal["sale", "support", "complaint"] | None = None
    sentiment: Literal["positive", "neutral", "negative"] | None = None
    handoff: bool | None = None
    reply_contains: list[str] = Field(default_factory=list)
    reply_not_contains: list[str] = Field(default_factory=list)

    @field_validator("reply_contains", "reply_not_contains", mode="before")
    @classmethod
    def _strings(cls, value: Any) -> Any:
        if value is None:
            return []
        return [value] if isinstance(value, str) else value

    @property
    def expects_no_lead(self) -> bool:
        """`lead: null` or `lead: false` (an absent key expects nothing)."""
        return "lead" in self.model_fields_set and self.lead in (None, False)


class ScriptedConversation(_Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["sale", "booking", "lead", "knowledge", "complaint", "handoff", "other"] | None = None
    turns: list[Annotated[str, Field(min_length=1, max_length=MAX_TURN_CHARS)]] = Field(
        min_length=1, max_length=MAX_TURNS
    )
    expect: Expectations = Field(default_factory=Expectations)

    @field_validator("turns", mode="before")
    @classmethod
    def _one_turn(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class EvalSpec(_Strict):
    conversations: list[ScriptedConversation] = Field(min_length=1, max_length=MAX_CONVERSATIONS)


_KEYS_UNDER: dict[str | None, type[BaseModel]] = {
    None: EvalSpec,
    "conversations": ScriptedConversation,
    "expect": Expectations,
    "sale": SaleExpect,
    "appointment": AppointmentExpect,
    "lead": LeadExpect,
}


def _describe_error(error: Mapping[str, Any], data: Any) -> str:
    """One readable line per validation error, naming the conversation it is in."""
    loc = [part for part in error["loc"] if part not in ("flag", "detail")]
    where = ""
    if len(loc) >= 2 and loc[0] == "conversations" and isinstance(loc[1], int):
        index = loc[1]
        conversations = data.get("conversations") if isinstance(data, Mapping) else None
        raw = conversations[index] if isinstance(conversations, list) and index < len(conversations) else None
        name = raw.get("name") if isinstance(raw, Mapping) else None
        where = f"conversation {index + 1}" + (f" ({name!r})" if name else "")
        loc = loc[2:]
    path = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc).replace(".[", "[")
    if error["type"] == "extra_forbidden":
        parent = next((p for p in reversed(loc[:-1]) if isinstance(p, str)), None)
        if where and parent is None:
            parent = "conversations"
        known = ", ".join(_KEYS_UNDER[parent].model_fields) if parent in _KEYS_UNDER else ""
        message = f"unknown key {loc[-1]!r}" + (f" (known keys: {known})" if known else "")
        path = ".".join(str(p) for p in loc[:-1])
    else:
        message = str(error["msg"]).removeprefix("Value error, ")
    prefix = ", ".join(p for p in (where, path) if p)
    return f"{prefix}: {message}" if prefix else message


def parse_spec(spec: str | bytes | Mapping[str, Any]) -> EvalSpec:
    """Validate a spec given as YAML/JSON text or an already parsed mapping.

    Raises `EvalSpecError` with one line per problem.
    """
    data: Any = spec
    if isinstance(spec, bytes):
        try:
            spec = spec.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise EvalSpecError("the file must be UTF-8 text") from exc
    if isinstance(spec, str):
        try:
            data = json.loads(spec) if spec.lstrip().startswith("{") else yaml.safe_load(spec)
        except json.JSONDecodeError as exc:
            raise EvalSpecError(f"not valid JSON: {exc}") from exc
        except yaml.YAMLError as exc:
            raise EvalSpecError(f"not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise EvalSpecError("the file must be a mapping with a `conversations:` list")
    try:
        return EvalSpec.model_validate(data)
    except ValidationError as exc:
        lines = [_describe_error(e, data) for e in exc.errors()]
        raise EvalSpecError("\n".join(dict.fromkeys(lines))) from exc


# -- the sandbox -------------------------------------------------------------------------


async def _business_config(path: Path) -> BusinessConfig:
    try:
        return await asyncio.to_thread(load_config, path)
    except (OSError, ValueError) as exc:
        raise EvalSetupError(f"the business config {path} cannot be used: {exc}") from exc


async def _live_catalog(settings: Settings, business_id: str) -> list[ProductRow]:
    """The live products, only read; an absent or empty live database gives []."""
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        path = make_url(url).database
        # Connecting would create a missing SQLite file: the live dir must stay as it is.
        if not path or path == ":memory:" or not await asyncio.to_thread(Path(path).is_file):
            return []
    db = Database(url)
    try:
        async with db.session() as s:
            rows = (
                await s.execute(select(Product).where(Product.business_id == business_id).order_by(Product.id))
            ).scalars()
            return [ProductRow(p.sku, p.name, p.description, p.category, p.price, p.stock) for p in rows]
    except SQLAlchemyError as exc:  # no schema yet, or unreachable: the demo catalog stands in
        log.warning("eval: live catalog not readable (%s); using the demo catalog", type(exc).__name__)
        return []
    finally:
        await db.close()


async def _demo_catalog() -> list[ProductRow]:
    text = await asyncio.to_thread(DEMO_CATALOG.read_text, "utf-8")
    return (await asyncio.to_thread(parse_catalog, text)).rows


async def _build_sandbox(settings: Settings, root: Path, prompts_dir: Path) -> Settings:
    """Copy config, knowledge and catalog into `root`; return the settings that point there."""
    live_config = settings.effective_config_path
    config_path = root / "business.yaml"
    if await asyncio.to_thread(live_config.is_file):
        await asyncio.to_thread(shutil.copyfile, live_config, config_path)
    else:
        await asyncio.to_thread(shutil.copyfile, EXAMPLE_PATH, config_path)
    business_id = (await _business_config(config_path)).business_id

    live_knowledge = settings.effective_knowledge_dir
    knowledge_dir = root / "knowledge"
    if await asyncio.to_thread(live_knowledge.is_dir):
        await asyncio.to_thread(shutil.copytree, live_knowledge, knowledge_dir)

    sandbox = settings.model_copy(
        update={
            "data_dir": root,
            "database_url": None,
            "config_path": config_path,
            "knowledge_dir": knowledge_dir,
            "prompts_dir": prompts_dir,
            "demo_catalog": False,
            "admin_token": SecretStr(secrets.token_urlsafe(24)),
            "telegram_bot_token": None,
            "whatsapp_access_token": None,
            "outlook_tenant_id": None,  # bookings go to the sandbox's built-in calendar, never Outlook
        }
    )
    rows = await _live_catalog(settings, business_id) or await _demo_catalog()
    db = Database(sandbox.effective_database_url)
    try:
        await db.start()
        await ProductRepo(db, business_id).upsert_many(rows)
    finally:
        await db.close()
    log.info("eval sandbox ready: %s products, prompts from %s", len(rows), prompts_dir)
    return sandbox


# -- playing and checking ------------------------------------------------------------------


def _sales_text(sales: Sequence[Any]) -> str:
    return ", ".join(f"{s.quantity} × {s.sku}" for s in sales) or "none"


def _check_sale(expected: bool | SaleExpect | list[SaleExpect], sales: Sequence[Any]) -> list[str]:
    if expected is True:
        return [] if sales else ["expected a sale, none was registered"]
    if expected is False:
        return [f"expected no sale, got {_sales_text(sales)}"] if sales else []
    if isinstance(expected, list):  # the order's lines, exactly: each one sold, nothing else
        failures = [f for line in expected for f in _check_sale(line, sales)]
        wanted = {(line.sku or "").casefold() for line in expected}
        extra = [s for s in sales if s.sku.casefold() not in wanted and None not in {line.sku for line in expected}]
        if extra:
            failures.append(f"expected only the order's lines, also got {_sales_text(extra)}")
        return failures
    assert isinstance(expected, SaleExpect)
    for sale in sales:
        if (expected.sku is None or sale.sku.casefold() == expected.sku.casefold()) and (
            expected.quantity is None or sale.quantity == expected.quantity
        ):
            return []
    wanted = f"{expected.quantity or 'any quantity'} × {expected.sku or 'any product'}"
    return [f"expected a sale of {wanted}, got {_sales_text(sales)}"]


def _check_appointment(expected: bool | AppointmentExpect, booked: Sequence[Any], config: BusinessConfig) -> list[str]:
    local: list[datetime] = [a.start.astimezone(config.tz) for a in booked]
    found = ", ".join(f"{DAYS[t.weekday()]} {t:%H:%M} ({t:%Y-%m-%d})" for t in local) or "none"
    if expected is True:
        return [] if local else ["expected a booked appointment, none was booked"]
    if expected is False:
        return [f"expected no appointment, got {found}"] if local else []
    assert isinstance(expected, AppointmentExpect)
    for start in local:
        if (expected.weekday is None or DAYS[start.weekday()] == expected.weekday) and (
            expected.time is None or f"{start:%H:%M}" == expected.time
        ):
            return []
    wanted = " ".join(p for p in (expected.weekday, expected.time) if p) or "any time"
    return [f"expected an appointment on {wanted} ({config.timezone}), got {found}"]


def _lead_field_matches(field: str, expected: str, actual: str | None) -> bool:
    if actual is None:
        return False
    if field == "email":
        return expected.strip().casefold() == actual.strip().casefold()
    if field == "phone":  # by digits; the stored E.164 form may add the country code (and AR's mobile 9)
        want, got = ("".join(c for c in value if c.isdigit()) for value in (expected, actual))
        return bool(want) and (want == got or (len(want) >= 8 and got.endswith(want)))
    return _fold(expected.strip()) in _fold(actual)


def _check_lead(expectations: Expectations, lead: Lead | None) -> list[str]:
    if expectations.expects_no_lead:
        return [f"expected no lead, got one with score {lead.score}"] if lead else []
    expected = expectations.lead
    if expected is None:
        return []
    if lead is None:
        return ["expected a lead, none was captured"]
    if expected is True:
        return []
    assert isinstance(expected, LeadExpect)
    failures = []
    for field in ("name", "email", "phone", "company", "need", "budget", "timeline", "authority"):
        wanted = getattr(expected, field)
        if wanted is not None and not _lead_field_matches(field, wanted, getattr(lead, field)):
            failures.append(f"lead {field}: expected {wanted!r}, got {getattr(lead, field)!r}")
    if expected.min_score is not None and lead.score < expected.min_score:
        failures.append(f"lead score {lead.score} is below the minimum {expected.min_score}")
    if expected.max_score is not None and lead.score > expected.max_score:
        failures.append(f"lead score {lead.score} is above the maximum {expected.max_score}")
    if expected.qualified is not None and lead.qualified != expected.qualified:
        failures.append(f"lead qualified: expected {expected.qualified}, got {lead.qualified}")
    return failures


def _check_replies(expectations: Expectations, replies: Sequence[str]) -> list[str]:
    said = _fold("\n".join(replies))
    failures = [f"no reply contains {text!r}" for text in expectations.reply_contains if _fold(text) not in said]
    failures += [f"a reply contains {text!r}" for text in expectations.reply_not_contains if _fold(text) in said]
    return failures


async def _check(daemon: Any, conv: Conversation, expect: Expectations, replies: list[str]) -> list[str]:
    from langchain_core.language_models import BaseChatModel

    from tools.generate_insights import generate_for_conversation

    repos = daemon.services.repos
    failures: list[str] = []
    for message in await repos.messages.list(conv.id):
        if message.direction == "in" and message.turn_status == "failed":
            failures.append(f"the turn {message.text!r} failed: {message.error}")
    if expect.sale is not None:
        failures += _check_sale(expect.sale, await repos.sales.list(conversation_id=conv.id))
    if expect.appointment is not None:
        booked = await repos.appointments.list(conversation_id=conv.id, status="booked")
        failures += _check_appointment(expect.appointment, booked, daemon.config.current)
    if expect.lead is not None or expect.expects_no_lead:
        failures += _check_lead(expect, await repos.leads.get_for_conversation(conv.id))
    if expect.handoff is not None and (conv.status == "human") != expect.handoff:
        failures.append(
            "expected a handoff to a human, the bot kept the conversation"
            if expect.handoff
            else "expected no handoff, the conversation was handed to a human"
        )
    if expect.category is not None or expect.sentiment is not None:
        model = daemon.services.extra.get("insights_model")
        data = await generate_for_conversation(
            daemon.services, conv.id, model=model if isinstance(model, BaseChatModel) else None
        )
        if expect.category is not None and data.category != expect.category:
            failures.append(f"expected category {expect.category}, got {data.category} ({data.confidence:.2f})")
        if expect.sentiment is not None and data.sentiment != expect.sentiment:
            failures.append(f"expected sentiment {expect.sentiment}, got {data.sentiment}")
    failures += _check_replies(expect, replies)
    return failures


async def _play(daemon: Any, scripted: ScriptedConversation, chat_id: str) -> dict[str, Any]:
    """Send the turns in order, then check the expectations on what was stored."""
    replies: list[str] = []
    try:
        for n, text in enumerate(scripted.turns, 1):
            result = await daemon.runtime.handle(
                InboundMessage(channel=CHANNEL, chat_id=chat_id, message_id=f"{chat_id}-{n}", text=text)
            )
            replies.extend(r.text for r in result.replies)
        conv = await daemon.services.repos.conversations.get(CHANNEL, chat_id)
        if conv is None:
            raise LookupError("the conversation was not stored")
        failures = await _check(daemon, conv, scripted.expect, replies)
    except Exception as exc:  # one broken conversation must not hide the others' results
        log.exception("eval conversation %r could not be played", scripted.name)
        failures = [f"could not be played: {type(exc).__name__}: {exc}"]
    return {"name": scripted.name, "kind": scripted.kind, "passed": not failures, "failures": failures,
            "replies": replies}


async def run_eval(
    settings: Settings, spec: str | bytes | Mapping[str, Any], *, prompts_dir: Path | str | None = None
) -> dict[str, Any]:
    """Play the scripted conversations in `spec` on a throwaway copy of the data.

    `spec` is YAML/JSON text or a parsed mapping (format: config/eval.example.yaml);
    `prompts_dir` replaces the live prompts folder, to try an edit before
    trusting it. Conversations run in order on one sandbox, each with its own
    chat id on the "eval" channel. Returns
    `{"passed": n, "failed": n, "results": [{"name", "passed", "failures", "replies"}]}`.
    Raises `EvalSpecError` for an invalid spec and `EvalSetupError` when the
    sandbox cannot be built.
    """
    from bot import assemble  # the composition root wires the sandbox exactly like the daemon

    parsed = parse_spec(spec)
    prompts = Path(prompts_dir) if prompts_dir is not None else settings.prompts_dir
    if not await asyncio.to_thread(prompts.is_dir):
        raise EvalSetupError(f"no prompts folder at {prompts}")
    root = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="mostrador-eval-"))
    try:
        sandbox = await _build_sandbox(settings, root, prompts)
        results = []
        async with assemble(sandbox, with_channels=False) as daemon:
            for index, scripted in enumerate(parsed.conversations, 1):
                results.append(await _play(daemon, scripted, f"eval-{index}"))
    finally:
        await asyncio.to_thread(shutil.rmtree, root, True)
    passed = sum(1 for r in results if r["passed"])
    by_kind: dict[str, dict[str, int]] = {}
    for r in results:
        if r.get("kind"):
            tally = by_kind.setdefault(r["kind"], {"passed": 0, "total": 0})
            tally["total"] += 1
            tally["passed"] += int(r["passed"])
    return {"passed": passed, "failed": len(results) - passed, "results": results, "by_kind": by_kind}


# -- the command line --------------------------------------------------------------------------


def format_report(report: Mapping[str, Any]) -> str:
    """The report as a readable table: ✓/✗ per conversation, reasons and replies under failures."""
    lines = []
    width = max((len(r["name"]) for r in report["results"]), default=0)
    for result in report["results"]:
        mark = "✓" if result["passed"] else "✗"
        status = "ok" if result["passed"] else f"{len(result['failures'])} problem(s)"
        lines.append(f"{mark} {result['name']:<{width}}  {status}")
        if not result["passed"]:
            lines.extend(f"    - {reason}" for reason in result["failures"])
            lines.extend(f"    bot: {' '.join(text.split())}" for text in result["replies"])
    total = report["passed"] + report["failed"]
    for kind, tally in sorted((report.get("by_kind") or {}).items()):
        lines.append(f"  {kind:<10} {tally['passed']}/{tally['total']} = {tally['passed'] / tally['total']:.2f}")
    lines.append(f"{report['passed']}/{total} passed, {report['failed']} failed")
    return "\n".join(lines)


async def run_eval_command(settings: Settings, path: Path, *, prompts_dir: Path | None = None) -> int:
    """`python bot.py eval FILE`: 0 if every conversation passed, 1 if any failed, 2 for a bad file."""
    try:
        text = await asyncio.to_thread(Path(path).read_text, "utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"eval: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    try:
        report = await run_eval(settings, text, prompts_dir=prompts_dir)
    except EvalSpecError as exc:
        print(f"eval: {path} is not a valid eval file:\n{exc}", file=sys.stderr)
        return 2
    except EvalSetupError as exc:
        print(f"eval: cannot prepare the sandbox: {exc}", file=sys.stderr)
        return 2
    print(f"Eval of {path} (throwaway copy of the data)")
    print(format_report(report), flush=True)
    return 0 if report["failed"] == 0 else 1
