"""Shared fixtures: a real daemon (all components) on a temporary data dir, over HTTP."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import Daemon, assemble
from config.settings import Settings

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ADMIN_TOKEN = "test-admin-token-0123456789"
ROOT = Path(__file__).resolve().parent.parent

SMALL_CATALOG = """sku,name,description,category,price,stock
MART-16,Martillo carpintero 16 oz,Martillo de acero con mango de fibra,Herramientas,12500.00,7
DEST-PH2,Destornillador Phillips PH2,Punta imantada,Herramientas,3200.50,40
TAL-650,Taladro percutor 650W,Taladro con maletín y mechas,Herramientas eléctricas,85999.00,3
CEM-50,Cemento Portland 50 kg,Bolsa de cemento gris,Construcción,9800.00,5
"""


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "admin_token": ADMIN_TOKEN,
        "llm_provider": "offline",
        "demo_catalog": False,
        "http_port": 0,
        "openai_api_key": None,
        "google_api_key": None,
        "telegram_bot_token": None,
        "whatsapp_access_token": None,
        "outlook_tenant_id": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@dataclass
class Harness:
    daemon: Daemon
    client: TestClient

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    async def say(self, chat_id: str, text: str, message_id: str | None = None, **extra: Any) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"chat_id": chat_id, "text": text, **extra}
        if message_id is not None:
            body["message_id"] = message_id
        resp = await self.client.post("/api/chat", json=body)
        assert resp.status == 200, await resp.text()
        return (await resp.json())["replies"]

    async def import_csv(self, csv_text: str) -> dict[str, Any]:
        resp = await self.client.post(
            "/admin/products/import", data=csv_text.encode(), headers={**self.admin, "Content-Type": "text/csv"}
        )
        return {"status": resp.status, **(await resp.json())}

    async def product(self, sku: str) -> dict[str, Any]:
        resp = await self.client.get(f"/admin/products/{sku}", headers=self.admin)
        assert resp.status == 200, await resp.text()
        return await resp.json()

    async def sold(self, chat_id: str, channel: str = "web") -> list[tuple[str, int]]:
        """The conversation's sale rows as (sku, quantity), sorted."""
        return sorted((s["sku"], s["quantity"]) for s in (await self.conversation(chat_id, channel))["sales"])

    async def conversation(self, chat_id: str, channel: str = "web") -> dict[str, Any]:
        resp = await self.client.get(f"/admin/conversations/{channel}/{chat_id}", headers=self.admin)
        assert resp.status == 200, await resp.text()
        return await resp.json()


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Harness]:
    """The daemon's aiohttp app on a real loopback port, with a client."""
    async with assemble(settings) as daemon:
        server = TestServer(daemon.app, host="127.0.0.1")
        client = TestClient(server)
        await client.start_server()
        try:
            yield Harness(daemon, client)
        finally:
            await client.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def bot(data_dir: Path) -> AsyncIterator[Harness]:
    async with running(make_settings(data_dir)) as harness:
        result = await harness.import_csv(SMALL_CATALOG)
        assert result["status"] == 200, result
        yield harness


def copy_prompts(dest: Path) -> Path:
    shutil.copytree(ROOT / "prompts", dest, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return dest
