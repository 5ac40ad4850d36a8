"""What the offline model does next: call tools, or answer in words.

Called once per model step. On a fresh customer message it maps the intent
to tool calls (or a direct reply); once the tools answered it composes the
reply from their results, except for the purchase chain, where a search is
followed by `register_sale` for the product the customer clearly meant.
"""

from __future__ import annotations

import re
from typing import Any

from agent.language import detect_language
from agent.offline.compose import BUYING, Composer
from agent.offline.contact import extract_lead
from agent.offline.nlu import USAGE, Understanding, understand
from agent.offline.numbers import PACKAGES, word_number
from agent.offline.render import Renderer
from agent.offline.steps import Step, call, swap_calls
from agent.offline.text import fold, tokenize
from agent.offline.turn import Turn
from agent.offline.when import find_time
from prompts import PromptStore
from tools.cart import order_lines, ordered_quantity

_ALSO = re.compile(r"\b(?:tambi[eé]n|adem[aá]s|also|plus|y (?:un|una|unos|unas|el|la|los|las)|and (?:a|an|the))\b",
                   re.IGNORECASE)
_REMOVE = re.compile(r"\b(?:saca\w*|quita\w*|elimina\w*|borra\w*|remove|take (?:off|out)|drop|sin (?:el|la|los|las)|"
                     r"ya no (?:quiero|necesito|va|van|hace falta|hacen falta)|no more|forget (?:the|about)|"
                     r"(?<!me )(?<!se )olvida(?:te|lo|la|los|las)? (?:el|la|los|las|de|del)|cancel\w* (?:el|la|los|las|the)|leave out)\b|"
                     r"^\W*(?:(?:y|and)\s+)?(?:(?:el|la|los|las|the)\s+)?\w+(?:\s+\w+){0,3}\s+(?:ya no|no mas|nomas no|not anymore|no longer)\W*$")
_ONLY_COUNT = re.compile(r"\b(?:un|una|uno|dos|tres|\d+) (?:no mas|nomas|nada mas|solamente|solo)\b")
_PUT = re.compile(r"(?:ponme|poneme|pone|pon|dame|deme|mandame|agrega\w*|suma\w*|anade\w*|quiero|que sean|"
                  r"add|give me|make it|put)\b")
_ONLY = re.compile(r"^(?:(?:no|ok|ya|dale|bueno|entonces|mejor|so|then|and|y|actually|better)\W+)*(?:solo|solamente|nomas|unicamente|only|just)\b")
_COUNTED = re.compile(r"\b(?:\d+|un|una|uno|dos|tres|cuatro|cinco|seis|one|a|an|two|three|four|five|six)\b")
_EDIT_CLAUSES = re.compile(r"[,;.!?]+|\s(?:pero|but)\s")


def _take_out(skus: list[str]) -> Step:
    """The open order's lines of `skus`, taken out (a quantity of 0 removes a line)."""
    return Step(calls=[call("register_sale", sku=sku, quantity=0) for sku in skus])


def _named_line(said: set[str], names: list[set[str]]) -> set[int]:
    """The one line whose name shares the most words with `said`, when one clearly does."""
    shared = sorted(((len(said & name), i) for i, name in enumerate(names)), reverse=True)
    if not shared or not shared[0][0] or (len(shared) > 1 and shared[1][0] == shared[0][0]):
        return set()
    return {shared[0][1]}


_SWAP = re.compile(r"\b(?:cambi\w*|reemplaz\w*|en (?:vez|lugar) de|mejor (?:el|la|los|las|un|una|unos|unas)|"
                   r"prefiero|instead|swap|replace|rather|switch|me confundi|me equivoque|quise decir|i meant)\b|"
                   r"^(?:(?:ah|ay|uy|oh|uh)\s+)?no(?:[\s,]+no)*,?\s+(?:(?:perdon|perdona|sorry|disculpa),?\s+)?(?:el|la|los|las|the)\s+(?!\d)(?!\w+ que sean)")
_SWAP_WORDS = re.compile(r"^(?:cambi\w*|reemplaz\w*|swap|replace|instead|rather|switch|mejor|prefiero|actually|"
                         r"it|for|por|vez|lugar|one|ones|perdon|perdona|sorry|disculpa|confundi|equivoque|quise|decir|"
                         r"meant|ah|ay|uy|oh|uh|no)$")
_ATTRIBUTE = re.compile(r"\b(?:(?:el|la|los|las|uno|una) de|the \w+(?: \w+)? ones?)\b")


_CHANGE = re.compile(r"\b(?:mejor\s+)?(?:que sean|mejor|make it|change it to|pon[eé]|cambi\w+ a)\s+(?P<n>\d{1,4})\b"
                     r"(?:\s+(?:unidades|units|cajas|boxes|bolsas|latas))?", re.IGNORECASE)
_ADD = re.compile(r"\b(?:agreg\w*|sum\w*|añad\w*|anad\w*|add|plus|tambi[eé]n|also)\b")
_CHEAPEST = re.compile(r"\b(?:mas barat[oa]s?|mas economic[oa]s?|menor precio|cheapest|least expensive|cheaper one)\b")
_DEAREST = re.compile(r"\b(?:mas car[oa]s?|de mayor precio|most expensive|priciest)\b")
_DAY_PART = re.compile(r"\b(?:mediodia|medio dia|noon|midday|la manana|la tarde|la noche|morning|afternoon|evening)\b")
_SAME_HOUR = re.compile(r"\b(?:misma hora|mismo horario|same time|a la misma)\b")
_NOT_A_PRODUCT = PACKAGES | frozenset(
    """
    disculpe disculpa disculpame perdon perdona perdoname porfa gracias nada mas solo entonces mejor bueno ok sorry
    please actually nomas va dale listo recojo retiro paso buscar tienda local hoy manana pick store ahorita ahora then
    fine okay ok have you guess sure well alright great cool good orale chido mera esa ese eso those these them
    que tengan tengas tenes tienen quedan queden queda haya hay pieces packs
    """.split()
)
_COUNT_FILLER = frozenset({"unidades", "unidad", "u", "uds", "units", "pcs", "pieces", "nomas", "porfa", "please",
                           "sorry", "perdon", "disculpa", "disculpe", "mejor", "actually", "make", "it", "que", "sean",
                           "sea",
                           "por", "favor", "solo", "only", "just"})


def _words(text: str) -> set[str]:
    """The folded words of three letters or more (what names a product line)."""
    return {w for w in re.findall(r"\w+", fold(text)) if len(w) >= 3}


_BOUGHT = re.compile(r"\b(?:compre|compramos|me compre|me llevo|me lleve|lleve|bought|i got|purchased|si compro|"
                     r"si compramos|if i buy|if i purchase)\b.*\b(?:falla\w*|se rompe|arrepent\w*|breaks|stops working|"
                     r"cambi\w*|devol\w*|devuelv\w*|garantia|reembols\w*|reintegr\w*|exchange|return\w*|refund\w*|"
                     r"warranty)\b|\b(?:cambi\w*|devol\w*|devuelv\w*|exchange|return\w*|refund\w*)\b.*\b(?:compre|bought)\b")


_ALONE = frozenset({"sola", "solo", "solas", "solos", "solamente", "nomas", "only", "just"})


def _stems(text: str) -> set[str]:
    """The first four letters of each word of four or more ("discs" and "Disco" share "disc")."""
    return {w[:4] for w in re.findall(r"[a-z]+", fold(text)) if len(w) >= 4}


_PROSPECT = re.compile(
    r"\b(?:just browsing|only browsing|just looking|looking around|might need|may need|at some point|some day|"
    r"capaz (?:que )?(?:mas adelante |en algun momento )?necesit\w*|en algun momento|mas adelante necesit\w*|"
    r"(?:por ahora|de momento|por el momento) (?:solo )?(?:estoy )?(?:viendo|mirando|averiguando|chusmeando|vitrineando)|"
    r"solo (?:estoy )?(?:mirando|viendo|chusmeando)|todavia no se (?:bien )?(?:que|cuando|cuanto))\b"
)
_EACH = re.compile(r"\b(?P<n>\d{1,3}|un|una|uno|dos|tres|cuatro|cinco|one|two|three|four|five|a)\s+(?:\w+\s+)?"
                   r"(?:de cada (?:uno|una|cosa|producto)?|de cada|of each|each)\b")
_ORDER_TOTAL = re.compile(
    r"^\W*(?:(?:y|and|ok|ya|bueno|entonces|so|hola|che)\W+)*(?:cuanto|how much|what)\b.{0,25}\b(?:total|todo|en total|"
    r"altogether|in total|all together|te debo|le debo|les debo|do i owe|would it be|seria|queda|quedaria|"
    r"me sale|me saldria|is it|comes to)\b[^,;]{0,25}$|^(?:(?:y|and|ok|ya|entonces|so)\W+)*(?:el |the )?total\W*$"
)
_CLAUSES = re.compile(r"[?¿!¡;.\n]+|,\s*|\s+(?:y|and|e)\s+(?=(?:\w+\s+){0,2}\w*\s*\??)")


def _clauses(text: str) -> list[str]:
    """The clauses of a message (between punctuation, commas and "y"/"and"), the very short ones left out."""
    return [c.strip() for c in _CLAUSES.split(text) if c and len(c.strip()) > 3]


def side_question(text: str, prompts: PromptStore, lang: str) -> str:
    """The clause of a two-request message that asks about the business (delivery, payment, hours…),
    when another clause is the request itself; "" when there is none."""
    if "?" not in text and not re.search(r"\b(?:hacen|tienen|aceptan|do you|can i|how)\b", fold(text)):
        return ""
    clauses = _clauses(text)
    if len(clauses) < 2:
        return ""
    for n, clause in enumerate(clauses):
        reading = understand(clause, prompts, lang)
        if reading.intent in ("knowledge", "question") and (
                reading.about_business or reading.intent == "knowledge" or USAGE.search(fold(clause))):
            # a policy, or how a product is used ("¿se puede diluir con agua?"); a short question right after
            # it is about the same ("¿me la mandan a San Isidro? ¿cuánto sale el envío?")
            follow = [c for c in clauses[n + 1:n + 2] if _FOLLOW_UP.match(fold(c))]
            return "? ".join([clause, *follow]) + ("?" if follow else "")
    return ""


_FOLLOW_UP = re.compile(r"^(?:y\s+|and\s+)?(?:cuanto|cuanta|cuando|como|donde|que|how|what|when|where|is it|es)\b")


# A business buying, not a household: volume, recurrence, a supplier, a quote, an account.
_B2B = re.compile(
    r"\b(?:empresa|mayorista|por mayor|al por mayor|por cantidad|volumen|proveedor\w*|cotiz\w*|presupuest\w*|"
    r"licitaci\w*|cuenta corriente|todos los meses|por mes|mensual\w*|obras?|clientes?|somos|trabajamos|"
    r"wholesale|bulk|supplier|supply|supplies|quotes?|tenders?|business(?:es)?|every month|monthly|regular(?: basis)?|"
    r"company|we are|we're|account)\b"
)


def _price_question(text: str, prompts: PromptStore, lang: str) -> str:
    """The product words of a clause that asks a price or stock beside another request ("…el martes a las
    10? ah, y cuánto está la bolsa de cemento?"); "" when there is none."""
    clauses = _clauses(text)
    if len(clauses) < 2:
        return ""
    named = ""  # "…a ver la sierra caladora, ¿cuánto sale?": the price of what the clause before named
    for clause in clauses:
        reading = understand(clause, prompts, lang)
        if reading.intent == "knowledge":
            continue  # "¿cuánto sale el envío a Palermo?" asks the price of no product
        if (reading.asks_price or reading.asks_stock) and not reading.when and (reading.query or named):
            return reading.query or named
        named = reading.query or named
    return ""


_LEAD_FIELDS = ("name", "email", "phone", "company", "need", "budget", "timeline", "authority")


class Planner:
    """One model step for one turn: understand the customer's message, then act or answer."""

    def __init__(self, turn: Turn, prompts: PromptStore, tools: set[str]) -> None:
        self.turn = turn
        self.tools = tools
        self.reason = ""  # why a hand-over happens, when it is not the customer's own words
        self._removed_skus: list[str] = []
        self._remove_queries: list[str] = []  # lines to take out named in other words than the order's
        self._changed_line: tuple[str, int] | None = None
        self._recount: int | None = None  # a line's new count, the line named in other words than its own
        default = str(turn.facts.get("language") or "es")
        lang = detect_language(turn.human, default) if turn.human else default
        self.prompts = prompts
        self.u: Understanding = understand(turn.human, prompts, lang)
        self.u.lang = lang
        self.say = Renderer(prompts, lang, turn.facts)
        self._order_not_meeting()
        self._time_while_arranging()
        self._order_beside_question(prompts, lang)
        self._order_without_its_question(prompts, lang)
        self._policy_of_a_past_purchase()
        self._change_and_add(prompts, lang)
        self._by_price()
        self._answer_to_asked()
        self._follow_up(prompts, lang)
        self._count_of_the_line()
        self._bare_order(prompts, lang)
        self._accept_offer()
        self._contact_and_order()
        self._add_to_open_order()
        self._remove_from_open_order()
        self._swap_in_open_order()
        self._total_of_open_order()
        self._prospect()
        self._one_of_each(prompts, lang)
        self._ordered_again()
        self._count_clause()
        self._take_shown_and_ask(prompts, lang)

    def _follow_up(self, prompts: PromptStore, lang: str) -> None:
        """A short answer to our "which one?" keeps the purchase going: "el de goma", "the second one"."""
        u, turn = self.u, self.turn
        weak = u.scores.get(u.intent, 0) < 2.5 and u.intent in ("product_query", "fallback", "question")
        if u.intent == "question" and (u.about_business or not u.query):
            return  # "¿cuál es el CUIT?" is a new question, "¿cuál es el de goma?" picks a product
        if not weak or not turn.previous_human or ("register_sale" in turn.previous_tools and turn.pending):
            return  # an offer is on the table: the confirm step and the model's new reading handle it
        if u.intent == "fallback" and u.ordinal is None:
            return
        before = understand(turn.previous_human, prompts, lang)
        if before.intent in BUYING and "search_products" in turn.previous_tools:
            u.intent = "purchase"
            u.quantity = u.quantity or before.quantity
        elif u.intent == "fallback" and turn.focus and len(turn.focus) > abs(u.ordinal or 0):
            u.intent = "purchase"  # "bueno, el segundo nomás": one of the products just listed, whatever was asked

    def _bare_order(self, prompts: PromptStore, lang: str) -> None:
        """"ya, entonces la amoladora y 5 discos de corte", "ni modo, el negro brillante, las mismas 2": once
        products are on the table, products named with a count or among those shown are the order, verb or not."""
        u, turn = self.u, self.turn
        if u.intent not in ("fallback", "product_query") or u.scores.get(u.intent, 0) >= 2 or "?" in u.text:
            return
        if not u.query or not (turn.focus or order_lines(turn.pending)):
            return
        if order_lines(turn.pending) and (_SWAP.search(fold(u.text)) or _REMOVE.search(fold(u.text))):
            return  # "ah no perdón, el phillips, me confundí": an edit of the order (`_swap_in_open_order`)
        reading = understand(f"{'quiero' if lang == 'es' else 'i want'} {u.text}", prompts, lang)
        if reading.intent != "purchase" or not reading.query:
            return
        shown = set().union(*(_stems(str(item.get("name") or "")) for item in turn.focus or [{}]))
        if reading.quantity or len(reading.items) >= 2 or _stems(reading.query) & shown:
            u.intent, u.query, u.quantity, u.items = "purchase", reading.query, reading.quantity, reading.items

    def _arranging_meeting(self) -> bool:
        """The bot's last question was about the meeting's day and time (times offered, or asked for)."""
        asked = self.turn.facts.get("asked") or {}
        return asked.get("about") == "meeting" or asked.get("kind") == "day_time"

    def _order_not_meeting(self) -> None:
        """"confirmo las 6" (lamps), "confirmame solo los barbijos": with an order open and no meeting asked
        for, a count read as an hour is the order's count, and the rest is about the order."""
        u, pending = self.u, self.turn.pending or {}
        if pending.get("kind") not in ("sale", "cart") or u.intent != "meeting" or u.scores.get("meeting", 0) >= 2.5:
            return
        count = re.search(r"\b(\d{1,4})\b", u.text)
        if count:
            u.intent, u.quantity, u.query = "quantity_change", int(count.group(1)), ""
        else:
            u.intent = "purchase"

    def _time_while_arranging(self) -> None:
        """"mejor 10:30 si se puede, a las 9:30 no llego": while a meeting is being arranged, a new time is
        the meeting's, however it is said ("no llego" is not a late delivery here)."""
        u, pending = self.u, self.turn.pending or {}
        arranging = pending.get("kind") == "meeting" or self._arranging_meeting()
        if arranging and u.when and u.intent == "complaint":
            u.intent = "meeting"

    def _order_beside_question(self, prompts: PromptStore, lang: str) -> None:
        """"quiero 2 látex interior de 20 litros. ¿se puede diluir con agua?": the order is the request and
        the question goes beside it (`_with_question`), even when the question's words weighed more."""
        u = self.u
        if u.intent not in ("knowledge", "question") or self.turn.pending:
            return
        clauses = _clauses(u.text)
        if len(clauses) < 2:
            return
        readings = [understand(clause, prompts, lang) for clause in clauses]
        # the order is what the message says outside its questions ("2 latas de látex, 2 rodillos y 3 cintas")
        order = ", ".join(c for c, r in zip(clauses, readings, strict=True) if r.intent not in ("knowledge", "question"))
        reading = understand(order, prompts, lang)
        listed = u.scores.get("purchase", 0) >= 3.5 and sum(n is not None for _, n in reading.items) >= 2
        if not listed and not any(r.intent == "purchase" and r.query and r.scores.get("purchase", 0) >= 3.5
                                  and (r.quantity is not None or len(r.items) >= 2)  # a count says it is an order
                                  and not re.match(r"(?:si|if)\b", fold(c))
                                  for c, r in zip(clauses, readings, strict=True)):
            return  # "si llevo una herramienta a garantía, ¿cuánto demora?" supposes a purchase, it orders nothing
        if reading.intent == "purchase" and reading.query:
            u.intent, u.query, u.quantity, u.items = "purchase", reading.query, reading.quantity, reading.items
        elif reading.intent == "purchase" and reading.quantity and self.turn.focus and not reading.items:
            # "ok need 3 cans. also do u deliver on saturdays?": a count of the product just shown
            u.intent, u.query, u.quantity, u.items = "purchase", "", reading.quantity, []

    def _order_without_its_question(self, prompts: PromptStore, lang: str) -> None:
        """"ok need 3 cans. also do u deliver on saturdays?": the order is read without the business question
        beside it (answered by `_with_question`), so "saturdays" is looked up in no catalog."""
        u = self.u
        if u.intent != "purchase" or "search_knowledge" not in self.tools or self.turn.pending:
            return
        question = side_question(u.text, prompts, lang)
        if not question:
            return
        rest = ", ".join(c for c in _clauses(u.text) if c not in question)
        reading = understand(rest, prompts, lang) if rest else None
        if reading is not None and reading.intent == "purchase" and (reading.query or reading.items or self.turn.focus):
            u.query, u.items, u.quantity = reading.query, reading.items, reading.quantity or u.quantity
        elif reading is not None and not reading.query and not reading.items:
            u.intent = "knowledge"  # "¿hasta qué hora atienden los sábados? quiero pasar a comprar unas cosas"

    def _policy_of_a_past_purchase(self) -> None:
        """"compré una pinza hace dos semanas, ¿la puedo cambiar?": a question about something bought is
        for the documents (returns, warranty), not a new search of the catalog."""
        u = self.u
        asked = u.intent in ("product_query", "fallback", "question") or (
            u.intent == "purchase" and re.match(r"(?:\W*\w+\W+){0,2}(?:si|if) ", fold(u.text)))
        if asked and "?" in u.text and _BOUGHT.search(fold(u.text)):
            u.intent = "knowledge"  # "si compro una herramienta y falla, ¿me la cambian?" supposes, it buys nothing

    def _change_and_add(self, prompts: PromptStore, lang: str) -> None:
        """Two edits of the open order in one message: "mejor que sean 3, y agrégueme un pincel",
        "make it 4, and add 1 box of screws". The new quantity goes to the order's only line; the rest is
        read as the product added."""
        lines = order_lines(self.turn.pending)
        if len(lines) != 1:
            return
        change = _CHANGE.search(self.u.text)
        if change is None:
            return
        rest = (self.u.text[: change.start()] + " " + self.u.text[change.end():]).strip(" ,.;")
        rest = re.sub(r"^(?:ay\s+)?(?:no|actually|sorry|perd[oó]n)?[\s,]*(?:y|and)?\s*", "", rest, flags=re.IGNORECASE)
        if not rest or not _ADD.search(fold(rest)):  # the rest must add something ("y agregame…", "and add…")
            return
        reading = understand(rest, prompts, lang)
        if not reading.query or reading.intent not in ("purchase", "product_query", "fallback"):
            return
        reading.query = " ".join(w for w in reading.query.split() if not _ADD.fullmatch(fold(w)))
        reading.intent, reading.quantity = "purchase", reading.quantity or 1
        reading.lang = self.u.lang
        self.u = reading
        self._changed_line = (str(lines[0]["sku"]), int(change.group("n")))

    def _by_price(self) -> None:
        """"el más barato", "the cheapest one", "el más caro": a pick among the products shown, by price."""
        u, focus = self.u, self.turn.focus
        norm = fold(u.text)
        cheap, dear = _CHEAPEST.search(norm), _DEAREST.search(norm)
        if not (cheap or dear) or not focus or u.intent in ("complaint", "human", "meeting"):
            return
        priced = []
        for i, item in enumerate(focus):
            try:
                priced.append((float(item.get("price")), i, int(item.get("stock", 1) or 0) > 0))
            except (TypeError, ValueError):
                continue
        in_stock = [p for p in priced if p[2]] or priced
        if not in_stock:
            return
        u.ordinal = (min(in_stock) if cheap else max(in_stock))[1]
        u.query = ""
        if "?" not in u.text and u.intent not in ("purchase", "quantity_change"):
            u.intent = "purchase"

    def _answer_to_asked(self) -> None:
        """A bare count answers our question: "8" after one product was shown ("¿cuántas querés?"),
        or after the order was offered (a new quantity for its only line)."""
        u, turn = self.u, self.turn
        asked = turn.facts.get("asked") or {}
        if not isinstance(asked, dict):
            return
        arranging = asked.get("kind") == "day_time" or (asked.get("kind") == "yes_no" and asked.get("about") == "meeting")
        if arranging and u.when and u.intent in ("fallback", "product_query", "question", "knowledge", "contact",
                                                 "thanks"):
            u.intent, u.action = "meeting", "book"  # "entonces a las 17:30", "el jueves a la tarde"
            return
        if u.intent not in ("fallback", "product_query", "confirm"):
            return
        words = [w for w in re.findall(r"\w+", fold(u.text)) if w not in _COUNT_FILLER]
        count = word_number(words[0]) if len(words) == 1 else None
        if not count or count > 100000:
            return
        lines = order_lines(turn.pending)
        one_shown = asked.get("kind") in ("choice", "quantity") and len(asked.get("options") or []) == 1
        one_line = asked.get("kind") == "yes_no" and asked.get("about") == "order" and len(lines) == 1
        if one_shown or one_line:
            u.intent, u.quantity, u.query = "purchase", count, ""

    def _contact_and_order(self) -> None:
        """Two requests in one message: contact data and an order ("soy Pedro, pedro@x.com, quiero 2
        martillos"). The order is taken; the contact data go to the lead beside it (`_with_lead`)."""
        u = self.u
        if u.intent == "contact" and u.scores.get("purchase", 0) >= 2.5 and (u.query or u.items):
            u.intent = "purchase"

    def _add_to_open_order(self) -> None:
        """With an order open, a product named with a count or an "also" is one more line of it:
        "y también 1 cinta de embalar", "and a box of wall plugs"."""
        u, pending = self.u, self.turn.pending or {}
        if pending.get("kind") not in ("sale", "cart") or u.intent not in ("fallback", "product_query"):
            return
        if not u.query or "?" in u.text:
            return
        if u.quantity or _ALSO.search(u.text):
            u.intent = "purchase"

    def _remove_from_open_order(self) -> None:
        """"sacá el destornillador plano", "los pinceles ya no, solo los rodillos y las cintas": the open order's
        lines the customer takes out, each named in a clause that removes it, or left out of an "only these"."""
        u, pending = self.u, self.turn.pending or {}
        if pending.get("kind") not in ("sale", "cart") or u.intent in ("confirm", "human", "complaint"):
            return
        lines = order_lines(pending)
        names = [_stems(str(line.get("name") or "")) for line in lines]
        removed: set[int] = set()
        kept: set[int] = set()
        for clause in _EDIT_CLAUSES.split(fold(u.text)):
            if _ONLY_COUNT.search(clause):
                continue  # "y la llave una no más": just one of it, nothing taken out
            if _REMOVE.search(clause):  # "sacá el taladro y los destornilladores": each named line
                for n, part in enumerate(re.split(r"\s(?:y|e|and)\s", clause)):
                    if n and _PUT.match(part.strip()):
                        # "quita las allen y ponme dos juegos de combinadas": the rest is a new count of a line
                        self._recount_named(part, lines, names)
                        break
                    line = _named_line(_stems(part), names)
                    removed |= line
                    query = "" if line else understand(part, self.prompts, u.lang).query
                    if query and not all(fold(w) in _NOT_A_PRODUCT for w in query.split()):
                        self._remove_queries.append(query)  # "remove the utility knife": the catalog knows it
            elif _ONLY.match(clause.strip()) and not _COUNTED.search(clause):  # "solo 1 martillo" is a count
                kept |= {i for i, name in enumerate(names) if _stems(clause) & name}
        if kept and not removed and len(kept) < len(lines):
            removed = set(range(len(lines))) - kept
        removed -= kept
        if removed or self._remove_queries:
            u.intent = "remove"
            self._removed_skus = [str(lines[i].get("sku")) for i in sorted(removed)]

    def _recount_named(self, part: str, lines: list[dict[str, Any]], names: list[set[str]]) -> None:
        """The new count a part of an edit gives to the line it names ("… y ponme dos martillos")."""
        count = next((q for q in understand(part, self.prompts, self.u.lang).counts), None)
        line = _named_line(_stems(part), names)
        if count and len(line) == 1 and self._changed_line is None:
            self._changed_line = (str(lines[next(iter(line))].get("sku")), count)

    def _swap_in_open_order(self) -> None:
        """"mejor cambialo por el de goma", "el segundo en vez del primero": another product takes an
        open order's line, with its quantity. The line is the one the message names, else the last."""
        u, pending = self.u, self.turn.pending or {}
        norm = fold(u.text)
        if pending.get("kind") not in ("sale", "cart") or u.intent in ("remove", "confirm", "human", "complaint"):
            return
        if not _SWAP.search(norm) or not (u.query or u.ordinal is not None) or u.items[1:]:
            return
        lines = order_lines(pending)
        said = _words(u.text)
        overlap = [len(said & _words(str(line.get("name") or ""))) for line in lines]
        line = lines[max(range(len(lines)), key=lambda i: (overlap[i], i))]
        u.intent = "swap"
        u.swap = (str(line.get("sku")), u.quantity or int(line.get("quantity") or 1))  # "no, el otro. dame 2"
        u.query = " ".join(w for w in u.query.split() if not _SWAP_WORDS.match(fold(w)))
        if u.query and _ATTRIBUTE.search(norm):  # "el de goma": a variant of the same product
            head = str(line.get("name") or "").split()[:1]
            u.query = " ".join([*head, u.query]) if head and head[0].lower() not in u.query.lower() else u.query

    def _total_of_open_order(self) -> None:
        """"¿cuánto sería el total?", "how much is it altogether?": with an order open, its total, not a search."""
        u, pending = self.u, self.turn.pending or {}
        if pending.get("kind") not in ("sale", "cart") or pending.get("total") is None:
            return
        if u.intent in ("product_query", "fallback", "question", "knowledge") and _ORDER_TOTAL.search(fold(u.text)):
            u.intent = "order_total"

    def _prospect(self) -> None:
        """"capaz más adelante necesito cosas para pintar un depto", "just browsing, might need tools at some
        point": someone who may buy later is a lead to keep (a cold one), not a search or a blank."""
        u = self.u
        if "qualify_lead" not in self.tools or self.turn.pending or not _PROSPECT.search(fold(u.text)):
            return
        if u.intent in ("greeting", "smalltalk", "thanks", "fallback", "product_query", "question") or (
                u.intent == "purchase" and not u.quantity and not any(n for _, n in u.items)):
            u.intent = "contact"
            if not u.lead.get("need"):
                u.lead = {**u.lead, "need": u.text.strip()[:200]}

    def _one_of_each(self, prompts: PromptStore, lang: str) -> None:
        """"great, one of each", "dame dos de cada uno": the products named in the message before, each with
        that count."""
        u, turn = self.u, self.turn
        each = _EACH.search(fold(u.text))
        if not each or not turn.previous_human or turn.pending:
            return
        before = understand(turn.previous_human, prompts, lang)
        if len(before.items) < 2:
            return
        count = word_number(each.group("n"))
        u.intent, u.quantity = "purchase", count or 1
        u.items = [(query, count or 1) for query, _ in before.items]
        u.query = " ".join(query for query, _ in u.items)

    def _count_of_the_line(self) -> None:
        """"hmm wait, the builder says 12 bags": with one line open, a count said of its own unit or name,
        in a message that asks nothing and names no other product, is its new count."""
        u, lines = self.u, order_lines(self.turn.pending)
        if len(lines) != 1 or "?" in u.text or len(u.counts) != 1 or u.counts[0] == lines[0].get("quantity"):
            return
        # a remark about pick-up or payment may come with it ("…12 bags. and I'll pick them up myself")
        if u.intent not in ("fallback", "product_query", "knowledge") or (
                u.intent == "product_query" and u.scores.get(u.intent, 0) >= 2.5):
            return
        if _ALSO.search(u.text):
            return  # "y también 1 bolsa de cemento": one more product, not a new count
        if u.intent == "fallback" and not u.query:  # "pues 2": a bare count, said to the order on the table
            u.intent, u.quantity, u.items = "quantity_change", u.counts[0], []
            return
        counted = re.search(rf"\b{u.counts[0]}\s+(\w+)(?:\s+(?:de|of)\s+(\w+))?", fold(u.text))
        name = _stems(str(lines[0].get("name") or ""))
        if counted and counted.group(2) and not _stems(counted.group(2)) & name:
            return  # "3 bolsas de cal" names another product
        if counted and (counted.group(1) in PACKAGES or _stems(counted.group(1)) & name):
            u.intent, u.quantity, u.query, u.items = "quantity_change", u.counts[0], "", []

    def _count_clause(self) -> None:
        """"sorry, actually just 1 can is enough, the room is small": a new count for the open order names its
        line in the clause that says the count; the other clauses explain, they name no product."""
        u = self.u
        if u.intent != "quantity_change" or not u.quantity or not u.query or not order_lines(self.turn.pending):
            return
        clauses = [c for c in re.split(r"[,;.!?]+|\s(?:but|pero)\s", u.text) if c.strip()]
        counted = [c for c in clauses if re.search(rf"\b{u.quantity}\b", c)
                   or any(word_number(w) == u.quantity for w in re.findall(r"\w+", fold(c)))]
        if len(clauses) < 2 or len(counted) != 1:
            return
        said = {fold(w) for w in re.findall(r"\w+", counted[0])}
        u.query = " ".join(w for w in u.query.split() if fold(w) in said)

    def _take_shown_and_ask(self, prompts: PromptStore, lang: str) -> None:
        """"Vale, me la llevo. ¿Tenéis también pinza de fontanero?": the product shown is taken (its line is
        proposed) and the other product is looked up beside it."""
        u, turn = self.u, self.turn
        if u.intent != "purchase" or not u.query or u.items[1:] or turn.pending or not turn.focus:
            return
        clauses = [c for c in re.split(r"[.!?¿¡;\n]+", u.text) if c.strip()]
        if len(clauses) < 2:
            return
        first = understand(clauses[0], prompts, lang)
        if first.intent != "purchase" or first.query or first.items or first.ordinal is not None:
            return
        rest = understand(" ".join(clauses[1:]), prompts, lang)
        if rest.intent in ("product_query", "purchase") and rest.query:
            self._changed_line = (str(turn.focus[0]["sku"]), first.quantity or 1)

    def _ordered_again(self) -> None:
        """"ya, mándame la amoladora y los 5 discos": a product the open order already holds, named again
        among new ones, is that line (with a new count if one is said), not one more search."""
        u = self.u
        lines = order_lines(self.turn.pending)
        if u.intent != "purchase" or len(u.items) < 2 or not lines:
            return
        names = [_stems(str(line.get("name") or "")) for line in lines]
        new: list[tuple[str, int | None]] = []
        for query, count in u.items:
            said = _stems(query)
            held = [i for i, name in enumerate(names) if said and said <= name]
            if not held and len(lines) == 1 and all(w in PACKAGES | _ALONE for w in fold(query).split()):
                held = [0]  # "mejor llevo 1 sola lata y un enduido": the one line, counted by its package
            if len(held) != 1:
                new.append((query, count))
                continue
            line = lines[held[0]]
            if count and count != line.get("quantity") and self._changed_line is None:
                self._changed_line = (str(line.get("sku")), count)
        if not new or len(new) == len(u.items):
            return
        u.items = new if len(new) > 1 else []
        u.query = " ".join(query for query, _ in new)
        u.quantity = new[0][1] if len(new) == 1 else u.quantity

    def _on_order_total(self) -> Step:
        pending = self.turn.pending or {}
        return Step(self.say.say("order_total", total=self.say.money(pending.get("total"), pending.get("currency"))))

    def _on_swap(self) -> Step:
        old, quantity = self.u.swap or ("", 1)
        if self.u.ordinal is not None and (item := self._focus_item()) is not None:
            return Step(calls=swap_calls(old, item, quantity))
        return self._tool("search_products", query=self.u.query, limit=5)

    def _on_remove(self) -> Step:
        if "register_sale" not in self.tools:
            return Step(self.say.say("unavailable"))
        if self._remove_queries and "search_products" in self.tools:  # looked up first, then taken out
            return Step(calls=[call("search_products", query=q, limit=5) for q in self._remove_queries])
        return _take_out(self._removed_skus)

    def _ordered_found(self) -> list[str]:
        """The open order's lines the catalog search of this turn found (what the words name, not a neighbour)."""
        ordered = {str(line.get("sku")) for line in order_lines(self.turn.pending)}
        skus: list[str] = []
        for result in self.turn.results:
            found = [str(r.get("sku")) for r in (result.data or {}).get("results") or [] if isinstance(r, dict)]
            first = next((sku for sku in found[:2] if sku in ordered), None)
            if result.name == "search_products" and first and first not in skus:
                skus.append(first)
        return skus

    def _recount_found(self) -> Step | None:
        """After "make it 3 glasses" was looked up: the order's line the search found gets the new count."""
        if self._recount is None or self.turn.called("register_sale") or not self.turn.called("search_products"):
            return None
        found = self._ordered_found()
        return Step(calls=[call("register_sale", sku=found[0], quantity=self._recount)]) if len(found) == 1 else None

    def _remove_found(self) -> Step | None:
        """After "remove the utility knife" was looked up: the order's lines the search found come out."""
        if self.u.intent != "remove" or self.turn.called("register_sale") or not self.turn.called("search_products"):
            return None
        skus = list(self._removed_skus)
        skus += [sku for sku in self._ordered_found() if sku not in skus]
        return _take_out(skus) if skus else None

    def _accept_offer(self) -> None:
        """A yes to our "shall I pass you to a person?" (after a question we could not answer) hands over."""
        u, turn = self.u, self.turn
        if u.intent != "confirm" or turn.pending or not turn.previous_reply:
            return
        if any(offer in turn.previous_reply for offer in self.say.offers()):
            u.intent = "human"
            self.reason = f"question the documents do not answer: {turn.previous_human}"

    def step(self) -> Step:
        if not self.turn.human:
            return Step(self._greeting())
        if self.turn.results and (removal := self._remove_found()) is not None:
            return removal
        if self.turn.results and (recount := self._recount_found()) is not None:
            return recount
        if self.turn.results:
            composer = Composer(self.turn, self.u, self.say, self.tools)
            if self.u.intent == "meeting" and self.turn.called("search_products") \
                    and not self.turn.called("schedule_meeting"):
                meeting = [c for c in self._first().calls if c["name"] == "schedule_meeting"]
                if meeting:  # the price asked beside the meeting was looked up; now the meeting
                    return Step(composer.side_answer(), meeting)
            if self.u.intent == "complaint" and self.turn.called("search_knowledge") \
                    and not self.turn.called("handoff_to_human") and "handoff_to_human" in self.tools:
                handover = self._on_complaint()
                answer = composer.side_answer(always=True)
                return Step("\n\n".join(t for t in (handover.text, answer) if t), handover.calls)
            return composer.step()
        step = self._with_question(self._with_lead(self._first()))
        if self._changed_line is not None and step.calls:  # the quantity changed beside the product added
            sku, quantity = self._changed_line
            return Step(step.text, [call("register_sale", sku=sku, quantity=quantity), *step.calls])
        return step

    def _with_question(self, step: Step) -> Step:
        """An order or a meeting with a question beside it: the documents are asked too ("¿me agendás el
        martes a las 10? ¿a qué altura de Warnes están?"), and beside a meeting, the catalog for a price
        ("¿puede ser el martes a las 10? ah, y ¿cuánto está la bolsa de cemento?")."""
        u = self.u
        meeting = u.intent == "meeting" and any(c["name"] == "schedule_meeting" for c in step.calls)
        if u.intent not in ("purchase", "quantity_change", "swap") and not meeting:
            return step
        if not meeting and not any(c["name"] in ("search_products", "register_sale") for c in step.calls):
            return step
        calls = list(step.calls)
        question = side_question(u.text, self.prompts, u.lang) if "search_knowledge" in self.tools else ""
        if question:
            calls.append(call("search_knowledge", question=question))
        elif meeting and "search_products" in self.tools:
            price = _price_question(u.text, self.prompts, u.lang)
            if price:  # the price first: the meeting is proposed next, with the price said before the offer
                return Step(step.text, [call("search_products", query=price, limit=3)])
        return Step(step.text, calls) if len(calls) > len(step.calls) else step

    def _with_lead(self, step: Step) -> Step:
        """What the customer says about themselves beside another request ("soy Ana, de Obras Sur, quiero 20
        bolsas", "somos Techos Norte, ¿venden membrana por cantidad?") goes to the lead too: contact data, a
        business with a need, or anything new once a lead is open."""
        u = self.u
        if u.intent in ("contact", "quote", "human", "complaint") or "qualify_lead" not in self.tools:
            return step
        if any(c["name"] == "qualify_lead" for c in step.calls):
            return step
        lead = {k: v for k, v in u.lead.items() if k in _LEAD_FIELDS}
        identity = any(lead.get(k) for k in ("email", "phone")) or (
            lead.get("name") and any(lead.get(k) for k in ("company", "budget", "timeline", "authority"))
        )
        business = bool(lead.get("company")) and (
            bool(lead.get("need")) or bool(_B2B.search(fold(u.text)))
            or any(lead.get(k) for k in ("budget", "timeline", "authority"))
        )
        if not (identity or business or (self._known_lead and lead)):
            return step
        said = self._lead_args(lead)
        if not said:
            return step
        return Step(step.text if step.calls else "", [*step.calls, call("qualify_lead", **said)])

    @property
    def _known_lead(self) -> dict[str, Any]:
        known = self.turn.facts.get("lead")
        return known if isinstance(known, dict) else {}

    def _lead_args(self, lead: dict[str, str]) -> dict[str, str]:
        """The fields to send: what is new (a corrected email, phone, date, budget or decider replaces the
        one known; a name, company or need already known is kept), and, for a lead without a need yet, the
        products the customer asked about."""
        known = self._known_lead
        said = {k: v for k, v in lead.items()
                if k in ("email", "phone", "timeline", "budget", "authority") or not known.get(k)}
        if self.u.intent == "meeting" and (not self.u.when or _words(said.get("timeline", "")) & _words(self.u.when)):
            said.pop("timeline", None)  # "¿puedo pasar el sábado?" is the meeting's day, not the purchase's
        if not said.get("need") and not known.get("need"):
            asked = self.u.intent in ("purchase", "product_query", "quantity_change", "knowledge", "question")
            products = (self.u.query if asked else "") or ", ".join(name for name, _ in self.u.items)
            if not products and self.turn.focus:
                products = str(self.turn.focus[0].get("name") or "")
            if products:
                said["need"] = products
        return said

    # -- a fresh message -----------------------------------------------------------

    def _first(self) -> Step:
        u, say = self.u, self.say.say
        business = self.turn.facts.get("business_name") or ""
        simple = {
            "greeting": lambda: self._greeting(),
            "smalltalk": lambda: say("smalltalk", business_name=business),
            "thanks": lambda: say("thanks", vary=True),
            "goodbye": lambda: say("goodbye"),
            "help": lambda: say("help"),
            "confirm": lambda: say("confirm_which_time" if self._arranging_meeting() else "confirm_nothing"),
            "decline": lambda: say("decline_nothing"),
            "fallback": lambda: say("fallback", vary=True),
        }
        if u.intent in simple:
            return Step(simple[u.intent]())
        handler = getattr(self, f"_on_{u.intent}")
        return handler()

    def _greeting(self) -> str:
        return self.say.say("greeting", vary=True, business_name=self.turn.facts.get("business_name") or "")

    def _tool(self, tool: str, /, **args: Any) -> Step:
        if tool not in self.tools:
            return Step(self.say.say("unavailable"))
        return Step(calls=[call(tool, **args)])

    def _focus_item(self) -> dict[str, Any] | None:
        focus = self.turn.focus
        if self.u.ordinal is not None and focus:
            index = self.u.ordinal
            return focus[index] if -len(focus) <= index < len(focus) else None
        return focus[0] if focus else None

    def _pending_sku(self) -> str | None:
        pending = self.turn.pending
        if not pending or pending.get("kind", "sale") not in ("sale", "order"):
            return None
        order = pending.get("order") if isinstance(pending.get("order"), dict) else pending
        items = order.get("items") if isinstance(order.get("items"), list) else None
        if order.get("sku"):
            return str(order["sku"])
        return str(items[0]["sku"]) if items and isinstance(items[0], dict) and items[0].get("sku") else None

    def _on_product_query(self) -> Step:
        if len(self.u.items) > 1 and "search_products" in self.tools:  # "¿tenés martillo de uña? ¿y cinta de 5 m?"
            return Step(calls=[call("search_products", query=query, limit=5) for query, _ in self.u.items])
        query = self.u.query
        if not query:
            item = self._focus_item()
            if not item:
                return Step(self.say.say("ask_product"))
            query = str(item.get("name") or item["sku"])
        return self._tool("search_products", query=query, limit=5)

    def _on_purchase(self) -> Step:
        quantity = self.u.quantity or 1
        if ((self.turn.pending or self.turn.focus) and self.u.query
                and all(fold(w) in _NOT_A_PRODUCT for w in self.u.query.split())):
            # "no, disculpe, que sean 6 cajas nada más", "va, lo quiero, lo recojo en la tienda": the product
            # of the open order, or the one in front of the customer
            self.u.query = ""
        lines = order_lines(self.turn.pending)
        if (self.u.intent == "quantity_change" and self.u.query and len(lines) == 1
                and not _words(self.u.query) & _words(str(lines[0].get("name") or ""))):
            self.u.query = ""  # "mejor que sean 4, se me olvidaba la otra pieza": the only line's new quantity
        if self.u.intent == "quantity_change" and self.u.quantity and len(lines) > 1 and self.u.query:
            # "make that 10 discs actually, they break fast": the line the count names, by its words' stems
            named = [line for line in lines if _stems(self.u.query) & _stems(str(line.get("name") or ""))]
            if len(named) > 1:  # "mejor que sean 3 latas de látex y el rodillo": the line named beside the count
                parts = re.split(r"[,;.!?]|\s(?:y|e|and)\s", self.u.text)
                counted = next((part for part in parts if re.search(rf"\b{self.u.quantity}\b", part)), "")
                named = [line for line in named if _stems(counted) & _stems(str(line.get("name") or ""))]
                # "mejor 3 siliconas. la pistola una sola": a line named by its head word elsewhere is not this one
                elsewhere = _stems(" ".join(part for part in parts if part != counted))
                heads = [line for line in named if not _stems(str(line.get("name") or "").split()[0]) & elsewhere]
                named = heads if len(heads) == 1 else named
            if len(named) > 1 and re.search(r"[a-z]s\b", fold(self.u.query)):
                # "make it 3 silicones" of 2 sealants and 1 gun "de silicona": the plural is what they buy several of
                several = [line for line in named if int(line.get("quantity") or 1) > 1]
                named = several if len(several) == 1 else named
            if len(named) == 1:
                return self._tool("register_sale", sku=str(named[0]["sku"]), quantity=self.u.quantity)
            if not named and "search_products" in self.tools:  # "make it 3 glasses" of "Anteojos": looked up
                self._recount = self.u.quantity
                return self._tool("search_products", query=self.u.query, limit=5)
        if len(self.u.items) > 1 and "search_products" in self.tools:  # several products: each looked up
            return Step(calls=[call("search_products", query=query, limit=5) for query, _ in self.u.items])
        if self.u.query:
            return self._tool("search_products", query=self.u.query, limit=5)
        sku = None
        if self.u.ordinal is None:
            sku = self._pending_sku()
        if sku is None:
            item = self._focus_item()
            sku = str(item["sku"]) if item else None
        if sku is None:
            return Step(self.say.say("ask_product_for_quantity", quantity=quantity))
        if self.u.relative and self.u.quantity:  # "agregale 2 más": on top of what is ordered
            quantity += ordered_quantity(self.turn.pending, sku)
        return self._tool("register_sale", sku=sku, quantity=quantity)

    _on_quantity_change = _on_purchase

    def _on_knowledge(self) -> Step:
        step = self._tool("search_knowledge", question=self.u.text)
        price = _price_question(self.u.text, self.prompts, self.u.lang) if "search_products" in self.tools else ""
        if price and step.calls:  # "¿cuánto sale el rotomartillo? ¿si pago en efectivo hay descuento?": both
            return Step(step.text, [call("search_products", query=price, limit=5), *step.calls])
        return step

    def _on_question(self) -> Step:
        """Not clearly about products: the documents first (the catalog comes next, see Composer)."""
        if "search_knowledge" in self.tools:
            return Step(calls=[call("search_knowledge", question=self.u.text)])
        if self.u.query and "search_products" in self.tools:
            return Step(calls=[call("search_products", query=self.u.query, limit=5)])
        return Step(self.say.unknown(offer="handoff_to_human" in self.tools))

    def _on_meeting(self) -> Step:
        u, pending = self.u, self.turn.pending or {}
        action = u.action
        if action == "book" and pending.get("kind") == "meeting" and pending.get("action") == "reschedule":
            action = "reschedule"  # a new time for a move still awaiting confirmation
        when = self._when_in_context(u.when, pending)
        return self._tool(
            "schedule_meeting",
            action=action,
            when=when,
            topic=u.topic,
            name=u.lead.get("name"),
            email=u.lead.get("email"),
        )

    def _when_in_context(self, when: str | None, pending: dict[str, Any]) -> str | None:
        """A correction changes only what it names: "mejor a las 12" keeps the day being arranged,
        "mejor el viernes a la misma hora" keeps the hour (from the meeting proposed, or the one asked about)."""
        asked = self.turn.facts.get("asked") or {}
        start = str(pending.get("start") or "") if pending.get("kind") == "meeting" else ""
        day = start[:10] or (str(asked.get("date") or "") if asked.get("kind") == "day_time" else "")
        hour = start[11:16] or (str(asked.get("time") or "") if asked.get("kind") == "day_time" else "")
        phrase = find_time(tokenize(self.u.text), self.u.text)
        has_day, has_clock = bool(phrase and phrase.has_day), bool(phrase and phrase.has_clock)
        if has_day and when and _DAY_PART.search(fold(when)):  # "al mediodía", "a la tarde" name no day
            bare = _DAY_PART.sub(" ", fold(self.u.text))
            dated = find_time(tokenize(bare), bare)
            has_day = bool(dated and dated.has_day)
        if when and not has_day and day:  # "a las 12", "al mediodía": on the day being arranged
            return f"{day} {when}"
        if has_day and not has_clock and hour and (start or _SAME_HOUR.search(fold(self.u.text))):
            return f"{when or ''} {hour}".strip()  # another day for the meeting proposed: at its hour
        return when

    def _on_contact(self) -> Step:
        # "les escribo de Reformas Sur" then "soy Laura, la encargada de compras": what the message before
        # said about who they are (and no one kept yet) counts too
        earlier = extract_lead(self.turn.previous_human) if self.turn.previous_human else {}
        said = {k: v for k, v in {**{k: earlier[k] for k in ("company", "role", "name") if k in earlier},
                                  **self.u.lead}.items() if k in _LEAD_FIELDS}
        return self._tool("qualify_lead", **self._lead_args(said))

    def _on_quote(self) -> Step:
        lead = {k: v for k, v in self.u.lead.items() if k in _LEAD_FIELDS}
        lead["need"] = self.u.text
        calls = []
        if "qualify_lead" in self.tools:
            calls.append(call("qualify_lead", **lead))
        if self.u.query and "search_products" in self.tools:
            calls.append(call("search_products", query=self.u.query, limit=5))
        return Step(calls=calls) if calls else Step(self.say.say("unavailable"))

    # The graph answers right after a hand-over without asking the model again, so the
    # words go with the tool call ("a model may speak before its tool calls").

    def _on_complaint(self) -> Step:
        if "handoff_to_human" not in self.tools:
            return Step(self.say.say("complaint_no_handoff"))
        if "?" in self.u.text and "search_knowledge" in self.tools and not self.turn.results:
            # "el taladro no prende, ¿me lo cambian?": what the documents say goes with the hand-over
            return Step(calls=[call("search_knowledge", question=self.u.text)])
        reason = f"complaint: {self.u.text}"[:500]
        return Step(self.say.handoff(complaint=True), [call("handoff_to_human", reason=reason)])

    def _on_human(self) -> Step:
        if "handoff_to_human" not in self.tools:
            return Step(self.say.say("handoff_unavailable"))
        reason = (self.reason or f"customer asked for a human: {self.u.text}")[:500]
        return Step(self.say.handoff(complaint=False), [call("handoff_to_human", reason=reason)])
