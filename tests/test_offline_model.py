"""OfflineChatModel end to end on realistic message lists: tool calls out, replies from tool results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from agent.offline import OfflineChatModel
from prompts import PromptStore

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
ALL_TOOLS = [
    "search_products", "register_sale", "search_knowledge", "schedule_meeting", "qualify_lead",
    "handoff_to_human", "generate_insights",
]  # fmt: skip
HAMMERS = [
    {"sku": "MAR-16", "name": "Martillo carpintero 16oz", "description": "", "category": "Herramientas",
     "price": "12500.00", "currency": "ARS", "stock": 7, "score": 0.91},
    {"sku": "MAR-GOMA", "name": "Martillo de goma", "description": "", "category": "Herramientas",
     "price": "8900.50", "currency": "ARS", "stock": 0, "score": 0.84},
]  # fmt: skip


def schema(name: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": name, "description": name, "parameters": {"type": "object", "properties": {}}},
    }


def system(
    lang: str = "es", focus: list[dict[str, str]] | None = None, pending: dict | None = None
) -> SystemMessage:
    facts = {"business_name": "Ferretería Demo", "language": lang, "currency": "ARS", "focus": focus or [],
             "pending": pending, "tools": ALL_TOOLS}  # fmt: skip
    return SystemMessage("You are Mostrador.", additional_kwargs={"mostrador": facts})


@pytest.fixture(scope="module")
def model() -> OfflineChatModel:
    return OfflineChatModel(prompts=PromptStore(PROMPTS))


async def ask(
    model: OfflineChatModel, messages: list[BaseMessage], tools: list[str] = ALL_TOOLS
) -> AIMessage:
    return await model.bind_tools([schema(t) for t in tools]).ainvoke(messages)


def answer(ai: AIMessage, *payloads: dict[str, Any]) -> list[BaseMessage]:
    """The AI tool-call message followed by one ToolMessage per call, in order."""
    assert len(ai.tool_calls) == len(payloads)
    return [
        ai,
        *(
            ToolMessage(json.dumps(p), tool_call_id=c["id"], name=c["name"])
            for c, p in zip(ai.tool_calls, payloads, strict=True)
        ),
    ]


def calls(ai: AIMessage) -> list[tuple[str, dict[str, Any]]]:
    return [(c["name"], c["args"]) for c in ai.tool_calls]


# -- basics -------------------------------------------------------------------------------


async def test_greeting_mentions_business_and_capabilities(model: OfflineChatModel) -> None:
    ai = await ask(model, [system(), HumanMessage("hola")])
    assert not ai.tool_calls and "Ferretería Demo" in ai.content
    ai = await ask(model, [system(), HumanMessage("hi")])
    assert "Ferretería Demo" in ai.content and "order" in ai.content


async def test_usage_metadata_and_unique_ids(model: OfflineChatModel) -> None:
    ai = await ask(model, [system(), HumanMessage("necesito cotización por 200 bolsas de cemento")])
    assert ai.usage_metadata["input_tokens"] > 0 and ai.usage_metadata["output_tokens"] > 0
    ids = [c["id"] for c in ai.tool_calls]
    assert len(ids) == 2 and len(set(ids)) == 2
    again = await ask(model, [system(), HumanMessage("necesito cotización por 200 bolsas de cemento")])
    assert not set(ids) & {c["id"] for c in again.tool_calls}


def test_sync_invoke_and_type(model: OfflineChatModel) -> None:
    ai = model.bind_tools([schema("search_products")]).invoke([system(), HumanMessage("tenés martillos?")])
    assert calls(ai) == [("search_products", {"query": "martillos", "limit": 5})]
    assert model._llm_type == "mostrador-offline"


async def test_only_bound_tools_are_called(model: OfflineChatModel) -> None:
    ai = await ask(model, [system(), HumanMessage("tenés martillos?")], tools=["schedule_meeting"])
    assert not ai.tool_calls and ai.content
    ai = await ask(
        model, [system(), HumanMessage("quiero hablar con una persona")], tools=["search_products"]
    )
    assert not ai.tool_calls and ai.content


# -- products ----------------------------------------------------------------------------------------


async def test_price_question_answers_price_with_spanish_separators(model: OfflineChatModel) -> None:
    human = HumanMessage("cuánto sale el martillo?")
    ai = await ask(model, [system(), human])
    assert calls(ai) == [("search_products", {"query": "martillo", "limit": 5})]
    final = await ask(model, [system(), human, *answer(ai, {"query": "martillo", "results": HAMMERS})])
    assert not final.tool_calls
    assert final.content.startswith("Martillo carpintero 16oz está a $12.500 (7 en stock)")
    assert "Martillo de goma: $8.900,50 (sin stock)" in final.content


async def test_answers_in_the_language_of_the_last_message(model: OfflineChatModel) -> None:
    human = HumanMessage("do you have hammers?")
    ai = await ask(model, [system("es"), HumanMessage("hola"), AIMessage("¡Hola!"), human])
    assert calls(ai) == [("search_products", {"query": "hammers", "limit": 5})]
    final = await ask(model, [system("es"), human, *answer(ai, {"query": "hammers", "results": HAMMERS})])
    assert "$12,500 ARS" in final.content and "in stock" in final.content and "out of stock" in final.content


async def test_nothing_found(model: OfflineChatModel) -> None:
    """Nothing in the catalog: the owner's documents are asked too; when they don't have it either,
    the reply says the catalog has no such product (never "I don't have that information")."""
    human = HumanMessage("tenés motosierras?")
    ai = await ask(model, [system(), human])
    looked = [*answer(ai, {"query": "motosierras", "results": []})]
    documents = await ask(model, [system(), human, *looked])
    assert calls(documents) == [("search_knowledge", {"question": "tenés motosierras?"})]
    final = await ask(model, [system(), human, *looked, *answer(documents, {"found": False})])
    assert "No encontré «motosierras»" in final.content


async def test_price_of_the_product_in_focus(model: OfflineChatModel) -> None:
    ai = await ask(
        model,
        [system(focus=[{"sku": "TAL-1", "name": "Taladro percutor 650W"}]), HumanMessage("cuánto sale?")],
    )
    assert calls(ai) == [("search_products", {"query": "Taladro percutor 650W", "limit": 5})]


# -- purchases -------------------------------------------------------------------------------------


async def test_purchase_searches_then_registers_the_best_match(model: OfflineChatModel) -> None:
    human = HumanMessage("quiero 10 martillos")
    ai = await ask(model, [system(), human])
    assert calls(ai) == [("search_products", {"query": "martillos", "limit": 5})]
    history = [system(), human, *answer(ai, {"query": "martillos", "results": HAMMERS})]
    sale = await ask(model, history)
    assert calls(sale) == [("register_sale", {"sku": "MAR-16", "quantity": 10})]
    out = await ask(
        model,
        [
            *history,
            *answer(sale, {"status": "out_of_stock", "sku": "MAR-16", "name": "Martillo carpintero 16oz"}),
        ],
    )
    assert not out.tool_calls and "Martillo carpintero 16oz está sin stock" in out.content


async def test_purchase_prefers_the_product_named_first(model: OfflineChatModel) -> None:
    results = [
        {
            "sku": "MEC-1",
            "name": "Mechas para taladro x10",
            "price": "5000",
            "currency": "ARS",
            "stock": 9,
            "score": 0.9,
        },
        {
            "sku": "TAL-1",
            "name": "Taladro percutor 650W",
            "price": "45990",
            "currency": "ARS",
            "stock": 3,
            "score": 0.88,
        },
    ]
    human = HumanMessage("quiero comprar el taladro")
    ai = await ask(model, [system(), human])
    sale = await ask(model, [system(), human, *answer(ai, {"query": "taladro", "results": results})])
    assert calls(sale) == [("register_sale", {"sku": "TAL-1", "quantity": 1})]


async def test_ambiguous_purchase_asks_which(model: OfflineChatModel) -> None:
    results = [
        {
            "sku": "A",
            "name": "Pintura látex interior 20L",
            "price": "30000",
            "currency": "ARS",
            "stock": 4,
            "score": 0.52,
        },
        {
            "sku": "B",
            "name": "Rodillo lana 23cm",
            "price": "7000",
            "currency": "ARS",
            "stock": 8,
            "score": 0.5,
        },
    ]
    human = HumanMessage("I'll take 3 paint rollers")
    ai = await ask(model, [system("en"), human])
    out = await ask(model, [system("en"), human, *answer(ai, {"query": "paint rollers", "results": results})])
    assert not out.tool_calls
    assert "Which one" in out.content and "Rodillo lana 23cm" in out.content
    # ... and the short answer continues the purchase with the quantity asked for before
    shown = [{"sku": "A", "name": "Pintura látex interior 20L"}, {"sku": "B", "name": "Rodillo lana 23cm"}]
    history = [
        system("en", focus=shown),
        human,
        *answer(ai, {"query": "paint rollers", "results": results}),
        out,
    ]
    pick = await ask(model, [*history, HumanMessage("the second one")])
    assert calls(pick) == [("register_sale", {"sku": "B", "quantity": 3})]


async def test_purchase_without_product_uses_focus(model: OfflineChatModel) -> None:
    focus = [{"sku": "MAR-16", "name": "Martillo carpintero 16oz"}]
    ai = await ask(model, [system(focus=focus), HumanMessage("mandame 3")])
    assert calls(ai) == [("register_sale", {"sku": "MAR-16", "quantity": 3})]
    ai = await ask(model, [system(), HumanMessage("mandame 3")])
    assert not ai.tool_calls and "3" in ai.content


async def test_quantity_change_on_pending_order(model: OfflineChatModel) -> None:
    pending = {"kind": "sale", "sku": "CEM-50", "name": "Cemento 50kg", "quantity": 10}
    focus = [{"sku": "MAR-16", "name": "Martillo carpintero 16oz"}]
    for text, quantity in (
        ("mejor 5", 5),
        ("no, mandame 3", 3),
        ("make it 2", 2),
        ("que sean media docena", 6),
    ):
        ai = await ask(model, [system(focus=focus, pending=pending), HumanMessage(text)])
        assert calls(ai) == [("register_sale", {"sku": "CEM-50", "quantity": quantity})], text


async def test_sale_problems_are_said(model: OfflineChatModel) -> None:
    human = HumanMessage("mandame 3")
    focus = [{"sku": "X-1", "name": "Llave inglesa"}]
    ai = await ask(model, [system(focus=focus), human])
    out = await ask(model, [system(focus=focus), human, *answer(ai, {"status": "unknown_sku", "sku": "X-1"})])
    assert "No encontré ese producto" in out.content
    proposed = {
        "status": "proposed",
        "order": {
            "sku": "X-1",
            "name": "Llave inglesa",
            "quantity": 3,
            "total": "36000.00",
            "currency": "ARS",
        },
    }
    out = await ask(model, [system(focus=focus), human, *answer(ai, proposed)])
    assert "3 × Llave inglesa por $36.000" in out.content


# -- knowledge ------------------------------------------------------------------------------------


async def test_business_question_cites_its_source(model: OfflineChatModel) -> None:
    human = HumanMessage("abren los domingos?")
    ai = await ask(model, [system(), human])
    assert calls(ai) == [("search_knowledge", {"question": "abren los domingos?"})]
    found = {
        "found": True,
        "answer": "Los domingos permanecemos cerrados.",
        "source": "horarios.md › Domingos",
    }
    out = await ask(model, [system(), human, *answer(ai, found)])
    assert out.content == "Según «Domingos»: Los domingos permanecemos cerrados."  # the section, no file name
    out = await ask(model, [system(), human, *answer(ai, {"found": False})])
    assert "No tengo esa información" in out.content


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a qué hora cierran?", "Nuestro horario: lunes a viernes de 9:00 a 18:00; sábados de 9:00 a 13:00; "
                                "domingos, cerrado."),
        ("hola, cuál es el horario de atención?", "¡Hola! Nuestro horario: lunes a viernes de 9:00 a 18:00; "
                                                  "sábados de 9:00 a 13:00; domingos, cerrado."),
        ("what are your opening hours?", "Our opening hours: Monday to Friday 9:00 to 18:00; Saturdays 9:00 to "
                                         "13:00; Sundays closed."),
    ],
)
async def test_opening_hours_come_from_the_business_config(model: OfflineChatModel, text: str, expected: str) -> None:
    """A general hours question is answered with the configured hours, whatever passage the documents
    return; a question about a particular day keeps the documents' answer (test above)."""
    hours = {"mon": [["09:00", "18:00"]], "tue": [["09:00", "18:00"]], "wed": [["09:00", "18:00"]],
             "thu": [["09:00", "18:00"]], "fri": [["09:00", "18:00"]], "sat": [["09:00", "13:00"]], "sun": []}
    lang = "en" if text.startswith("what") else "es"
    sys_msg = system(lang)
    sys_msg.additional_kwargs["mostrador"]["hours"] = hours
    human = HumanMessage(text)
    ai = await ask(model, [sys_msg, human])
    assert calls(ai)[0][0] == "search_knowledge"
    intro = {"found": True, "answer": "Atendemos en el local y por este chat.", "source": "horarios.md › Horarios"}
    out = await ask(model, [sys_msg, human, *answer(ai, intro)])
    assert out.content.startswith(expected), out.content

    split = {**hours, "mon": [["09:00", "13:00"], ["16:00", "20:00"]]}
    sys_msg.additional_kwargs["mostrador"]["hours"] = split
    out = await ask(model, [sys_msg, human, *answer(ai, intro)])
    first = "lunes de 9:00 a 13:00 y de 16:00 a 20:00; martes a viernes" if lang == "es" else (
        "Monday 9:00 to 13:00 and 16:00 to 20:00; Tuesday to Friday")
    assert first in out.content, out.content


# -- open questions: the documents first, then the catalog, else honestly "I don't know" ----------

NOT_FOUND = {"found": False}
DRILLS = [
    {"sku": "TAL-1", "name": "Taladro percutor 13 mm 750 W", "price": "89900", "currency": "ARS", "stock": 6,
     "score": 0.66},
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "lang", "honest", "offer"),
    [
        (
            "¿cuál es el CUIT del dueño?",
            "es",
            "No tengo esa información",
            "¿Querés que te pase con una persona",
        ),
        ("what's the owner's name?", "en", "I don't have that information", "pass you to a person"),
        ("do you have a loyalty program?", "en", "I don't have that information", "pass you to a person"),
        (
            "¿tienen programa de puntos?",
            "es",
            "No tengo esa información",
            "¿Querés que te pase con una persona",
        ),
    ],
)
async def test_business_question_not_covered_gets_an_honest_answer(
    model: OfflineChatModel, text: str, lang: str, honest: str, offer: str
) -> None:
    human = HumanMessage(text)
    ai = await ask(model, [system(lang), human])
    assert calls(ai) == [("search_knowledge", {"question": text})]
    out = await ask(model, [system(lang), human, *answer(ai, NOT_FOUND)])
    assert not out.tool_calls  # only business words: nothing to look up in the catalog
    assert honest in out.content and offer in out.content
    assert "catálogo" not in out.content and "catalog" not in out.content
    assert not any(ch.isdigit() for ch in out.content)


async def test_business_question_covered_cites_the_document(model: OfflineChatModel) -> None:
    human = HumanMessage("¿hacen descuento a jubilados?")
    ai = await ask(model, [system(), human])
    assert calls(ai)[0][0] == "search_knowledge"
    found = {
        "found": True,
        "answer": "Los jubilados tienen 5% de descuento.",
        "source": "pagos.md › Descuentos",
    }
    out = await ask(model, [system(), human, *answer(ai, found)])
    assert out.content == "Según «Descuentos»: Los jubilados tienen 5% de descuento."


async def test_question_with_product_words_tries_the_catalog_next(model: OfflineChatModel) -> None:
    human = HumanMessage("which drill is best for concrete?")
    ai = await ask(model, [system("en"), human])
    assert calls(ai) == [("search_knowledge", {"question": "which drill is best for concrete?"})]
    history = [system("en"), human, *answer(ai, NOT_FOUND)]
    search = await ask(model, history)
    assert calls(search) == [("search_products", {"query": "drill concrete", "limit": 5})]
    out = await ask(model, [*history, *answer(search, {"query": "drill concrete", "results": DRILLS})])
    assert not out.tool_calls
    assert "Taladro percutor 13 mm 750 W: $89,900 ARS" in out.content and "Yes!" not in out.content
    nothing = await ask(model, [*history, *answer(search, {"query": "drill concrete", "results": []})])
    assert "I don't have that information" in nothing.content and "catalog" not in nothing.content


async def test_catalog_look_alikes_do_not_answer_a_question(model: OfflineChatModel) -> None:
    human = HumanMessage("any discounts for contractors?")
    ai = await ask(model, [system("en"), human])
    history = [system("en"), human, *answer(ai, NOT_FOUND)]
    search = await ask(model, history)
    assert calls(search) == [("search_products", {"query": "contractors", "limit": 5})]
    glue = [{"sku": "ADH", "name": "Adhesivo de contacto 250 ml", "price": "5300", "currency": "ARS", "stock": 16,
             "score": 0.38}]  # fmt: skip
    out = await ask(model, [*history, *answer(search, {"query": "contractors", "results": glue})])
    assert "Adhesivo" not in out.content and "I don't have that information" in out.content


async def test_product_questions_still_go_straight_to_the_catalog(model: OfflineChatModel) -> None:
    for text, query in (
        ("tenés martillos?", "martillos"),
        ("cuánto sale el taladro?", "taladro"),
        ("do you have paint?", "paint"),
        ("¿tienen bicicletas?", "bicicletas"),
    ):
        ai = await ask(model, [system(), HumanMessage(text)])
        assert calls(ai) == [("search_products", {"query": query, "limit": 5})], text


async def test_yes_to_the_offer_hands_over_with_the_question(model: OfflineChatModel) -> None:
    question = HumanMessage("¿cuál es el CUIT del dueño?")
    ai = await ask(model, [system(), question])
    reply = await ask(model, [system(), question, *answer(ai, NOT_FOUND)])
    history = [system(), question, *answer(ai, NOT_FOUND), reply]
    yes = await ask(model, [*history, HumanMessage("sí, dale")])
    assert calls(yes) == [
        ("handoff_to_human", {"reason": "question the documents do not answer: ¿cuál es el CUIT del dueño?"})
    ]
    assert yes.content  # the graph answers right after a hand-over
    no = await ask(model, [*history, HumanMessage("no, gracias")])
    assert not no.tool_calls and no.content == model.prompts.text("offline.decline_nothing", "es")
    # a plain "sí" with no offer before it still hands nothing over
    plain = await ask(model, [system(), HumanMessage("hola"), AIMessage("¡Hola!"), HumanMessage("sí")])
    assert not plain.tool_calls


async def test_no_offer_without_handoff_and_no_catalog_without_knowledge(model: OfflineChatModel) -> None:
    tools = ["search_products", "search_knowledge"]
    human = HumanMessage("¿cuál es el CUIT del dueño?")
    ai = await ask(model, [system(), human], tools=tools)
    out = await ask(model, [system(), human, *answer(ai, NOT_FOUND)], tools=tools)
    assert "No tengo esa información" in out.content and "persona" not in out.content
    ai = await ask(
        model, [system("en"), HumanMessage("which drill is best for concrete?")], tools=["search_products"]
    )
    assert calls(ai) == [("search_products", {"query": "drill concrete", "limit": 5})]
    ai = await ask(model, [system(), HumanMessage("¿cuál es el CUIT del dueño?")], tools=["search_products"])
    assert not ai.tool_calls and "No tengo esa información" in ai.content


async def test_knowledge_question_not_covered_offers_a_person(model: OfflineChatModel) -> None:
    human = HumanMessage("hacen envíos a Tierra del Fuego?")
    ai = await ask(model, [system(), human])
    assert calls(ai)[0][0] == "search_knowledge"
    out = await ask(model, [system(), human, *answer(ai, NOT_FOUND)])
    assert not out.tool_calls and "¿Querés que te pase con una persona del equipo?" in out.content


async def test_a_question_picking_among_options_continues_the_purchase(model: OfflineChatModel) -> None:
    human = HumanMessage("quiero 2 martillos")
    searched = AIMessage("", tool_calls=[{"name": "search_products", "args": {"query": "martillos", "limit": 5},
                                          "id": "call_1", "type": "tool_call"}])  # fmt: skip
    which = AIMessage("Encontré varias opciones para «martillos». ¿Cuál querés? Te preparo 2.")
    history = [system(), human, *answer(searched, {"query": "martillos", "results": HAMMERS}), which]
    pick = await ask(model, [*history, HumanMessage("¿cuál es el de goma?")])
    assert calls(pick) == [("search_products", {"query": "goma", "limit": 5})]
    sale = await ask(
        model,
        [
            *history,
            HumanMessage("¿cuál es el de goma?"),
            *answer(pick, {"query": "goma", "results": HAMMERS}),
        ],
    )
    assert calls(sale) == [("register_sale", {"sku": "MAR-GOMA", "quantity": 2})]
    # a question about the business in the middle is answered as one, not ordered
    other = await ask(model, [*history, HumanMessage("¿cuál es el CUIT del dueño?")])
    assert calls(other)[0][0] == "search_knowledge"


# -- meetings --------------------------------------------------------------------------------------


async def test_meeting_request_and_alternatives(model: OfflineChatModel) -> None:
    human = HumanMessage("me agendás una visita el martes a las 10?")
    ai = await ask(model, [system(), human])
    assert calls(ai) == [
        ("schedule_meeting", {"action": "book", "when": "el martes a las 10", "topic": "visita"})
    ]
    busy = {"status": "busy", "requested": "2030-01-08T10:00:00-03:00",
            "alternatives": [{"start": "2030-01-08T10:30:00-03:00", "display": "martes 8/1 10:30"},
                             {"start": "2030-01-08T11:00:00-03:00", "display": "martes 8/1 11:00"}]}  # fmt: skip
    out = await ask(model, [system(), human, *answer(ai, busy)])
    assert "ocupado" in out.content and "• martes 8/1 10:30" in out.content
    with_say = {**busy, "say": "El martes a las 10 está ocupado; puedo 10:30 u 11:00."}
    out = await ask(model, [system(), human, *answer(ai, with_say)])
    assert out.content == with_say["say"]
    need = await ask(model, [system(), human, *answer(ai, {"status": "need_time"})])
    assert "¿Qué día y a qué hora" in need.content


async def test_meeting_cancel_and_english(model: OfflineChatModel) -> None:
    ai = await ask(model, [system("en"), HumanMessage("I need to cancel our meeting")])
    assert calls(ai)[0][0] == "schedule_meeting" and calls(ai)[0][1]["action"] == "cancel"
    human = HumanMessage("can we meet tomorrow at 3pm?")
    ai = await ask(model, [system("es"), human])
    assert calls(ai)[0][1]["when"] == "tomorrow at 3pm"
    out = await ask(
        model,
        [
            system("es"),
            human,
            *answer(
                ai,
                {
                    "status": "outside_hours",
                    "alternatives": [{"display": "Mon 9:00"}],
                    "say": "Fuera de horario.",
                },
            ),
        ],
    )
    assert "outside our business hours" in out.content and "Mon 9:00" in out.content


# -- leads, complaints, humans -------------------------------------------------------------------


async def test_contact_data_goes_to_qualify_lead(model: OfflineChatModel) -> None:
    human = HumanMessage(
        "soy Juan Pérez de Constructora Sur, mi mail es juan@sur.com.ar y mi cel 11 5555-1234"
    )
    ai = await ask(model, [system(), human])
    assert calls(ai) == [("qualify_lead", {"name": "Juan Pérez", "company": "Constructora Sur",
                                           "email": "juan@sur.com.ar", "phone": "11 5555-1234"})]  # fmt: skip
    result = {"lead": {"name": "Juan Pérez", "email": "juan@sur.com.ar"}, "score": 50, "qualified": False,
              "invalid": {}, "missing": ["need", "budget"]}  # fmt: skip
    out = await ask(model, [system(), human, *answer(ai, result)])
    assert out.content.startswith("¡Gracias, Juan Pérez!") and "qué necesitás" in out.content
    bad = {"lead": {}, "score": 10, "qualified": False, "invalid": {"email": "el dominio no existe"}}
    out = await ask(model, [system(), human, *answer(ai, bad)])
    assert "el mail «juan@sur.com.ar» no parece válido (el dominio no existe)" in out.content


async def test_quote_calls_lead_and_search_together(model: OfflineChatModel) -> None:
    human = HumanMessage("necesito cotización por 200 bolsas de cemento")
    ai = await ask(model, [system(), human])
    assert [name for name, _ in calls(ai)] == ["qualify_lead", "search_products"]
    assert calls(ai)[0][1]["need"] == "necesito cotización por 200 bolsas de cemento"
    assert "cemento" in calls(ai)[1][1]["query"]
    lead = {"lead": {}, "score": 15, "qualified": False, "invalid": {}, "missing": ["email", "phone"]}
    cement = {
        "query": "cemento",
        "results": [
            {"sku": "C", "name": "Cemento Portland 50kg", "price": "9800", "currency": "ARS", "stock": 300}
        ],
    }
    out = await ask(model, [system(), human, *answer(ai, lead, cement)])
    assert not out.tool_calls
    assert (
        "Cemento Portland 50kg: $9.800 (300 en stock)" in out.content and "mail o un teléfono" in out.content
    )


async def test_complaint_apologizes_and_hands_off(model: OfflineChatModel) -> None:
    human = HumanMessage("el taladro llegó roto")
    ai = await ask(model, [system(), human])
    assert calls(ai) == [("handoff_to_human", {"reason": "complaint: el taladro llegó roto"})]
    assert "Lamento" in ai.content  # the graph replies right after a hand-over
    out = await ask(model, [system(), human, *answer(ai, {"status": "handed_off"})])
    assert "Lamento" in out.content and "persona del equipo" in out.content


async def test_human_request(model: OfflineChatModel) -> None:
    ai = await ask(model, [system("en"), HumanMessage("agent please")])
    assert calls(ai)[0][0] == "handoff_to_human" and ai.content


async def test_tool_failure_is_graceful(model: OfflineChatModel) -> None:
    human = HumanMessage("a qué hora abren?")
    ai = await ask(model, [system(), human])
    out = await ask(
        model, [system(), human, *answer(ai, {"error": "tool 'search_knowledge' is not available"})]
    )
    assert not out.tool_calls and "problema" in out.content


async def test_fallback_says_what_it_can_do(model: OfflineChatModel) -> None:
    ai = await ask(model, [system(), HumanMessage("qué opinás de Messi?")])
    assert not ai.tool_calls and ai.content in model.prompts.variants("offline.fallback", "es")


async def test_observers_see_every_offline_call_and_get_the_same_answer(model: OfflineChatModel) -> None:
    """The unobserved fast path and LangChain's standard path answer alike; a handler sees its call."""
    from langchain_core.callbacks import AsyncCallbackHandler

    class Seen(AsyncCallbackHandler):
        def __init__(self) -> None:
            self.events: list[str] = []

        async def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
            self.events.append("start")

        async def on_llm_end(self, *args: Any, **kwargs: Any) -> None:
            self.events.append("end")

    messages = [system(), HumanMessage("quiero 3 martillos")]
    bound = model.bind_tools([schema(t) for t in ALL_TOOLS])
    seen = Seen()
    fast = await bound.ainvoke(messages)
    observed = await bound.ainvoke(messages, config={"callbacks": [seen]})
    assert seen.events == ["start", "end"]
    assert [(c["name"], c["args"]) for c in fast.tool_calls] == [(c["name"], c["args"]) for c in observed.tool_calls]
    assert fast.tool_calls and fast.content == observed.content
    assert fast.usage_metadata == observed.usage_metadata
