"""Replies once the tools answered (and the chained calls: a search, then the sale; the documents,
then the catalog).

After `search_products` for a purchase, the product the customer clearly
meant is ordered with `register_sale`; when several different products fit,
the customer is asked which. An open question the documents don't cover is
looked up in the catalog when it names something, and otherwise answered
honestly ("I don't have that information"), with an offer of a person.
Everything else becomes words, one paragraph per tool result, in the
customer's language.
"""

from __future__ import annotations

from typing import Any

from agent.offline import matching
from agent.offline.nlu import Understanding
from agent.offline.render import Renderer
from agent.offline.steps import Step, call, swap_calls
from agent.offline.turn import ToolResult, Turn
from tools import UNITS
from tools.cart import ordered_quantity

MAX_ROUNDS = 3  # tool rounds per customer message before the model must answer in words
BUYING = ("purchase", "quantity_change")


def _found(search: ToolResult) -> bool:
    """A catalog search's results include what its own query named."""
    return bool(matching.relevant(str(search.args.get("query") or ""), list((search.data or {}).get("results") or [])))


class Composer:
    """The step after tool results: chain the sale, or put the results into words."""

    def __init__(self, turn: Turn, understood: Understanding, say: Renderer, tools: set[str]) -> None:
        self.turn = turn
        self.u = understood
        self.say = say
        self.tools = tools

    def step(self) -> Step:
        """The reply (or the register_sale that completes a purchase) once tools answered; a side
        question asked with the request ("quiero 2 martillos, ¿hacen envíos a Rosario?") answered too."""
        step = self._step()
        side = self.side_answer()
        if not side:
            return step
        if step.calls:  # said with the calls: the graph puts it before the offer
            return Step(side, step.calls)
        return step if side in step.text else Step(f"{step.text}\n\n{side}")

    def side_answer(self, always: bool = False) -> str:
        if self.u.intent in ("question", "knowledge") and not always:
            return ""
        search = self.turn.latest("search_products")
        if self.u.intent == "meeting" and search is not None and search.data is not None:
            # "¿el martes a las 10? ¿y cuánto está el cemento?": the price beside the meeting proposed
            query = str(search.args.get("query") or "")
            results = matching.relevant(query, list(search.data.get("results") or []))
            return self.say.products(query, results[:3], False, False, False) if results else ""
        knowledge = self.turn.latest("search_knowledge")
        data = knowledge.data if knowledge else None
        if not data or not data.get("found"):
            return ""
        return self.say.knowledge(data)

    def _step(self) -> Step:
        turn, u = self.turn, self.u
        asked = self._question_not_an_order()
        if asked is not None:
            return asked
        several = self._several()
        if several is not None:
            return several
        search = turn.latest("search_products")
        if u.intent == "swap" and u.swap and search in turn.last_round and search.data is not None:
            results = list(search.data.get("results") or [])
            chosen = matching.choose(str(search.args.get("query") or u.query), results)
            old, quantity = u.swap
            if chosen and str(chosen["sku"]) != old:
                return Step(calls=swap_calls(old, chosen, quantity))
            if results:
                return Step(self._prefix(self.say.ask_which(str(search.args.get("query") or u.query), results,
                                                           quantity)))
        if (
            u.intent in BUYING
            and search in turn.last_round
            and search.data is not None
            and not self._ordered_from(search)
            and "register_sale" in self.tools
            and turn.rounds < MAX_ROUNDS
        ):
            results = list(search.data.get("results") or [])
            query = str(search.args.get("query") or u.query)
            focused = self._in_focus(query, results)
            if focused is not None and matching.match(query, str(focused.get("name", "")))[0] < 0.99:
                focused = None if matching.choose(query, results) else focused
            # "mándame la amoladora y unos discos" after "¿discos de corte pa fierro?": of several that fit the
            # words, the one just shown first
            chosen = focused or matching.choose(query, results)
            # "confirmame solo los barbijos": the count they already have in the order
            quantity = u.quantity or (ordered_quantity(turn.pending, str(chosen["sku"])) if chosen else 0) or 1
            if chosen:
                return Step(calls=[call("register_sale", sku=str(chosen["sku"]), quantity=quantity)])
            if results:
                return Step(self._prefix(self.say.ask_which(query, results, quantity)))
        if u.intent == "quote":
            return Step(self._prefix(self._quote()))
        if u.intent == "question":
            return self._question()
        documents = self._documents_instead(search)
        if documents is not None:
            return documents
        shown = turn.last_round or turn.results[-1:]
        knowledge = turn.latest("search_knowledge")
        if search is not None and knowledge in shown and not (knowledge.data or {}).get("found"):
            shown = [search]  # the documents did not have it either: say what the catalog said
        if knowledge in shown and (knowledge.data or {}).get("found") and "?" in u.text:
            # "can I order through the chat and pick it up myself?": the documents answered; words the catalog
            # has nothing at all for named no product, so no "not found in the catalog" beside the answer
            shown = [r for r in shown if r.name != "search_products" or (r.data or {}).get("results")]
        lead = turn.latest("qualify_lead")
        if lead is not None and turn.called("qualify_lead"):
            # someone telling who they are and what they need ("les escribo del Colegio Santa Teresa…"):
            # the words that named no product get no "not found in the catalog", and the lead is answered
            shown = [r for r in shown if r.name != "search_products" or r.data is None or _found(r)]
            shown = [r for r in shown if r.name != "search_knowledge" or (r.data or {}).get("found")]
            shown = shown if lead in shown else [*shown, lead]
        parts = [self._render(result) for result in shown]
        return Step(self._prefix("\n\n".join(p for p in parts if p)))

    def _in_focus(self, query: str, results: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Of several that fit ("I'll take the drill"), the one the customer was just shown first for
        what they asked ("how much is the 750W impact drill?")."""
        focus = self.turn.focus
        if not focus or not results:
            return None
        first = str(focus[0].get("sku"))
        named = [r for r in results if str(r.get("sku")) == first]  # the catalog found it for these words
        return named[0] if named else None

    def _ordered_from(self, search: ToolResult) -> bool:
        """A product of this search was already ordered this turn (the chain ran)."""
        shown = {str(r.get("sku")) for r in (search.data or {}).get("results") or []}
        return any(r.name == "register_sale" and str(r.args.get("sku")) in shown for r in self.turn.results)

    def _question_not_an_order(self) -> Step | None:
        """A purchase-sounding question that names no product ("can I order through the chat and pick it
        up? is pickup free?"): the documents answer it, not a "not found in the catalog"."""
        turn, u = self.turn, self.u
        searches = [r for r in turn.last_round if r.name == "search_products" and r.data is not None]
        asked = turn.latest("search_knowledge")  # a side clause may have been asked alone, and not found
        whole = asked is not None and ((asked.data or {}).get("found") or asked.args.get("question") == u.text
                                       or any((r.data or {}).get("results") for r in searches))
        if (u.intent not in BUYING or "?" not in u.text or not searches or whole
                or "search_knowledge" not in self.tools or turn.rounds >= MAX_ROUNDS):
            return None
        if any(_found(r) for r in searches):
            return None
        return Step(calls=[call("search_knowledge", question=u.text)])

    def _documents_instead(self, search: ToolResult | None) -> Step | None:
        """A message that was not clearly a product request and that the catalog has nothing for ("¿cuánto
        tiempo dejo secar el látex entre manos?"): the owner's documents are asked before any "not found"."""
        turn, u = self.turn, self.u
        if (u.intent not in ("product_query", "fallback") or search is None or search not in turn.last_round
                or search.data is None or turn.called("search_knowledge") or "search_knowledge" not in self.tools
                or turn.rounds >= MAX_ROUNDS):
            return None
        query = str(search.args.get("query") or u.query)
        if matching.relevant(query, list(search.data.get("results") or [])):
            return None
        return Step(calls=[call("search_knowledge", question=u.text)])

    def _several(self) -> Step | None:
        """Several products ordered at once: each one the customer clearly meant becomes a line."""
        turn, u = self.turn, self.u
        searches = [r for r in turn.last_round if r.name == "search_products" and r.data is not None]
        if (u.intent not in BUYING or len(u.items) < 2 or len(searches) < 2 or turn.called("register_sale")
                or "register_sale" not in self.tools or turn.rounds >= MAX_ROUNDS):
            return None
        counts = dict(u.items)
        calls, unclear = [], []
        for search in searches:
            query = str(search.args.get("query") or "")
            results = list(search.data.get("results") or [])
            chosen = matching.choose(query, results) or self._in_focus(query, results)
            if chosen and any(c["args"]["sku"] == str(chosen["sku"]) for c in calls):
                continue  # "6 lámparas cálidas, las amarillas": the same product said again keeps its count
            if chosen:
                calls.append(call("register_sale", sku=str(chosen["sku"]), quantity=counts.get(query) or 1))
            elif results:
                unclear.append((query, results))
        if calls:
            return Step(calls=calls)
        if unclear:
            query, results = unclear[0]
            return Step(self._prefix(self.say.ask_which(query, results, counts.get(query) or 1)))
        return None

    def _quote(self) -> str:
        """Reference prices first, then what the team needs to send the formal quote."""
        say = self.say
        lead, search = self.turn.latest("qualify_lead"), self.turn.latest("search_products")
        name = self.u.lead.get("name")
        parts = [say.say("lead_thanks_name", name=name) if name else say.say("quote_thanks")]
        if search and search.data is not None and "error" not in search.data:
            results = list(search.data.get("results") or [])
            query = str(search.args.get("query") or self.u.query)
            if results:
                parts += [say.say("quote_intro"), say.product_list(results)]
            else:
                parts.append(say.say("products_none", query=query))
        parts.append(say.say("quote_next"))
        if lead and lead.data is not None and "error" not in lead.data:
            parts += say.lead(lead.data, lead.args, quote=True)[1:]
        return "\n".join(parts)

    def _question(self) -> Step:
        """An open question: the documents first; then the catalog, if the question names something;
        else the honest "I don't have that information", never a guess."""
        turn, u, say = self.turn, self.u, self.say
        knowledge = turn.latest("search_knowledge")
        data = knowledge.data if knowledge else None
        if data and data.get("found") and str(data.get("answer") or "").strip():
            return Step(self._prefix(say.knowledge(data)))
        search = turn.latest("search_products")
        if search is None:
            if u.query and "search_products" in self.tools and turn.rounds < MAX_ROUNDS:
                return Step(calls=[call("search_products", query=u.query, limit=5)])
        elif search.data is not None:
            query = str(search.args.get("query") or u.query)
            results = matching.relevant(query, list(search.data.get("results") or []))
            if results:  # offered as what was found, never as "¡Sí! Tenemos…": it was not asked for
                return Step(self._prefix(say.products(query, results, False, False, False)))
        return Step(self._prefix(say.unknown(offer="handoff_to_human" in self.tools)))

    def _prefix(self, text: str) -> str:
        return f"{self.say.say('greeting_prefix')} {text}" if self.u.greeted else text

    def _render(self, result: ToolResult) -> str:
        say = self.say
        if result.data is None:
            if result.name == "handoff_to_human" and self.u.intent == "complaint":
                return say.say("complaint_no_handoff")
            return say.say("tool_error")
        data = result.data
        if set(data) == {"error"}:  # the graph's shape for a failed or disabled tool
            return say.say("complaint_no_handoff" if result.name == "handoff_to_human" else "tool_error")
        unit = UNITS.get(result.name)
        return unit.words(self, result) if unit is not None and unit.words is not None else ""
