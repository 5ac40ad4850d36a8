"""The dialogue's state drives the reading of each message (issue 10), over HTTP with the built-in model.

- A line of the open order swapped by attribute ("el de goma") or by its position in the list shown.
- A bare number answers the bot's own question (one product shown, or the order offered).
- A price or stock change between the offer and the yes commits nothing and asks again with the new
  figures; the next yes commits at the new price.
- A meeting's hour corrected alone keeps its day; a closed day is said so.
- An order with a business question beside it gets both answered in one reply.
- A knowledge answer is the sentence or two that answer, cited by section, never by file.
- An LLM gets the same dialogue state over the wire (the system message's state block).
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from agent.dialogue import STATE_MARKER, facts_from_text
from tests.conftest import SMALL_CATALOG, Harness, make_settings, running
from tests.fakes.openai_api import FakeOpenAI

TZ = ZoneInfo("America/Argentina/Buenos_Aires")
MORE = "MART-GOMA,Martillo de goma,Maza de goma negra,Herramientas,8900.00,12\n"


async def appointment_start(bot: Harness, chat_id: str, status: str | None = None) -> datetime:
    """The start, in the business's time zone, of the conversation's one appointment (of `status`)."""
    [appointment] = [a for a in (await bot.conversation(chat_id))["appointments"] if status in (None, a["status"])]
    return datetime.fromisoformat(appointment["start"]).astimezone(TZ)


async def test_a_line_swapped_by_attribute_keeps_its_quantity(bot: Harness) -> None:
    assert (await bot.import_csv(SMALL_CATALOG + MORE))["status"] == 200
    offer = await bot.say("swap-1", "quiero 2 martillos carpintero")
    assert "2 × Martillo carpintero" in offer[-1]["text"]
    swapped = await bot.say("swap-1", "no, mejor cambialo por el de goma")
    assert "2 × Martillo de goma" in swapped[-1]["text"] and "carpintero" not in swapped[-1]["text"]
    await bot.say("swap-1", "sí")
    assert await bot.sold("swap-1") == [("MART-GOMA", 2)]


async def test_a_line_swapped_by_its_position_in_the_list_shown(bot: Harness) -> None:
    assert (await bot.import_csv(SMALL_CATALOG + MORE))["status"] == 200
    listed = await bot.say("swap-2", "¿qué martillos tenés?")
    names = [line for line in listed[-1]["text"].splitlines() if "Martillo" in line]
    assert len(names) >= 2, listed
    await bot.say("swap-2", "quiero 3 del primero")
    second = "goma" if "goma" in names[1] else "carpintero"
    swapped = await bot.say("swap-2", "no, mejor el segundo")
    assert f"3 × Martillo {'de goma' if second == 'goma' else 'carpintero'}" in swapped[-1]["text"], swapped
    await bot.say("swap-2", "dale")
    assert await bot.sold("swap-2") == [("MART-GOMA" if second == "goma" else "MART-16", 3)]


async def test_a_bare_number_answers_the_question_asked(bot: Harness) -> None:
    shown = await bot.say("count-1", "¿tenés taladros?")
    assert "Taladro percutor" in shown[-1]["text"]
    offer = await bot.say("count-1", "2")
    assert "2 × Taladro percutor" in offer[-1]["text"] and offer[-1]["buttons"]
    changed = await bot.say("count-1", "3")  # the order offered: a new quantity for its only line
    assert "3 × Taladro percutor" in changed[-1]["text"]
    await bot.say("count-1", "sí")
    assert await bot.sold("count-1") == [("TAL-650", 3)]


async def test_a_price_change_before_the_yes_is_asked_again(bot: Harness) -> None:
    offer = await bot.say("price-1", "quiero 2 martillos")
    assert "$12.500" in offer[-1]["text"]
    assert (await bot.import_csv(SMALL_CATALOG.replace("12500.00", "13900.00")))["status"] == 200
    again = await bot.say("price-1", "sí")
    text = again[0]["text"]
    assert "no registré nada" in text and "$13.900" in text and "$12.500" in text and again[0]["buttons"]
    assert (await bot.conversation("price-1"))["sales"] == []
    assert (await bot.product("MART-16"))["stock"] == 7  # nothing sold
    await bot.say("price-1", "sí")
    [sale] = (await bot.conversation("price-1"))["sales"]
    assert (sale["sku"], sale["quantity"], float(sale["unit_price"])) == ("MART-16", 2, 13900.0)


async def test_a_stock_drop_before_the_yes_offers_what_is_left(bot: Harness) -> None:
    await bot.say("stock-1", "quiero 3 bolsas de cemento y 2 martillos")
    assert (await bot.import_csv(SMALL_CATALOG.replace(",9800.00,5", ",9800.00,1")))["status"] == 200
    again = await bot.say("stock-1", "sí")
    assert "1 × Cemento" in again[0]["text"] and "2 × Martillo" in again[0]["text"]
    assert (await bot.conversation("stock-1"))["sales"] == []
    await bot.say("stock-1", "dale")
    assert await bot.sold("stock-1") == [("CEM-50", 1), ("MART-16", 2)]


async def test_an_hour_corrected_alone_keeps_the_day(bot: Harness) -> None:
    first = await bot.say("meet-hour", "¿me agendás una reunión el martes a las 15?")
    assert "martes" in first[-1]["text"] and "15:00" in first[-1]["text"]
    moved = await bot.say("meet-hour", "mejor a las 12")
    assert "martes" in moved[-1]["text"] and "12:00" in moved[-1]["text"], moved
    await bot.say("meet-hour", "perfecto")
    start = await appointment_start(bot, "meet-hour")
    assert (start.weekday(), start.hour) == (1, 12)


async def test_a_closed_day_is_said_and_the_next_message_moves_it(bot: Harness) -> None:
    closed = await bot.say("meet-sun", "puedo pasar el domingo a las 10 a ver a un asesor?")
    assert "domingo" in closed[-1]["text"].lower() and not closed[-1].get("buttons"), closed
    offer = await bot.say("meet-sun", "bueno, el lunes a las 10 entonces")
    assert "lunes" in offer[-1]["text"] and offer[-1]["buttons"]
    await bot.say("meet-sun", "sí")
    assert (await appointment_start(bot, "meet-sun")).weekday() == 0


async def test_an_order_and_a_business_question_in_one_message(bot: Harness) -> None:
    both = await bot.say("two-1", "quiero 2 martillos, y hacen envíos a domicilio? cuánto sale?")
    text = both[-1]["text"]
    assert "2 × Martillo carpintero" in text and both[-1]["buttons"]
    assert "$6.500" in text  # the delivery cost, from the owner's documents
    await bot.say("two-1", "sí")
    assert await bot.sold("two-1") == [("MART-16", 2)]


async def test_a_knowledge_answer_is_a_sentence_or_two_cited_by_its_section(bot: Harness) -> None:
    [reply] = await bot.say("kn-1", "¿cuánto cuesta el envío al conurbano?")
    text = reply["text"]
    assert "$9.500" in text and "Costos de envío" in text
    assert ".md" not in text and "Tiempos de entrega" not in text
    answer = text.split("»", 1)[-1]
    assert answer.count(". ") + 1 <= 2 and len(answer) < 300, text
    [reply] = await bot.say("kn-2", "where is the store?")
    assert "Warnes 1450" in reply["text"] and ".md" not in reply["text"]


async def test_an_llm_reads_the_same_dialogue_state_over_the_wire(data_dir) -> None:  # type: ignore[no-untyped-def]
    async with FakeOpenAI() as fake:
        fake.push(FakeOpenAI.tool_call("register_sale", {"sku": "MART-16", "quantity": 2}))
        fake.push("¿Algo más?")
        settings = make_settings(data_dir, llm_provider="openai", openai_api_key="sk-test",
                                 openai_base_url=fake.base_url)
        async with running(settings) as harness:
            assert (await harness.import_csv(SMALL_CATALOG))["status"] == 200
            await harness.say("wire-1", "quiero 2 martillos")
            await harness.say("wire-1", "¿tienen estacionamiento?")
        system = fake.requests[-1]["messages"][0]["content"]
        assert STATE_MARKER in system
        state = facts_from_text(system)
        assert state["pending"]["sku"] == "MART-16" and state["pending"]["quantity"] == 2
        assert state["asked"] == {"kind": "yes_no", "about": "order"}
        json.dumps(state)  # plain JSON, as any provider carries it


async def test_an_hour_after_an_out_of_hours_answer_is_on_the_day_asked(bot: Harness) -> None:
    closed = await bot.say("meet-late", "Hola, ¿me reservan una reunión con un asesor el viernes a las 19?")
    assert "no atendemos" in closed[-1]["text"] and not closed[-1].get("buttons")
    offer = await bot.say("meet-late", "ah, cierto que cierran a las 18. Entonces a las 17:30")
    assert "viernes" in offer[-1]["text"] and "17:30" in offer[-1]["text"] and offer[-1]["buttons"]
    await bot.say("meet-late", "sí, perfecto")
    start = await appointment_start(bot, "meet-late")
    assert (start.weekday(), start.hour, start.minute) == (4, 17, 30)


async def test_another_day_at_the_same_hour(bot: Harness) -> None:
    await bot.say("meet-same", "Quiero una reunión con un asesor el jueves a las 11, me llamo Carla Ibáñez")
    moved = await bot.say("meet-same", "no, perdón, mejor el viernes a la misma hora")
    assert "viernes" in moved[-1]["text"] and "11:00" in moved[-1]["text"]
    await bot.say("meet-same", "sí, confirmado")
    start = await appointment_start(bot, "meet-same")
    assert (start.weekday(), start.hour) == (4, 11)


async def test_a_quantity_changed_and_a_product_added_in_one_message(bot: Harness) -> None:
    await bot.say("edit-2", "necesito 2 martillos")
    both = await bot.say("edit-2", "ay no, mejor que sean 3, y agregame un destornillador phillips")
    assert "3 × Martillo" in both[-1]["text"] and "1 × Destornillador Phillips" in both[-1]["text"]
    await bot.say("edit-2", "listo, confirmo")
    assert await bot.sold("edit-2") == [("DEST-PH2", 1), ("MART-16", 3)]


async def test_a_yes_that_counts_in_units_commits(bot: Harness) -> None:
    await bot.say("units-1", "necesito 3 bolsas de cemento")
    await bot.say("units-1", "no, mejor que sean 4")
    done = await bot.say("units-1", "sí, confirmo las 4 bolsas")
    assert "Registré" in done[0]["text"]
    assert await bot.sold("units-1") == [("CEM-50", 4)]


async def test_a_question_the_catalog_cannot_answer_goes_to_the_documents(bot: Harness) -> None:
    [reply] = await bot.say("docs-1", "che, compré por el chat, ¿cuántos días tengo para devolver un producto?")
    assert "No encontré" not in reply["text"] and "días" in reply["text"]
    [reply] = await bot.say("docs-2", "¿tenés motosierras?")
    assert "No encontré «motosierras»" in reply["text"]  # a product asked for and not sold: said so


async def test_two_business_questions_in_one_message_get_both_answers(bot: Harness) -> None:
    [reply] = await bot.say("two-q", "¿Hacen envíos a Avellaneda? ¿Cuánto vale el domicilio?")
    text = reply["text"]
    assert "Avellaneda" in text and "$9.500" in text  # the zones and the cost, each from its section
    assert "«Zonas de entrega»" in text and "«Costos de envío»" in text


async def test_a_list_of_products_with_counts_is_an_order(bot: Harness) -> None:
    offer = await bot.say("list-1", "hola, para la obra: 2 martillos, 3 destornilladores phillips y 1 bolsa de cemento")
    text = offer[-1]["text"]
    assert "2 × Martillo" in text and "3 × Destornillador Phillips" in text and "1 × Cemento" in text
    done = await bot.say("list-1", "dale, confirmo. Av. Warnes 1450, a nombre de Gabriela Sosa")  # yes + where
    assert "Registré" in done[0]["text"]
    assert len((await bot.conversation("list-1"))["sales"]) == 3


async def test_asking_if_an_exact_time_is_free_proposes_it(bot: Harness) -> None:
    offer = await bot.say("free-1", "Buenas, ¿tienen disponibilidad el sábado a las 11:30 para una visita? Soy Valentina")
    assert "sábado" in offer[-1]["text"] and "11:30" in offer[-1]["text"] and offer[-1]["buttons"]
    await bot.say("free-1", "Perfecto, confirmo")
    start = await appointment_start(bot, "free-1")
    assert (start.weekday(), start.hour, start.minute) == (5, 11, 30)


async def test_how_a_product_is_used_is_answered_from_the_documents(bot: Harness) -> None:
    [reply] = await bot.say("use-1", "cuanto rinde un litro de latex? quiero calcular para pintar")
    assert "«" in reply["text"] and "No encontré" not in reply["text"]  # cited from a section
    [reply] = await bot.say("use-2", "How long do I have to return something I bought?")
    assert "30" in reply["text"]  # the return term, not the refund paragraph


async def test_own_broken_tool_is_shopping_not_a_complaint_and_a_real_person_is_a_hand_over(bot: Harness) -> None:
    replies = await bot.say("own-1", "Che, ¿cuántos martillos te quedan? El mío se rompió, un desastre jaja, necesito uno nuevo")
    assert (await bot.conversation("own-1"))["status"] == "bot" and "Martillo" in replies[-1]["text"]
    await bot.say("own-2", "¿Hay alguien de carne y hueso con quien pueda hablar? Es sobre una factura")
    assert (await bot.conversation("own-2"))["status"] == "human"


async def test_lead_signals_in_plain_words(bot: Harness) -> None:
    await bot.say("lead-plain", "que tal, me llamo Nicolás Herrera, tengo una empresa chica de instalaciones eléctricas, "
                                "NH Electricidad")
    await bot.say("lead-plain", "me interesaría comprar cable seguido, por mes. escribime a nico@nhelectricidad.com.ar; "
                                "las compras las decido yo y arrancamos en 2 semanas")
    lead = (await bot.conversation("lead-plain"))["lead"]
    assert lead["company"] == "NH Electricidad" and lead["email"] == "nico@nhelectricidad.com.ar"
    assert lead["authority"] and lead["timeline"] and lead["need"]
    assert lead["score"] >= 60


async def test_a_day_corrected_while_the_meeting_awaits_a_yes_keeps_its_hour(bot: Harness) -> None:
    await bot.say("meet-en", "I'd like to visit the store on Tuesday at 10 to talk with an advisor")
    moved = await bot.say("meet-en", "actually Wednesday works better, same time")
    assert "Wednesday" in moved[-1]["text"] and "10:00" in moved[-1]["text"], moved
    await bot.say("meet-en", "great")
    start = await appointment_start(bot, "meet-en")
    assert (start.weekday(), start.hour) == (2, 10)


async def test_a_bare_count_in_english_after_the_offer(bot: Harness) -> None:
    await bot.say("count-en", "can I get 2 hammers?")
    fewer = await bot.say("count-en", "sorry, just one")
    assert "1 × Martillo" in fewer[-1]["text"]
    await bot.say("count-en", "yes")
    assert await bot.sold("count-en") == [("MART-16", 1)]


async def test_the_cheapest_of_the_products_shown(bot: Harness) -> None:
    assert (await bot.import_csv(SMALL_CATALOG + MORE))["status"] == 200
    await bot.say("cheap-1", "¿qué martillos tenés?")
    offer = await bot.say("cheap-1", "dame el más barato")
    assert "1 × Martillo de goma" in offer[-1]["text"], offer  # $8.900 < $12.500


async def test_a_booked_meeting_moved_to_another_day_keeps_its_hour_and_can_be_cancelled(bot: Harness) -> None:
    await bot.say("meet-move", "agendame una visita el martes a las 15")
    await bot.say("meet-move", "sí")
    moved = await bot.say("meet-move", "¿la podemos pasar al miércoles?")
    assert "miércoles" in moved[-1]["text"] and "15:00" in moved[-1]["text"], moved
    await bot.say("meet-move", "sí")
    assert (await appointment_start(bot, "meet-move", status="booked")).weekday() == 2
    await bot.say("meet-move", "al final no puedo, cancelala")
    await bot.say("meet-move", "sí")
    assert all(a["status"] != "booked" for a in (await bot.conversation("meet-move"))["appointments"])


async def test_free_times_of_a_day_then_an_hour_books_on_that_day(bot: Harness) -> None:
    listed = await bot.say("free-2", "qué horarios tenés libres el viernes?")
    assert "viernes" in listed[-1]["text"]
    offer = await bot.say("free-2", "a las 10 está bien")
    assert "viernes" in offer[-1]["text"] and "10:00" in offer[-1]["text"] and offer[-1]["buttons"]


async def test_who_they_are_said_over_two_messages(bot: Harness) -> None:
    await bot.say("lead-two", "hola, les escribo de Reformas Sur")
    await bot.say("lead-two", "soy Laura, la encargada de compras")
    lead = (await bot.conversation("lead-two"))["lead"]
    assert lead["name"] == "Laura" and lead["company"] == "Reformas Sur" and lead["authority"]


async def test_regional_yes_words_and_what_is_left_by_its_count(bot: Harness) -> None:
    await bot.say("cl-1", "necesito 2 destornilladores phillips")
    done = await bot.say("cl-1", "ya, perfecto, confírmalo po")
    assert "Registré" in done[0]["text"]
    offer = await bot.say("pe-1", "necesito 9 taladros percutores")
    assert "3" in offer[-1]["text"]  # only 3 in stock: offered
    left = await bot.say("pe-1", "bueno, dame los 3 que tengan")
    assert "3 × Taladro" in left[-1]["text"]
    await bot.say("pe-1", "Sí, conforme")
    assert await bot.sold("pe-1") == [("TAL-650", 3)]


async def test_a_wrong_item_is_a_complaint_and_a_follow_up_question_keeps_its_topic(bot: Harness) -> None:
    await bot.say("wrong-1", "pedí un martillo y me mandaron un destornillador. No es lo que pedí, necesito que me lo solucionen")
    assert (await bot.conversation("wrong-1"))["status"] == "human"
    [reply] = await bot.say("follow-1", "¿llegan con envío a Lanús? ¿cuánto sale?")
    assert "Lanús" in reply["text"] and "$9.500" in reply["text"]


async def test_usted_yes_forms_and_a_change_after_a_yes_word(bot: Harness) -> None:
    await bot.say("ud-1", "Órale, buenas. Quiero el martillo carpintero, ¿me lo aparta? Nomás uno")
    done = await bot.say("ud-1", "Sale, confírmemelo por favor")
    assert "Registré" in done[0]["text"]
    await bot.say("cl-2", "hola, necesito 2 bolsas de cemento po")
    changed = await bot.say("cl-2", "ya, pero mejor que sean 4, se me olvidaba la otra pieza")
    assert "4 × Cemento" in changed[-1]["text"]


async def test_complaints_in_other_words_and_a_size_that_is_not_a_count(bot: Harness) -> None:
    await bot.say("cmp-1", "mi pedido tenía que llegar ayer y nada, llevo todo el día esperando. Qué mal servicio.")
    assert (await bot.conversation("cmp-1"))["status"] == "human"
    await bot.say("cmp-2", "Hi, you charged my credit card twice for the same order yesterday. I want my money back.")
    assert (await bot.conversation("cmp-2"))["status"] == "human"
    replies = await bot.say("own-3", "Se me rompió el taladro de casa, un desastre (no lo compré acá). ¿Tienen taladro percutor?")
    assert (await bot.conversation("own-3"))["status"] == "bot" and "Taladro" in replies[-1]["text"]


async def test_words_the_documents_never_use_weigh_less(bot: Harness) -> None:
    [reply] = await bot.say("kn-3", "Buenos días, ¿me regala la dirección del almacén?")
    assert "Warnes 1450" in reply["text"]
    [reply] = await bot.say("kn-4", "abren los feriados?? nesecito ir el lunes q es feriado")
    assert "«Feriados»" in reply["text"]


async def test_voseo_request_for_a_person_is_a_hand_over(bot: Harness) -> None:
    await bot.say("hum-vos", "Hola, ¿me pasás con alguien del local? Prefiero hablarlo con una persona")
    assert (await bot.conversation("hum-vos"))["status"] == "human"


async def test_a_business_with_a_need_opens_a_lead_that_later_messages_fill(bot: Harness) -> None:
    replies = await bot.say("lead-acc", "buenas, somos Techos Norte, hacemos impermeabilizaciones. "
                                        "queremos saber si nos venden membrana líquida por cantidad")
    assert not any("No encontré" in r["text"] for r in replies)
    lead = (await bot.conversation("lead-acc"))["lead"]
    assert lead["company"] == "Techos Norte" and not lead["qualified"]
    await bot.say("lead-acc", "Soy Rosa Quispe, cel 11 5890-1234")
    await bot.say("lead-acc", "Presupuesto tenemos unos 1,2 palos, arrancamos en noviembre y lo decide la asamblea")
    lead = (await bot.conversation("lead-acc"))["lead"]
    assert lead["company"] == "Techos Norte" and lead["name"] == "Rosa Quispe" and lead["phone"] == "+541158901234"
    assert "1,2 palos" in lead["budget"] and "noviembre" in lead["timeline"] and "asamblea" in lead["authority"]
    assert lead["score"] > 60 and lead["qualified"]


async def test_names_and_companies_as_people_write_them(bot: Harness) -> None:
    await bot.say("lead-ing", "Qué tal, soy el Ing. Alejandro Cárdenas de Constructora Cárdenas y Hnos. "
                              "Ocupamos cemento para 6 casas, mi correo es acardenas@cardenashnos.com")
    lead = (await bot.conversation("lead-ing"))["lead"]
    assert lead["name"] == "Alejandro Cárdenas" and "Constructora Cárdenas" in lead["company"]
    await bot.say("lead-en", "Hi, Emma Walsh here, office manager at Northwind Coworking. Budget is tight and final "
                             "approval comes from our CFO. Email me at emma@northwindcowork.com")
    lead = (await bot.conversation("lead-en"))["lead"]
    assert lead["name"] == "Emma Walsh" and lead["company"] == "Northwind Coworking" and "CFO" in lead["authority"]


async def test_a_meeting_with_a_price_question_beside_it(bot: Harness) -> None:
    replies = await bot.say("mt-price", "¿me agendás una visita el martes a las 10? ah, y cuánto está el martillo carpintero?")
    text = replies[-1]["text"]
    assert "$12.500" in text and "martes" in text and replies[-1]["buttons"]
    await bot.say("mt-price", "sí")
    start = await appointment_start(bot, "mt-price")
    assert (start.strftime("%a"), start.hour) == ("Tue", 10)
    assert await bot.sold("mt-price") == []


async def test_a_no_that_names_another_day_moves_the_meeting(bot: Harness) -> None:
    await bot.say("mt-no", "agendame una visita el martes a las 11")
    moved = await bot.say("mt-no", "no no, perdón, el miércoles, misma hora")
    assert "miércoles" in moved[-1]["text"] and "11:00" in moved[-1]["text"]
    await bot.say("mt-no", "sí dale")
    start = await appointment_start(bot, "mt-no")
    assert (start.strftime("%a"), start.hour) == ("Wed", 11)


async def test_a_cost_question_is_answered_with_the_cost(bot: Harness) -> None:
    [reply] = await bot.say("kn-cost", "hola! cuánto sale el envío a Lanús?")
    assert "Lanús" in reply["text"] and "$9.500" in reply["text"]


async def test_regional_and_english_yeses(bot: Harness) -> None:
    await bot.say("yes-mx", "quiero 1 martillo carpintero")
    await bot.say("yes-mx", "sí, chido, confirmado")
    assert await bot.sold("yes-mx") == [("MART-16", 1)]
    await bot.say("yes-en", "I'd like 2 Phillips screwdrivers")
    await bot.say("yes-en", "perfect, please put the order through")
    assert await bot.sold("yes-en") == [("DEST-PH2", 2)]
    await bot.say("no-edit", "quiero 1 taladro percutor")
    await bot.say("no-edit", "sí, pero el rojo")
    assert await bot.sold("no-edit") == []  # a yes with a detail that differs commits nothing


async def test_a_complaint_with_a_question_hands_over_with_what_the_documents_say(bot: Harness) -> None:
    replies = await bot.say("cmp-q", "Buenos días, el taladro que compré antier no prende, ¿me lo cambian o hay que "
                                     "mandarlo a servicio técnico?")
    text = " ".join(r["text"] for r in replies)
    assert (await bot.conversation("cmp-q"))["status"] == "human"
    assert "7 días" in text and "«Cómo hacer un reclamo de garantía»" in text


async def test_a_question_about_something_bought_goes_to_the_documents(bot: Harness) -> None:
    [reply] = await bot.say("past-1", "Hola buenas! compré un martillo hace dos semanas y ni lo usé, ¿lo puedo cambiar? "
                                      "¿hasta cuántos días tengo?")
    assert "30 días" in reply["text"] and "Martillo carpintero 16 oz:" not in reply["text"]


async def test_a_count_said_in_the_next_sentence_and_a_second_product(bot: Harness) -> None:
    replies = await bot.say("cnt-next", "¿tenés martillos carpintero? mandame 3, y también 2 destornilladores phillips")
    text = replies[-1]["text"]
    assert "3 × Martillo carpintero" in text and "2 × Destornillador Phillips" in text
    await bot.say("cnt-next", "sí, de una")
    assert await bot.sold("cnt-next") == [("DEST-PH2", 2), ("MART-16", 3)]


async def test_a_meeting_time_corrected_in_the_same_message_and_not_a_complaint(bot: Harness) -> None:
    await bot.say("mt-same", "¿me regala una cita el jueves a las 9? Ay, qué pena, mejor a las 10, que a las 9 tengo otra cosa")
    await bot.say("mt-same", "sí")
    start = await appointment_start(bot, "mt-same")
    assert (start.strftime("%a"), start.hour) == ("Thu", 10)
    await bot.say("mt-late", "quiero pasar el lunes 9:30")
    await bot.say("mt-late", "mejor 10:30 si se puede, a las 9:30 no llego")
    assert (await bot.conversation("mt-late"))["status"] == "bot"
    await bot.say("mt-late", "dale")
    start = await appointment_start(bot, "mt-late")
    assert (start.strftime("%a"), start.hour, start.minute) == ("Mon", 10, 30)


async def test_a_time_of_day_keeps_the_day_asked_and_a_yes_to_offered_times_asks_which(bot: Harness) -> None:
    await bot.say("noon", "hola quiero agendar una visita")
    await bot.say("noon", "el lunes")
    offer = await bot.say("noon", "al mediodía")
    assert "lunes" in offer[-1]["text"] and "12:00" in offer[-1]["text"]
    await bot.say("early", "¿Puedo ir el jueves a las 8 para una visita con un asesor?")
    [which] = await bot.say("early", "sí")
    assert "horarios" in which["text"] and "producto" not in which["text"]


async def test_a_supposed_purchase_asks_the_documents_and_treatment_is_a_complaint(bot: Harness) -> None:
    [reply] = await bot.say("if-buy", "Si compro una herramienta eléctrica y falla en la primera semana, ¿me la cambian?")
    assert "7 días" in reply["text"] and await bot.sold("if-buy") == [] and "Registré" not in reply["text"]
    await bot.say("rude", "Ayer fui al local y el muchacho del mostrador me atendió de muy mala manera. "
                          "No merezco ese trato. Quiero que el dueño se entere")
    assert (await bot.conversation("rude"))["status"] == "human"


async def test_only_the_product_named_keeps_its_count(bot: Harness) -> None:
    await bot.say("only", "quiero 3 martillos carpintero")
    replies = await bot.say("only", "bueno, confirmame solo los martillos entonces")
    assert "3 × Martillo carpintero" in replies[-1]["text"]


async def test_hours_in_words_emoji_yeses_and_a_size_after_del(bot: Harness) -> None:
    await bot.say("words-h", "Buenas, ¿podría pedir cita para el sábado a las once y media?")
    await bot.say("words-h", "yesss perfect 🥰")
    start = await appointment_start(bot, "words-h")
    assert (start.strftime("%a"), start.hour, start.minute) == ("Sat", 11, 30)
    replies = await bot.say("size-del", "necesito un martillo carpintero y un destornillador phillips del 2")
    assert "1 × Destornillador Phillips" in replies[-1]["text"]


async def test_english_complaints_of_a_late_or_wrong_delivery(bot: Harness) -> None:
    await bot.say("late-en", "I paid for a delivery three days ago and NOTHING has arrived. Nobody answers the phone.")
    assert (await bot.conversation("late-en"))["status"] == "human"
    await bot.say("wrong-en", "😡😡 ordered a claw hammer and you sent me a screwdriver!!! need someone to fix this NOW")
    assert (await bot.conversation("wrong-en"))["status"] == "human"
