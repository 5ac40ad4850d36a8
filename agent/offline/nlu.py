"""What a customer's message means, without a language model.

`understand()` scores every intent with the cue patterns of `lexicon.py`,
adds structural evidence (a count, product words, an email, a time) and
extracts the slots the tools need: the product words ("tenés martillos?" ->
"martillos"), the quantity, the meeting time phrase and action, the lead
fields. It is context-free; the model decides what a bare "mandame 3"
refers to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from agent.confirm import classify_reply
from agent.language import detect_language
from agent.offline import contact
from agent.offline.lexicon import (
    BUSINESS_WORDS,
    CUES,
    HOURS_ASK,
    HOURS_SPECIFIC,
    KEYWORDS,
    MEETING_ACTIONS,
    OFF_TOPIC,
    ORDINALS,
    PRICE_ASK,
    QUESTION_OPENER,
    STOCK_ASK,
    STOPWORDS,
    VOCABULARY,
)
from agent.offline.numbers import PACKAGES, Quantity, find_quantities, word_number
from agent.offline.text import Token, close_to, collapse, fold, tokenize
from agent.offline.when import DAY_WORDS, TimePhrase, find_time, spell_hours
from prompts import PromptStore

INTENTS = (
    "greeting", "thanks", "goodbye", "smalltalk", "help", "product_query", "purchase", "quantity_change",
    "knowledge", "question", "meeting", "contact", "quote", "complaint", "human", "confirm", "decline",
    "fallback",
)  # fmt: skip
# On equal scores the earlier, more specific intent wins.
PRIORITY = (
    "human", "complaint", "quote", "contact", "meeting", "knowledge", "quantity_change", "purchase",
    "product_query", "help", "smalltalk", "goodbye", "thanks", "greeting",
)  # fmt: skip
CLEAR = 2.5  # a score from here on beats a bare yes/no reading
REROUTABLE = ("product_query", "fallback", "greeting")  # weak or generic readings a question overrides
_GIBBERISH = re.compile(r"[bcdfghjklmnpqrstvwxz]{5,}")
# Ordinary words never "corrected" toward a cue: past tenses are not requests ("compré" is not "compro").
_COMMON = STOPWORDS | {"estaba", "estaban", "estamos", "hacer", "quiero", "gracias", "compre", "compraste",
                       "compramos", "compraron", "pedi", "pedimos", "pediste", "pague", "pagamos", "llego", "llegaron",
                       "arrepenti", "devolvi", "cambie", "recibi"}


@dataclass
class Understanding:
    """One message, understood: the intent and the slots the tools need."""

    intent: str
    lang: str
    text: str
    query: str = ""  # product words as typed ("pintura látex blanca")
    quantity: int | None = None  # an explicit count; None when not said
    items: list[tuple[str, int | None]] = field(default_factory=list)  # several products in one order
    cued: bool = False  # a product cue ("tenés", "quiero", "cuánto") was said, not only some words
    relative: bool = False  # "agregale 2 más": a count added to what is already ordered
    ordinal: int | None = None  # "el segundo" -> 1, "el último" -> -1 (index into the products shown)
    asks_price: bool = False
    asks_stock: bool = False
    asks_hours: bool = False  # opening hours in general (no particular day)
    action: str = "book"  # meeting action
    when: str | None = None
    topic: str | None = None
    lead: dict[str, str] = field(default_factory=dict)
    greeted: bool = False
    about_business: bool = False  # names something about the business itself ("dueño", "loyalty program")
    scores: dict[str, float] = field(default_factory=dict)
    swap: tuple[str, int] | None = None  # the open order's line (sku, quantity) another product replaces
    counts: list[int] = field(default_factory=list)  # every explicit count said, whatever the intent


_NOW = re.compile(r"\b(?:asap|urgent|urgente|urgently|right away|right now|ya mismo|cuanto antes|lo antes posible|"
                  r"de inmediato|inmediatamente|immediately)\b")


def _correct(tokens: list[Token]) -> list[Token]:
    """Fix typos of cue words ("presio" -> "precio", "orario" -> "horario", "holaa" -> "hola")."""
    out = []
    for token in tokens:
        fixed = None
        if token.norm not in _COMMON and token.norm not in VOCABULARY and token.norm not in DAY_WORDS:
            squeezed = collapse(token.norm)
            fixed = squeezed if squeezed in VOCABULARY else _keyword_typo(token.norm)
        out.append(Token(token.raw, fixed, token.start, token.end) if fixed else token)
    return out


@lru_cache(maxsize=8192)
def _keyword_typo(word: str) -> str | None:
    """The cue word `word` is a typo of ("presio" -> "precio"); KEYWORDS is fixed, so remembered."""
    return close_to(word, KEYWORDS)


def _masked(text: str) -> str:
    """`text` with emails and phone numbers blanked (same length), so their digits are not counts."""
    for pattern in (contact.EMAIL, contact.PHONE):
        text = pattern.sub(lambda m: " " * len(m.group()), text)
    return text


def _score(norm: str, offsets: list[int]) -> tuple[dict[str, float], set[int]]:
    """Cue scores per intent and the indexes of tokens that cues consumed."""
    scores = dict.fromkeys(INTENTS, 0.0)
    used: set[int] = set()
    for intent, cues in CUES.items():
        for pattern, weight in cues:
            hits = list(pattern.finditer(norm))
            if not hits:
                continue
            scores[intent] += weight
            for hit in hits:
                used.update(
                    i for i, off in enumerate(offsets) if hit.start() <= off < max(hit.end(), hit.start() + 1)
                )
    return scores, used


@dataclass
class _Evidence:
    """What a message contains besides cue words."""

    tokens: list[Token]
    norm: str
    content: list[Token]  # words that may name a product
    quantities: list[Quantity]
    time: TimePhrase | None
    lead: dict[str, str]
    ordinal: int | None

    @property
    def explicit(self) -> list[Quantity]:
        return [q for q in self.quantities if not q.article]


def _evidence(text: str, lang: str) -> tuple[_Evidence, dict[str, float]]:
    masked = spell_hours(_masked(text))
    tokens = _correct(tokenize(masked))
    norm = " ".join(t.norm for t in tokens)
    offsets, pos = [], 0
    for t in tokens:
        offsets.append(pos)
        pos += len(t.norm) + 1
    scores, used = _score(norm, offsets)
    time = find_time(tokens, masked)
    timed: set[int] = set()
    if time:
        start = masked.find(time.text)
        timed = {i for i, t in enumerate(tokens) if start <= t.start < start + len(time.text)}
    quantities = [q for q in find_quantities(tokens, masked, lang) if q.start not in timed]
    skip = used | timed | {i for q in quantities for i in range(q.start, q.end)}
    content = [t for i, t in enumerate(tokens) if t.norm not in STOPWORDS and i not in skip]
    ordinal = next((ORDINALS[t.norm] for t in tokens if t.norm in ORDINALS), None)
    found = _Evidence(tokens, norm, content, quantities, time, contact.extract_lead(text), ordinal)
    return found, scores


def understand(text: str, prompts: PromptStore, default_lang: str = "es") -> Understanding:
    """Intent and slots of one customer message (a fresh copy: callers may reassign its fields).

    A pure function of the text and the prompt files, so it is remembered:
    the model reads the same message again after each tool call.
    """
    text = (text or "").strip()
    return replace(prompts.derived(("understand", text, default_lang), lambda: _understand(text, prompts, default_lang)))


def _understand(text: str, prompts: PromptStore, default_lang: str) -> Understanding:
    lang = detect_language(text, default_lang)
    ev, scores = _evidence(text, lang)
    cued = scores["product_query"] > 0  # a product cue ("tenés", "do you have", "cuánto"), not a bare noun
    _structural(scores, ev)
    intent = _decide(scores, ev, text, prompts)
    content = ev.content
    if (intent == "complaint" and _OWN_BROKE.search(ev.norm)
            and (_NOT_BOUGHT_HERE.search(ev.norm) or not _BOUGHT_HERE.search(ev.norm))
            and (_WANTS_NEW.search(ev.norm) or _NOT_BOUGHT_HERE.search(ev.norm) or _ASKS_PRODUCT.search(ev.norm))):
        # "la mía se rompió, necesito una nueva": their own tool broke and they shop for another
        intent = "product_query"
    if intent in REROUTABLE and _asks_about_business(ev, cued):
        intent = "question"
        content = _product_words(ev)
    elif (intent in ("product_query", "fallback") or (intent == "purchase" and "?" in text)) and USAGE.search(ev.norm):
        intent = "question"  # how a product is used ("¿cuánto rinde un litro de látex?"): the documents first
    elif intent == "fallback" and "?" in text and len(content) >= 2 and not OFF_TOPIC.search(ev.norm):
        intent = "question"  # a question we could not place: the documents, then the catalog, then "I don't know"

    result = Understanding(
        intent=intent, lang=lang, text=text, scores=scores, ordinal=ev.ordinal, lead=ev.lead
    )
    result.greeted = scores["greeting"] > 0 and intent != "greeting"
    result.cued = cued or scores.get("purchase", 0) > 0
    result.about_business = any(_about_business(t) for t in ev.content)
    result.query = _query(text, content)
    result.counts = [q.value for q in ev.explicit]
    result.asks_price = bool(PRICE_ASK.search(ev.norm))
    result.asks_stock = bool(STOCK_ASK.search(ev.norm))
    result.asks_hours = bool(HOURS_ASK.search(ev.norm)) and not HOURS_SPECIFIC.search(ev.norm)
    if intent in ("purchase", "quantity_change", "quote"):
        # a change keeps the last number ("en vez de 10, que sean 8"), an order the first
        picks = ev.explicit[-1:] if intent == "quantity_change" else (ev.explicit or ev.quantities)[:1]
        result.quantity = picks[0].value if picks else None
    if intent in ("greeting", "fallback", "product_query") and len(_COUNTED_NOUN.findall(text)) >= 2:
        # a list of products with their counts, without a "quiero": "para la obra: 2 pinzas, 2 cutters y 1 cinta"
        listed = _items(text, prompts, lang)
        if listed:
            intent = result.intent = "purchase"
            result.quantity = listed[0][1]
            result.items = listed
    elif intent == "purchase":
        result.items = _items(text, prompts, lang)
    elif intent == "product_query" and _ITEM_SPLIT.search(text):
        # "do you have a claw hammer? and a 5 m tape measure too": each looked up, when each is named in full
        listed = _items(text, prompts, lang)
        if all(len(query.split()) >= 2 for query, _ in listed):
            result.items = listed
    result.relative = bool(_RELATIVE.search(ev.norm))
    if ev.time:
        result.when = ev.time.text
    if intent == "meeting":
        result.action = _meeting_action(ev.norm, ev.time is not None)
        result.topic = _topic(text)
    return result


def _structural(scores: dict[str, float], ev: _Evidence) -> None:
    """Evidence beyond keywords: counts, product words, contact data, times."""
    norm, content = ev.norm, ev.content
    if not scores["purchase"] and content and (_COUNT_OPENS.match(norm) or _LIST_OPENS.search(norm) or (
            len(ev.tokens) <= 9 and "?" not in ev.norm and _ONE_OPENS.match(norm))):
        scores["purchase"] = 2.0  # it opens with a count and what is counted: "two tubes of clear silicone and a gun"
    if scores["purchase"] and not ev.explicit and _HOW_LONG.search(norm):
        scores["purchase"] = 0.0  # "¿cuánto tiempo me apartan la mercadería?" asks about a policy, not for goods
    if scores["purchase"] and max(scores["complaint"], scores["human"], scores["quote"]) < 4.0:
        # a count and a noun back a purchase cue, not against a complaint ("llevo 3 días esperando el pedido")
        scores["purchase"] += (1.5 if ev.explicit else 0) + (1.0 if content or ev.ordinal is not None else 0)
    if scores["product_query"] and content:
        scores["product_query"] += 1.0
    if scores["quantity_change"]:
        # "mejor que sean 8" changes the open order; "mejor que sean 3 martillos" names the line it changes
        scores["quantity_change"] = (4.0 if not content else 3.5) if ev.explicit else 0.0
    elif norm.startswith("no ") and scores["purchase"] and ev.explicit and not content:
        scores["quantity_change"] = 4.5  # "no, mandame 3"
    if ev.lead.get("email"):
        scores["contact"] += 4.0
    if ev.lead.get("phone"):
        scores["contact"] += 3.0
    if ev.lead.get("name") and re.search(r"\b(soy|i'm|i am|this is|habla)\b", norm):
        scores["contact"] += 3.0
    # a budget, a decider, a date of the purchase: someone telling about their purchase, not asking a slot
    scores["contact"] += sum(1.0 for k in ("budget", "authority", "timeline") if ev.lead.get(k))
    wants_slots = bool(MEETING_ACTIONS["availability"].search(norm))
    if ev.time:
        bonus = (1.0 if ev.time.has_day else 0) + (1.5 if ev.time.has_clock else 0)
        # a bare day ("el lunes") hints at a meeting; a day and an hour say it
        scores["meeting"] += bonus if scores["meeting"] or ev.time.has_clock else 0.8
    if scores["meeting"] >= 2.5 and wants_slots:
        scores["meeting"] += 1.0
    if ev.time and ev.time.has_day and ev.time.has_clock and scores["meeting"] >= 4.0:
        # a meeting asked for at a day and hour, with a name or a reason beside it ("soy Sofi, quiero una reunión
        # el viernes 9:30 para cotizar un pedido"): the meeting is the request; the lead is kept beside it
        scores["meeting"] = max(scores["meeting"], max(scores["quote"], scores["contact"], scores["purchase"]) + 0.5)
    if scores["complaint"] >= 4.0 and scores["knowledge"] >= scores["complaint"]:
        # "me habéis cobrado dos veces… ¿cómo me devolvéis el dinero?": the complaint, with the policy beside it
        scores["complaint"] = scores["knowledge"] + 0.5
    if scores["human"] >= 4.5 and (not ev.time or _NOW.search(norm)):
        # asking for a person outranks whatever else the message is about; with a day or an hour it is a
        # visit, unless it is wanted now ("a person to call me asap, it's urgent")
        scores["human"] = max(scores["human"], max(scores.values()) + 0.5)
    bare = max(scores.values()) < 1.5 and 0 < len(content) <= 4 and len(ev.tokens) <= 6
    if bare and not OFF_TOPIC.search(norm) and not any(_GIBBERISH.search(t.norm) for t in content):
        scores["product_query"] = 1.2  # a bare noun: "martillo?", "taladros inalámbricos"


def _decide(scores: dict[str, float], ev: _Evidence, text: str, prompts: PromptStore) -> str:
    best = max(PRIORITY, key=lambda name: (scores[name], -PRIORITY.index(name)))
    if scores[best] >= CLEAR:
        return best
    if OFF_TOPIC.search(ev.norm):
        return "fallback"
    reply = classify_reply(text, None, prompts)
    if reply == "confirm" and scores["thanks"]:  # "ok gracias" closes, it confirms nothing
        return "goodbye" if scores["goodbye"] else "thanks"
    if reply != "other":
        return reply
    return best if scores[best] > 0 else "fallback"


def _about_business(token: Token) -> bool:
    word = token.norm
    return word in BUSINESS_WORDS or word.endswith("'s") and word[:-2] in BUSINESS_WORDS


def _asks_about_business(ev: _Evidence, cued: bool) -> bool:
    """A question that is not clearly about products: the documents should answer it first.

    "¿cuál es el CUIT del dueño?", "what's the owner's name?", "do you have a loyalty program?".
    With a product cue ("tenés", "do you have", "cuánto sale") it takes the nouns, or the first of
    them, being about the business; without one, a question's opening words or a business noun
    ("nombre del dueño?"). The catalog is still searched next for any other noun, so a product
    that starts with such a word is found all the same.
    A bare noun ("martillo?"), a product named after a cue ("do you have paint?") and off-topic or
    empty questions ("what's 2+2?") keep their reading.
    """
    content = [t for t in ev.content if not _GIBBERISH.search(t.norm)]
    if not content or OFF_TOPIC.search(ev.norm):
        return False
    business = [t for t in content if _about_business(t)]
    if cued:  # every noun about the business, or the first one ("¿tienen descuento para jubilados?")
        return len(business) == len(content) or _about_business(content[0])
    return bool(business) or bool(QUESTION_OPENER.search(ev.norm))


def _product_words(ev: _Evidence) -> list[Token]:
    """What of a question could still name a product: not its opening words, not business nouns."""
    opener = QUESTION_OPENER.search(ev.norm)
    skip, pos = set(), 0
    for token in ev.tokens:
        if opener and pos < opener.end():
            skip.add(token.start)
        pos += len(token.norm) + 1
    return [t for t in ev.content if t.start not in skip and not _about_business(t)]


_RELATIVE = re.compile(
    r"\b(?:\d+|un|una|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|one|two|three|four|five)\s+"
    r"(?:\w+\s+)?(?:mas|more|extra)\b|\b(?:agrega\w*|suma\w*|add)\b.*\b(?:mas|more)\b"
)
_ITEM_SPLIT = re.compile(r"[,;\n+]|(?<=[^\W\d])[.?!]+\s|\s(?:y|e|and|más|mas|plus)\s", re.IGNORECASE)
_PRODUCTISH = ("purchase", "product_query", "quantity_change", "fallback")


_OWN_BROKE = re.compile(r"\b(?:la mia|el mio|los mios|las mias|se me (?:rompio|quemo|partio|rajo)|my old|mine)\b")
_WANTS_NEW = re.compile(r"\b(?:una nueva|uno nuevo|otra|otro|nuev[oa]s?|reemplazo|a new|another|replacement)\b")
_BOUGHT_HERE = re.compile(r"\b(?:les compre|compre aca|compre aqui|me vendieron|me la vendieron|me lo vendieron|"
                          r"you sold|bought (?:it )?(?:here|from you))\b")
_NOT_BOUGHT_HERE = re.compile(r"\bno (?:la|lo|las|los) compre (?:aca|aqui|con ustedes)\b|\bnot (?:bought|from) (?:here|you)\b")
_ASKS_PRODUCT = re.compile(r"\b(?:tienen|tenes|venden|vendes|hay|cuanto sale|cuanto cuesta|precio|do you have|do you sell)\b")
USAGE = re.compile(
    r"\b(?:rinde|rendimiento|cuanto cubre|seca|secar|secado|diluir|diluyo|diluye|rebajar|rebajo|mezclar|mezclo|"
    r"como se usa|como (?:lo |la )?uso|como se aplica|como (?:lo |la )?aplico|sirve para|sirven para|"
    r"que \w+ (?:uso|usar|necesito|conviene) (?:para|pa)|cual (?:uso|conviene|me conviene)|entre mano y mano|"
    r"how (?:do i |to )?(?:use|apply|mix)|how much (?:does|will) \w+ cover|dry|drying|which \w+ (?:for|to))\b"
)
_COUNTED_NOUN = re.compile(r"(?<![\w.,:/-])\d{1,4}\s+(?!de la|am\b|pm\b|hs\b)[a-záéíóúñ]{3,}", re.IGNORECASE)


def _count(text: str, lang: str) -> int | None:
    """The first count said in `text` (an explicit number before an article's "un")."""
    ev, _ = _evidence(text, lang)
    counted = ev.explicit or ev.quantities
    return counted[0].value if counted else None


_DESCRIBES = re.compile(r"^\W*(?:(?:el|la|los|las|uno|una|unos|unas) que|the ones? (?:with|that|which))\b")


def _items(text: str, prompts: PromptStore, lang: str) -> list[tuple[str, int | None]]:
    """The products of a message that orders several ("2 candados y 3 metros de cadena"): (words, count).

    Each part between commas or "y"/"and" is read on its own; a part that
    asks something else ("¿y a qué hora abren?") is not a product. Fewer
    than two products: an empty list (the message's own query is the one).
    """
    parts = [(n, p.strip()) for n, sentence in enumerate(_SENTENCES.split(text))
             for p in _ITEM_SPLIT.split(sentence) if p and p.strip()]
    if len(parts) < 2:
        return []
    items: list[tuple[str, int | None]] = []
    said_in: list[int] = []  # the sentence each item was named in
    for n, part in parts:
        part = part.strip(" ¿?¡!")  # "¿me colabora con 2 pares de guantes y 2 gafas?": still products
        read = understand(part, prompts, lang)
        named = [w for w in read.query.lower().split() if w not in _COUNTED_IN and not w.isdigit()]
        if items and named and set(named) - _AGAIN <= set(items[-1][0].lower().split()):
            named = []  # "¿negro brillante tenés? dame 2 del negro entonces": the same product again
        if items and named and _DESCRIBES.match(fold(part)):
            # "el buscapolo, el que tiene la lucecita": what the product before looks like
            items[-1] = (f"{items[-1][0]} {read.query}", items[-1][1])
            continue
        if items and named and _only_what_it_is_for(part, prompts, lang):
            named = []  # "I need 10 bags for a small patio": a count of the product before, and what it is for
        elif named and (purpose := _WHAT_FOR.search(part)) and not re.search(r"[\d:]", purpose.group()):
            # "a caulking gun for a bathroom job": the product, without what it is for ("job" is no vacancy)
            cut = understand(_WHAT_FOR.sub("", part), prompts, lang)
            read = cut if cut.query and cut.intent in _PRODUCTISH else read
        if not named and items and (items[-1][1] is None or (items[-1][1] == 1 and re.search(r"[^\W\d]{3,}", part))):
            # "¿tenés guantes de vaqueta? mandame 3 pares": the count of the product just named
            count = _count(part, lang)
            if count is not None:
                items[-1] = (items[-1][0], count)
            continue  # a count, or a question about it ("how many pairs do you have?"): no product of its own
        if read.intent in _PRODUCTISH and read.query and (not read.about_business or _COUNTED_NOUN.search(part)):
            query, quantity = read.query, read.quantity
            if quantity is None:
                quantity = _count(part, lang)
            first, _, rest = query.partition(" ")
            if quantity is None and rest and (first.isdigit() or word_number(first.lower()) is not None):
                quantity, query = int(first) if first.isdigit() else word_number(first.lower()), rest  # "2 kilos de clavos"
            words = [w for w in query.lower().split() if not w.isdigit()]
            if items and words and all(w in _UNITS for w in words):
                # "…, los de 16 oz", "the 12 W ones": a size of the product before, not another product
                previous, count = items[-1]
                items[-1] = (f"{previous} {part_size(part)}".strip(), count)
                continue
            items.append((query, quantity))
            said_in.append(n)
    listed = {n for n, (_, quantity) in zip(said_in, items, strict=True) if quantity is not None}
    if sum(quantity is not None for _, quantity in items) >= 2:
        # "Estoy arreglando el frente de mi casa. Necesitaría: 1 látex…, 2 antióxido… ¿Me arma el pedido?":
        # the sentences around a counted list tell the story, they order nothing
        items = [item for n, item in zip(said_in, items, strict=True) if n in listed]
    return items if len(items) >= 2 else []


_SENTENCES = re.compile(r"(?<=[^\W\d])[.?!]+(?=\s|$)|(?<=\d)[.?!]+(?=\s+[¿¡A-ZÁÉÍÓÚÑ])|\n+")
# "el albañil me pasó una lista: 3 bolsas de pegamento, un disco…": a counted list after a colon is an order
_LIST_OPENS = re.compile(r":\s*(?:\d{1,4}|un|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|doce|one|two|three|"
                         r"four|five|six|seven|eight|nine|ten|a|an)\s+[a-z]{3,}.{0,80}(?:,|\by\b|\band\b)\s*"
                         r"(?:\d{1,4}|un|una|dos|tres|cuatro|cinco|one|two|three|a|an)\s+[a-z]{3,}")
_HOW_LONG = re.compile(r"\b(?:cuanto tiempo|hasta cuando|cuantos dias|cuantas horas|por cuanto tiempo|"
                       r"how long (?:do|does|will|would|can|until|before)|how many (?:days|hours))\b")
_COUNT_OPENS = re.compile(r"(?:\d{1,4}|one|two|three|four|five|six|seven|eight|nine|ten|dos|tres|cuatro|cinco|seis|"
                          r"siete|ocho|nueve|diez|doce|a dozen)\s+[a-z]{3,}")
_COUNTED_IN = PACKAGES | frozenset("pair pairs roll rolls tube tubes pack packs piece pieces set sets unit units can box "
                                   "bag".split())
# "hola, una llave inglesa de 10 pulgadas": a short message naming one thing, after a greeting or not
_ONE_OPENS = re.compile(r"(?:(?:hola|buenas|buen dia|buenos dias|hi|hello|hey|che)\W+)*(?:un|una|a|an|one)\s+"
                        r"(?!consulta|pregunta|duda|question|visita|cita|reunion|turno|meeting|favor|pregunta)[a-z]{3,}")
_AGAIN = frozenset("entonces nomas nomás mejor porfa please then instead too also tambien también".split())
_UNITS = frozenset("oz w watts mm cm m mts metros l lt lts litros kg kilos g gr v volts pulgadas pulg in inch inches "
                   "ones one los las de the el la".split())


_WHAT_FOR = re.compile(r"\s(?:for|para|pa)\s+(?:a|an|the|my|our|un|una|el|la|los|las|mi|mis|nuestro|nuestra)\s.*$",
                      re.IGNORECASE)


def _only_what_it_is_for(part: str, prompts: PromptStore, lang: str) -> bool:
    """True when a part names no product once what it is for is cut off ("10 bags for a small patio")."""
    cut = _WHAT_FOR.sub("", part)
    if cut == part:
        return False
    read = understand(cut, prompts, lang)
    return not [w for w in read.query.lower().split() if w not in _COUNTED_IN and not w.isdigit()
                and w.rstrip("s") not in _COUNTED_IN]


def part_size(part: str) -> str:
    """The measure named in a part ("los de 16 oz" -> "16 oz")."""
    found = re.search(r"\d+(?:[.,]\d+)?\s*[a-zA-Z\"]{0,8}", part)
    return found.group().strip() if found else ""


def _query(text: str, content: list[Token]) -> str:
    """Product words as typed, in order, without punctuation."""
    seen: set[int] = set()
    words = []
    for token in content:
        if token.start not in seen:
            seen.add(token.start)
            words.append(text[token.start : token.end])
    return " ".join(words).strip(" ¿?¡!.,;:")


def _meeting_action(norm: str, has_time: bool) -> str:
    if MEETING_ACTIONS["reschedule"].search(norm):  # "no puedo ir el jueves, ¿la pasamos al viernes?"
        return "reschedule"
    if MEETING_ACTIONS["cancel"].search(norm):
        return "cancel"
    if MEETING_ACTIONS["availability"].search(norm) or (
        re.search(r"\b(when|cuando)\b", norm) and not has_time
    ):
        return "availability"
    return "book"


_PURPOSE = re.compile(
    r"\b(?:para|sobre|about|to discuss|regarding)\s+"
    r"(?!el\b|la\b|las\b|the\b|mañana|manana|hoy|tomorrow|today|\d)([^,.;?!]{3,80})",
    re.IGNORECASE,
)
_KIND = re.compile(
    r"\b(visita|llamada|videollamada|reunión|reunion|cita|turno|demo|visit|call|meeting|appointment)\b",
    re.IGNORECASE,
)


def _topic(text: str) -> str | None:
    """What the meeting is for: "para medir la cocina" -> "medir la cocina", else the kind of meeting."""
    purpose = _PURPOSE.search(text)
    if purpose:
        return purpose.group(1).strip()
    kind = _KIND.search(text)
    return kind.group(1).lower() if kind else None
