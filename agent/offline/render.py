"""Replies composed from tool results, with every sentence taken from prompts/offline.<lang>.yaml.

Money is formatted the way each language writes it ("$12.500" in Spanish,
"$12,500 ARS" in English); knowledge answers cite their source; nothing
that is not in a tool result is stated as fact.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from config.business import DAYS
from prompts import PromptStore
from tools.money import format_amount, symbol
from tools.search_knowledge import section_title

MAX_LISTED = 5
MAX_ANSWER = 700


class Renderer:
    """Sentences for one reply, in one language."""

    def __init__(self, prompts: PromptStore, lang: str, facts: dict[str, Any]) -> None:
        self.prompts = prompts
        self.lang = lang
        self.facts = facts
        self.currency = str(facts.get("currency") or "ARS")

    def say(self, key: str, vary: bool = False, **values: Any) -> str:
        return self.prompts.text(f"offline.{key}", self.lang, vary=vary, **values)

    # -- products ----------------------------------------------------------------

    def money(self, value: Any, currency: str | None = None) -> str:
        code = (currency or self.currency).upper()
        return self.say(
            "money",
            symbol=symbol(code),
            amount=format_amount(value, self.lang),
            currency=code,
        )

    def stock(self, product: dict[str, Any]) -> str:
        try:
            count = int(product.get("stock") or 0)
        except (TypeError, ValueError):
            count = 0
        return self.say("stock_some", stock=count) if count > 0 else self.say("stock_none")

    def product_line(self, product: dict[str, Any]) -> str:
        return self.say(
            "product_line",
            name=product.get("name", product.get("sku", "")),
            price=self.money(product.get("price", 0), product.get("currency")),
            stock=self.stock(product),
        )

    def product_list(self, products: list[dict[str, Any]]) -> str:
        return "\n".join(self.product_line(p) for p in products[:MAX_LISTED])

    def products(
        self, query: str, results: list[dict[str, Any]], top_matches: bool, price: bool, stock: bool
    ) -> str:
        """The answer to a product question: the specific answer first, then the options."""
        if not results:
            return self.say("products_none", query=query)
        top, rest = results[0], results[1:]
        parts: list[str] = []
        if top_matches and price:
            parts.append(
                self.say(
                    "price_answer",
                    name=top.get("name"),
                    price=self.money(top.get("price"), top.get("currency")),
                    stock=self.stock(top),
                )
            )
        elif top_matches and stock:
            if int(top.get("stock") or 0) > 0:
                parts.append(
                    self.say(
                        "stock_yes",
                        name=top.get("name"),
                        price=self.money(top.get("price"), top.get("currency")),
                        stock=self.stock(top),
                    )
                )
            else:
                parts.append(self.say("stock_no", name=top.get("name")))
        else:
            rest = results
            parts.append(self.say("products_found", query=query))
        if rest:
            if rest is not results:
                parts.append(self.say("other_options"))
            parts.append(self.product_list(rest))
        available = sum(1 for p in results if int(p.get("stock") or 0) > 0)
        if available:
            parts.append(self.say("products_next_one" if available == 1 else "products_next"))
        return "\n".join(parts)

    def ask_which(self, query: str, results: list[dict[str, Any]], quantity: int) -> str:
        return "\n".join([self.say("ask_which", query=query, quantity=quantity), self.product_list(results)])

    # -- sales -------------------------------------------------------------------------

    def sale(self, data: dict[str, Any], args: dict[str, Any], alternatives: list[dict[str, Any]]) -> str:
        status = data.get("status")
        if status == "proposed":
            order = data.get("order") or {}
            quantity = order.get("quantity", args.get("quantity", 1))
            total = order.get("total")
            if total is None:
                try:
                    total = Decimal(str(order.get("unit_price", 0))) * int(quantity)
                except (InvalidOperation, ValueError, TypeError):
                    total = 0
            name = order.get("name") or order.get("sku") or args.get("sku")
            return self.say(
                "sale_proposed", quantity=quantity, name=name, total=self.money(total, order.get("currency"))
            )
        if status == "out_of_stock":
            parts = [
                self.say("sale_out_of_stock", name=data.get("name") or data.get("sku") or args.get("sku"))
            ]
            others = [
                p for p in alternatives if p.get("sku") != data.get("sku") and int(p.get("stock") or 0) > 0
            ]
            if others:
                parts += [self.say("sale_alternatives"), self.product_list(others), self.say("sale_pick_alternative")]
            else:
                parts.append(self.say("sale_other"))
            return "\n".join(parts)
        if status == "invalid_quantity":
            return self.say("sale_invalid_quantity")
        if status == "removed":
            return self.say("sale_removed")
        if status == "unknown_sku":
            return self.say("sale_unknown_sku")
        return self.say("tool_error")

    # -- knowledge, meetings, leads, handoff -----------------------------------------

    def knowledge(self, data: dict[str, Any], offer: bool = False) -> str:
        several = [a for a in data.get("answers") or [] if isinstance(a, dict) and a.get("answer")]
        if len(several) >= 2:  # one answer per question asked, each cited by its section
            return "\n".join(self.knowledge({"found": True, **a}) for a in several)
        answer = str(data.get("answer") or "").strip()
        if not data.get("found") or not answer:
            return self.unknown(offer)
        if len(answer) > MAX_ANSWER:
            cut = answer[:MAX_ANSWER]
            answer = cut[: cut.rfind(". ") + 1] if ". " in cut else cut.rstrip() + "…"
        source = data.get("section") or (section_title(str(data["source"])) if data.get("source") else None)
        section = source  # cited by its title, never by a file name
        return self.say("knowledge_answer", source=section, answer=answer) if section else answer

    def hours(self) -> str | None:
        """The configured opening hours in words, consecutive days with the same hours together."""
        table = self.facts.get("hours")
        names = self.prompts.words("offline.hours_days", self.lang)
        if not isinstance(table, dict) or not any(table.values()) or len(names) != len(DAYS):
            return None
        groups: list[list[Any]] = []  # [first day, last day, ranges]
        for i, day in enumerate(DAYS):
            ranges = [tuple(r) for r in table.get(day) or []]
            if groups and groups[-1][2] == ranges:
                groups[-1][1] = i
            else:
                groups.append([i, i, ranges])
        parts = []
        for first, last, ranges in groups:
            days = names[first] if first == last else self.say("hours_span", first=names[first], last=names[last])
            if not ranges:
                parts.append(self.say("hours_closed", days=days))
                continue
            times = self.say("hours_and").join(
                self.say("hours_range", start=_clock(a), end=_clock(b)) for a, b in ranges
            )
            parts.append(self.say("hours_open", days=days, times=times))
        return self.say("hours_answer", schedule="; ".join(parts))

    def unknown(self, offer: bool) -> str:
        """The honest reply to a question nothing answers; with `offer`, asking to pass it to a person."""
        text = self.say("knowledge_missing")
        if offer and self.prompts.has("offline.offer_handoff", self.lang):
            text = f"{text} {self.say('offer_handoff')}"
        return text

    def offers(self) -> list[str]:
        """The hand-over offer in every language it may have been made in."""
        langs = dict.fromkeys([self.lang, str(self.facts.get("language") or ""), "es", "en"])
        return [
            self.prompts.text("offline.offer_handoff", lang)
            for lang in langs
            if lang and self.prompts.has("offline.offer_handoff", lang)
        ]

    def meeting(self, data: dict[str, Any]) -> str:
        """A meeting result; the tool's own `say` sentence when it is in the reply's language."""
        ready = data.get("say")
        if isinstance(ready, str) and ready.strip() and self.lang == self.facts.get("language", self.lang):
            return ready.strip()
        status = data.get("status")
        slots = data.get("alternatives") or data.get("slots") or []
        lines = [
            self.say("meeting_slot_line", display=s.get("display") or s.get("start"))
            for s in slots
            if isinstance(s, dict)
        ]
        if status in ("busy", "outside_hours", "available"):
            head = {"busy": "meeting_busy", "outside_hours": "meeting_outside_hours"}.get(
                status, "meeting_slots"
            )
            if not lines:
                return self.say("meeting_no_slots")
            return "\n".join([self.say(head), *lines, self.say("meeting_pick")])
        simple = {
            "proposed": "meeting_proposed",
            "confirm_cancel": "meeting_proposed",
            "cancelled": "meeting_cancelled",
            "nothing_to_cancel": "meeting_nothing_to_cancel",
            "nothing_to_reschedule": "meeting_nothing_to_reschedule",
            "calendar_unavailable": "meeting_calendar_down",
        }
        if status in simple:
            return self.say(simple[status], display=_display(data))
        if status == "need_time":
            if lines:
                return "\n".join([self.say("meeting_slots"), *lines, self.say("meeting_pick")])
            return self.say("meeting_need_time")
        if status == "error":
            return self.say("meeting_error", message=data.get("message") or "")
        if lines:
            return "\n".join([self.say("meeting_slots"), *lines, self.say("meeting_pick")])
        return self.say("tool_error")

    def handoff(self, complaint: bool) -> str:
        """The hand-over sentence; the graph's own (messages.handoff) when it exists, so it is said once."""
        sentence = (
            self.prompts.text("messages.handoff", self.lang)
            if self.prompts.has("messages.handoff", self.lang)
            else self.say("handoff_done")
        )
        return f"{self.say('complaint')} {sentence}" if complaint else sentence

    def lead(self, data: dict[str, Any], args: dict[str, Any], quote: bool = False) -> list[str]:
        lead = data.get("lead") or {}
        name = lead.get("name") or args.get("name")
        parts = [self.say("lead_thanks_name", name=name) if name else self.say("lead_thanks")]
        invalid = data.get("invalid") or {}
        for key, reason in invalid.items():
            reason = reason.get("reason", "") if isinstance(reason, dict) else reason
            label_key = f"field_{key}" if key in ("name", "email", "phone", "company") else "field_other"
            parts.append(
                self.say("lead_invalid", field=self.say(label_key), value=args.get(key, ""), reason=reason)
            )
        missing = set(data.get("missing") or [])
        has_contact = any(
            (lead.get(k) or args.get(k)) and k not in invalid and k not in missing for k in ("email", "phone")
        )
        if data.get("qualified"):
            parts.append(self.say("lead_qualified"))
        elif not has_contact and not invalid:
            parts.append(self.say("lead_ask_contact"))
        elif not quote and not any(lead.get(k) or args.get(k) for k in ("need", "budget", "timeline")):
            parts.append(self.say("lead_ask_need"))
        elif not quote:
            parts.append(self.say("lead_followup"))
        return parts


def _clock(hhmm: str) -> str:
    """ "09:00" -> "9:00"."""
    hour, _, minute = str(hhmm).partition(":")
    return f"{int(hour)}:{minute or '00'}" if hour.isdigit() else str(hhmm)


def _display(data: dict[str, Any]) -> str:
    for holder in (
        data,
        data.get("meeting"),
        data.get("appointment"),
        data.get("proposal"),
        data.get("pending"),
    ):
        if isinstance(holder, dict) and (holder.get("display") or holder.get("start")):
            return str(holder.get("display") or holder.get("start"))
    return ""
