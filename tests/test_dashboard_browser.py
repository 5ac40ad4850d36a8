"""The admin dashboard in a real (headless) browser, against a daemon seeded by real conversations."""

from __future__ import annotations

import asyncio
from pathlib import Path

from yarl import URL

from tests.browser import browser_page
from tests.conftest import ADMIN_TOKEN, SMALL_CATALOG, Harness, copy_prompts, make_settings, running

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
BUYER, COMPLAINER, LEAD = "dash-buyer", "dash-complaint", "dash-lead"
# Before a full-page screenshot: back to the top (the sticky bar stays there) and no toast over the page.
TOP = "window.scrollTo({top: 0, behavior: 'instant'}); document.getElementById('toast').hidden = true"


async def seed(bot: Harness) -> None:
    result = await bot.import_csv(SMALL_CATALOG)
    assert result["status"] == 200, result
    await bot.say(BUYER, "quiero 2 martillos")
    await bot.say(BUYER, "sí")
    assert (await bot.product("MART-16"))["stock"] == 5
    await bot.say(COMPLAINER, "el pedido llegó roto, es un desastre, estoy muy enojado y quiero la devolución")
    resp = await bot.client.post(f"/admin/conversations/web/{COMPLAINER}/insights", headers=bot.admin)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["category"] == "complaint"
    await bot.say(LEAD, "hola, soy Ana Pérez de Constructora Sur, mi email es ana@constructorasur.com.ar")


async def test_page_and_assets_auth(data_dir: Path) -> None:
    async with running(make_settings(data_dir)) as bot:
        for path in ("/admin", "/admin/"):
            resp = await bot.client.get(path, allow_redirects=False)
            assert resp.status == 401, path
            assert resp.content_type == "text/html"
            assert 'id="token"' in await resp.text()
            ok = await bot.client.get(path, headers=bot.admin, allow_redirects=False)
            assert ok.status == 200
        wrong = await bot.client.get("/admin/", headers={"Authorization": "Bearer nope"})
        assert wrong.status == 401
        for asset in ("dashboard.js", "dashboard.css"):
            resp = await bot.client.get(f"/admin/static/{asset}")
            assert resp.status == 200, asset
        assert (await bot.client.get("/admin/stats")).status == 401
        for escape in ("/admin/static/..%2Froutes.py", "/admin/static/%2e%2e/routes.py"):
            resp = await bot.client.get(URL(escape, encoded=True))
            assert resp.status != 200 and "aiohttp" not in await resp.text(), escape


async def test_dashboard_in_browser(data_dir: Path, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    prompts_dir = copy_prompts(tmp_path / "prompts")  # the page edits prompts: never the repo's own
    async with running(make_settings(data_dir, prompts_dir=prompts_dir)) as bot:
        await seed(bot)
        url = str(bot.client.make_url("/admin/"))
        async with browser_page() as page:
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            expected = ("401", "422")  # the login page itself, the refused prompt edit below
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not any(
                code in m.text for code in expected) else None)
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 and str(
                r.status) not in expected else None)
            await page.set_viewport_size({"width": 1280, "height": 900})

            response = await page.goto(url)
            assert response is not None and response.status == 401  # the page itself, asking for the token
            await page.fill("#token", "wrong-token")
            await page.click("#login")
            await page.locator("#login-error").wait_for(state="visible", timeout=10000)
            await page.fill("#token", ADMIN_TOKEN)
            await page.click("#login")

            # Charts drawn from real data: one day with one sale of 2 × 12 500.
            bar = page.locator('#chart-sales svg g.bar[data-revenue="25000"]')
            await bar.wait_for(timeout=15000)
            assert await page.locator("#chart-sales svg g.bar").count() == 1
            assert "25.000" in await bar.locator("title").text_content()
            assert await bar.get_attribute("data-count") == "1"
            assert "web" in await page.locator("#chart-channels svg").text_content()
            assert await page.locator('#chart-channels svg g.bar[data-key="web"]').get_attribute("data-value") == "3"
            assert await page.locator('#chart-categories svg g.bar[data-key="complaint"]').get_attribute("data-value") == "1"
            assert "25.000" in await page.locator('.kpi[data-kpi="revenue"] .kpi-value').text_content()
            assert await page.locator('.kpi[data-kpi="leads"] .kpi-value').text_content() == "1"

            # The conversation list and a transcript with its insights.
            await page.locator(".conv-row").nth(2).wait_for(timeout=10000)
            await page.click(f'.conv-row[data-chat-id="{COMPLAINER}"]')
            await page.locator('#insights [data-field="category"]', has_text="Reclamo").wait_for(timeout=10000)
            await page.fill("#filter-q", "martillos")
            await page.locator(f'.conv-row[data-chat-id="{COMPLAINER}"]').wait_for(state="detached", timeout=10000)
            await page.click(f'.conv-row[data-chat-id="{BUYER}"]')
            await page.locator("#transcript .msg", has_text="quiero 2 martillos").wait_for(timeout=10000)
            assert await page.locator("#transcript .msg").count() >= 4
            assert "MART-16" in await page.locator("#sales").inner_html()

            # Take over, answer as a human, hand back: each step visible through the API.
            await page.click("#takeover")
            await page.locator("#handback").wait_for(state="visible", timeout=10000)
            assert (await bot.conversation(BUYER))["status"] == "human"
            await page.fill("#reply-text", "Hola, soy Marta del local: te los separo.")
            await page.click("#reply-send")
            await page.locator("#transcript .msg.human", has_text="te los separo").wait_for(timeout=10000)
            detail = await bot.conversation(BUYER)
            assert any(m["author"] == "human" and "te los separo" in m["text"] for m in detail["messages"])
            await page.evaluate(TOP)
            shot = ARTIFACTS / "dashboard.png"
            await page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot: {shot}")

            await page.click("#handback")
            await page.locator("#takeover").wait_for(state="visible", timeout=10000)
            assert (await bot.conversation(BUYER))["status"] == "bot"

            # A refused prompt edit shows the server's reason; the stored prompt is untouched.
            before = (await (await bot.client.get("/admin/prompts/system.es", headers=bot.admin)).json())["content"]
            assert await page.input_value("#prompt-content") == before
            await page.fill("#prompt-content", before + "\n{no_such_placeholder}\n")
            await page.click("#prompt-save")
            status = page.locator("#prompt-status.error")
            await status.wait_for(timeout=10000)
            assert "no_such_placeholder" in await status.text_content()
            after = (await (await bot.client.get("/admin/prompts/system.es", headers=bot.admin)).json())["content"]
            assert after == before

            # CSV export: fetched with the bearer, saved through a Blob.
            async with page.expect_download() as download_info:
                await page.click('.export[data-kind="sales"]')
            download = await download_info.value
            assert download.suggested_filename.startswith("sales-")
            csv_path = await download.path()
            assert "MART-16" in await asyncio.to_thread(Path(csv_path).read_text, encoding="utf-8")

            # A phone: one column, nothing wider than the screen.
            await page.set_viewport_size({"width": 390, "height": 844})
            await page.click("#conv-back")
            await page.fill("#filter-q", "")
            await page.wait_for_timeout(400)  # the charts redraw for the new width
            overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"page is {overflow}px wider than the phone screen"
            await page.evaluate(TOP)
            phone = ARTIFACTS / "dashboard-phone.png"
            await page.screenshot(path=str(phone), full_page=True)
            print(f"screenshot: {phone}")
            assert not errors, errors
