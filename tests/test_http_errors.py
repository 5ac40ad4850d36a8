"""Bad input gets a clear error and loses nothing."""

from __future__ import annotations

from tests.conftest import SMALL_CATALOG, Harness


async def test_malformed_json_is_400(bot: Harness) -> None:
    resp = await bot.client.post("/api/chat", data=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert "JSON" in (await resp.json())["error"]


async def test_missing_fields_are_400(bot: Harness) -> None:
    resp = await bot.client.post("/api/chat", json={"chat_id": "x"})
    assert resp.status == 400 and "text" in (await resp.json())["error"]
    resp = await bot.client.post("/api/chat", json=["a"])
    assert resp.status == 400


async def test_admin_requires_the_token(bot: Harness) -> None:
    for path in ("/admin/products/MART-16", "/admin/products/search?q=martillo", "/admin/conversations/web/x"):
        assert (await bot.client.get(path)).status == 401
        assert (await bot.client.get(path, headers={"Authorization": "Bearer wrong"})).status == 401
    resp = await bot.client.post("/admin/products/import", data=b"sku,name\n", headers={"Content-Type": "text/csv"})
    assert resp.status == 401


async def test_bad_csv_is_refused_whole_with_row_errors(bot: Harness) -> None:
    bad = SMALL_CATALOG.replace("12500.00,7", "12500.00,9") + "NEW-1,Nuevo,,X,abc,3\n,Sin sku,,X,10,1\nNEW-2,Otro,,X,5,-2\n"
    result = await bot.import_csv(bad)
    assert result["status"] == 422 and result["imported"] == 0
    rows = {e["row"] for e in result["errors"]}
    assert rows == {6, 7, 8}
    assert (await bot.product("MART-16"))["stock"] == 7  # unchanged
    assert (await bot.client.get("/admin/products/NEW-1", headers=bot.admin)).status == 404


async def test_csv_upsert_by_sku(bot: Harness) -> None:
    result = await bot.import_csv("sku,name,description,category,price,stock\nMART-16,Martillo carpintero 16 oz,x,Herramientas,13000,9\n")
    assert result["status"] == 200 and result["imported"] == 1
    product = await bot.product("MART-16")
    assert (product["price"], product["stock"]) == (13000.0, 9)


async def test_admin_search_ranks_live_products(bot: Harness) -> None:
    resp = await bot.client.get("/admin/products/search?q=martiyo&k=3", headers=bot.admin)
    hits = await resp.json()
    assert hits[0]["sku"] == "MART-16" and hits[0]["stock"] == 7 and hits[0]["price"] == 12500.0


async def test_healthz(bot: Harness) -> None:
    resp = await bot.client.get("/healthz")
    assert resp.status == 200 and (await resp.json())["status"] == "ok"


async def test_web_replies_are_recorded_as_sent(bot: Harness) -> None:
    await bot.say("sent-1", "hola")
    outbound = [m for m in (await bot.conversation("sent-1"))["messages"] if m["direction"] == "out"]
    assert outbound and all(m["delivery_status"] == "sent" for m in outbound)
