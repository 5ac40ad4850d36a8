"""The real daemon as a process: demo catalog, restart between offer and yes, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from tests.conftest import ADMIN_TOKEN, ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def start_daemon(data_dir: Path, port: int) -> asyncio.subprocess.Process:
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "GOOGLE_", "TELEGRAM_", "WHATSAPP_", "OUTLOOK_", "BOT_"))
    }
    env.update(BOT_DATA_DIR=str(data_dir), BOT_HTTP_PORT=str(port), BOT_ADMIN_TOKEN=ADMIN_TOKEN,
               ANONYMIZED_TELEMETRY="False")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "bot.py", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            if proc.returncode is not None:
                out = (await proc.stdout.read()).decode()
                raise AssertionError(f"daemon exited early:\n{out}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return proc
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    proc.kill()
    raise AssertionError("daemon did not become healthy in 30 s")


async def stop_daemon(proc: asyncio.subprocess.Process) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, out.decode()
    return out.decode()


async def chat(port: int, chat_id: str, text: str) -> list[dict]:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"http://127.0.0.1:{port}/api/chat", json={"chat_id": chat_id, "text": text}) as resp:
            assert resp.status == 200
            return (await resp.json())["replies"]


async def test_daemon_serves_demo_catalog_and_survives_restart(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    proc = await start_daemon(data_dir, port)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/") as resp:
                assert resp.status == 200 and "<form" in await resp.text()
        greeting = await chat(port, "p1", "hola")
        assert greeting and greeting[0]["text"]
        offer = await chat(port, "p1", "quiero 2 martillos de carpintero")
        assert offer[-1].get("buttons"), offer
    finally:
        log = await stop_daemon(proc)
    assert "stopped cleanly" in log

    proc = await start_daemon(data_dir, port)
    try:
        done = await chat(port, "p1", "sí")
        assert "registr" in done[0]["text"].lower(), done
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as http:
            async with http.get(f"http://127.0.0.1:{port}/admin/conversations/web/p1") as resp:
                detail = await resp.json()
        assert len(detail["sales"]) == 1 and detail["sales"][0]["quantity"] == 2
    finally:
        await stop_daemon(proc)
