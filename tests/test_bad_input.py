"""Bad input gets a clear 4xx with a reason, never a 500; exports never carry a runnable formula.

Everything runs against the real daemon over real HTTP (and raw sockets where
an HTTP client would refuse to misbehave): bodies that are not storable JSON,
numbers beyond 64 bits, identifiers of thousands of characters, uploads cut
off mid-way, clients that send a byte a second, and spreadsheet formulas in
what customers write.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot import assemble
from channels.http_server import serve_http
from tests.conftest import ADMIN_TOKEN, SMALL_CATALOG, Harness, copy_prompts, make_settings, running

SURROGATE = b'"\\ud800"'
DEEP = b"[" * 100_000 + b"]" * 100_000  # for routes that take bodies of megabytes
DEEP_SMALL = b"[" * 30_000 + b"]" * 30_000  # within the 64 KB of the chat, a reply, a rollback
JSON = {"Content-Type": "application/json"}


PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """Each test on SQLite and on a database of its own on the PostgreSQL server (NUL, ESCAPE, 64-bit ints)."""
    if request.param == "sqlite":
        yield None
        return
    import asyncpg

    server = "postgresql://" + PG_URL.split("://", 1)[1].rsplit("/", 1)[0]
    name = f"bad_input_{uuid.uuid4().hex[:12]}"
    try:
        conn = await asyncpg.connect(server + "/postgres", timeout=5)
    except Exception as exc:  # any failure to reach the server
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL not reachable at {server}: {type(exc).__name__}: {exc}")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@pytest.fixture
async def bot(tmp_path: Path, database_url: str | None) -> AsyncIterator[Harness]:
    async with running(make_settings(tmp_path / "data", database_url=database_url)) as harness:
        assert (await harness.import_csv(SMALL_CATALOG))["status"] == 200
        yield harness


@pytest.fixture
async def shop(tmp_path: Path, database_url: str | None) -> AsyncIterator[Harness]:
    """The daemon on its own copy of the prompts (an accepted edit must never touch the repo's), 1 s body deadline."""
    settings = make_settings(tmp_path / "data", prompts_dir=copy_prompts(tmp_path / "prompts"), http_body_timeout_s=1.0,
                             database_url=database_url)
    async with running(settings) as harness:
        assert (await harness.import_csv(SMALL_CATALOG))["status"] == 200
        yield harness


async def refused(bot: Harness, method: str, path: str, body: bytes | None = None, *, status: int = 400,
                  reason: str = "", headers: dict[str, str] | None = None) -> None:
    resp = await bot.client.request(method, path, data=body, headers={**bot.admin, **JSON, **(headers or {})})
    text = await resp.text()
    assert resp.status == status, (method, path[:80], resp.status, text[:300])
    assert reason.lower() in (await resp.json())["error"].lower(), (path[:80], text[:300])


async def raw_request(port: int, data: bytes, *, close_after: bool = False) -> bytes:
    """Send raw bytes; the status line and headers (and body) the server answers, or b"" if it hung up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    if close_after:  # once the handler is reading the body
        await asyncio.sleep(0.3)
        writer.close()
        return b""
    try:
        return await asyncio.wait_for(reader.read(65536), 10)
    finally:
        writer.close()


# -- the web chat ------------------------------------------------------------------------


async def test_chat_refuses_malformed_bodies_with_reasons(bot: Harness) -> None:
    cases = [
        (b'{"chat_id": "a", "text": "\\ud800"}', "surrogate"),
        (b'{"chat_id": "a", "text": "hola", "\\udc00": 1}', "surrogate"),  # in a key too
        (DEEP_SMALL, "nested"),
        (b'{"chat_id": "a", "text": ' + b"[" * 70 + b"]" * 70 + b"}", "nested"),
        (b'{"chat_id": 5, "text": "hola"}', "chat_id"),
        (b'{"chat_id": "a", "text": "hola", "message_id": 123}', "message_id"),
        (b'{"chat_id": "a", "text": "hola", "message_id": {}}', "message_id"),
        (b'{"chat_id": "a", "text": "hola", "message_id": true}', "message_id"),
        (b'{"chat_id": "a", "text": "hola", "message_id": 99999999999999999999999}', "64-bit"),
        (b'{"chat_id": "a", "text": "hola", "n": 1e999}', "out of range"),
        (b'{"chat_id": "a", "text": NaN}', "NaN"),
        (b'{"chat_id": "' + b"x" * 5000 + b'", "text": "hola"}', "chat_id"),
        (b'{"chat_id": "a\\u0000b", "text": "hola"}', "chat_id"),
        (b'{"chat_id": "a", "text": "ho\\u0000la"}', "NUL"),
        (b'{"chat_id": "a", "text": "hola", "button_payload": 7}', "button_payload"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"{not json", "malformed"),
    ]
    for body, reason in cases:
        resp = await bot.client.post("/api/chat", data=body, headers=JSON)
        assert resp.status == 400, (reason, resp.status, await resp.text())
        assert reason.lower() in (await resp.json())["error"].lower(), (reason, await resp.text())
    assert await bot.say("a", "hola")  # a paired surrogate (an emoji) and the same chat still work
    resp = await bot.client.post("/api/chat", data=b'{"chat_id": "a", "text": "\\ud83d\\ude00"}', headers=JSON)
    assert resp.status == 200


async def test_chat_bodies_are_capped_even_when_chunked(bot: Harness) -> None:
    big = b'{"chat_id": "a", "text": "' + b"x" * 200_000 + b'"}'

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(big), 8192):
            yield big[i:i + 8192]

    resp = await bot.client.post("/api/chat", data=chunks(), headers=JSON)
    assert resp.status == 413 and "larger than" in (await resp.json())["error"]  # chunked, no Content-Length
    head = (b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 50000000\r\n\r\n")
    answer = await raw_request(bot.client.port, head)  # refused on the declared length, before any body
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]


async def test_messages_after_bounds(bot: Harness) -> None:
    await bot.say("a", "hola")
    for after in ("99999999999999999999999", "9223372036854775808", "2147483648", "-1", "abc", "1e3", "1_0", "٣",
                  " 1"):
        resp = await bot.client.get("/api/chat/a/messages", params={"after": after})
        assert resp.status == 400 and "after" in (await resp.json())["error"], after
    resp = await bot.client.get("/api/chat/a/messages", params={"after": "2147483647"})  # ids are 32-bit on PostgreSQL
    assert resp.status == 200 and (await resp.json())["messages"] == []
    resp = await bot.client.get("/api/chat/" + "x" * 3000 + "/messages")
    assert resp.status == 400 and "chat_id" in (await resp.json())["error"]
    for path in ("/api/chat/a%00b/messages", "/api/chat/a/messages?after=1&x=%00"):
        resp = await bot.client.get(path)
        assert resp.status == 400 and "NUL" in (await resp.json())["error"], path


# -- admin bodies ----------------------------------------------------------------------------


async def test_admin_bodies_with_lone_surrogates_or_deep_nesting_are_refused(shop: Harness) -> None:
    await shop.say("c1", "hola")
    conv = "/admin/conversations/web/c1"
    for body, small, reason in ((b'{"content": ' + SURROGATE + b"}", b'{"text": ' + SURROGATE + b"}", "surrogate"),
                                (DEEP, DEEP_SMALL, "nested")):
        await refused(shop, "PUT", "/admin/prompts/system", body, reason=reason)
        await refused(shop, "PUT", "/admin/knowledge/faq", body, reason=reason)
        await refused(shop, "POST", "/admin/prompts/system/rollback", small, reason=reason)
        await refused(shop, "POST", f"{conv}/reply", small, reason=reason)
        await refused(shop, "POST", "/admin/eval", body, reason=reason)
        # The config's contract: every refused edit is a 422 with the reason (as for `{not json`).
        await refused(shop, "PUT", "/admin/config", body.replace(b"content", b"name"), status=422, reason=reason)
    await refused(shop, "POST", "/admin/eval", b"conversations: " + b"[" * 100_000, reason="nested")
    await refused(shop, "PUT", "/admin/knowledge/faq", b"hola \xed\xa0\x80", reason="UTF-8",
                  headers={"Content-Type": "text/markdown"})
    await refused(shop, "POST", "/admin/eval", b"\xff\xfe", reason="UTF-8", headers={"Content-Type": "text/yaml"})
    await refused(shop, "PUT", "/admin/prompts/system", b'{"content": "hola\\u0000"}', status=422, reason="NUL")
    await refused(shop, "POST", f"{conv}/reply", b'{"text": "hola\\u0000"}', reason="NUL")
    await refused(shop, "PUT", "/admin/config", b'{"name": 1e999}', status=422, reason="out of range")
    for version, reason in ((b"99999999999999999999999", "64-bit"), (b"9223372036854775807", "version_id"),
                            (b'"2147483648"', "version_id"), (b"1e300", "version_id"),
                            (b"true", "version_id"), (b'"abc"', "version_id"), (b"-1", "version_id"),
                            (b"{}", "version_id")):
        await refused(shop, "POST", "/admin/prompts/system/rollback", b'{"version_id": ' + version + b"}",
                      reason=reason)
    resp = await shop.client.get(conv, headers=shop.admin)
    assert "human" not in {m["author"] for m in (await resp.json())["messages"]}  # no reply was stored
    assert (await (await shop.client.get("/admin/audit", headers=shop.admin)).json())["items"] == []


async def test_admin_bodies_are_capped_even_when_chunked(shop: Harness) -> None:
    await shop.say("c1", "hola")

    async def chunks(total: int) -> AsyncIterator[bytes]:
        for _ in range(total // 65536):
            yield b"a" * 65536

    for method, path, size in (("PUT", "/admin/knowledge/faq", 3 * 1024 * 1024),
                               ("POST", "/admin/conversations/web/c1/reply", 256 * 1024),
                               ("POST", "/admin/eval", 2 * 1024 * 1024)):
        resp = await shop.client.request(method, path, data=chunks(size),
                                         headers={**shop.admin, "Content-Type": "text/markdown"})
        assert resp.status == 413 and "larger than" in (await resp.json())["error"], (path, resp.status)


async def test_a_body_that_does_not_arrive_in_time_is_a_408(shop: Harness) -> None:
    head = b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    started = time.monotonic()
    answer = await raw_request(shop.client.port, head)  # the body deadline is 1 s in this fixture
    assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive" in answer, answer[:200]
    assert time.monotonic() - started < 5
    assert await shop.say("after-408", "hola")


# -- admin query parameters, path names and headers -------------------------------------------


async def test_admin_query_parameters_out_of_range_are_400(bot: Harness) -> None:
    big = "99999999999999999999999"
    for path, name in (
        (f"/admin/conversations?limit={big}", "limit"), ("/admin/conversations?limit=0", "limit"),
        ("/admin/conversations?limit=abc", "limit"), (f"/admin/conversations?offset={big}", "offset"),
        ("/admin/conversations?offset=-1", "offset"), (f"/admin/leads?min_score={big}", "min_score"),
        ("/admin/leads?min_score=101", "min_score"), (f"/admin/products/search?q=martillo&k={big}", "k"),
        ("/admin/conversations?since=0001-01-01T00:00:00%2B01:00", "since"),
        ("/admin/sales?since=9999-12-31T23:59:59-01:00", "since"), ("/admin/appointments?since=ayer", "since"),
        ("/admin/conversations?q=" + "x" * 5000, "q"), ("/admin/products/search?q=" + "x" * 5000, "q"),
        ("/admin/conversations?q=%00", "NUL"), ("/admin/appointments?status=%00", "NUL"),
    ):
        await refused(bot, "GET", path, reason=name)
    resp = await bot.client.get("/admin/conversations?limit=500&offset=0", headers=bot.admin)
    assert resp.status == 200


async def test_long_names_are_refused_with_reasons(shop: Harness) -> None:
    await shop.say("c1", "hola")
    long = "x" * 5000
    await refused(shop, "GET", f"/admin/products/{long}", reason="sku")
    await refused(shop, "GET", f"/admin/conversations/web/{long}", reason="chat_id")
    await refused(shop, "POST", f"/admin/conversations/web/{long}/handoff", reason="chat_id")
    await refused(shop, "GET", f"/admin/conversations/{long}/c1", reason="channel")
    await refused(shop, "GET", f"/admin/prompts/{long}", reason="prompt name")
    await refused(shop, "PUT", f"/admin/prompts/{long}", b'{"content": "hola"}', reason="prompt name")
    await refused(shop, "GET", f"/admin/knowledge/{long}", reason="document name")
    await refused(shop, "PUT", f"/admin/knowledge/{long}", b'{"content": "hola"}', reason="document name")
    # Who acts: at most 120 printable characters, checked before anything changes.
    await refused(shop, "POST", "/admin/conversations/web/c1/handoff", reason="X-Admin-User",
                  headers={"X-Admin-User": long})
    answer = await raw_request(shop.client.port, b"POST /admin/conversations/web/c1/handoff HTTP/1.1\r\nHost: x\r\n"
                               b"Authorization: Bearer " + ADMIN_TOKEN.encode() + b"\r\n"
                               b"X-Admin-User: \xff\xfe\r\nContent-Length: 0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400") and b"X-Admin-User" in answer, answer[:300]
    assert (await shop.conversation("c1"))["status"] == "bot"
    resp = await shop.client.post("/admin/conversations/web/c1/handoff",
                                  headers={**shop.admin, "X-Admin-User": "Marta Núñez"})
    assert resp.status == 200 and (await resp.json())["status"] == "human"


# -- slow clients, on a server started the way `bot.py serve` starts it --------------------------


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[int]:
    """The daemon served by `serve_http` as `serve()` does (a test server would cancel handlers on a hang-up)."""
    settings = make_settings(tmp_path / "data", http_header_timeout_s=2.0, http_body_timeout_s=2.0)
    async with assemble(settings) as daemon:
        runner, _site = await serve_http(daemon.app, "127.0.0.1", 0, header_timeout_s=settings.http_header_timeout_s)
        try:
            yield runner.addresses[0][1]
        finally:
            await runner.cleanup()


async def chat(port: int, chat_id: str) -> int:
    async with aiohttp.ClientSession() as session:
        resp = await session.post(f"http://127.0.0.1:{port}/api/chat", json={"chat_id": chat_id, "text": "hola"})
        return resp.status


async def test_aborted_uploads_leave_no_traceback(served: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    assert await chat(served, "c1") == 200
    auth = f"Authorization: Bearer {ADMIN_TOKEN}\r\n".encode()
    for path in (b"/api/chat", b"/admin/products/import", b"/admin/knowledge/faq", b"/admin/conversations/web/c1/reply",
                 b"/admin/eval"):
        method = b"PUT" if b"knowledge" in path else b"POST"
        await raw_request(served, method + b" " + path + b" HTTP/1.1\r\nHost: x\r\n" + auth +
                          b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n0123456789",
                          close_after=True)
    await asyncio.sleep(0.5)
    assert await chat(served, "c2") == 200  # still serving
    tracebacks = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert tracebacks == [], [(r.name, r.getMessage()) for r in tracebacks]


async def test_malformed_requests_are_400_without_traceback(served: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for raw in (b"GET /" + b"x" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: x\r\nX-Admin-User: " + b"y" * 9000 + b"\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"):
        answer = await raw_request(served, raw)
        assert answer.split(b"\r\n", 1)[0].split(b" ")[1] == b"400", answer[:100]
    assert await chat(served, "c3") == 200
    tracebacks = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert tracebacks == [], [(r.name, r.getMessage()) for r in tracebacks]


async def test_slow_headers_are_cut_off_and_slow_bodies_get_408(served: int) -> None:
    port = served
    results = await asyncio.gather(slowloris(port), silent(port), keep_alive_idle(port), slow_body(port))
    (loris_s, loris_bytes), silent_s, answers, (body_s, body_answer) = results
    assert loris_s < 4.5 and loris_bytes == b"", (loris_s, loris_bytes)  # one header byte a second: dropped
    assert silent_s < 4.5  # a connection that never sends a request: dropped
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 2  # idle is not slow
    assert body_answer.startswith(b"HTTP/1.1 408") and body_s < 4.5, (body_s, body_answer[:100])


async def slowloris(port: int) -> tuple[float, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
    try:
        for _ in range(30):
            writer.write(b"X")
            await writer.drain()
            try:
                data = await asyncio.wait_for(reader.read(100), 1.0)
            except TimeoutError:
                continue
            return time.monotonic() - started, data
    except ConnectionError:
        return time.monotonic() - started, b""
    finally:
        writer.close()
    return time.monotonic() - started, b"still open"


async def silent(port: int) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    try:
        assert await asyncio.wait_for(reader.read(100), 10) == b""
    finally:
        writer.close()
    return time.monotonic() - started


async def keep_alive_idle(port: int) -> list[bytes]:
    """Two requests on one connection, 3 s apart (longer than the header deadline); the second is a file."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answers = []
    try:
        for pause, path, end in ((0.0, b"/healthz", b'"ok"}'), (3.0, b"/", b"</html>")):
            await asyncio.sleep(pause)
            writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            answers.append(await asyncio.wait_for(reader.readuntil(end), 10))
    finally:
        writer.close()
    return answers


async def slow_body(port: int) -> tuple[float, bytes]:
    started = time.monotonic()
    answer = await raw_request(port, b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                     b"Content-Length: 100\r\n\r\n{")
    return time.monotonic() - started, answer


# -- filters and exports ------------------------------------------------------------------------


async def test_admin_filters_match_percent_underscore_and_backslash_literally(bot: Harness) -> None:
    await bot.say("cliente_uno", "hola")
    await bot.say("cliente-dos", "50% de descuento?")
    await bot.say("cliente-tres", "la ruta es C:\\tienda")
    for q, expected in (("%", {"cliente-dos"}), ("_", {"cliente_uno"}), ("e_u", {"cliente_uno"}),
                        ("\\", {"cliente-tres"}), ("0%", {"cliente-dos"})):
        resp = await bot.client.get("/admin/conversations", params={"q": q}, headers=bot.admin)
        assert resp.status == 200
        assert {c["chat_id"] for c in (await resp.json())["items"]} == expected, q


async def test_csv_exports_neutralise_formulas(bot: Harness) -> None:
    from tools.insights_schema import InsightData

    repos = bot.daemon.services.repos
    assert (await bot.import_csv(SMALL_CATALOG + "=1+1,@SUM(1),-x,+y,100,5\n"))["status"] == 200
    conv = await repos.conversations.get_or_create("whatsapp", "+5491155550000")
    await repos.conversations.update(conv.id, customer_name="=HYPERLINK(\"http://x\")")
    await repos.leads.upsert(conv.id, name='=HYPERLINK("http://x")', email="@evil.example", company="+1+1",
                             need="-2+3", phone="+5491155550000")
    await repos.sales.commit_order(order_id="csv-1", sku="=1+1", quantity=1,
                                   conversation_id=conv.id, currency="ARS")
    start = datetime.now(UTC) + timedelta(days=1)
    await repos.appointments.add(start=start, end=start + timedelta(hours=1), conversation_id=conv.id,
                                 topic="\t=1+1", attendee_name="\r=1+1", attendee_email="@x.example")
    await repos.insights.upsert(conv.id, InsightData(
        category="sale", confidence=0.9, sentiment="neutral", intent="=intent", summary="+summary",
        churn_risk="low", next_action="-call", suggested_reply="@reply"), "offline")
    checked = 0
    for name in ("leads", "insights", "sales", "appointments", "conversations"):
        resp = await bot.client.get(f"/admin/{name}", params={"format": "csv"}, headers=bot.admin)
        assert resp.status == 200 and resp.content_type == "text/csv"
        rows = list(csv.DictReader(io.StringIO(await resp.text())))
        assert rows, name
        for row in rows:
            for column, cell in row.items():
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, column, cell)
                checked += cell.startswith("'")
    assert checked >= 15
    leads = list(csv.DictReader(io.StringIO(await (await bot.client.get(
        "/admin/leads", params={"format": "csv"}, headers=bot.admin)).text())))
    assert leads[0]["name"] == "'=HYPERLINK(\"http://x\")" and leads[0]["phone"] == "'+5491155550000"
    assert leads[0]["score"].lstrip("-").isdigit()  # numbers stay numbers


def test_webhooks_can_keep_a_message_with_a_lone_surrogate_as_u_fffd() -> None:
    """For a platform that would redeliver a refused payload forever: the broken character, not the message, goes."""
    from channels.http_input import BadJson, loads_json

    body = b'{"text": "hola \\ud83d", "\\udc00k": ["\\ud800", {"a": "b\\udfff"}], "ok": "\\ud83d\\ude00"}'
    with pytest.raises(BadJson, match="surrogate"):
        loads_json(body)
    assert loads_json(body, lone_surrogates="replace") == {
        "text": "hola \ufffd", "\ufffdk": ["\ufffd", {"a": "b\ufffd"}], "ok": "\U0001f600"}
    with pytest.raises(BadJson, match="nested"):
        loads_json(DEEP, lone_surrogates="replace")
