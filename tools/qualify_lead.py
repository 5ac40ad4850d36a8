"""`qualify_lead`: capture who the customer is and how ready they are to buy.

Contact data is validated on the server (email syntax, phone number for the
business's country, stored as E.164); the model's extraction is never
trusted blindly. The score is a weighted sum over what is known, with the
owner's weights (`lead.weights` in the config) normalized to 100; budget,
timeline and authority count by the strength of the signal, not just by
being present. A lead that newly reaches `lead.threshold` flags the
conversation for the owner.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, Field

from storage.leads import CONTACT_FIELDS, LeadRepo
from tools.base import Tool, ToolOutcome, tool
from tools.context import ToolContext
from tools.text_signals import find_amounts, find_dates, fold

if TYPE_CHECKING:
    from agent.offline.compose import Composer
    from agent.offline.turn import ToolResult


class QualifyLeadArgs(BaseModel):
    name: str | None = Field(None, description="Customer's full name")
    email: str | None = Field(None, description="Email address, as the customer wrote it")
    phone: str | None = Field(None, description="Phone number, as the customer wrote it")
    company: str | None = Field(None, description="Company or business the customer buys for")
    need: str | None = Field(
        None, description="What they need, in their words (products, quantities, project)"
    )
    budget: str | None = Field(None, description="Budget as stated, e.g. '2 millones', 'USD 3k'")
    timeline: str | None = Field(None, description="When they need it, e.g. 'esta semana', 'para marzo'")
    authority: str | None = Field(None, description="Their role in the decision, e.g. 'soy el dueño'")


def _cues(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b")


# Patterns run on folded text (lowercase, no accents).
_URGENT = _cues(
    "hoy",
    "manana",
    "pasado manana",
    "esta semana",
    "este fin de semana",
    "urgente",
    "urgencia",
    "cuanto antes",
    "lo antes posible",
    "ya mismo",
    "ahora",
    "asap",
    "as soon as possible",
    "today",
    "tomorrow",
    "this week",
    "urgent",
    "urgently",
    "right away",
    "immediately",
    "now",
)
_VAGUE = _cues(
    "mas adelante",
    "algun dia",
    "no se",
    "sin apuro",
    "no hay apuro",
    "no tengo apuro",
    "todavia no se",
    "solo miro",
    "solo estoy mirando",
    "estoy averiguando",
    "eventually",
    "someday",
    "some day",
    "not sure",
    "no rush",
    "no hurry",
    "just looking",
    "just browsing",
    "don't know",
    "dont know",
)
_NO_BUDGET = _cues(
    "no se",
    "no tengo",
    "sin presupuesto",
    "todavia no",
    "no definido",
    "no definimos",
    "lo mas barato",
    "not sure",
    "no budget",
    "don't know",
    "dont know",
    "tbd",
    "cheapest",
)
_SOME_BUDGET = _cues(
    "tengo presupuesto",
    "presupuesto aprobado",
    "flexible",
    "lo que haga falta",
    "lo necesario",
    "aprobado",
    "approved",
    "budget approved",
    "we have budget",
    "whatever it takes",
)
_INFLUENCER = _cues(
    "tengo que consultar",
    "tengo que preguntar",
    "consultarlo con",
    "consultar con",
    "mi jefe",
    "mi jefa",
    "le paso",
    "lo tiene que aprobar",
    "no decido yo",
    "need to check with",
    "check with my",
    "ask my",
    "my boss",
    "my manager",
    "not the one who decides",
    "have to ask",
)
_DECIDER = _cues(
    "dueno",
    "duena",
    "propietario",
    "propietaria",
    "socio",
    "socia",
    "titular",
    "gerente",
    "director",
    "directora",
    "encargado de compras",
    "encargada de compras",
    "jefe de compras",
    "jefa de compras",
    "responsable de compras",
    "compras",
    "yo decido",
    "decido yo",
    "apoderado",
    "owner",
    "co-owner",
    "founder",
    "ceo",
    "manager",
    "purchasing",
    "procurement",
    "buyer",
    "i decide",
    "decision es mia",
    "lo decido",
    "me encargo de",
    "hago las compras",
    "hago la compra",
    "aprobo",
    "autorizo",
    "apruebo",
    "decision maker",
    "in charge",
)


def signal_strength(field: str, value: str | None) -> float:
    """How strongly a known field counts, 0-1 (contact fields: 1 when present)."""
    if not value or not value.strip():
        return 0.0
    text = fold(value)
    if field == "budget":
        if find_amounts(value) or re.search(r"\d", text):  # in the budget field a bare number is money
            return 1.0
        if _NO_BUDGET.search(text):
            return 0.2
        return 0.6 if _SOME_BUDGET.search(text) else 0.5
    if field == "timeline":
        if _VAGUE.search(text):
            return 0.3
        if _URGENT.search(text):
            return 1.0
        return 0.8 if find_dates(value) else 0.5
    if field == "authority":
        if _INFLUENCER.search(text):
            return 0.4
        return 1.0 if _DECIDER.search(text) else 0.6
    if field == "need":
        words = [w for w in re.findall(r"[a-z0-9]+", text) if len(w) > 2]
        return 1.0 if len(words) >= 3 else 0.6
    return 1.0


def score_lead(fields: Mapping[str, str | None], weights: Mapping[str, int]) -> tuple[int, dict[str, float]]:
    """Score 0-100 and the points each weighted field contributed (weights normalized to 100)."""
    total = sum(w for w in weights.values() if w > 0)
    if total <= 0:
        return 0, {}
    breakdown = {
        field: round(100.0 * weight / total * signal_strength(field, fields.get(field)), 1)
        for field, weight in weights.items()
        if weight > 0
    }
    return min(100, round(sum(breakdown.values()))), breakdown


def normalize_email(value: str) -> str:
    """The normalized address, or EmailNotValidError with a readable reason."""
    return validate_email(value.strip(), check_deliverability=False).normalized


# Where a number written without its country code is tried after the business's own country: the
# customers of a shop in one Latin American country often write from (or with a phone of) a neighbour.
NEIGHBOUR_REGIONS = ("AR", "CO", "MX", "CL", "PE", "UY", "PY", "BO", "EC", "VE", "ES", "US")


def normalize_phone(value: str, region: str) -> str:
    """E.164 ("+5491145678901"), or ValueError if it is a valid number neither for `region` nor, written
    without a country code, for a neighbouring country (a Colombian mobile sent to an Argentine shop)."""
    for candidate in dict.fromkeys([region.upper(), *NEIGHBOUR_REGIONS]):
        try:
            number = phonenumbers.parse(value, candidate)
        except phonenumbers.NumberParseException as exc:
            raise ValueError(f"not a phone number: {exc}") from exc
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if value.strip().startswith("+"):
            break  # the country code was given: no other reading
    raise ValueError(f"not a valid phone number for {region.upper()}")


@tool
async def qualify_lead(args: QualifyLeadArgs, ctx: ToolContext) -> ToolOutcome:
    """Save what the customer has told about themselves and their purchase: name, email, phone,
    company, need, budget, timeline and authority (their role in the decision). Call it whenever
    the customer gives any of these; pass only what they actually said, in their words. Earlier
    details are kept, so send just the new ones. Returns the lead with a 0-100 score, whether it
    is qualified, and `invalid` for an email or phone that is not valid (ask the customer to
    check it); `missing` lists what is still unknown, most valuable first."""
    given = {k: v.strip() for k, v in args.model_dump().items() if isinstance(v, str) and v.strip()}
    invalid: dict[str, dict[str, str]] = {}
    if "email" in given:
        try:
            given["email"] = normalize_email(given["email"])
        except EmailNotValidError as exc:
            invalid["email"] = {"value": given.pop("email"), "reason": str(exc)}
    if "phone" in given:
        try:
            given["phone"] = normalize_phone(given["phone"], ctx.config.country)
        except ValueError as exc:
            invalid["phone"] = {"value": given.pop("phone"), "reason": str(exc)}

    repo = LeadRepo(ctx.repos.db, ctx.repos.business_id)
    before = await repo.get_for_conversation(ctx.conversation_id)
    known = {f: getattr(before, f) for f in CONTACT_FIELDS} if before else {}
    merged = {f: given.get(f) or known.get(f) for f in CONTACT_FIELDS}
    score, breakdown = score_lead(merged, ctx.config.lead.weights)
    qualified = score >= ctx.config.lead.threshold
    lead = await repo.upsert(
        ctx.conversation_id, **given, score=score, breakdown=breakdown, qualified=qualified
    )

    flags: dict[str, object] = {}
    if qualified and not (before and before.qualified):
        flags |= {"needs_attention": True, "attention_reason": f"qualified lead (score {score})"}
    if "name" in given and not ctx.customer_name:
        flags["customer_name"] = given["name"]
    if flags:
        await ctx.repos.conversations.update(ctx.conversation_id, **flags)

    weights = ctx.config.lead.weights
    missing = sorted(
        (f for f in CONTACT_FIELDS if not merged.get(f) and weights.get(f, 0) > 0), key=lambda f: -weights[f]
    )
    return ToolOutcome(
        data={
            "lead": {f: getattr(lead, f) for f in CONTACT_FIELDS},
            "score": score,
            "qualified": qualified,
            "breakdown": breakdown,
            "invalid": invalid,
            "missing": missing,
        }
    )


def _asks(data: dict[str, Any]) -> dict[str, Any] | None:
    """No way to reach the customer yet: the reply asks for it, and an email or phone next answers it."""
    lead = data.get("lead") or {}
    if data.get("qualified") or lead.get("email") or lead.get("phone"):
        return None
    return {"kind": "contact", "about": "lead", "missing": list(data.get("missing") or [])}


def _profile(data: dict[str, Any]) -> dict[str, Any] | None:
    lead = {k: v for k, v in (data.get("lead") or {}).items() if v}
    return {**lead, "score": int(data.get("score") or 0), "qualified": bool(data.get("qualified"))}


def _words(c: Composer, result: ToolResult) -> str:
    return "\n".join(c.say.lead(result.data or {}, result.args, quote=c.u.intent == "quote"))


UNIT = Tool(qualify_lead, asks=_asks, profile=_profile, words=_words)
