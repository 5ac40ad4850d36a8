"""The chat page in a real (headless) browser: type a message, see the reply."""

from __future__ import annotations

from tests.browser import browser_page
from tests.conftest import Harness


async def test_chat_page_round_trip(bot: Harness) -> None:
    url = str(bot.client.make_url("/"))
    async with browser_page() as page:
        await page.goto(url)
        await page.fill("#text", "hola, tenés martillos?")
        await page.click("#send")
        reply = page.locator(".msg.out:not(.typing)").first
        await reply.wait_for(timeout=15000)
        text = await reply.inner_text()
        assert "Martillo" in text
        # The buy flow with the page's own Sí button.
        await page.fill("#text", "quiero 2 martillos")
        await page.click("#send")
        button = page.locator(".buttons button", has_text="Sí")
        await button.wait_for(timeout=15000)
        await button.click()
        await page.locator(".msg.out", has_text="Registré").wait_for(timeout=15000)
    assert (await bot.product("MART-16"))["stock"] == 5
