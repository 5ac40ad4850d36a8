"""The offline model's understanding: language, quantities, product words, times, lead data, intents.

The broad accuracy check lives in test_offline_eval.py; these pin down the
slot extraction the tools depend on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.language import detect_language
from agent.offline.contact import extract_lead
from agent.offline.nlu import understand
from agent.offline.numbers import find_quantities
from agent.offline.text import fold, tokenize
from agent.offline.when import find_time
from prompts import PromptStore

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"


@pytest.fixture(scope="module")
def prompts() -> PromptStore:
    return PromptStore(PROMPTS)


# -- language -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("hola", "es"), ("hi", "en"), ("yes", "en"), ("sí", "es"), ("si", "es"), ("thanks", "en"),
        ("gracias", "es"), ("dale", "es"), ("Hello!", "en"), ("buenas", "es"), ("thx", "en"),
        ("tenés martillos?", "es"), ("do you have paint?", "en"), ("cuanto sale el taladro", "es"),
        ("I'll take 3 hammers", "en"), ("mandame 3", "es"), ("how much", "en"), ("kiero 2 taladros", "es"),
        ("hola, do you have hammers?", "en"), ("what time do you open tomorrow?", "en"),
    ],
)  # fmt: skip
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", ["ok", "no", "👍", "123", "", "martillo", "???"])
def test_detect_language_keeps_default_when_unsure(text: str) -> None:
    assert detect_language(text, default="es") == "es"
    assert detect_language(text, default="en") == "en"


# -- quantities -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "values"),
    [
        ("quiero 10 martillos", "es", [10]),
        ("dame dos", "es", [2]),
        ("media docena de pinceles", "es", [6]),
        ("una docena de tornillos", "es", [12]),
        ("dos docenas", "es", [24]),
        ("quiero 2 latas de pintura de 20 litros", "es", [2]),
        ("tornillos de 6mm", "es", []),
        ("pintura de 20 litros", "es", []),
        ("a las 10:30", "es", []),
        ("un par de guantes", "es", [1]),  # gloves are sold by the pair: one pair
        ("a pair of safety glasses", "en", [1]),
        ("un par de clavos", "es", [2]),  # a couple
        ("veinte bolsas", "es", [20]),
        ("give me a dozen screws", "en", [12]),
        ("half a dozen brushes", "en", [6]),
        ("I'll take three", "en", [3]),
        ("a hammer", "en", [1]),
    ],
)
def test_quantities(text: str, lang: str, values: list[int]) -> None:
    found = [
        q.value for q in find_quantities(tokenize(text), text, lang) if not (q.article and values != [1])
    ]
    assert found == values


# -- product words, quantities and questions ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "query", "price", "stock"),
    [
        ("tenés martillos?", "martillos", False, True),
        ("cuánto sale el taladro", "taladro", True, False),
        ("do you have paint?", "paint", False, True),
        ("precio del cemento", "cemento", True, False),
        ("how much is the cordless drill?", "cordless drill", True, False),
        ("tienen pintura látex blanca de 20 litros?", "pintura látex blanca 20 litros", False, True),
        ("presio del cemento portland", "cemento portland", True, False),
        ("che, tenés rodillos de lana?", "rodillos lana", False, True),
    ],
)
def test_product_query_slots(prompts: PromptStore, text: str, query: str, price: bool, stock: bool) -> None:
    got = understand(text, prompts)
    assert got.intent == "product_query"
    assert got.query == query
    assert (got.asks_price, got.asks_stock) == (price, stock)


@pytest.mark.parametrize(
    ("text", "quantity", "query"),
    [
        ("quiero 10 martillos", 10, "martillos"),
        ("quiero comprar 10 martillos", 10, "martillos"),
        ("mandame 3", 3, ""),
        ("dame dos", 2, ""),
        ("comprar una maza", 1, "maza"),
        ("quiero comprar el taladro", None, "taladro"),
        ("I'll take 3 hammers", 3, "hammers"),
        ("anotame media docena de pinceles", 6, "pinceles"),
        ("quiero 2 latas de pintura de 20 litros", 2, "latas pintura 20 litros"),
        ("mándame veinte bolsas de cemento", 20, "bolsas cemento"),
    ],
)
def test_purchase_slots(prompts: PromptStore, text: str, quantity: int | None, query: str) -> None:
    got = understand(text, prompts)
    assert got.intent == "purchase"
    assert got.quantity == quantity
    assert got.query == query


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("mejor 5", 5),
        ("que sean 3", 3),
        ("no, mandame 3", 3),
        ("make it 2", 2),
        ("en vez de 10 que sean 8", 8),
    ],
)
def test_quantity_changes(prompts: PromptStore, text: str, quantity: int) -> None:
    got = understand(text, prompts)
    assert (got.intent, got.quantity, got.query) == ("quantity_change", quantity, "")


def test_ordinal_refers_to_products_shown(prompts: PromptStore) -> None:
    assert understand("quiero el segundo", prompts).ordinal == 1
    assert understand("I'll take the first one", prompts).ordinal == 0
    assert understand("dame el último", prompts).ordinal == -1


# -- meetings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("me agendás una visita el martes a las 10?", "el martes a las 10"),
        ("can we meet tomorrow at 3pm", "tomorrow at 3pm"),
        ("turno para el jueves 15hs", "el jueves 15hs"),
        ("mañana a la tarde", "mañana a la tarde"),
        ("el lunes que viene a las 9:30", "el lunes que viene a las 9:30"),
        ("visita el 12/5 a las 11", "el 12/5 a las 11"),
    ],
)
def test_time_phrase(text: str, when: str) -> None:
    found = find_time(tokenize(text), text)
    assert found is not None and found.text == when


def test_no_time_phrase_in_plain_requests() -> None:
    for text in ("quiero 10 martillos", "llegó tarde el pedido", "mi cel es 11 5555-1234"):
        assert find_time(tokenize(text), text) is None


@pytest.mark.parametrize(
    ("text", "action", "when"),
    [
        ("me agendás una visita el martes a las 10?", "book", "el martes a las 10"),
        ("quiero agendar una reunión", "book", None),
        ("cancelá el turno del martes", "cancel", "martes"),
        ("podemos pasar la visita para el jueves?", "reschedule", "el jueves"),
        ("qué horarios tenés libres para una visita?", "availability", None),
        ("I'd like to book a call for friday at 11am", "book", "friday at 11am"),
        ("cancel my appointment", "cancel", None),
    ],
)
def test_meeting_slots(prompts: PromptStore, text: str, action: str, when: str | None) -> None:
    got = understand(text, prompts)
    assert (got.intent, got.action, got.when) == ("meeting", action, when)


def test_meeting_topic(prompts: PromptStore) -> None:
    got = understand("me agendás una visita el martes a las 10 para medir la cocina?", prompts)
    assert got.topic == "medir la cocina"
    assert understand("can we set up a call?", prompts).topic == "call"


# -- lead data ------------------------------------------------------------------------------------


def test_lead_fields_spanish() -> None:
    lead = extract_lead(
        "soy Juan Pérez de Constructora Sur, mi mail es juan@sur.com.ar y mi cel 11 5555-1234"
    )
    assert lead == {
        "name": "Juan Pérez",
        "company": "Constructora Sur",
        "email": "juan@sur.com.ar",
        "phone": "11 5555-1234",
    }


def test_lead_signals() -> None:
    lead = extract_lead(
        "Soy Laura, encargada de compras de Grupo Delta. Necesitamos 200 bolsas de cemento "
        "para la semana que viene, presupuesto de 2 millones"
    )
    assert lead["name"] == "Laura"
    assert lead["company"] == "Grupo Delta"
    assert fold(lead["authority"]) == "encargada de compras"
    assert lead["need"].startswith("200 bolsas de cemento")
    assert lead["timeline"] == "para la semana que viene"
    assert lead["budget"] == "2 millones"


def test_lead_fields_english() -> None:
    lead = extract_lead(
        "I'm Sarah from BuildCo, I'm the owner. Reach me at sarah@buildco.com or +1 555 123 4567"
    )
    assert lead["name"] == "Sarah"
    assert lead["company"] == "BuildCo"
    assert lead["email"] == "sarah@buildco.com"
    assert lead["phone"] == "+1 555 123 4567"
    assert lead["authority"] == "I'm the owner"


def test_lead_ignores_roles_as_names() -> None:
    assert "name" not in extract_lead("soy el dueño de Ferretería Norte")
    assert extract_lead("soy el dueño de Ferretería Norte")["company"] == "Ferretería Norte"
    assert extract_lead("hola soy martin, mi mail es m@x.com")["name"] == "Martin"


# -- intents -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hola", "greeting"), ("buenas tardes", "greeting"), ("hey there", "greeting"),
        ("gracias!", "thanks"), ("chau", "goodbye"), ("qué podés hacer?", "help"),
        ("hola, tenés martillos?", "product_query"), ("cuánto sale el envío?", "knowledge"),
        ("los taladros tienen garantía?", "knowledge"), ("aceptan mercado pago?", "knowledge"),
        ("quiero devolver el taladro porque vino fallado", "complaint"), ("pésima atención", "complaint"),
        ("quiero hablar con una persona", "human"), ("agent please", "human"),
        ("necesito cotización por 200 bolsas de cemento", "quote"),
        ("mi mail es ana@gmail.com", "contact"), ("sí", "confirm"), ("no, gracias", "decline"),
        ("no sé", "fallback"), ("si tenés martillos avisame", "product_query"),
        ("quiero saber el precio del taladro", "product_query"), ("mañana a las 10 puede ser?", "meeting"),
    ],
)  # fmt: skip
def test_intents(prompts: PromptStore, text: str, intent: str) -> None:
    assert understand(text, prompts).intent == intent


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("¿cuál es el CUIT del dueño?", ""), ("what's the owner's name?", ""),
        ("do you have a loyalty program?", ""), ("¿tienen wifi para clientes?", ""),
        ("¿hacen descuento a jubilados?", ""), ("¿cuánto sale la membresía?", ""),
        ("which drill is best for concrete?", "drill concrete"), ("¿aceptan mascotas?", "mascotas"),
        ("¿tienen descuento en taladros?", "taladros"),
    ],
)  # fmt: skip
def test_open_questions_keep_only_possible_product_words(prompts: PromptStore, text: str, query: str) -> None:
    """Not clearly about products: the documents first, then the catalog with what could name a product."""
    got = understand(text, prompts)
    assert (got.intent, got.query) == ("question", query)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("tenés martillos?", "product_query"), ("cuánto sale el taladro?", "product_query"),
        ("do you have paint?", "product_query"), ("martillo?", "product_query"),
        ("¿tienen bicicletas?", "product_query"), ("do you guys have extension cords?", "product_query"),
        ("¿cuál es el más barato?", "product_query"), ("¿hacen factura A?", "knowledge"),
        ("¿tienen estacionamiento para bicicletas?", "knowledge"), ("what's 2+2?", "fallback"),
        ("cuál es el sentido de la vida?", "fallback"), ("buenas, qué tal?", "greeting"),
        ("quiero hablar con el dueño", "human"),
    ],
)  # fmt: skip
def test_product_and_other_questions_keep_their_reading(prompts: PromptStore, text: str, intent: str) -> None:
    assert understand(text, prompts).intent == intent


def test_greeting_is_remembered_under_another_intent(prompts: PromptStore) -> None:
    got = understand("hola! tenés taladros?", prompts)
    assert got.intent == "product_query" and got.greeted
