"""Is the customer's reply a yes, a no, or something else? Deterministic on purpose.

A sale or a meeting is committed only after an explicit "yes", so this must
never guess: a reply counts as confirm/decline only when every word in it is
a yes (or no) word from prompts/confirm.<lang>.yaml or politeness filler
("sí por favor", "no, gracias", "dale!!", "nono"). Anything that changes the
order ("mejor 5", "no, mandame 3", "make it 2"), asks something ("si tenés
martillos") or doubts ("no sé") is "other" and goes to the model. A plain
negative with a reason ("no, está muy caro") still declines.

A yes that restates the order in front of the customer ("sí, confirmo los 2
candados", "listo, confirmo el pedido de los 10") is a yes: its other words
are the order's own product words and quantities. A restatement that
differs ("sí, pero 3 candados") is "other": an edit for the model.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any, Literal

from agent.offline.numbers import PACKAGES, word_number
from agent.offline.text import collapse, tokenize
from prompts import PromptStore
from tools.cart import order_lines

Reply = Literal["confirm", "decline", "other"]

# Words that turn a "no, ..." into a different request rather than a refusal.
_REDIRECT = frozenset(
    """
    prefiero quiero quisiera mandame dame pasame traeme cambia cambialo cambiar cambiame sean solo
    agrega agregame sumale sacale make want instead rather change only just switch
    another tenes tienen tenian have cuanto precio how what que cual which donde where cuando when
    mejor swap replace reemplaza reemplazalo primero primera segundo segunda tercero tercera cuarto cuarta ultimo
    ultima first second third fourth last one
    lunes martes miercoles jueves viernes sabado domingo monday tuesday wednesday thursday friday saturday sunday
    misma mismo same
    """.split()
)
_OTHER = frozenset({"otro", "otra", "otros", "otras", "other"})  # "no, el otro" asks for another product
_ARTICLES = frozenset({"el", "la", "los", "las", "the", "un", "una"})
_BREAK = "|"  # punctuation between words: "no, quiero..." is not the phrase "no quiero"
_MODIFIERS = {chr(c) for c in range(0x1F3FB, 0x1F400)}
_CLAUSE = re.compile(r"[.;!\n]+|,\s+|\s+(?:pero|but)\s+")


def _vocabulary(words: str) -> frozenset[str]:
    """Words as `classify_reply` compares them: tokenized like the customer's text (accents folded,
    stretched letters squeezed)."""
    return frozenset(collapse(t.norm) for t in tokenize(words, expand=False))


# Words that make a sentence beside a yes an edit or a new request, not a remark.
_EDITS = _vocabulary(
    """
    no not pero but sin without mas menos less more otro otra otros otras another other agrega agregale agregame
    suma sumale saca sacale quita quitale cambia cambialo mejor instead add remove change make quiero quisiera
    want dame mandame pasame necesito need tambien also solo only just cancel cancela
    """
)
_LOGISTICS = _vocabulary(
    """
    local tienda store shop pick collect paso pasamos buscar busco pago pagar pay efectivo cash transferencia
    tarjeta card envio delivery domicilio casa home hoy today manana tomorrow
    """
)
_ABBREVIATED = re.compile(r"\b(av|avda|dr|dra|sr|sra|srta|nro|depto|dto|gral|ing|lic|arq|st|apt)\.", re.IGNORECASE)
_NO_WORRIES = re.compile(r"\b(?:no (?:worries|problem|prob|biggie|hay (?:problema|drama|rollo)|pasa nada|"
                         r"te preocupes|se preocupe|importa))\b", re.IGNORECASE)
_YES_STEMS = ("confirm", "apart", "reserv", "agend", "registr")
# "regálemela", "mándamelos", "apúntamelo", "sepáramela": give/send/note it for me, said of what is proposed.
_YES_CLITIC = re.compile(r"^(?:(?:regal|mand|pas|tra|d|envi|empac|cobr|anot|apunt|separ|guard|agreg|sum|factur|registr|carg)"
                         r"[ae]?(?:me|nos)(?:lo|la|los|las)|"
                         r"(?:registr|carg|anot|apunt|separ|guard|mand|factur|cobr|agend)[ae](?:lo|la|los|las))$")
_NOT_YES_WORDS = frozenset({"confirmar", "confirmacion", "apartado", "reserva", "reservas", "agenda", "agendar",
                            "confirmation", "reservation", "registrar", "registro", "registros", "registrado",
                            "registrada", "registration", "register"})
_ADDRESS = _vocabulary("av avenida calle direccion domicilio piso depto departamento barrio altura esquina nombre "
                       "address street apt apartment floor name")
_LOGISTICS_STEMS = tuple(sorted(_vocabulary("retir recog recoj llev pagu pag abon mand envi")))
_THANKS = _vocabulary("gracias thanks thank atento atenta")
_ACKNOWLEDGE = _vocabulary("quedo atento atenta espero nos vemos see you then thanks great cool nice dear querido querida "
                           "thank you agradezco agradecido agradecida joven amable ese horario se lo te le mucho")


def _phrases(prompts: PromptStore, key: str) -> list[tuple[str, ...]]:
    """Tokenized phrase list, longest first; recomputed when the prompt files change."""
    def compile_() -> list[tuple[str, ...]]:
        out = []
        for phrase in prompts.words(f"confirm.{key}"):
            words = tuple(collapse(t.norm) for t in tokenize(str(phrase), expand=False))
            if words:
                out.append(words)
        return sorted(set(out), key=len, reverse=True)

    return prompts.derived(("confirm", key), compile_)


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1))


def _split_repeats(word: str, singles: set[str]) -> list[str]:
    """ "nono" -> ["no", "no"], "sisi" -> ["si", "si"]; other words unchanged."""
    for single in singles:
        if (
            len(word) > len(single)
            and len(word) % len(single) == 0
            and word == single * (len(word) // len(single))
        ):
            return [single] * (len(word) // len(single))
    return [word]


def order_vocabulary(pending: dict[str, Any] | None) -> tuple[frozenset[str], frozenset[int]]:
    """The words and quantities that restate a pending order (its product names and amounts)."""
    if not pending:
        return frozenset(), frozenset()
    if pending.get("kind") == "meeting":
        return _meeting_vocabulary(pending)
    lines = order_lines(pending)
    words: set[str] = set()
    quantities: set[int] = set()
    for line in lines:
        for token in tokenize(str(line.get("name") or ""), expand=False):
            word = collapse(token.norm)
            words.add(word)
            words.add(word.rstrip("s"))
        if isinstance(line.get("quantity"), int):
            quantities.add(line["quantity"])
    if len(lines) > 1:
        quantities.add(len(lines))  # "confirmo las dos", "both"
    return frozenset(words), frozenset(quantities)


_WEEKDAYS = (("lunes", "lun", "monday", "mon"), ("martes", "mar", "tuesday", "tue"),
             ("miercoles", "mie", "wednesday", "wed"), ("jueves", "jue", "thursday", "thu"),
             ("viernes", "vie", "friday", "fri"), ("sabado", "sab", "saturday", "sat"), ("domingo", "dom", "sunday", "sun"))
_TIME_WORDS = _vocabulary("a las la el at on am pm hs h hrs horas mañana tarde morning afternoon visita reunion cita "
                          "turno meeting visit appointment is queda ese esa este esta horario hora dia fecha that "
                          "this time day slot book agenda agendame reserva for")


def _meeting_vocabulary(pending: dict[str, Any]) -> tuple[frozenset[str], frozenset[int]]:
    """The words and numbers that restate a proposed meeting: its weekday and its time ("el martes a las 10")."""
    try:
        start = datetime.fromisoformat(str(pending.get("start")))
    except ValueError:
        return frozenset(), frozenset()
    words = _TIME_WORDS | _vocabulary(" ".join(_WEEKDAYS[start.weekday()]))
    numbers = {start.hour, start.hour % 12 or 12, start.minute}
    return frozenset(words), frozenset(numbers)


def _restates(rest: list[str], order: tuple[frozenset[str], frozenset[int]]) -> bool:
    """Every leftover word names the order's products or its own quantities."""
    words, quantities = order
    if not words:
        return False
    for word in rest:
        clock = re.fullmatch(r"(\d{1,2})(?:am|pm|hs|h)", word)  # "2pm", "10hs"
        if clock and int(clock.group(1)) in quantities:
            continue
        number = word_number(word) if not word.isdigit() else int(word)
        if number is not None and word not in ("un", "una"):
            if number not in quantities:
                return False
            continue
        if not ({word, word.rstrip("s"), word[:-2] if word.endswith("es") else word} & words) \
                and word not in _UNIT_WORDS and word not in _TAKE and word not in _ARTICLES | {"de", "of", "del"}:
            return False
    return True


# Taking what is offered, said with its own count: "mandame las 3 que haya", "I'll take the 2 you have".
_TAKE = _vocabulary("mandame mandamelas mandamelos mandalas mandalos dame damelas damelos pasame llevo traeme "
                    "send give take ill i'll que haya tengas tenes you have")

# How customers count what they buy, whatever the product's name says: "confirmo las 5 bolsas", "the 2 boxes".
_UNIT_WORDS = _vocabulary(" ".join(sorted(PACKAGES)) + """
    u kilo kg metro litro tubo tubos juego juegos pieza piezas bidon bidones frasco frascos
    unit box bag can roll rolls pair pairs pack packs piece pieces set sets
    cosa cosas producto productos articulo articulos thing things item items todo todos all
    """)


def classify_reply(text: str, button_payload: str | None, prompts: PromptStore,
                   pending: dict[str, Any] | None = None, also_names: frozenset[str] = frozenset()) -> Reply:
    """'confirm', 'decline' or 'other' for a reply to a proposed order or meeting (`pending`).

    `also_names`: other words for the order's products (the owner's catalog synonyms: "bulb" for a
    "Lámpara"), which a yes may restate them with.

    A yes followed by a remark about pick-up or payment ("dale, confirmo. Lo
    retiro por el local") is still a yes: each sentence is read on its own,
    and the others may not ask, change or add anything.
    """
    if button_payload in ("confirm", "decline"):
        return button_payload  # type: ignore[return-value]
    also_names = frozenset(collapse(w) for w in also_names)  # spelled as the reply's words are compared
    text = _without_decoration(text or "", prompts)  # "yesss perfect 🥰": the emoji adds nothing
    text = _ABBREVIATED.sub(r"\1", text)  # "Av. Warnes 1450" is one clause, not two
    text = _NO_WORRIES.sub(" ", text)  # "ah ok no worries, I'll pick them up": a "no" that refuses nothing
    verdict = _classify(text, prompts, pending, also_names)
    if verdict != "other" or "?" in text:
        return verdict
    parts = [p for p in _CLAUSE.split(text) if p.strip()]
    if len(parts) < 2:
        return verdict
    verdicts = [_classify(p, prompts, pending, also_names) for p in parts]
    if "confirm" not in verdicts or "decline" in verdicts:
        return "other"
    quantities = order_vocabulary(pending)[1]
    remarks = [p for p, v in zip(parts, verdicts, strict=True)
               if v == "other" and not _only_filler(p, prompts)]  # "así está bien" says nothing more
    return "confirm" if all(_remark(p, quantities) for p in remarks) else "other"


def _without_decoration(text: str, prompts: PromptStore) -> str:
    """`text` without emoji and other symbols, except those the yes/no lists use (👍, ✅, 👎…)."""
    meaningful = prompts.derived(("confirm", "symbols"), lambda: frozenset(
        str(w) for key in ("yes", "no") for w in prompts.words(f"confirm.{key}") if len(str(w)) <= 2))
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        decoration = category in ("So", "Sk", "Cf") or ch in "\ufe0e\ufe0f"  # symbols, joiners, emoji selectors
        out.append(" " if decoration and ch not in meaningful else ch)
    return "".join(out)


def _only_filler(text: str, prompts: PromptStore) -> bool:
    words = [collapse(t.norm) for t in tokenize(text, expand=False)]
    filler = _phrases(prompts, "filler")
    i = 0
    while i < len(words):
        match = next((p for p in filler if tuple(words[i : i + len(p)]) == p), None)
        if match is None:
            return False
        i += len(match)
    return bool(words)


def _remark(text: str, quantities: frozenset[int]) -> bool:
    """A remark about pick-up, delivery or payment that asks for no change.

    It must speak of those (a word such as "retiro", "paso a buscar", "pick
    up", "pago"), and hold no edit word, no negation and no number but the
    order's own: "sí, el martes" answers another question and stays "other".
    """
    words = [collapse(t.norm) for t in tokenize(text, expand=False)]
    address = any(w in _ADDRESS for w in words)  # "Av. Maipú 1200, a nombre de Gabriela": where and for whom
    if not address and not any(w in _LOGISTICS or w.startswith(_LOGISTICS_STEMS) for w in words):
        return False
    for word in words:
        if word in _EDITS:
            return False
        number = int(word) if word.isdigit() else word_number(word)
        if number is not None and word not in ("un", "una", "uno") and number not in quantities and not address:
            return False
    return True


def _classify(text: str, prompts: PromptStore, pending: dict[str, Any] | None,
              also_names: frozenset[str] = frozenset()) -> Reply:
    yes, no = _phrases(prompts, "yes"), _phrases(prompts, "no")
    filler, unsure = _phrases(prompts, "filler"), _phrases(prompts, "unsure")
    singles = {p[0] for p in yes + no if len(p) == 1 and len(p[0]) >= 2}
    words: list[str] = []
    previous_end = None
    for token in tokenize(text or "", expand=False):
        if token.norm in _MODIFIERS:
            continue
        if previous_end is not None and any(ch in ",.;:!?" for ch in text[previous_end : token.start]):
            words.append(_BREAK)
        words.extend(_split_repeats(collapse(token.norm), singles))
        previous_end = token.end
    if not words or any(_contains(words, phrase) for phrase in unsure):
        return "other"

    kinds: list[str] = []  # "yes" | "no" | "filler" | the unmatched word itself
    i = 0
    while i < len(words):
        if (words[i].startswith(_YES_STEMS) and words[i] not in _NOT_YES_WORDS) or _YES_CLITIC.match(words[i]):
            kinds.append("yes")  # "confírmemelo", "apártamela", "resérvemelos": any person, any pronoun
            i += 1
            continue
        for kind, table in (("yes", yes), ("no", no), ("filler", filler)):
            match = next((p for p in table if tuple(words[i : i + len(p)]) == p), None)
            if match:
                kinds.append(kind)
                i += len(match)
                break
        else:
            if words[i] != _BREAK:
                kinds.append(words[i])
            i += 1
    has_yes, has_no = "yes" in kinds, "no" in kinds
    rest = [k for k in kinds if k not in ("yes", "no", "filler")]
    acknowledged = has_yes or bool(set(words) & _THANKS)
    if (pending or {}).get("kind") == "meeting" and acknowledged and not has_no and all(k in _ACKNOWLEDGE for k in rest):
        # A meeting is free and can be cancelled: "gracias", "ok, quedo atento" accept the proposed time.
        return "confirm"
    if has_yes == has_no:
        return "other"
    words_of_order, quantities = order_vocabulary(pending)
    if not rest or _restates(rest, (words_of_order | also_names if words_of_order else words_of_order, quantities)):
        return "confirm" if has_yes else "decline"
    if has_no and kinds[0] == "no" and _plain_reason([w for w in words if w != _BREAK], text):
        return "decline"
    return "other"


def _plain_reason(words: list[str], text: str) -> bool:
    """True when the words after a leading "no" just explain it ("no, está muy caro")."""
    if "?" in text or any(ch.isdigit() for ch in text):
        return False
    for previous, word in zip(["", *words], words, strict=False):
        if word in _REDIRECT or (
            word in _OTHER | {"de"} and previous in _ARTICLES
        ):  # "el otro", "el de goma"
            return False
        if word_number(word) is not None and word not in ("un", "una"):
            return False
    return True
