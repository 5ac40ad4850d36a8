"""Messages read in context with the built-in model, over HTTP (issue 10, after fresh set 12).

Each test is one behaviour the fresh set found missing: a regional "set it aside for me" and a yes said
with a pronoun ("simón, confírmalo", "regálemela"), products named without a verb once products are on
the table, a line named again among new ones, a swap that says its own count, an hour "de la mañana"
that is not tomorrow, and a day the customer refuses beside the one they choose; budget, timeline, need,
name and company said in the ways the set's leads said them; a town's shipping cost asked beside another
question; bus lines asked in English; a wrong delivery that happened twice; a payment question that is
support, not a sale.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import SMALL_CATALOG, Harness, make_settings, running
from tests.fakes.competent import CompetentModel
from tests.fakes.openai_api import FakeOpenAI
from tests.test_dialogue_state import appointment_start


async def insights(bot: Harness, chat_id: str) -> dict[str, Any]:
    resp = await bot.client.post(f"/admin/conversations/web/{chat_id}/insights", headers=bot.admin)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_set_it_aside_accepts_the_product_shown_and_a_mexican_yes_commits(bot: Harness) -> None:
    await bot.say("sep-1", "buenas, tienen cemento portland?")
    [offer] = await bot.say("sep-1", "ok, me lo separa por favor")
    assert "Cemento Portland" in offer["text"] and "No encontré" not in offer["text"]
    await bot.say("sep-1", "3 bolsas")
    await bot.say("sep-1", "simón, confírmalo")
    assert await bot.sold("sep-1") == [("CEM-50", 3)]


async def test_a_yes_with_a_pronoun_and_a_payment_remark_commits(bot: Harness) -> None:
    await bot.say("regal-1", "quiero comprar el taladro percutor")
    await bot.say("regal-1", "perfecto, sí, regálemelo, yo pago por transferencia")
    assert await bot.sold("regal-1") == [("TAL-650", 1)]


async def test_products_named_without_a_verb_after_a_list_are_the_order(bot: Harness) -> None:
    await bot.say("bare-1", "hola, qué herramientas tienen?")
    [offer] = await bot.say("bare-1", "ya, entonces el martillo y 2 destornilladores")
    assert "Martillo" in offer["text"] and "Destornillador" in offer["text"], offer
    await bot.say("bare-1", "sí po")
    assert await bot.sold("bare-1") == [("DEST-PH2", 2), ("MART-16", 1)]


async def test_a_line_named_again_among_new_ones_is_not_ordered_twice(bot: Harness) -> None:
    await bot.say("again-1", "necesito 2 destornilladores phillips")
    await bot.say("again-1", "ya, mándame el martillo y los 2 destornilladores")
    await bot.say("again-1", "sí, confirmo")
    assert await bot.sold("again-1") == [("DEST-PH2", 2), ("MART-16", 1)]


async def test_a_swap_that_says_its_own_count(bot: Harness) -> None:
    await bot.say("swap-n", "quiero un martillo carpintero")
    await bot.say("swap-n", "no, el otro, el destornillador, el que tiene punta imantada. dame 2")
    await bot.say("swap-n", "ya, confirmo")
    assert await bot.sold("swap-n") == [("DEST-PH2", 2)]


async def test_eleven_in_the_morning_is_on_the_day_named_not_tomorrow(bot: Harness) -> None:
    [offer] = await bot.say("morning-1", "qué onda, puedo pasar el jueves que viene como a las 11 de la mañana?")
    assert "jueves" in offer["text"] and "11:00" in offer["text"], offer
    await bot.say("morning-1", "órale, sí agéndame")
    start = await appointment_start(bot, "morning-1")
    assert (start.weekday(), start.hour) == (3, 11)


async def test_a_day_refused_beside_the_one_chosen_is_not_booked(bot: Harness) -> None:
    await bot.say("refuse-1", "oiga, ¿puedo ir el viernes a las 12 a ver una carretilla?")
    [offer] = await bot.say("refuse-1", "no, sabe qué, mejor el lunes a las 12, el viernes no alcanzo")
    assert "lunes" in offer["text"] and "12:00" in offer["text"], offer
    await bot.say("refuse-1", "Vale, perfecto, apúntamelo")
    start = await appointment_start(bot, "refuse-1")
    assert (start.weekday(), start.hour) == (0, 12)


async def test_lead_fields_said_in_plain_words_are_captured_and_scored(bot: Harness) -> None:
    await bot.say("lead-12a", "Buenos días, le saluda Rosa Quispe, de Inversiones Quispe EIRL. "
                              "Mi correo es rosa.quispe@iqeirl.pe")
    await bot.say("lead-12a", "traemos como 1.5 millones de presupuesto y lo ocupamos ahorita, esta misma semana")
    lead = (await bot.conversation("lead-12a"))["lead"]
    assert lead["name"] == "Rosa Quispe" and "Inversiones Quispe" in lead["company"]
    assert lead["budget"] == "1.5 millones" and lead["timeline"] == "esta misma semana"
    await bot.say("lead-12b", "hola! soy Valeria Paz, del estudio de arquitectura Arq Sur. El presupuesto para "
                              "esa partida ronda los 4 millones, lo decido yo. valeria@arqsur.com.ar")
    lead = (await bot.conversation("lead-12b"))["lead"]
    assert "Arq Sur" in lead["company"] and lead["budget"] == "4 millones" and lead["qualified"]


async def test_a_quote_for_three_roofs_is_not_a_budget(bot: Harness) -> None:
    await bot.say("lead-12c", "Buen día, soy Silvia Ocampo. Necesito presupuesto de membrana para 3 techos. "
                              "Llamame al 11 4789-5566")
    lead = (await bot.conversation("lead-12c"))["lead"]
    assert lead["budget"] is None and not lead["qualified"]


async def test_a_towns_shipping_cost_is_answered_beside_another_question(bot: Harness) -> None:
    [reply] = await bot.say("ship-12", "hola, cuanto sale el envio a lanus? y tarda mucho?")
    text = reply["text"]
    assert "$9.500" in text and "Lanús" in text and "día hábil siguiente" in text, text


async def test_bus_lines_asked_in_english_are_answered_from_the_location_document(bot: Harness) -> None:
    [reply] = await bot.say("bus-12", "hey, which bus lines stop near the store?")
    assert "34" in reply["text"] and "110" in reply["text"] and "How to get here" in reply["text"]


async def test_a_wrong_delivery_for_the_second_time_is_a_complaint_handed_over(bot: Harness) -> None:
    await bot.say("cal-12", "oigan pedí 4 bolsas de cemento y me llegaron 4 de cal, qué onda??")
    assert (await bot.conversation("cal-12"))["status"] == "human"
    found = await insights(bot, "cal-12")
    assert found["category"] == "complaint" and found["sentiment"] == "negative"


async def test_a_payment_question_is_support_not_a_sale(bot: Harness) -> None:
    await bot.say("pay-12", "se puede pagar a meses sin intereses con tarjeta? desde cuanto de compra?")
    assert (await insights(bot, "pay-12"))["category"] == "support"
    await bot.say("pay-12en", "do you guys give any discount if i pay cash?")
    assert (await insights(bot, "pay-12en"))["category"] == "support"


async def test_going_to_the_shop_to_see_something_is_a_visit_not_an_order(bot: Harness) -> None:
    [offer] = await bot.say("visit-12", "che, quiero ir el viernes a la tarde a ver colores de pintura, "
                                        "me reservas un turno?")
    assert "Te confirmo el pedido" not in offer["text"]
    await bot.say("visit-12", "a las 17 hs")
    await bot.say("visit-12", "si, dale")
    start = await appointment_start(bot, "visit-12")
    assert (start.weekday(), start.hour) == (4, 17)
    assert await bot.sold("visit-12") == []


async def test_a_yes_that_names_the_product_by_the_owners_synonym_commits(bot: Harness) -> None:
    await bot.say("syn-yes", "I'd like 2 carpenter hammers")
    await bot.say("syn-yes", "ok great, yes please confirm the 2 hammers")
    assert await bot.sold("syn-yes") == [("MART-16", 2)]


async def test_a_line_recounted_in_other_words_is_found_through_the_catalog(bot: Harness) -> None:
    await bot.say("recount-12", "I'd like 1 carpenter hammer and 2 phillips screwdrivers")
    [reply] = await bot.say("recount-12", "actually make it 3 screwdrivers")
    assert "3 × Destornillador Phillips" in reply["text"], reply
    await bot.say("recount-12", "yes, confirm pls")
    assert await bot.sold("recount-12") == [("DEST-PH2", 3), ("MART-16", 1)]


async def test_taking_the_product_shown_and_asking_for_another(bot: Harness) -> None:
    await bot.say("take-ask", "necesito un martillo carpintero, ¿cuánto vale?")
    [reply] = await bot.say("take-ask", "Vale, me lo llevo. ¿Tenéis también destornillador phillips?")
    assert "Martillo" in reply["text"] and "Destornillador" in reply["text"], reply
    await bot.say("take-ask", "Sí, vale, confirmo el pedido")
    assert await bot.sold("take-ask") == [("DEST-PH2", 1), ("MART-16", 1)]


async def test_a_spelled_hour_keeps_the_rest_of_the_message_readable(bot: Harness) -> None:
    [offer] = await bot.say("nine-12", "Hola, ¿podemos quedar el viernes a las nueve y media en la tienda? "
                                       "Quiero ver martillos")
    assert "viernes" in offer["text"] and "9:30" in offer["text"] and "No encontré" not in offer["text"], offer
    await bot.say("nine-12", "Vale, perfecto")
    start = await appointment_start(bot, "nine-12")
    assert (start.weekday(), start.hour, start.minute) == (4, 9, 30)


async def test_yes_said_as_register_it_or_load_it_and_all_three_things(bot: Harness) -> None:
    await bot.say("reg-12", "necesito un martillo carpintero, 2 destornilladores phillips y 1 cemento portland")
    await bot.say("reg-12", "sí, altiro, confirmo las tres cosas")
    assert await bot.sold("reg-12") == [("CEM-50", 1), ("DEST-PH2", 2), ("MART-16", 1)]
    await bot.say("load-12", "quiero 2 bolsas de cemento portland")
    await bot.say("load-12", "sip cargalo")
    assert await bot.sold("load-12") == [("CEM-50", 2)]


async def test_a_price_asked_of_what_the_visit_is_for(bot: Harness) -> None:
    replies = await bot.say("price-visit", "quiero ir el jueves a las 16:30 a ver el taladro percutor, cuánto sale?")
    text = " ".join(r["text"] for r in replies)
    assert "85.999" in text and "jueves" in text and "16:30" in text, text


async def test_a_name_and_a_business_with_no_comma_between(bot: Harness) -> None:
    await bot.say("ferraro", "Buen día, Lucía Ferraro del Estudio Ferraro Arquitectura. Necesitamos cotización "
                             "de 40 canillas para un edificio. Mi cel: 11 4567-8910")
    lead = (await bot.conversation("ferraro"))["lead"]
    assert lead["name"] == "Lucía Ferraro" and "Ferraro" in lead["company"]


async def test_asking_for_a_manager_in_english_hands_over(bot: Harness) -> None:
    await bot.say("mgr-12", "is there a manager or someone from staff I can speak to?")
    assert (await bot.conversation("mgr-12"))["status"] == "human"


async def test_pick_up_hold_and_shipping_to_a_province_come_from_the_documents(bot: Harness) -> None:
    [hold] = await bot.say("hold-12", "si compro por acá y lo paso a buscar, ¿cuánto tiempo me lo guardan?")
    assert "cinco días hábiles" in hold["text"], hold
    [far] = await bot.say("far-12", "mandan a Córdoba capital? soy de allá")
    assert "transporte" in far["text"], far


async def test_an_llm_is_told_that_the_chat_was_handed_over_as_a_complaint(data_dir) -> None:  # type: ignore[no-untyped-def]
    """The insights request carries what the dialogue knows beside the words: the hand-over for a complaint."""
    async with FakeOpenAI() as fake:
        fake.script(CompetentModel())
        settings = make_settings(data_dir, llm_provider="openai", openai_api_key="sk-test",
                                 openai_base_url=fake.base_url)
        async with running(settings) as harness:
            assert (await harness.import_csv(SMALL_CATALOG))["status"] == 200
            await harness.say("llm-cal", "oigan pedí 4 bolsas de cemento y me llegaron 4 de cal, qué onda??")
            assert (await harness.conversation("llm-cal"))["status"] == "human"
            found = await insights(harness, "llm-cal")
        [request] = [r for r in fake.requests if r.get("response_format")]
        said = " ".join(str(m.get("content")) for m in request["messages"] if m.get("role") == "user")
        assert "el cliente hizo un reclamo" in said
        assert found["category"] == "complaint" and found["sentiment"] == "negative"


async def test_a_new_count_with_an_explanation_beside_it(bot: Harness) -> None:
    await bot.say("why-12", "Hi! I'd like 2 carpenter hammers and a phillips screwdriver")
    [reply] = await bot.say("why-12", "sorry, actually just 1 hammer is enough, the room is small")
    assert "couldn't find" not in reply["text"] and "1 × Martillo" in reply["text"], reply
    await bot.say("why-12", "yes perfect")
    assert await bot.sold("why-12") == [("DEST-PH2", 1), ("MART-16", 1)]


async def test_a_count_of_the_lines_own_unit_said_in_passing(bot: Harness) -> None:
    await bot.say("bags-12", "how much is a 50kg bag of portland cement? I need 3 bags for a small patio")
    [reply] = await bot.say("bags-12", "hmm wait, the builder says 4 bags. and I'll pick them up myself")
    assert "4 × Cemento" in reply["text"] and "couldn't find" not in reply["text"], reply
    await bot.say("bags-12", "yes, confirm 4")
    assert await bot.sold("bags-12") == [("CEM-50", 4)]


async def test_a_card_question_beside_an_order_is_answered_from_the_documents(bot: Harness) -> None:
    [reply] = await bot.say("visa-12", "I need 2 carpenter hammers for our workshop. Also do you accept Visa?")
    assert "Visa" in reply["text"] and "2 × Martillo" in reply["text"], reply


async def test_a_line_named_by_its_head_word_elsewhere_is_not_the_one_recounted(bot: Harness) -> None:
    await bot.import_csv("sku,name,description,category,price,stock\n"
                         "SIL-T,Sellador de silicona transparente 280 ml,Cartucho,Plomería,5400,30\n"
                         "PIS-S,Pistola de silicona,Aplicador,Ferretería,6100,10\n")
    await bot.say("sil-12", "che tenés silicona transparente? necesito 2 y una pistola para aplicarla")
    [reply] = await bot.say("sil-12", "ah no, mejor 3 siliconas. la pistola una sola")
    assert "3 × Sellador" in reply["text"] and "1 × Pistola" in reply["text"], reply
    await bot.say("sil-12", "si joya")
    assert await bot.sold("sil-12") == [("PIS-S", 1), ("SIL-T", 3)]


async def test_installments_asked_with_an_order_open_are_answered(bot: Harness) -> None:
    await bot.say("cuotas-12", "quiero 1 taladro percutor")
    [reply] = await bot.say("cuotas-12", "mmm y cuanto me queda en 3 cuotas?")
    assert "cuotas sin interés" in reply["text"] and "Tu pedido sigue abierto" in reply["text"], reply


async def test_owner_of_a_named_business_and_who_buys_count_as_authority(bot: Harness) -> None:
    await bot.say("owner-12", "Qué onda, soy Rodrigo Salas, dueño de Herrería Salas. Ando cotizando amoladoras "
                              "para el taller, unas 5. Sería para el mes que entra. Mi cel es 11 3456 7890")
    lead = (await bot.conversation("owner-12"))["lead"]
    assert lead["authority"] == "dueño de Herrería Salas" and lead["qualified"]
    await bot.say("tattoo-12", "Hola! Soy Lupita Ramírez, tengo un estudio de tatuajes que se llama Tinta Norte "
                               "y lo quiero remodelar. Mi correo es lupita@tintanorte.com")
    assert (await bot.conversation("tattoo-12"))["lead"]["company"] == "Tinta Norte"


async def test_a_purchase_month_beside_a_visit_day_is_kept(bot: Harness) -> None:
    await bot.say("month-12", "Buenas tardes, soy Patricia Romero, directora del Jardín Arcoíris. Queremos renovar "
                              "la pintura antes del inicio de clases en marzo. Contamos con unos 900 mil de "
                              "presupuesto. ¿Puedo pasar el sábado a las 10 a ver colores?")
    lead = (await bot.conversation("month-12"))["lead"]
    assert lead["timeline"] == "en marzo", lead


async def test_a_person_wanted_now_is_a_hand_over_even_with_a_day_said(bot: Harness) -> None:
    await bot.say("asap-12", "I need a person to call me asap, it's urgent - big order for a construction site "
                             "this week. My number is 11 2233 4455")
    assert (await bot.conversation("asap-12"))["status"] == "human"


async def test_a_purchase_sounding_question_with_no_product_gets_the_documents(bot: Harness) -> None:
    [reply] = await bot.say("pickup-12", "hey, can I order through the chat and pick it up at the store myself? "
                                         "is pickup free or do u charge?")
    assert "couldn't find" not in reply["text"] and "free" in reply["text"], reply


async def test_a_new_count_with_a_pick_up_remark(bot: Harness) -> None:
    await bot.say("van-12", "how much is a 50kg bag of portland cement? I need 3 bags for a small patio")
    [reply] = await bot.say("van-12", "hmm wait, the builder says 4 bags. and I'll pick them up myself, I have a van")
    assert "4 × Cemento" in reply["text"], reply
    await bot.say("van-12", "yes, confirm 4")
    assert await bot.sold("van-12") == [("CEM-50", 4)]


async def test_a_price_and_a_payment_question_in_one_message_then_praise_and_take_it(bot: Harness) -> None:
    [reply] = await bot.say("roto-12", "cuánto sale el taladro percutor? si pago en efectivo hay descuento?")
    assert "85.999" in reply["text"] and "10%" in reply["text"], reply
    [offer] = await bot.say("roto-12", "buenísimo, lo llevo")
    assert "No encontré" not in offer["text"] and "Taladro" in offer["text"], offer
    await bot.say("roto-12", "sí")
    assert await bot.sold("roto-12") == [("TAL-650", 1)]


async def test_one_line_recounted_by_its_package_beside_a_new_product(bot: Harness) -> None:
    await bot.say("pkg-12", "quiero cemento portland, 3 bolsas")
    await bot.say("pkg-12", "che, mejor llevo 1 sola bolsa y un martillo carpintero")
    await bot.say("pkg-12", "sí, perfecto")
    assert await bot.sold("pkg-12") == [("CEM-50", 1), ("MART-16", 1)]


async def test_a_plural_recount_goes_to_the_line_bought_by_several(bot: Harness) -> None:
    await bot.import_csv("sku,name,description,category,price,stock\n"
                         "SIL-T,Sellador de silicona transparente 280 ml,Cartucho,Plomería,5400,30\n"
                         "PIS-S,Pistola de silicona,Aplicador,Ferretería,6100,10\n")
    await bot.say("sil-en", "need 2 tubes of clear silicone sealant and a caulking gun for a bathroom job")
    [reply] = await bot.say("sil-en", "actually make it 3 silicones")
    assert "3 × Sellador" in reply["text"] and "1 × Pistola" in reply["text"], reply
    await bot.say("sil-en", "yep that's right, go ahead and place the order")
    assert await bot.sold("sil-en") == [("PIS-S", 1), ("SIL-T", 3)]


async def test_i_cannot_make_it_is_no_complaint_and_a_neighbourhoods_shipping_is_answered(bot: Harness) -> None:
    await bot.say("palermo-13", "hola che, necesito 3 destornilladores phillips y un martillo carpintero")
    [reply] = await bot.say("palermo-13", "ah y cuanto sale el envio a palermo? xq no llego a pasar")
    assert (await bot.conversation("palermo-13"))["status"] != "human"
    assert "$6.500" in reply["text"] and "No encontré" not in reply["text"], reply
    await bot.say("palermo-13", "dale, confirmá nomás")
    assert await bot.sold("palermo-13") == [("DEST-PH2", 3), ("MART-16", 1)]


async def test_no_no_the_other_one_then_a_bare_count(bot: Harness) -> None:
    await bot.import_csv("sku,name,description,category,price,stock\nMART-GOMA,Martillo de goma,Maza,Herramientas,8900,12\n")
    await bot.say("goma-13", "buenas, quería un martillo carpintero")
    [swap] = await bot.say("goma-13", "no no perdona, el de goma, que es para poner azulejos")
    assert "Martillo de goma" in swap["text"] and "carpintero" not in swap["text"], swap
    await bot.say("goma-13", "pues 2")
    await bot.say("goma-13", "vale, sí")
    assert await bot.sold("goma-13") == [("MART-GOMA", 2)]


async def test_an_hour_corrected_with_i_cannot_make_it(bot: Harness) -> None:
    await bot.say("alcanzo-13", "buenas, me agenda una visita el lunes a las 9 y media?")
    [moved] = await bot.say("alcanzo-13", "uy no, mejor a las 11 q a esa hora no alcanzo")
    assert "lunes" in moved["text"] and "11:00" in moved["text"], moved
    await bot.say("alcanzo-13", "listo, sí")
    start = await appointment_start(bot, "alcanzo-13")
    assert (start.weekday(), start.hour) == (0, 11)


async def test_set_14_readings(bot: Harness) -> None:
    """One hour at 'la una', a wrong delivery in Spain's Spanish, a Peruvian broken torch, a count of the
    product shown beside a delivery question, a yes after 'no worries', a line removed beside a new count."""
    await bot.say("una-14", "Hola, ¿me podéis dar cita el miércoles a las 12 para ver pinturas para un piso?")
    [moved] = await bot.say("una-14", "Perdona, mejor a la una, que a las 12 tengo médico")
    assert "13:00" in moved["text"], moved
    await bot.say("esp-14", "Hola. Me ha llegado el pedido y en vez del antióxido gris me habéis mandado esmalte negro.")
    assert (await bot.conversation("esp-14"))["status"] == "human"
    await bot.say("torch-14", "Oiga, compré la linterna recargable hace una semana y ya no carga, está malograda")
    assert (await bot.conversation("torch-14"))["status"] == "human"
    await bot.say("cans-14", "hi do u have carpenter hammers?")
    [offer] = await bot.say("cans-14", "ok need 3 of them. also do u deliver on saturdays?")
    assert "3 × Martillo" in offer["text"] and "Saturdays" in offer["text"], offer
    await bot.say("cans-14", "ah ok no worries ill pick them up at the store then. yes confirm the 3")
    assert await bot.sold("cans-14") == [("MART-16", 3)]


async def test_a_line_removed_beside_a_new_count_of_another(bot: Harness) -> None:
    await bot.say("put-14", "Hola, quería un martillo carpintero y un destornillador phillips, ¿cuánto sería todo?")
    [reply] = await bot.say("put-14", "Vale, quita el destornillador y ponme dos martillos")
    assert "2 × Martillo" in reply["text"] and "Destornillador" not in reply["text"], reply
    await bot.say("put-14", "Venga, sí, confírmalo")
    assert await bot.sold("put-14") == [("MART-16", 2)]
