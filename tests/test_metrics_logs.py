"""What operators see: /metrics after a run, logs and output that never carry the admin token, the generated token."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import socket
import stat
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ADMIN_TOKEN, ROOT, SMALL_CATALOG, Harness, copy_prompts, make_settings, running

# -- /metrics ------------------------------------------------------------------------------


async def scrape(h: Harness) -> str:
    resp = await h.client.get("/metrics")  # no token: a scraper has none
    assert resp.status == 200
    assert resp.content_type == "text/plain"
    return await resp.text()


def value(text: str, name: str, **labels: str) -> float:
    """Sum of the samples called `name` whose labels include `labels` (0 when absent)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


async def test_metrics_count_turns_latency_tools_and_handoffs(bot: Harness) -> None:
    before = await scrape(bot)

    await bot.say("m1", "quiero 2 martillos")
    await bot.say("m1", "sí")
    await bot.say("m2", "¿tenés taladros?")
    await bot.say("m3", "quiero hablar con una persona")
    assert await bot.say("m3", "hola") == []  # with a human now: stored, not answered
    resp = await bot.client.post("/admin/conversations/web/m2/handoff", headers=bot.admin)
    assert resp.status == 200
    resp = await bot.client.post(
        "/admin/conversations/web/m2/reply", json={"text": "Hola, soy Marta"}, headers=bot.admin
    )
    assert resp.status == 200

    after = await scrape(bot)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("mostrador_turns_total", channel="web", outcome="ok") == 4
    assert delta("mostrador_turns_total", channel="web", outcome="human") == 1
    assert delta("mostrador_turn_latency_seconds_count", channel="web") == 4
    assert delta("mostrador_turn_latency_seconds_bucket", channel="web", le="+Inf") == 4
    assert delta("mostrador_turn_latency_seconds_sum", channel="web") > 0
    assert delta("mostrador_tool_calls_total", tool="search_products") >= 2
    assert delta("mostrador_tool_calls_total", tool="register_sale") >= 1
    assert delta("mostrador_tool_calls_total", tool="handoff_to_human") == 1
    assert delta("mostrador_tool_failures_total") == 0
    assert delta("mostrador_handoffs_total", source="bot") == 1
    assert delta("mostrador_handoffs_total", source="owner") == 1
    assert delta("mostrador_channel_sends_total", channel="web") == 1  # the human reply
    assert "mostrador_turn_latency_seconds_bucket" in after


# -- the admin token never appears in logs or output ------------------------------------------


async def admin_session(h: Harness, token: str) -> None:
    """Admin calls of every kind, with the right token, wrong ones and none."""
    good = {"Authorization": f"Bearer {token}", "X-Admin-User": "marta"}
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": f"Bearer {token}-and-more"},
        {"Authorization": f"Bearer {token}{token}"},
        {"Authorization": token},
    ):
        for method, path in (("GET", "/admin/conversations"), ("PUT", "/admin/config"), ("GET", "/admin/")):
            resp = await h.client.request(method, path, headers=headers, json={"x": 1})
            assert resp.status == 401
            assert token not in await resp.text()
    await h.say("log-chat", "quiero 2 martillos")
    await h.say("log-chat", "quiero hablar con una persona")
    for method, path, body in (
        ("GET", "/admin/conversations", None),
        ("GET", "/admin/conversations/web/log-chat", None),
        ("POST", "/admin/conversations/web/log-chat/reply", {"text": "Hola, soy Marta"}),
        ("POST", "/admin/conversations/web/log-chat/resume", None),
        ("GET", "/admin/prompts/messages.es", None),
        ("PUT", "/admin/prompts/system", {"content": "{secreto}"}),  # refused: 422
        ("GET", "/admin/config", None),
        ("GET", "/admin/products/search?q=martillo", None),
        ("GET", "/admin/products/NOPE", None),
        ("GET", "/admin/stats", None),
        ("GET", "/admin/", None),
    ):
        resp = await h.client.request(method, path, headers=good, json=body)
        assert resp.status in (200, 404, 422), (path, resp.status)
        text = await resp.text()
        assert token not in text, path
    await h.say("log-chat", "gracias")


async def test_token_never_in_logs_in_process(
    data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)  # also the loggers quietened elsewhere
    settings = make_settings(data_dir, prompts_dir=copy_prompts(tmp_path / "prompts"))
    async with running(settings) as h:
        assert (await h.import_csv(SMALL_CATALOG))["status"] == 200
        await admin_session(h, ADMIN_TOKEN)
    assert caplog.records, "nothing was logged: the capture is not working"
    assert any(r.name.startswith("aiohttp.access") for r in caplog.records)  # the 401s were logged
    assert ADMIN_TOKEN not in caplog.text
    for record in caplog.records:
        assert ADMIN_TOKEN not in record.getMessage(), record.name
        assert ADMIN_TOKEN not in repr(vars(record)), record.name
    out, err = capfd.readouterr()
    assert ADMIN_TOKEN not in out and ADMIN_TOKEN not in err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_token_never_in_daemon_output(tmp_path: Path) -> None:
    """`python bot.py` at DEBUG: nothing it writes to stdout or stderr carries the token."""
    token = "tok-" + secrets.token_urlsafe(24)
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "GOOGLE_", "TELEGRAM_", "WHATSAPP_", "OUTLOOK_", "BOT_"))
    }
    env.update(
        BOT_DATA_DIR=str(tmp_path / "data"),
        BOT_HTTP_PORT=str(port),
        BOT_ADMIN_TOKEN=token,
        BOT_LOG_LEVEL="DEBUG",
        BOT_DEMO_CATALOG="false",
        BOT_PROMPTS_DIR=str(copy_prompts(tmp_path / "p")),
        ANONYMIZED_TELEMETRY="False",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "bot.py",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                assert proc.returncode is None, "daemon exited early"
                try:
                    async with http.get(f"{base}/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("daemon did not become healthy")

            good = {"Authorization": f"Bearer {token}", "X-Admin-User": "marta"}
            async with http.post(
                f"{base}/admin/products/import",
                data=SMALL_CATALOG.encode(),
                headers={**good, "Content-Type": "text/csv"},
            ) as resp:
                assert resp.status == 200
            for headers in (
                {},
                {"Authorization": f"Bearer {token}x"},
                {"Authorization": f"Bearer {token[:-2]}"},
            ):
                async with http.get(f"{base}/admin/conversations", headers=headers) as resp:
                    assert resp.status == 401
            for text in ("quiero 2 martillos", "sí", "quiero hablar con una persona"):
                async with http.post(f"{base}/api/chat", json={"chat_id": "p1", "text": text}) as resp:
                    assert resp.status == 200
            calls: list[tuple[str, str, Any]] = [
                ("POST", "/admin/conversations/web/p1/reply", {"text": "Hola, soy Marta"}),
                ("PUT", "/admin/prompts/system", {"content": "{secreto}"}),
                ("GET", "/admin/sales", None),
                ("GET", "/metrics", None),
            ]
            for method, path, body in calls:
                async with http.request(method, f"{base}{path}", headers=good, json=body) as resp:
                    assert resp.status in (200, 422)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    output = out.decode() + err.decode()
    assert proc.returncode == 0, output[-3000:]
    assert "listening on" in output and "stopped cleanly" in output  # the logs were captured
    assert " DEBUG " in output
    assert token not in output


# -- a generated token ------------------------------------------------------------------------


async def test_generated_token_stored_0600_printed_once_and_reused(
    data_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(data_dir, admin_token=None)
    path = data_dir / "admin_token"
    async with running(settings) as h:
        token = h.daemon.admin_token
        assert token and token != ADMIN_TOKEN and len(token) >= 32
        assert path.read_text(encoding="utf-8").strip() == token
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        ok = await h.client.get("/admin/stats", headers={"Authorization": f"Bearer {token}"})
        assert ok.status == 200
        for headers in ({}, {"Authorization": f"Bearer {ADMIN_TOKEN}"}):
            assert (await h.client.get("/admin/stats", headers=headers)).status == 401
    first, _ = capfd.readouterr()
    assert first.count(token) == 1  # printed once, at start

    async with running(settings) as h:
        assert h.daemon.admin_token == token
        ok = await h.client.get("/admin/stats", headers={"Authorization": f"Bearer {token}"})
        assert ok.status == 200
    second, err = capfd.readouterr()
    assert token not in second and token not in err  # not printed again on restart
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
