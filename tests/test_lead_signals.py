"""Lead signals in plain words with the built-in model, over HTTP: who, which company, budget,
authority and timeline from ordinary sentences, and a score that reflects them."""

from __future__ import annotations

from tests.conftest import Harness


async def test_plain_words_capture_budget_authority_and_timeline(bot: Harness) -> None:
    await bot.say("lead-plain", "Hola, soy Marta Gómez de Constructora Lanza. Mi mail es marta@lanza.com.ar")
    before = (await bot.conversation("lead-plain"))["lead"]
    await bot.say("lead-plain", "tenemos el presupuesto aprobado, yo decido la compra y es para el mes que viene")
    lead = (await bot.conversation("lead-plain"))["lead"]
    assert lead["name"].startswith("Marta") and "Lanza" in lead["company"]
    assert lead["score"] > before["score"] + 20, (before, lead)


async def test_a_self_introduction_with_everything_in_one_message(bot: Harness) -> None:
    await bot.say("lead-intro", (
        "Buenas tardes, mi nombre es Catalina Restrepo, soy la administradora de Inmobiliaria Andina. "
        "Tenemos un presupuesto mensual de unos 2 millones de pesos y quisiéramos empezar el próximo mes. "
        "Mi correo es catalina.restrepo@inmoandina.com"))
    lead = (await bot.conversation("lead-intro"))["lead"]
    assert lead["name"] == "Catalina Restrepo" and lead["company"] == "Inmobiliaria Andina"
    assert lead["email"] == "catalina.restrepo@inmoandina.com" and lead["score"] >= 60


async def test_contact_data_beside_a_purchase_is_kept(bot: Harness) -> None:
    replies = await bot.say("lead-buy", "soy Pedro Ruiz, pedro@ruiz.com, quiero 2 martillos")
    assert replies[-1].get("buttons")  # the order is proposed
    lead = (await bot.conversation("lead-buy"))["lead"]
    assert lead is not None and lead["email"] == "pedro@ruiz.com"
